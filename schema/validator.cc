#include "schema/validator.h"

#include "config/domains.h"
#include "schema/avro_validator.h"
#include "schema/json_schema.h"
#include "schema/protobuf_validator.h"

namespace causeway::schema {

std::string Violation::describe(std::string_view side) const {
  std::string out(side);
  if (!path.empty()) {
    if (path[0] != '[') {
      out += '.';
    }
    out += path;
  }
  out += ": ";
  out += message;
  return out;
}

ScratchState& ValidationScratch::stateFor(const Validator& validator) {
  auto it = states_.find(validator.serial());
  if (it == states_.end()) {
    it = states_.emplace(validator.serial(), validator.newState()).first;
  }
  return *it->second;
}

void ValidationScratch::trim(size_t max_entries) {
  if (states_.size() > max_entries) {
    states_.clear();
  }
}

Result<ValidatorPtr> compileValidator(const ResolvedSchema& writer, const ResolvedSchema* reader,
                                      config::Compatibility compatibility) {
  if (reader != nullptr && reader->schema.type != writer.schema.type) {
    return Error{std::string("the record's schema is ") + formatName(writer.schema.type) +
                 " but the contract's schema is " + formatName(reader->schema.type)};
  }
  switch (writer.schema.type) {
  case SchemaType::kAvro:
    return compileAvroValidator(writer, reader, compatibility);
  case SchemaType::kProtobuf:
    return compileProtobufValidator(writer, reader, compatibility);
  case SchemaType::kJson: {
    auto schema = compileJsonSchema(reader != nullptr ? *reader : writer);
    if (!schema) {
      return Error{std::string("the ") + (reader != nullptr ? "contract's" : "writer's") +
                   " JSON Schema cannot be used: " + schema.error().message};
    }
    return makeJsonValidator(std::move(*schema));
  }
  }
  return Error{"unknown schema type"};
}

}  // namespace causeway::schema
