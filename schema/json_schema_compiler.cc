#include "schema/json_schema.h"
#include "schema/json_schema_node.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>

namespace causeway::schema {

using nlohmann::json;

namespace {

using namespace json_schema_internal;

// Keywords whose meaning Causeway does not implement and whose absence would accept what the
// schema's author meant to refuse: a schema using them is refused instead of half-enforced.
const char* const kUnsupported[] = {"unevaluatedProperties", "unevaluatedItems", "$dynamicRef",
                                    "$recursiveRef"};

}  // namespace

// --- Compiling ---------------------------------------------------------------------------------

class JsonSchemaCompiler {
public:
  explicit JsonSchemaCompiler(JsonSchema& out) : out_(out) {}

  Status addDocument(std::string name, std::string_view text) {
    json parsed = json::parse(text, nullptr, false);
    if (parsed.is_discarded()) {
      return Error{(name.empty() ? std::string("the schema") : "reference " + name) +
                   " is not JSON"};
    }
    documents_.push_back(Document{std::move(name), std::move(parsed)});
    return Status::success();
  }

  Result<const JsonNode*> compileRoot() { return nodeAt(0, "", 0); }

private:
  struct Document {
    std::string name;
    json value;
  };

  // The node for the schema at `pointer` in document `doc`, compiled once: a node is
  // registered before its content is compiled, so recursive $refs end at it.
  Result<const JsonNode*> nodeAt(size_t doc, const std::string& pointer, int depth) {
    auto key = std::make_pair(doc, pointer);
    if (auto it = by_pointer_.find(key); it != by_pointer_.end()) {
      return static_cast<const JsonNode*>(it->second);
    }
    const json* target = resolvePointer(documents_[doc].value, pointer);
    if (target == nullptr) {
      return Error{"$ref " + where(doc, pointer) + " points at nothing"};
    }
    JsonNode* node = add();
    by_pointer_[key] = node;
    if (auto compiled = compileInto(*node, *target, doc, pointer, depth); !compiled) {
      return compiled.error();
    }
    return static_cast<const JsonNode*>(node);
  }

  std::string where(size_t doc, const std::string& pointer) const {
    return documents_[doc].name + "#" + pointer;
  }

  static const json* resolvePointer(const json& root, const std::string& pointer) {
    const json* at = &root;
    size_t pos = 0;
    while (pos < pointer.size()) {
      if (pointer[pos] != '/') {
        return nullptr;
      }
      const size_t end = std::min(pointer.find('/', pos + 1), pointer.size());
      std::string token;
      for (size_t i = pos + 1; i < end; ++i) {
        if (pointer[i] == '~' && i + 1 < end) {
          token += pointer[i + 1] == '1' ? '/' : '~';
          ++i;
        } else if (pointer[i] == '%' && i + 2 < end &&
                   std::isxdigit(static_cast<unsigned char>(pointer[i + 1])) &&
                   std::isxdigit(static_cast<unsigned char>(pointer[i + 2]))) {
          token += static_cast<char>(std::stoi(pointer.substr(i + 1, 2), nullptr, 16));
          i += 2;
        } else {
          token += pointer[i];
        }
      }
      if (at->is_object()) {
        auto it = at->find(token);
        if (it == at->end()) {
          return nullptr;
        }
        at = &*it;
      } else if (at->is_array()) {
        size_t index = 0;
        if (token.empty() || token.size() > 9 ||
            !std::all_of(token.begin(), token.end(), ::isdigit)) {
          return nullptr;
        }
        index = std::stoul(token);
        if (index >= at->size()) {
          return nullptr;
        }
        at = &(*at)[index];
      } else {
        return nullptr;
      }
      pos = end;
    }
    return at;
  }

  // Subschemas are compiled through nodeAt (by their pointer) so a $ref to them finds the
  // same node.
  Result<const JsonNode*> sub(size_t doc, const std::string& pointer, int depth) {
    return nodeAt(doc, pointer, depth + 1);
  }

  static std::string escapeToken(const std::string& key) {
    std::string out;
    for (char c : key) {
      if (c == '~') {
        out += "~0";
      } else if (c == '/') {
        out += "~1";
      } else {
        out += c;
      }
    }
    return out;
  }

  Result<std::optional<uint64_t>> count(const json& j, const char* key, const std::string& at) {
    auto it = j.find(key);
    if (it == j.end()) {
      return std::optional<uint64_t>();
    }
    if (it->is_number_unsigned() || (it->is_number_integer() && it->get<int64_t>() >= 0)) {
      return std::optional<uint64_t>(it->get<uint64_t>());
    }
    if (it->is_number_float() && it->get<double>() >= 0 &&
        it->get<double>() == std::floor(it->get<double>()) && it->get<double>() < 1e18) {
      return std::optional<uint64_t>(static_cast<uint64_t>(it->get<double>()));
    }
    return Error{at + ": \"" + key + "\" must be a non-negative integer"};
  }

