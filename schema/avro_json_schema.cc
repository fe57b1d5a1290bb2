#include "schema/avro_json_schema.h"

#include <nlohmann/json.hpp>

#include <set>

namespace causeway::schema {
namespace {

using Kind = AvroNode::Kind;
using nlohmann::json;

class Converter {
public:
  json convert(const AvroNode& node) {
    switch (node.kind) {
    case Kind::kNull:
      return {{"type", "null"}};
    case Kind::kBoolean:
      return {{"type", "boolean"}};
    case Kind::kInt:
    case Kind::kLong:
      return {{"type", "integer"}};
    case Kind::kFloat:
    case Kind::kDouble:
      return {{"anyOf", json::array({{{"type", "number"}},
                                     {{"enum", json::array({"NaN", "Infinity", "-Infinity"})}}})}};
    case Kind::kString:
      return {{"type", "string"}};
    case Kind::kBytes:
      return {{"type", "string"}, {"contentEncoding", "base64"}};
    case Kind::kFixed: {
      const int64_t length = (node.size + 2) / 3 * 4;  // base64 with padding
      return {{"type", "string"},
              {"contentEncoding", "base64"},
              {"minLength", length},
              {"maxLength", length}};
    }
    case Kind::kEnum:
      return {{"enum", node.symbols}};
    case Kind::kArray:
      return {{"type", "array"}, {"items", convert(*node.items)}};
    case Kind::kMap:
      return {{"type", "object"}, {"additionalProperties", convert(*node.items)}};
    case Kind::kUnion: {
      json branches = json::array();
      for (const AvroNode* branch : node.branches) {
        branches.push_back(convert(*branch));
      }
      return {{"anyOf", std::move(branches)}};
    }
    case Kind::kRecord:
      return record(node);
    }
    return json::object();
  }

  json defs() const { return defs_; }

private:
  json record(const AvroNode& node) {
    const std::string ref = "#/$defs/" + node.name;
    if (defined_.insert(&node).second) {
      json properties = json::object();
      json required = json::array();
      for (const auto& field : node.fields) {
        properties[field.name] = convert(*field.type);
        required.push_back(field.name);
      }
      defs_[node.name] = {{"type", "object"},
                          {"title", node.name},
                          {"properties", std::move(properties)},
                          {"required", std::move(required)},
                          {"additionalProperties", false}};
    }
    return {{"$ref", ref}};
  }

  std::set<const AvroNode*> defined_;
  json defs_ = json::object();
};

}  // namespace

std::string avroJsonSchema(const AvroModel& model) {
  Converter converter;
  json root = converter.convert(model.root());
  json out = {{"$schema", "https://json-schema.org/draft/2020-12/schema"}};
  if (root.contains("$ref")) {
    // The root record itself, with the other definitions beside it.
    json defs = converter.defs();
    const std::string name = root["$ref"].get<std::string>().substr(std::string("#/$defs/").size());
    for (auto& [key, value] : defs[name].items()) {
      out[key] = value;
    }
    out["$defs"] = std::move(defs);
  } else {
    for (auto& [key, value] : root.items()) {
      out[key] = value;
    }
    if (!converter.defs().empty()) {
      out["$defs"] = converter.defs();
    }
  }
  return out.dump();
}

}  // namespace causeway::schema
