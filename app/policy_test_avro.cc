#include "app/policy_test_avro.h"

#include "schema/avro_from_json.h"
#include "schema/wire_format.h"

#include <nlohmann/json.hpp>


namespace causeway::app {
namespace {
constexpr uint32_t kSampleSchemaId = 1;
}  // namespace

Result<std::unique_ptr<AvroSamples>> AvroSamples::load(const std::string& schema_path,
                                                       const policies::Policy& policy) {
  Result<std::string> text = readSchemaFile(schema_path);
  if (!text) {
    return text.error();
  }
  auto shape = policies::makeAvroShape(*text, {}, policy.rules(), policy.slots().size());
  if (!shape) {
    return Error{schema_path + ": " + shape.error().message};
  }
  std::unique_ptr<AvroSamples> samples(new AvroSamples());
  samples->shape_ = *shape;
  auto writer_json = schema::AvroJsonShape::make(samples->shape_->writer, nullptr);
  if (!writer_json) {
    return Error{schema_path + ": " + writer_json.error().message};
  }
  samples->writer_json_ = *writer_json;
  const policies::AvroPolicySchema& derived = samples->shape_->derived;
  if (derived.changed && derived.problems.empty()) {
    auto model = schema::AvroModel::parse(derived.schema);
    if (!model) {
      return Error{schema_path + ": the derived schema does not parse: " + model.error().message};
    }
    auto derived_json = schema::AvroJsonShape::make(*model, nullptr);
    if (!derived_json) {
      return Error{schema_path + ": " + derived_json.error().message};
    }
    samples->derived_json_ = *derived_json;
  }
  schema::appendPrefix(samples->prefix_, schema::SchemaRef::ofId(kSampleSchemaId), {});
  return samples;
}

Result<std::unique_ptr<policies::PolicyStage>>
AvroSamples::makeStage(policies::PolicyPtr policy, policies::PolicyCountersPtr counters) const {
  return policies::PolicyStage::create(std::move(policy), std::move(counters), shapes_);
}

void AvroSamples::learn(const std::string& topic) {
  if (topics_.insert(topic).second) {
    shapes_->put(topic, kSampleSchemaId, shape_);
  }
}

Result<std::string> AvroSamples::encode(std::string_view json) {
  const nlohmann::json value = nlohmann::json::parse(json, nullptr, false);
  if (value.is_discarded()) {
    return Error{"the value is not JSON"};
  }
  std::string framed = prefix_;
  if (auto encoded = schema::appendAvroFromJson(shape_->writer->root(), value, framed); !encoded) {
    return Error{"the value is not a datum of the Avro schema: " + encoded.message()};
  }
  return framed;
}

std::string AvroSamples::show(std::string_view framed, bool derived) {
  if (framed.size() < schema::kIdPrefixSize || framed[0] != 0) {
    return "(not framed: no registry prefix)";
  }
  const schema::AvroJsonShape& shape = derived && derived_json_ ? *derived_json_ : *writer_json_;
  std::string json;
  std::string problem;
  if (!shape.append(framed.substr(schema::kIdPrefixSize), json, problem)) {
    return "(not a datum of the " + std::string(derived && derived_json_ ? "derived" : "writer's") +
           " schema: " + problem + ")";
  }
  return json;
}

}  // namespace causeway::app