  Result<std::optional<double>> number(const json& j, const char* key, const std::string& at) {
    auto it = j.find(key);
    if (it == j.end() || it->is_boolean()) {
      return std::optional<double>();
    }
    if (!it->is_number()) {
      return Error{at + ": \"" + key + "\" must be a number"};
    }
    return std::optional<double>(it->get<double>());
  }

  Result<std::unique_ptr<re2::RE2>> regex(const std::string& pattern, const std::string& at) {
    re2::RE2::Options options;
    options.set_log_errors(false);
    auto re = std::make_unique<re2::RE2>(pattern, options);
    if (!re->ok()) {
      return Error{
          at + ": the pattern " + json(pattern).dump() +
          " is not supported (RE2 syntax: no lookaround or backreferences): " + re->error()};
    }
    return re;
  }

  Status compileInto(JsonNode& node, const json& j, size_t doc, const std::string& pointer,
                     int depth) {
    const std::string at = where(doc, pointer);
    if (depth > kMaxDepth) {
      return Error{at + ": nested more than " + std::to_string(kMaxDepth) + " levels deep"};
    }
    if (j.is_boolean()) {
      node.reject_all = !j.get<bool>();
      return Status::success();
    }
    if (!j.is_object()) {
      return Error{at + ": a schema must be an object or a boolean"};
    }
    for (const char* keyword : kUnsupported) {
      if (j.contains(keyword)) {
        return Error{at + ": the keyword \"" + std::string(keyword) +
                     "\" is not supported (see docs/schemas.md)"};
      }
    }
    if (auto type = j.find("type"); type != j.end()) {
      auto add_type = [&](const json& t) -> Status {
        static const std::pair<const char*, uint8_t> kTypes[] = {
            {"null", kNull},     {"boolean", kBoolean}, {"object", kObject}, {"array", kArray},
            {"number", kNumber}, {"integer", kInteger}, {"string", kString}};
        if (t.is_string()) {
          for (const auto& [name, bit] : kTypes) {
            if (t.get<std::string>() == name) {
              node.types |= bit;
              return Status::success();
            }
          }
        }
        return Error{at + ": unknown type " + t.dump()};
      };
      if (type->is_array()) {
        for (const auto& t : *type) {
          if (auto added = add_type(t); !added) {
            return added;
          }
        }
      } else if (auto added = add_type(*type); !added) {
        return added;
      }
    }
    if (auto ref = j.find("$ref"); ref != j.end()) {
      if (!ref->is_string()) {
        return Error{at + ": \"$ref\" must be a string"};
      }
      auto target = resolveRef(ref->get<std::string>(), doc, at, depth);
      if (!target) {
        return target.error();
      }
      node.ref = *target;
    }
    // Objects.
    if (auto properties = j.find("properties"); properties != j.end()) {
      if (!properties->is_object()) {
        return Error{at + ": \"properties\" must be an object"};
      }
      for (auto it = properties->begin(); it != properties->end(); ++it) {
        auto schema = sub(doc, pointer + "/properties/" + escapeToken(it.key()), depth);
        if (!schema) {
          return schema.error();
        }
        node.property_index.emplace(it.key(), node.property_names.size());
        node.property_names.push_back(it.key());
        node.property_schemas.push_back(*schema);
      }
    }
    if (auto required = j.find("required"); required != j.end() && required->is_array()) {
      for (const auto& name : *required) {
        if (!name.is_string()) {
          return Error{at + ": \"required\" must list property names"};
        }
        const std::string key = name.get<std::string>();
        auto found = node.property_index.find(key);
        if (found == node.property_index.end()) {
          found = node.property_index.emplace(key, node.property_names.size()).first;
          node.property_names.push_back(key);
          node.property_schemas.push_back(nullptr);
        }
        node.required.push_back(found->second);
      }
    }
    if (auto patterns = j.find("patternProperties"); patterns != j.end()) {
      if (!patterns->is_object()) {
        return Error{at + ": \"patternProperties\" must be an object"};
      }
      for (auto it = patterns->begin(); it != patterns->end(); ++it) {
        auto re = regex(it.key(), at + "/patternProperties");
        if (!re) {
          return re.error();
        }
        auto schema = sub(doc, pointer + "/patternProperties/" + escapeToken(it.key()), depth);
        if (!schema) {
          return schema.error();
        }
        node.pattern_properties.emplace_back(std::move(*re), *schema);
      }
    }
    if (auto additional = j.find("additionalProperties"); additional != j.end()) {
      if (additional->is_boolean()) {
        node.additional =
            additional->get<bool>() ? JsonNode::Additional::kAllow : JsonNode::Additional::kForbid;
      } else {
        auto schema = sub(doc, pointer + "/additionalProperties", depth);
        if (!schema) {
          return schema.error();
        }
        node.additional = JsonNode::Additional::kSchema;
        node.additional_schema = *schema;
      }
    }
    if (auto names = j.find("propertyNames"); names != j.end()) {
      auto schema = sub(doc, pointer + "/propertyNames", depth);
      if (!schema) {
        return schema.error();
      }
      node.property_names_schema = *schema;
    }
    auto dependencies = [&](const char* key, bool allow_arrays, bool allow_schemas) -> Status {
      auto deps = j.find(key);
      if (deps == j.end()) {
        return Status::success();
      }
      if (!deps->is_object()) {
        return Error{at + ": \"" + key + "\" must be an object"};
      }
      for (auto it = deps->begin(); it != deps->end(); ++it) {
        if (it.value().is_array() && allow_arrays) {
          std::vector<std::string> names;
          for (const auto& name : it.value()) {
            if (!name.is_string()) {
              return Error{at + ": \"" + key + "\" lists must hold property names"};
            }
            names.push_back(name.get<std::string>());
          }
          node.dependent_required.emplace_back(it.key(), std::move(names));
        } else if (allow_schemas) {
          auto schema = sub(doc, pointer + "/" + key + "/" + escapeToken(it.key()), depth);
          if (!schema) {
            return schema.error();
          }
          node.dependent_schemas.emplace_back(it.key(), *schema);
        } else {
          return Error{at + ": \"" + key + "\" must map names to lists of property names"};
        }
      }
      return Status::success();
    };
    if (auto s = dependencies("dependencies", true, true); !s) {
      return s;
    }
    if (auto s = dependencies("dependentRequired", true, false); !s) {
      return s;
    }
    if (auto s = dependencies("dependentSchemas", false, true); !s) {
      return s;
    }
    // Arrays.
    const auto items = j.find("items");
    const auto prefix = j.find("prefixItems");
    if (prefix != j.end()) {
      if (!prefix->is_array()) {
        return Error{at + ": \"prefixItems\" must be a list of schemas"};
      }
      for (size_t i = 0; i < prefix->size(); ++i) {
        auto schema = sub(doc, pointer + "/prefixItems/" + std::to_string(i), depth);
        if (!schema) {
          return schema.error();
        }
        node.prefix_items.push_back(*schema);
      }
    }
    if (items != j.end()) {
      if (items->is_array()) {  // drafts 4 to 2019-09: a tuple
        for (size_t i = 0; i < items->size(); ++i) {
          auto schema = sub(doc, pointer + "/items/" + std::to_string(i), depth);
          if (!schema) {
            return schema.error();
          }
          node.prefix_items.push_back(*schema);
        }
        if (auto more = j.find("additionalItems"); more != j.end()) {
          if (more->is_boolean()) {
            node.items_forbidden = !more->get<bool>();
          } else {
            auto schema = sub(doc, pointer + "/additionalItems", depth);
            if (!schema) {
              return schema.error();
            }
            node.items = *schema;
          }
        }
      } else if (items->is_boolean() && !items->get<bool>()) {
        node.items_forbidden = true;
      } else {
        auto schema = sub(doc, pointer + "/items", depth);
        if (!schema) {
          return schema.error();
        }
        node.items = *schema;
      }
    }
    if (auto contains = j.find("contains"); contains != j.end()) {
      auto schema = sub(doc, pointer + "/contains", depth);
      if (!schema) {
        return schema.error();
      }
      node.contains = *schema;
    }
    for (auto [key, out] :
         {std::pair{"minItems", &node.min_items}, std::pair{"maxItems", &node.max_items},
          std::pair{"minContains", &node.min_contains},
          std::pair{"maxContains", &node.max_contains}, std::pair{"minLength", &node.min_length},
          std::pair{"maxLength", &node.max_length},
          std::pair{"minProperties", &node.min_properties},
          std::pair{"maxProperties", &node.max_properties}}) {
      auto value = count(j, key, at);
      if (!value) {
        return value.error();
      }
      *out = *value;
    }
    if (auto unique = j.find("uniqueItems"); unique != j.end() && unique->is_boolean()) {
      node.unique_items = unique->get<bool>();
    }
    // Numbers: draft 4 writes exclusiveMinimum as a boolean beside minimum.
    for (auto [key, out] :
         {std::pair{"minimum", &node.minimum}, std::pair{"maximum", &node.maximum},
          std::pair{"exclusiveMinimum", &node.exclusive_minimum},
          std::pair{"exclusiveMaximum", &node.exclusive_maximum},
          std::pair{"multipleOf", &node.multiple_of}}) {
      auto value = number(j, key, at);
      if (!value) {
        return value.error();
      }
      *out = *value;
    }
    if (auto flag = j.find("exclusiveMinimum"); flag != j.end() && flag->is_boolean()) {
      if (flag->get<bool>() && node.minimum) {
        node.exclusive_minimum = node.minimum;
        node.minimum.reset();
      }
    }
    if (auto flag = j.find("exclusiveMaximum"); flag != j.end() && flag->is_boolean()) {
      if (flag->get<bool>() && node.maximum) {
        node.exclusive_maximum = node.maximum;
        node.maximum.reset();
      }
    }
    if (node.multiple_of && *node.multiple_of <= 0) {
      return Error{at + ": \"multipleOf\" must be greater than 0"};
    }
    // Strings.
    if (auto pattern = j.find("pattern"); pattern != j.end()) {
      if (!pattern->is_string()) {
        return Error{at + ": \"pattern\" must be a string"};
      }
      auto re = regex(pattern->get<std::string>(), at);
      if (!re) {
        return re.error();
      }
      node.pattern = std::move(*re);
    }
    // Values.
    if (auto values = j.find("enum"); values != j.end()) {
      if (!values->is_array()) {
        return Error{at + ": \"enum\" must be a list"};
      }
      node.has_enum = true;
      node.enum_values.assign(values->begin(), values->end());
    }
    if (auto value = j.find("const"); value != j.end()) {
      node.const_value = *value;
    }
    // Combinations.
    for (auto [key, out] : {std::pair{"allOf", &node.all_of}, std::pair{"anyOf", &node.any_of},
                            std::pair{"oneOf", &node.one_of}}) {
      auto list = j.find(key);
      if (list == j.end()) {
        continue;
      }
      if (!list->is_array() || list->empty()) {
        return Error{at + ": \"" + key + "\" must be a non-empty list of schemas"};
      }
      for (size_t i = 0; i < list->size(); ++i) {
        auto schema = sub(doc, pointer + "/" + key + "/" + std::to_string(i), depth);
        if (!schema) {
          return schema.error();
        }
        out->push_back(*schema);
      }
    }
    for (auto [key, out] :
         {std::pair{"not", &node.not_schema}, std::pair{"if", &node.if_schema},
          std::pair{"then", &node.then_schema}, std::pair{"else", &node.else_schema}}) {
      if (auto schema_json = j.find(key); schema_json != j.end()) {
        auto schema = sub(doc, pointer + "/" + key, depth);
        if (!schema) {
          return schema.error();
        }
        *out = *schema;
      }
    }
    return Status::success();
  }

