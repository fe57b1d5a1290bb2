#pragma once

// `causeway policy test --schema FILE.proto`: sample records of a Protobuf policy. Each sample's
// JSON value is encoded as a message of the writer's file (protobuf's JSON mapping), framed as a
// producer's serializer frames it (schema ID 1, the message's indexes), and the record the
// policy writes is shown as the file the policy derives reads it.

#include "common/result.h"
#include "policies/policy.h"
#include "policies/protobuf_payload.h"

#include <google/protobuf/dynamic_message.h>

#include <memory>
#include <set>
#include <string>
#include <string_view>

namespace causeway::app {

class ProtobufSamples {
public:
  // The writer's .proto at `schema_path` (imports: Google's well-known types only) and the
  // message the samples are (`message`: its full or package-relative name; empty: the file's
  // first). An error that names the file and what is wrong.
  static Result<std::unique_ptr<ProtobufSamples>>
  load(const std::string& schema_path, const std::string& message, const policies::Policy& policy);

  // The table the policy stage reads; learn(topic) before each record of `topic`.
  std::shared_ptr<const policies::ProtobufShapes> shapes() const { return shapes_; }
  void learn(const std::string& topic);
  const policies::ProtobufPolicySchema& derived() const { return shape_->derived; }

  // The sample's JSON value as a framed record value, or why it is not a message of the file.
  Result<std::string> encode(std::string_view json);
  // A framed record value as JSON: a message of the derived file (`derived`; the writer's file
  // when the rules change nothing), or of the writer's (a record shadow mode passed unchanged).
  std::string show(std::string_view framed, bool derived);

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
