#pragma once

// `causeway policy test --schema FILE.proto`: sample records of a Protobuf policy. Each sample's
// JSON value is a message of the writer's file in protobuf's JSON mapping, framed with the
// message's indexes after the schema ID.

#include "app/policy_samples.h"
#include "policies/protobuf_payload.h"

#include <google/protobuf/dynamic_message.h>

#include <memory>
#include <set>
#include <string>
#include <string_view>

namespace causeway::app {

class ProtobufSamples : public PolicySamples {
public:
  // The writer's .proto at `schema_path` (imports: Google's well-known types only) and the
  // message the samples are (`message`: its full or package-relative name; empty: the file's
  // first). An error that names the file and what is wrong.
  static Result<std::unique_ptr<ProtobufSamples>>
  load(const std::string& schema_path, const std::string& message, const policies::Policy& policy);

  Result<std::unique_ptr<policies::PolicyStage>>
  makeStage(policies::PolicyPtr policy, policies::PolicyCountersPtr counters) const override;
  void learn(const std::string& topic) override;
  const std::vector<std::string>& problems() const override { return shape_->derived.problems; }
  bool changed() const override { return shape_->derived.changed; }
  const std::string& derivedSchema() const override { return shape_->derived.schema; }
  const char* schemaKind() const override { return ".proto"; }
  Result<std::string> encode(std::string_view json) override;
  std::string show(std::string_view framed, bool derived) override;

private:
  ProtobufSamples() = default;

  policies::ProtobufShapePtr shape_;
  std::shared_ptr<const schema::ProtoFile> derived_file_;  // null when nothing changes
  const google::protobuf::Descriptor* message_ = nullptr;
  std::string prefix_;
  std::shared_ptr<policies::ProtobufShapes> shapes_ = std::make_shared<policies::ProtobufShapes>();
  std::set<std::string, std::less<>> topics_;
  // Declared after the files: the factory holds prototypes of their types.
  google::protobuf::DynamicMessageFactory factory_;
};

}  // namespace causeway::app