  Result<const JsonNode*> resolveRef(const std::string& ref, size_t doc, const std::string& at,
                                     int depth) {
    const size_t hash = ref.find('#');
    const std::string base = ref.substr(0, hash);
    const std::string fragment = hash == std::string::npos ? "" : ref.substr(hash + 1);
    size_t target_doc = doc;
    if (!base.empty()) {
      auto it = std::find_if(documents_.begin() + 1, documents_.end(),
                             [&base](const Document& d) { return d.name == base; });
      if (it == documents_.end()) {
        return Error{at + ": $ref \"" + ref +
                     "\" names a document that is not one of the schema's references (only "
                     "references and pointers within a document are resolved)"};
      }
      target_doc = static_cast<size_t>(it - documents_.begin());
    }
    if (!fragment.empty() && fragment[0] != '/') {
      return Error{at + ": $ref \"" + ref + "\": anchors are not supported, only JSON pointers"};
    }
    return nodeAt(target_doc, fragment, depth + 1);
  }

  JsonNode* add() {
    out_.nodes_.push_back(std::make_unique<JsonNode>());
    return out_.nodes_.back().get();
  }

  JsonSchema& out_;
  std::vector<Document> documents_;
  std::map<std::pair<size_t, std::string>, JsonNode*> by_pointer_;
};

Result<std::shared_ptr<const JsonSchema>>
JsonSchema::compile(std::string_view text,
                    const std::vector<std::pair<std::string, std::string_view>>& references) {
  std::shared_ptr<JsonSchema> schema(new JsonSchema());
  JsonSchemaCompiler compiler(*schema);
  if (auto added = compiler.addDocument("", text); !added) {
    return added.error();
  }
  for (const auto& [name, reference] : references) {
    if (auto added = compiler.addDocument(name, reference); !added) {
      return added.error();
    }
  }
  auto root = compiler.compileRoot();
  if (!root) {
    return root.error();
  }
  schema->root_ = *root;
  return std::shared_ptr<const JsonSchema>(std::move(schema));
}

JsonSchema::~JsonSchema() = default;

Result<JsonSchemaPtr> compileJsonSchema(const ResolvedSchema& schema) {
  std::vector<std::pair<std::string, std::string_view>> references;
  for (const auto& [name, referenced] : schema.references) {
    references.emplace_back(name, referenced.text);
  }
  return JsonSchema::compile(schema.schema.text, references);
}

}  // namespace causeway::schema
