#include "schema/avro_validator.h"

#include "schema/avro_json.h"

#include <avro.h>

namespace causeway::schema {
namespace {

// One thread's Avro C objects for one writer schema: a memory reader and a generic value
// reused for every record (Avro C keeps their buffers between reads).
class AvroState final : public ScratchState {
public:
  AvroState(std::shared_ptr<const void> keepalive, avro_value_iface_t* iface)
      : keepalive_(std::move(keepalive)) {
    avro_value_iface_incref(iface);
    iface_ = iface;
    ok_ = avro_generic_value_new(iface_, &value_) == 0;
    reader_ = avro_reader_memory(nullptr, 0);
  }
  ~AvroState() override {
    if (ok_) {
      avro_value_decref(&value_);
    }
    if (reader_ != nullptr) {
      avro_reader_free(reader_);
    }
    avro_value_iface_decref(iface_);
  }

  bool ok() const { return ok_ && reader_ != nullptr; }
  avro_value_t& value() { return value_; }
  avro_reader_t reader() { return reader_; }

private:
  std::shared_ptr<const void> keepalive_;  // the validator (Avro C objects it owns)
  avro_value_iface_t* iface_ = nullptr;
  avro_value_t value_{};
  avro_reader_t reader_ = nullptr;
  bool ok_ = false;
};

class AvroValidator final : public Validator, public std::enable_shared_from_this<AvroValidator> {
public:
  AvroValidator(AvroModelPtr writer, std::shared_ptr<const AvroJsonShape> json,
                avro_schema_t schema, avro_value_iface_t* iface)
      : writer_(std::move(writer)), json_(std::move(json)), schema_(schema), iface_(iface) {}
  ~AvroValidator() override {
    avro_value_iface_decref(iface_);
    avro_schema_decref(schema_);
  }

  SchemaType type() const override { return SchemaType::kAvro; }

  std::unique_ptr<ScratchState> newState() const override {
    return std::make_unique<AvroState>(shared_from_this(), iface_);
  }

  bool validate(std::string_view payload, const MessageIndexes&, ValidationScratch& scratch,
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
    // The walk proved every length fits the bytes, so Avro C allocates nothing unbounded.
    auto& state = static_cast<AvroState&>(scratch.stateFor(*this));
    if (!state.ok()) {
      violation.path.clear();
      violation.message = "Avro C could not set up a value for the writer schema";
      return false;
    }
    avro_reader_memory_set_source(state.reader(), payload.data(),
                                  static_cast<int64_t>(payload.size()));
    if (avro_value_read(state.reader(), &state.value()) != 0) {
      violation.path.clear();
      violation.message = std::string("Avro C cannot decode it: ") + avro_strerror();
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
  avro_schema_t schema_;
  avro_value_iface_t* iface_;
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
    if (compatibility == config::Compatibility::kBackward ||
        compatibility == config::Compatibility::kFull) {
      if (auto resolves = avroResolves(w, r); !resolves) {
        return Error{"the contract's schema cannot read it: " + resolves.message()};
      }
    }
    if (compatibility == config::Compatibility::kForward ||
        compatibility == config::Compatibility::kFull) {
      if (auto resolves = avroResolves(r, w); !resolves) {
        return Error{"it cannot read data written with the contract's schema: " +
                     resolves.message()};
      }
    }
  }
  const std::string canonical = (*writer_model)->canonical();
  avro_schema_t schema = nullptr;
  if (avro_schema_from_json_length(canonical.data(), canonical.size(), &schema) != 0) {
    return Error{std::string("Avro C does not accept the writer's schema: ") + avro_strerror()};
  }
  avro_value_iface_t* iface = avro_generic_class_from_schema(schema);
  if (iface == nullptr) {
    avro_schema_decref(schema);
    return Error{std::string("Avro C cannot build values for the writer's schema: ") +
                 avro_strerror()};
  }
  // The JSON form (partner egress) has the contract's shape where the contract was checked to
  // read the writer's schema (backward, full), else the writer's own.
  const bool contract_reads_it = compatibility == config::Compatibility::kBackward ||
                                 compatibility == config::Compatibility::kFull;
  auto json = AvroJsonShape::make(*writer_model, contract_reads_it ? reader_model : nullptr);
  if (!json) {
    json = AvroJsonShape::make(*writer_model, nullptr);
  }
  if (!json) {
    avro_value_iface_decref(iface);
    avro_schema_decref(schema);
    return Error{"no JSON form for the writer's schema: " + json.error().message};
  }
  return ValidatorPtr(
      std::make_shared<AvroValidator>(std::move(*writer_model), *json, schema, iface));
}

}  // namespace causeway::schema
