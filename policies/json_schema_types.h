#pragma once

// What a contract's schema says about the fields a policy names, for errors at load: a path
// the schema cannot hold ("no field 'emial' at value.customer; did you mean 'email'?") and an
// action that does not fit the field's type. Built from a JSON Schema (a JSON contract's own,
// or the JSON Schema of the JSON an Avro or Protobuf contract's records decode to:
// schema/avro_json_schema.h, schema/protobuf_json_schema.h).
//
// Conservative: a path is refused only when the schema proves no record can hold it (every
// object schema on the way is closed with `additionalProperties: false`, or the value there is
// not an object or array); anything the schema leaves open (no `additionalProperties: false`,
// `patternProperties`, a `$ref` to another document, an untyped node) is kAny. Local `$ref`s and
// `allOf`/`anyOf`/`oneOf` branches are followed. Pure; immutable once made.

#include "common/result.h"
#include "policies/field_types.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace causeway::policies {

class JsonSchemaTypes : public FieldTypes {
public:
  // Types of `side`'s paths (kValue or kKey) from `schema_text`; `what` names the schema in
  // problems ("the contract schema of payments.authorized"). An error when the text is not a
  // JSON object or boolean.
  static Result<std::unique_ptr<JsonSchemaTypes>> make(std::string_view schema_text, PathRoot side,
                                                       std::string what);

  std::optional<FieldType> typeOf(const FieldPath& path, std::string& problem) const override;

private:
  JsonSchemaTypes(nlohmann::json root, PathRoot side, std::string what)
      : root_(std::move(root)), side_(side), what_(std::move(what)) {}

  nlohmann::json root_;
  PathRoot side_;
  std::string what_;
};

}  // namespace causeway::policies
