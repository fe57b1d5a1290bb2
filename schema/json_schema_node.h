#pragma once

// The compiled form of a JSON Schema (internal to json_schema*.cc): one node per schema object,
// keywords as typed fields, $refs as pointers to other nodes (recursive schemas form cycles).

#include <nlohmann/json.hpp>
#include <re2/re2.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace causeway::schema::json_schema_internal {

// Schema nesting and $ref chains followed while validating one document.
inline constexpr int kMaxDepth = 256;

enum TypeBit : uint8_t {
  kNull = 1,
  kBoolean = 2,
  kObject = 4,
  kArray = 8,
  kNumber = 16,
  kInteger = 32,
  kString = 64,
};

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};

}  // namespace causeway::schema::json_schema_internal

namespace causeway::schema {

using json_schema_internal::StringHash;

struct JsonNode {
  bool reject_all = false;  // the schema `false`
  uint8_t types = 0;        // 0: any type
  // objects
  std::vector<std::string> property_names;
  std::vector<const JsonNode*> property_schemas;  // nullptr: only named by `required`
  std::unordered_map<std::string, size_t, StringHash, std::equal_to<>> property_index;
  std::vector<size_t> required;  // indexes into property_names
  std::vector<std::pair<std::unique_ptr<re2::RE2>, const JsonNode*>> pattern_properties;
  enum class Additional : uint8_t { kAllow, kForbid, kSchema } additional = Additional::kAllow;
  const JsonNode* additional_schema = nullptr;
  const JsonNode* property_names_schema = nullptr;
  std::vector<std::pair<std::string, std::vector<std::string>>> dependent_required;
  std::vector<std::pair<std::string, const JsonNode*>> dependent_schemas;
  std::optional<uint64_t> min_properties, max_properties;
  // arrays
  std::vector<const JsonNode*> prefix_items;
  const JsonNode* items = nullptr;  // the items after prefix_items (all of them without)
  bool items_forbidden = false;     // no items after prefix_items
  const JsonNode* contains = nullptr;
  std::optional<uint64_t> min_contains, max_contains;
  std::optional<uint64_t> min_items, max_items;
  bool unique_items = false;
  // numbers
  std::optional<double> minimum, maximum, exclusive_minimum, exclusive_maximum, multiple_of;
  // strings
  std::optional<uint64_t> min_length, max_length;
  std::unique_ptr<re2::RE2> pattern;
  // values
  bool has_enum = false;
  std::vector<nlohmann::json> enum_values;
  std::optional<nlohmann::json> const_value;
  // combinations
  std::vector<const JsonNode*> all_of, any_of, one_of;
  const JsonNode* not_schema = nullptr;
  const JsonNode* if_schema = nullptr;
  const JsonNode* then_schema = nullptr;
  const JsonNode* else_schema = nullptr;
  const JsonNode* ref = nullptr;
};

}  // namespace causeway::schema
