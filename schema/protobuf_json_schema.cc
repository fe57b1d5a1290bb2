#include "schema/protobuf_json_schema.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <set>

namespace causeway::schema {
namespace {

namespace pb = google::protobuf;
using FD = pb::FieldDescriptor;
using nlohmann::json;

json floatSchema() {
  return {{"anyOf", json::array({{{"type", "number"}},
                                 {{"enum", json::array({"NaN", "Infinity", "-Infinity"})}}})}};
}

json int64Schema(bool is_unsigned) {
  return {{"type", "string"}, {"pattern", is_unsigned ? "^[0-9]+$" : "^-?[0-9]+$"}};
}

json integerSchema(int64_t minimum, int64_t maximum) {
  return {{"type", "integer"}, {"minimum", minimum}, {"maximum", maximum}};
}

json bytesSchema() { return {{"type", "string"}, {"contentEncoding", "base64"}}; }

class Converter {
public:
  json message(const pb::Descriptor& descriptor) {
    if (auto special = wellKnown(descriptor); !special.is_null()) {
      return special;
    }
    const std::string& name = descriptor.full_name();
    if (defined_.insert(&descriptor).second) {
      json properties = json::object();
      for (int i = 0; i < descriptor.field_count(); ++i) {
        const FD& f = *descriptor.field(i);
        properties[f.name()] = field(f);
      }
      defs_[name] = {{"type", "object"},
                     {"title", name},
                     {"properties", std::move(properties)},
                     {"additionalProperties", false}};
    }
    return {{"$ref", "#/$defs/" + name}};
  }

  const json& defs() const { return defs_; }

private:
  json field(const FD& f) {
    if (f.is_map()) {
      const FD& key = *f.message_type()->map_key();
      json names;
      switch (key.cpp_type()) {
      case FD::CPPTYPE_BOOL:
        names = {{"enum", json::array({"true", "false"})}};
        break;
      case FD::CPPTYPE_STRING:
        break;
      default:
        names = {{"pattern", "^-?[0-9]+$"}};
      }
      json out = {{"type", "object"},
                  {"additionalProperties", value(*f.message_type()->map_value())}};
      if (!names.is_null()) {
        out["propertyNames"] = std::move(names);
      }
      return out;
    }
    if (f.is_repeated()) {
      return {{"type", "array"}, {"items", value(f)}};
    }
    return value(f);
  }

  // One value of `f` (an element when repeated).
  json value(const FD& f) {
    switch (f.type()) {
    case FD::TYPE_INT32:
    case FD::TYPE_SINT32:
    case FD::TYPE_SFIXED32:
      return integerSchema(INT32_MIN, INT32_MAX);
    case FD::TYPE_UINT32:
    case FD::TYPE_FIXED32:
      return integerSchema(0, UINT32_MAX);
    case FD::TYPE_INT64:
    case FD::TYPE_SINT64:
    case FD::TYPE_SFIXED64:
      return int64Schema(false);
    case FD::TYPE_UINT64:
    case FD::TYPE_FIXED64:
      return int64Schema(true);
    case FD::TYPE_FLOAT:
    case FD::TYPE_DOUBLE:
      return floatSchema();
    case FD::TYPE_BOOL:
      return {{"type", "boolean"}};
    case FD::TYPE_STRING:
      return {{"type", "string"}};
    case FD::TYPE_BYTES:
      return bytesSchema();
    case FD::TYPE_ENUM: {
      const pb::EnumDescriptor& e = *f.enum_type();
      if (e.full_name() == "google.protobuf.NullValue") {
        return {{"type", "null"}};
      }
      json names = json::array();
      for (int i = 0; i < e.value_count(); ++i) {
        names.push_back(e.value(i)->name());
      }
      // A number no value names is printed as the number (for a closed proto2 enum, protobuf
      // prints it from the unknown fields).
      return {{"anyOf",
               json::array({{{"enum", std::move(names)}}, integerSchema(INT32_MIN, INT32_MAX)})}};
    }
    case FD::TYPE_MESSAGE:
    case FD::TYPE_GROUP:
      return message(*f.message_type());
    }
    return json::object();
  }

  // The JSON form of a well-known type, or null for other messages.
  static json wellKnown(const pb::Descriptor& d) {
    const std::string& n = d.full_name();
    if (n.rfind("google.protobuf.", 0) != 0) {
      return nullptr;
    }
    const std::string type = n.substr(16);
    if (type == "Timestamp") {
      return {{"type", "string"}, {"format", "date-time"}};
    }
    if (type == "Duration") {
      return {{"type", "string"}, {"pattern", "^-?[0-9]+(\\.[0-9]+)?s$"}};
    }
    if (type == "FieldMask") {
      return {{"type", "string"}};
    }
    if (type == "Struct") {
      return {{"type", "object"}};
    }
    if (type == "Value") {
      return json::object();  // any JSON value
    }
    if (type == "ListValue") {
      return {{"type", "array"}};
    }
    if (type == "Empty") {
      return {{"type", "object"}, {"maxProperties", 0}};
    }
    if (type == "Any") {
      return {{"type", "object"},
              {"properties", {{"@type", {{"type", "string"}}}}},
              {"required", json::array({"@type"})}};
    }
    if (type == "DoubleValue" || type == "FloatValue") {
      return floatSchema();
    }
    if (type == "Int64Value" || type == "UInt64Value") {
      return int64Schema(type == "UInt64Value");
    }
    if (type == "Int32Value") {
      return integerSchema(INT32_MIN, INT32_MAX);
    }
    if (type == "UInt32Value") {
      return integerSchema(0, UINT32_MAX);
    }
    if (type == "BoolValue") {
      return {{"type", "boolean"}};
    }
    if (type == "StringValue") {
      return {{"type", "string"}};
    }
    if (type == "BytesValue") {
      return bytesSchema();
    }
    return nullptr;  // other google.protobuf messages (descriptor.proto's) are plain messages
  }

  std::set<const pb::Descriptor*> defined_;
  json defs_ = json::object();
};

}  // namespace

std::string protobufJsonSchema(const pb::FileDescriptor& file) {
  Converter converter;
  json out = {{"$schema", "https://json-schema.org/draft/2020-12/schema"}};
  if (file.message_type_count() == 1) {
    json root = converter.message(*file.message_type(0));
    if (root.contains("$ref")) {  // the message itself, with the other definitions beside it
      for (auto& [key, value] : converter.defs()[file.message_type(0)->full_name()].items()) {
        out[key] = value;
      }
    } else {
      for (auto& [key, value] : root.items()) {
        out[key] = value;
      }
    }
  } else if (file.message_type_count() > 1) {
    json branches = json::array();
    for (int i = 0; i < file.message_type_count(); ++i) {
      branches.push_back(converter.message(*file.message_type(i)));
    }
    out["anyOf"] = std::move(branches);
  }
  if (!converter.defs().empty()) {
    out["$defs"] = converter.defs();
  }
  return out.dump();
}

}  // namespace causeway::schema
