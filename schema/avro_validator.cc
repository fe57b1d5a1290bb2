#include "schema/avro_validator.h"

#include "schema/avro_json.h"

#include <avro.h>

namespace causeway::schema {
namespace {

class AvroValidator final : public Validator {
public:
  AvroValidator(AvroModelPtr writer, std::shared_ptr<const AvroJsonShape> json)
      : writer_(std::move(writer)), json_(std::move(json)) {}

  SchemaType type() const override { return SchemaType::kAvro; }

  // One pass over the bytes: the walk decodes the whole datum with the writer schema (every
  // varint, length, union branch, enum index and boolean; strings as UTF-8) and allocates
  // nothing. Decoding it again with Avro C would add no check and cost more than the walk:
  // Avro C is the walk's reference decoder in fuzz/schema_payload_fuzz.cc instead.
  bool validate(std::string_view payload, const MessageIndexes&, ValidationScratch&,
                Violation& violation) const override {
    size_t pos = 0;
    AvroWalkError error;
    if (!walkAvro(writer_->root(), payload, pos, error)) {
      violation.path = std::move(error.path);
      violation.message = std::move(error.problem);
      return false;
    }
    if (pos != payload.size()) {
      violation.path.clear();
      violation.message = std::to_string(payload.size() - pos) +
                          " bytes after the end of the Avro datum (written with another schema?)";
      return false;
    }
    return true;
  }

  bool toJson(std::string_view payload, const MessageIndexes&, ValidationScratch&,
              std::string& out, Violation& violation) const override {
    if (!json_->append(payload, out, violation.message)) {
      violation.path.clear();
      return false;
    }
    return true;
  }

private:
  AvroModelPtr writer_;
  std::shared_ptr<const AvroJsonShape> json_;
};

}  // namespace

Result<AvroModelPtr> parseAvro(const ResolvedSchema& schema) {
  std::vector<std::string_view> references;
  for (const auto& [name, referenced] : schema.references) {
    references.push_back(referenced.text);
  }
  return AvroModel::parse(schema.schema.text, references);
}

Result<ValidatorPtr> compileAvroValidator(const ResolvedSchema& writer,
                                          const ResolvedSchema* reader,
                                          config::Compatibility compatibility) {
  auto writer_model = parseAvro(writer);
  if (!writer_model) {
    return Error{"the writer's Avro schema does not parse: " + writer_model.error().message};
  }
  AvroModelPtr reader_model;
  if (reader != nullptr) {
    auto parsed = parseAvro(*reader);
    if (parsed) {
      reader_model = *parsed;
    } else if (compatibility != config::Compatibility::kNone) {
      return Error{"the contract's Avro schema does not parse: " + parsed.error().message};
    }
  }
  if (reader_model != nullptr && compatibility != config::Compatibility::kNone) {
    const AvroNode& w = (*writer_model)->root();
    const AvroNode& r = reader_model->root();
    if (config::contractReadsWriters(compatibility)) {
      if (auto resolves = avroResolves(w, r); !resolves) {
        return Error{"the contract's schema cannot read it: " + resolves.message()};
      }
    }
    if (config::writersReadContract(compatibility)) {
      if (auto resolves = avroResolves(r, w); !resolves) {
        return Error{"it cannot read data written with the contract's schema: " +
                     resolves.message()};
      }
    }
  }
  // A second opinion on the writer's schema: Avro C must accept it too (once, here).
  const std::string canonical = (*writer_model)->canonical();
  avro_schema_t schema = nullptr;
  if (avro_schema_from_json_length(canonical.data(), canonical.size(), &schema) != 0) {
    return Error{std::string("Avro C does not accept the writer's schema: ") + avro_strerror()};
  }
  avro_value_iface_t* iface = avro_generic_class_from_schema(schema);
  avro_schema_decref(schema);
  if (iface == nullptr) {
    return Error{std::string("Avro C cannot build values for the writer's schema: ") +
                 avro_strerror()};
  }
  avro_value_iface_decref(iface);
  // The JSON form (partner egress) has the contract's shape where the contract was checked to
  // read the writer's schema (backward, full), else the writer's own.
  const bool contract_reads_it = config::contractReadsWriters(compatibility);
  auto json = AvroJsonShape::make(*writer_model, contract_reads_it ? reader_model : nullptr);
  if (!json) {
    json = AvroJsonShape::make(*writer_model, nullptr);
  }
  if (!json) {
    return Error{"no JSON form for the writer's schema: " + json.error().message};
  }
  return ValidatorPtr(std::make_shared<AvroValidator>(std::move(*writer_model), *json));
}

}  // namespace causeway::schema
