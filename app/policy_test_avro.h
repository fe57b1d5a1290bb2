#pragma once

// `causeway policy test --schema FILE.avsc`: sample records of an Avro policy. Each sample's
// value is the data's plain JSON (schema/avro_from_json.h: unions unwrapped, bytes as base64),
// encoded as one datum of the writer's schema behind the registry prefix.

#include "app/policy_samples.h"
#include "policies/avro_payload.h"
#include "schema/avro_json.h"

#include <set>

namespace causeway::app {

class AvroSamples : public PolicySamples {
public:
  // The writer's schema at `schema_path` (one self-contained Avro schema). An error that names
  // the file and what is wrong.
  static Result<std::unique_ptr<AvroSamples>> load(const std::string& schema_path,
                                                   const policies::Policy& policy);

  Result<std::unique_ptr<policies::PolicyStage>>
  makeStage(policies::PolicyPtr policy, policies::PolicyCountersPtr counters) const override;
  void learn(const std::string& topic) override;
  const std::vector<std::string>& problems() const override { return shape_->derived.problems; }
  bool changed() const override { return shape_->derived.changed; }
  const std::string& derivedSchema() const override { return shape_->derived.schema; }
  const char* schemaKind() const override { return "Avro schema"; }
  Result<std::string> encode(std::string_view json) override;
  std::string show(std::string_view framed, bool derived) override;

private:
  AvroSamples() = default;

  policies::AvroShapePtr shape_;
  std::shared_ptr<const schema::AvroJsonShape> writer_json_;
  std::shared_ptr<const schema::AvroJsonShape> derived_json_;  // null when nothing changes
  std::string prefix_;
  std::shared_ptr<policies::AvroShapes> shapes_ = std::make_shared<policies::AvroShapes>();
  std::set<std::string, std::less<>> topics_;
};

}  // namespace causeway::app
