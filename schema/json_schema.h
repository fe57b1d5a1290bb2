#pragma once

// JSON Schema validation of JSON documents: the commonly used core of drafts 4 to 2020-12,
// compiled once into a node tree and applied to documents parsed by simdjson. The keywords
// supported, and those that are not, are listed in docs/schemas.md; unknown keywords are
// ignored as the specification says, except those whose absence would silently accept what
// the author meant to refuse (they are refused when compiling, naming the keyword).
//
// Patterns use RE2 (linear time, no stack growth on long strings): a pattern using
// ECMAScript features RE2 lacks (lookaround, backreferences) is refused when compiling.

#include "common/result.h"
#include "schema/validator.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace simdjson::dom {
class element;
}  // namespace simdjson::dom

namespace causeway::schema {

struct JsonNode;

class JsonSchema {
public:
  // Compiles `text`; `references` are other documents by the name a $ref uses for them
  // ("address.json" in {"$ref": "address.json#/definitions/street"}).
  static Result<std::shared_ptr<const JsonSchema>>
  compile(std::string_view text,
          const std::vector<std::pair<std::string, std::string_view>>& references = {});
  ~JsonSchema();

  // Validates one parsed document; `violation` names the first failing path.
  bool validate(const simdjson::dom::element& document, Violation& violation) const;

private:
  JsonSchema() = default;
  friend class JsonSchemaCompiler;

  std::vector<std::unique_ptr<JsonNode>> nodes_;
  const JsonNode* root_ = nullptr;
};

using JsonSchemaPtr = std::shared_ptr<const JsonSchema>;

// A Validator for JSON payloads: parses with simdjson (reusing the parser's buffers per
// thread) and checks against `schema` (the contract's schema).
ValidatorPtr makeJsonValidator(JsonSchemaPtr schema);

// Compiles a resolved JSON schema (with its references).
Result<JsonSchemaPtr> compileJsonSchema(const ResolvedSchema& schema);

}  // namespace causeway::schema
