#include "schema/json_schema.h"
#include "schema/json_schema_node.h"

#include <simdjson.h>

#include <cmath>
#include <cstring>

namespace causeway::schema {

using nlohmann::json;
using simdjson::dom::element;
using simdjson::dom::element_type;
using namespace json_schema_internal;

namespace {

// Documents deeper than this are refused by the parser (simdjson keeps a fixed-size stack).
constexpr size_t kMaxDocumentDepth = 128;

}  // namespace

// --- Validating ---------------------------------------------------------------------------------

namespace {

const char* typeName(element_type type) {
  switch (type) {
  case element_type::ARRAY:
    return "array";
  case element_type::OBJECT:
    return "object";
  case element_type::INT64:
  case element_type::UINT64:
    return "integer";
  case element_type::DOUBLE:
    return "number";
  case element_type::STRING:
    return "string";
  case element_type::BOOL:
    return "boolean";
  case element_type::NULL_VALUE:
    return "null";
  }
  return "value";
}

std::string expectedTypes(uint8_t types) {
  static const std::pair<uint8_t, const char*> kNames[] = {
      {kObject, "object"},   {kArray, "array"},     {kString, "string"}, {kNumber, "number"},
      {kInteger, "integer"}, {kBoolean, "boolean"}, {kNull, "null"}};
  std::string out;
  for (const auto& [bit, name] : kNames) {
    if (types & bit) {
      out += (out.empty() ? "" : " or ") + std::string(name);
    }
  }
  return out;
}

bool isInteger(const element& e) {
  const element_type type = e.type();
  if (type == element_type::INT64 || type == element_type::UINT64) {
    return true;
  }
  if (type == element_type::DOUBLE) {
    const double d = e.get_double().value_unsafe();
    return std::isfinite(d) && d == std::floor(d);
  }
  return false;
}

double asDouble(const element& e) {
  switch (e.type()) {
  case element_type::INT64:
    return static_cast<double>(e.get_int64().value_unsafe());
  case element_type::UINT64:
    return static_cast<double>(e.get_uint64().value_unsafe());
  default:
    return e.get_double().value_unsafe();
  }
}

bool equalJson(const element& e, const json& j) {
  switch (e.type()) {
  case element_type::NULL_VALUE:
    return j.is_null();
  case element_type::BOOL:
    return j.is_boolean() && j.get<bool>() == e.get_bool().value_unsafe();
  case element_type::STRING:
    return j.is_string() && j.get_ref<const std::string&>() == e.get_string().value_unsafe();
  case element_type::INT64:
    if (j.is_number_integer() && !j.is_number_unsigned()) {
      return j.get<int64_t>() == e.get_int64().value_unsafe();
    }
    if (j.is_number_unsigned()) {
      return e.get_int64().value_unsafe() >= 0 &&
             j.get<uint64_t>() == static_cast<uint64_t>(e.get_int64().value_unsafe());
    }
    return j.is_number() && j.get<double>() == asDouble(e);
  case element_type::UINT64:
    if (j.is_number_unsigned()) {
      return j.get<uint64_t>() == e.get_uint64().value_unsafe();
    }
    return j.is_number() && !j.is_number_integer() && j.get<double>() == asDouble(e);
  case element_type::DOUBLE:
    return j.is_number() && j.get<double>() == asDouble(e);
  case element_type::ARRAY: {
    if (!j.is_array()) {
      return false;
    }
    auto array = e.get_array().value_unsafe();
    if (array.size() != j.size()) {
      return false;
    }
    size_t i = 0;
    for (element item : array) {
      if (!equalJson(item, j[i++])) {
        return false;
      }
    }
    return true;
  }
  case element_type::OBJECT: {
    if (!j.is_object()) {
      return false;
    }
    auto object = e.get_object().value_unsafe();
    if (object.size() != j.size()) {
      return false;
    }
    for (auto field : object) {
      auto it = j.find(std::string(field.key));
      if (it == j.end() || !equalJson(field.value, *it)) {
        return false;
      }
    }
    return true;
  }
  }
  return false;
}

bool equalElements(const element& a, const element& b) {
  const element_type ta = a.type();
  const element_type tb = b.type();
  const bool na =
      ta == element_type::INT64 || ta == element_type::UINT64 || ta == element_type::DOUBLE;
  const bool nb =
      tb == element_type::INT64 || tb == element_type::UINT64 || tb == element_type::DOUBLE;
  if (na && nb) {
    if (ta == tb && ta == element_type::INT64) {
      return a.get_int64().value_unsafe() == b.get_int64().value_unsafe();
    }
    if (ta == tb && ta == element_type::UINT64) {
      return a.get_uint64().value_unsafe() == b.get_uint64().value_unsafe();
    }
    return asDouble(a) == asDouble(b);
  }
  if (ta != tb) {
    return false;
  }
  switch (ta) {
  case element_type::NULL_VALUE:
    return true;
  case element_type::BOOL:
    return a.get_bool().value_unsafe() == b.get_bool().value_unsafe();
  case element_type::STRING:
    return a.get_string().value_unsafe() == b.get_string().value_unsafe();
  case element_type::ARRAY: {
    auto x = a.get_array().value_unsafe();
    auto y = b.get_array().value_unsafe();
    if (x.size() != y.size()) {
      return false;
    }
    auto it = y.begin();
    for (element item : x) {
      if (!equalElements(item, *it)) {
        return false;
      }
      ++it;
    }
    return true;
  }
  case element_type::OBJECT: {
    auto x = a.get_object().value_unsafe();
    auto y = b.get_object().value_unsafe();
    if (x.size() != y.size()) {
      return false;
    }
    for (auto field : x) {
      auto other = y.at_key(field.key);
      if (other.error() || !equalElements(field.value, other.value_unsafe())) {
        return false;
      }
    }
    return true;
  }
  default:
    return false;
  }
}

size_t codePoints(std::string_view s) {
  size_t n = 0;
  for (char c : s) {
    n += (static_cast<uint8_t>(c) & 0xc0) != 0x80 ? 1 : 0;
  }
  return n;
}

std::string plural(uint64_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

std::string number(double d) {
  json j = d;
  if (d == std::floor(d) && std::fabs(d) < 1e15) {
    j = static_cast<int64_t>(d);
  }
  return j.dump();
}

class Checker {
public:
  explicit Checker(Violation& violation) : violation_(violation) {}

  bool check(const JsonNode& node, const element& e, int depth) {
    if (depth > kMaxDepth) {
      return fail("the schema nests (or refers to itself) more than " + std::to_string(kMaxDepth) +
                  " levels deep for this document");
    }
    if (node.reject_all) {
      return fail("no value is allowed here (schema false)");
    }
    if (node.ref != nullptr && !check(*node.ref, e, depth + 1)) {
      return false;
    }
    const element_type type = e.type();
    if (node.types != 0 && !typeMatches(node.types, e)) {
      return fail("expected " + expectedTypes(node.types) + ", found " + typeName(type));
    }
    if (node.has_enum) {
      bool found = false;
      for (const auto& value : node.enum_values) {
        if (equalJson(e, value)) {
          found = true;
          break;
        }
      }
      if (!found) {
        return fail("not one of the " + plural(node.enum_values.size(), "allowed value"));
      }
    }
    if (node.const_value && !equalJson(e, *node.const_value)) {
      return fail("not the constant value the schema requires");
    }
    switch (type) {
    case element_type::OBJECT:
      if (!checkObject(node, e, depth)) {
        return false;
      }
      break;
    case element_type::ARRAY:
      if (!checkArray(node, e, depth)) {
        return false;
      }
      break;
    case element_type::STRING:
      if (!checkString(node, e.get_string().value_unsafe())) {
        return false;
      }
      break;
    case element_type::INT64:
    case element_type::UINT64:
    case element_type::DOUBLE:
      if (!checkNumber(node, e)) {
        return false;
      }
      break;
    default:
      break;
    }
    return checkCombinations(node, e, depth);
  }

private:
  static bool typeMatches(uint8_t types, const element& e) {
    switch (e.type()) {
    case element_type::NULL_VALUE:
      return types & kNull;
    case element_type::BOOL:
      return types & kBoolean;
    case element_type::OBJECT:
      return types & kObject;
    case element_type::ARRAY:
      return types & kArray;
    case element_type::STRING:
      return types & kString;
    case element_type::INT64:
    case element_type::UINT64:
      return types & (kNumber | kInteger);
    case element_type::DOUBLE:
      return (types & kNumber) || ((types & kInteger) && isInteger(e));
    }
    return false;
  }

  bool checkObject(const JsonNode& node, const element& e, int depth) {
    auto object = e.get_object().value_unsafe();
    const size_t size = object.size();
    if (node.min_properties && size < *node.min_properties) {
      return fail("has " + plural(size, "property") + ", at least " +
                  std::to_string(*node.min_properties) + " required");
    }
    if (node.max_properties && size > *node.max_properties) {
      return fail("has " + plural(size, "property") + ", at most " +
                  std::to_string(*node.max_properties) + " allowed");
    }
    // Which declared properties are present, for `required`: a bit per property.
    constexpr size_t kInline = 256;
    uint64_t seen[kInline / 64] = {};
    const bool track = !node.required.empty() && node.property_names.size() <= kInline;
    size_t position = 0;
    for (auto field : object) {
      ++position;
      const std::string_view key = field.key;
      bool matched = false;
      if (auto it = node.property_index.find(key); it != node.property_index.end()) {
        matched = true;
        if (track) {
          seen[it->second / 64] |= uint64_t{1} << (it->second % 64);
        }
        if (const JsonNode* schema = node.property_schemas[it->second]) {
          if (!check(*schema, field.value, depth + 1)) {
            return prefix(node.property_names[it->second]);
          }
        }
      }
      for (const auto& [re, schema] : node.pattern_properties) {
        if (re2::RE2::PartialMatch(re2::StringPiece(key.data(), key.size()), *re)) {
          matched = true;
          if (!check(*schema, field.value, depth + 1)) {
            // The key is record data: named by position, not by its text.
            return prefix("<property " + std::to_string(position) + ">");
          }
        }
      }
      if (node.property_names_schema != nullptr) {
        // Keys are checked as strings; simdjson has no element for a key, so the common
        // string keywords are applied here.
        if (!checkString(*node.property_names_schema, key)) {
          violation_.message = "property name: " + violation_.message;
          return prefix("<property " + std::to_string(position) + ">");
        }
      }
      if (!matched) {
        if (node.additional == JsonNode::Additional::kForbid) {
          return fail("property " + std::to_string(position) +
                      " is not in the schema (additionalProperties is false)");
        }
        if (node.additional == JsonNode::Additional::kSchema &&
            !check(*node.additional_schema, field.value, depth + 1)) {
          return prefix("<property " + std::to_string(position) + ">");
        }
      }
    }
    for (size_t index : node.required) {
      const bool present = track ? (seen[index / 64] >> (index % 64)) & 1
                                 : !object.at_key(node.property_names[index]).error();
      if (!present) {
        violation_.path = node.property_names[index];
        violation_.message = "required property is missing";
        return false;
      }
    }
    for (const auto& [name, names] : node.dependent_required) {
      if (object.at_key(name).error()) {
        continue;
      }
      for (const auto& needed : names) {
        if (object.at_key(needed).error()) {
          violation_.path = needed;
          violation_.message = "required property is missing (because " + name + " is present)";
          return false;
        }
      }
    }
    for (const auto& [name, schema] : node.dependent_schemas) {
      if (!object.at_key(name).error() && !check(*schema, e, depth + 1)) {
        return false;
      }
    }
    return true;
  }

  bool checkArray(const JsonNode& node, const element& e, int depth) {
    auto array = e.get_array().value_unsafe();
    const size_t size = array.size();
    if (node.min_items && size < *node.min_items) {
      return fail("has " + plural(size, "item") + ", at least " + std::to_string(*node.min_items) +
                  " required");
    }
    if (node.max_items && size > *node.max_items) {
      return fail("has " + plural(size, "item") + ", at most " + std::to_string(*node.max_items) +
                  " allowed");
    }
    size_t index = 0;
    uint64_t contained = 0;
    for (element item : array) {
      const JsonNode* schema =
          index < node.prefix_items.size() ? node.prefix_items[index] : node.items;
      if (index >= node.prefix_items.size() && node.items_forbidden) {
        return fail("has " + plural(size, "item") + ", at most " +
                    std::to_string(node.prefix_items.size()) + " allowed");
      }
      if (schema != nullptr && !check(*schema, item, depth + 1)) {
        return prefix("[" + std::to_string(index) + "]");
      }
      if (node.contains != nullptr) {
        Violation ignored;
        Checker probe(ignored);
        if (probe.check(*node.contains, item, depth + 1)) {
          ++contained;
        }
      }
      ++index;
    }
    if (node.contains != nullptr) {
      const uint64_t min = node.min_contains.value_or(1);
      if (contained < min) {
        return fail(contained == 0 ? std::string("no item matches \"contains\"")
                                   : plural(contained, "item") + " match \"contains\", at least " +
                                         std::to_string(min) + " required");
      }
      if (node.max_contains && contained > *node.max_contains) {
        return fail(plural(contained, "item") + " match \"contains\", at most " +
                    std::to_string(*node.max_contains) + " allowed");
      }
    }
    if (node.unique_items && size > 1) {
      // Quadratic, but only for schemas that ask for it.
      size_t i = 0;
      for (element a : array) {
        size_t j = 0;
        for (element b : array) {
          if (j > i && equalElements(a, b)) {
            return fail("items " + std::to_string(i) + " and " + std::to_string(j) +
                        " are equal (uniqueItems)");
          }
          ++j;
        }
        ++i;
      }
    }
    return true;
  }

  bool checkString(const JsonNode& node, std::string_view s) {
    if (node.min_length || node.max_length) {
      const size_t length = codePoints(s);
      if (node.min_length && length < *node.min_length) {
        return fail("shorter than " + plural(*node.min_length, "character"));
      }
      if (node.max_length && length > *node.max_length) {
        return fail("longer than " + plural(*node.max_length, "character"));
      }
    }
    if (node.pattern &&
        !re2::RE2::PartialMatch(re2::StringPiece(s.data(), s.size()), *node.pattern)) {
      return fail("does not match the pattern " + json(node.pattern->pattern()).dump());
    }
    return true;
  }

  bool checkNumber(const JsonNode& node, const element& e) {
    const double d = asDouble(e);
    if (node.minimum && d < *node.minimum) {
      return fail("less than the minimum " + number(*node.minimum));
    }
    if (node.maximum && d > *node.maximum) {
      return fail("greater than the maximum " + number(*node.maximum));
    }
    if (node.exclusive_minimum && d <= *node.exclusive_minimum) {
      return fail("not greater than the exclusive minimum " + number(*node.exclusive_minimum));
    }
    if (node.exclusive_maximum && d >= *node.exclusive_maximum) {
      return fail("not less than the exclusive maximum " + number(*node.exclusive_maximum));
    }
    if (node.multiple_of) {
      const double m = *node.multiple_of;
      bool ok = false;
      if (e.type() == element_type::INT64 && m == std::floor(m) && m < 9e18) {
        ok = e.get_int64().value_unsafe() % static_cast<int64_t>(m) == 0;
      } else {
        const double q = d / m;
        ok = std::isfinite(q) && std::fabs(q - std::round(q)) <= 1e-9 * std::max(1.0, std::fabs(q));
      }
      if (!ok) {
        return fail("not a multiple of " + number(m));
      }
    }
    return true;
  }

  bool checkCombinations(const JsonNode& node, const element& e, int depth) {
    for (const JsonNode* schema : node.all_of) {
      if (!check(*schema, e, depth + 1)) {
        return false;
      }
    }
    if (!node.any_of.empty()) {
      bool any = false;
      for (const JsonNode* schema : node.any_of) {
        Violation ignored;
        Checker probe(ignored);
        if (probe.check(*schema, e, depth + 1)) {
          any = true;
          break;
        }
      }
      if (!any) {
        return fail("matches none of the " + plural(node.any_of.size(), "anyOf alternative"));
      }
    }
    if (!node.one_of.empty()) {
      size_t matches = 0;
      for (const JsonNode* schema : node.one_of) {
        Violation ignored;
        Checker probe(ignored);
        if (probe.check(*schema, e, depth + 1)) {
          ++matches;
        }
      }
      if (matches != 1) {
        return fail("matches " + std::to_string(matches) + " of the " +
                    plural(node.one_of.size(), "oneOf alternative") + ", exactly one required");
      }
    }
    if (node.not_schema != nullptr) {
      Violation ignored;
      Checker probe(ignored);
      if (probe.check(*node.not_schema, e, depth + 1)) {
        return fail("matches the schema under \"not\"");
      }
    }
    if (node.if_schema != nullptr) {
      Violation ignored;
      Checker probe(ignored);
      const JsonNode* next =
          probe.check(*node.if_schema, e, depth + 1) ? node.then_schema : node.else_schema;
      if (next != nullptr && !check(*next, e, depth + 1)) {
        return false;
      }
    }
    return true;
  }

  bool fail(std::string message) {
    violation_.path.clear();
    violation_.message = std::move(message);
    return false;
  }

  // Adds a path component while unwinding from a failure; returns false.
  bool prefix(const std::string& component) {
    if (violation_.path.empty()) {
      violation_.path = component;
    } else if (violation_.path[0] == '[') {
      violation_.path = component + violation_.path;
    } else {
      violation_.path = component + "." + violation_.path;
    }
    return false;
  }

  Violation& violation_;
};

// One thread's parser and the padded copy simdjson reads from.
class JsonState final : public ScratchState {
public:
  JsonState() {
    // Without room, the first parse allocates (with this depth) and says so: nothing to do here.
    auto allocated = parser_.allocate(4096, kMaxDocumentDepth);
    (void)allocated;
  }
  simdjson::dom::parser& parser() { return parser_; }
  std::string& buffer() { return buffer_; }

private:
  simdjson::dom::parser parser_{64u << 20};
  std::string buffer_;
};

class JsonValidator final : public Validator {
public:
  explicit JsonValidator(JsonSchemaPtr schema) : schema_(std::move(schema)) {}

  SchemaType type() const override { return SchemaType::kJson; }
  std::unique_ptr<ScratchState> newState() const override { return std::make_unique<JsonState>(); }

  bool validate(std::string_view payload, const MessageIndexes&, ValidationScratch& scratch,
                Violation& violation) const override {
    auto& state = static_cast<JsonState&>(scratch.stateFor(*this));
    // simdjson reads up to SIMDJSON_PADDING bytes past the end: copy into a padded buffer
    // reused from record to record.
    std::string& buffer = state.buffer();
    if (buffer.size() < payload.size() + simdjson::SIMDJSON_PADDING) {
      buffer.resize(payload.size() + simdjson::SIMDJSON_PADDING);
    }
    std::memcpy(buffer.data(), payload.data(), payload.size());
    auto parsed = state.parser().parse(buffer.data(), payload.size(), false);
    if (parsed.error()) {
      violation.path.clear();
      violation.message = std::string("not valid JSON: ") + simdjson::error_message(parsed.error());
      return false;
    }
    return schema_->validate(parsed.value_unsafe(), violation);
  }

  bool toJson(std::string_view payload, const MessageIndexes&, ValidationScratch&,
              std::string& out, Violation&) const override {
    out.append(payload);
    return true;
  }

private:
  JsonSchemaPtr schema_;
};

}  // namespace

bool JsonSchema::validate(const element& document, Violation& violation) const {
  Checker checker(violation);
  return checker.check(*root_, document, 0);
}

ValidatorPtr makeJsonValidator(JsonSchemaPtr schema) {
  return std::make_shared<JsonValidator>(std::move(schema));
}

}  // namespace causeway::schema
