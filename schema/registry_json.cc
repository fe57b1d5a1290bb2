#include "schema/registry_json.h"

#include <cstdint>

namespace causeway::schema {

const char* schemaTypeName(SchemaType type) {
  switch (type) {
  case SchemaType::kAvro:
    return "AVRO";
  case SchemaType::kProtobuf:
    return "PROTOBUF";
  case SchemaType::kJson:
    return "JSON";
  }
  return "AVRO";
}

const char* formatName(SchemaType type) {
  switch (type) {
  case SchemaType::kAvro:
    return "avro";
  case SchemaType::kProtobuf:
    return "protobuf";
  case SchemaType::kJson:
    return "json";
  }
  return "avro";
}

std::optional<SchemaType> parseSchemaType(std::string_view text) {
  if (text.empty() || text == "AVRO") {
    return SchemaType::kAvro;
  }
  if (text == "PROTOBUF") {
    return SchemaType::kProtobuf;
  }
  if (text == "JSON") {
    return SchemaType::kJson;
  }
  return std::nullopt;
}

const char* registryErrcName(RegistryErrc code) {
  switch (code) {
  case RegistryErrc::kNotFound:
    return "not-found";
  case RegistryErrc::kIncompatible:
    return "incompatible";
  case RegistryErrc::kUnavailable:
    return "unavailable";
  case RegistryErrc::kUnauthorized:
    return "unauthorized";
  case RegistryErrc::kRejected:
    return "rejected";
  case RegistryErrc::kBadResponse:
    return "bad-response";
  }
  return "unavailable";
}

nlohmann::json schemaToJson(const Schema& schema) {
  nlohmann::json body = {{"schema", schema.text}};
  if (schema.type != SchemaType::kAvro) {
    body["schemaType"] = schemaTypeName(schema.type);
  }
  if (!schema.references.empty()) {
    nlohmann::json refs = nlohmann::json::array();
    for (const auto& ref : schema.references) {
      refs.push_back({{"name", ref.name}, {"subject", ref.subject}, {"version", ref.version}});
    }
    body["references"] = std::move(refs);
  }
  // Kept as text so they cross unchanged; a text that is not JSON was refused when read.
  if (!schema.metadata.empty()) {
    body["metadata"] = nlohmann::json::parse(schema.metadata, nullptr, false);
  }
  if (!schema.rule_set.empty()) {
    body["ruleSet"] = nlohmann::json::parse(schema.rule_set, nullptr, false);
  }
  return body;
}

std::optional<Schema> schemaFromJson(const nlohmann::json& body, std::string& problem) {
  if (!body.is_object()) {
    problem = "expected a JSON object";
    return std::nullopt;
  }
  Schema schema;
  auto text = body.find("schema");
  if (text == body.end() || !text->is_string()) {
    problem = "no \"schema\" string";
    return std::nullopt;
  }
  schema.text = text->get<std::string>();
  if (auto type = body.find("schemaType"); type != body.end() && !type->is_null()) {
    std::optional<SchemaType> parsed;
    if (type->is_string()) {
      parsed = parseSchemaType(type->get<std::string>());
    }
    if (!parsed) {
      problem = "unknown schemaType " + type->dump();
      return std::nullopt;
    }
    schema.type = *parsed;
  }
  if (auto refs = body.find("references"); refs != body.end() && !refs->is_null()) {
    if (!refs->is_array()) {
      problem = "\"references\" is not a list";
      return std::nullopt;
    }
    for (const auto& ref : *refs) {
      if (!ref.is_object() || !ref.contains("name") || !ref["name"].is_string() ||
          !ref.contains("subject") || !ref["subject"].is_string() || !ref.contains("version") ||
          !ref["version"].is_number_integer()) {
        problem = "a reference without name, subject and version";
        return std::nullopt;
      }
      schema.references.push_back(SchemaReference{ref["name"].get<std::string>(),
                                                  ref["subject"].get<std::string>(),
                                                  ref["version"].get<int>()});
    }
  }
  if (auto metadata = body.find("metadata"); metadata != body.end() && !metadata->is_null()) {
    schema.metadata = metadata->dump();
  }
  if (auto rules = body.find("ruleSet"); rules != body.end() && !rules->is_null()) {
    schema.rule_set = rules->dump();
  }
  return schema;
}

std::optional<RegisteredSchema> registeredFromJson(const nlohmann::json& body,
                                                   std::string& problem) {
  auto schema = schemaFromJson(body, problem);
  if (!schema) {
    return std::nullopt;
  }
  RegisteredSchema out;
  out.schema = std::move(*schema);
  if (auto id = body.find("id"); id != body.end()) {
    if (!id->is_number_integer() || id->get<int64_t>() < 0 ||
        id->get<int64_t>() > int64_t{UINT32_MAX}) {
      problem = "\"id\" is not a schema ID (an integer from 0 to 4294967295)";
      return std::nullopt;
    }
    out.id = id->get<uint32_t>();
  }
  if (auto guid = body.find("guid"); guid != body.end() && guid->is_string()) {
    Guid parsed;
    if (parseGuid(guid->get<std::string>(), parsed)) {
      out.guid = parsed;
    }
  }
  if (auto subject = body.find("subject"); subject != body.end() && subject->is_string()) {
    out.subject = subject->get<std::string>();
  }
  if (auto version = body.find("version"); version != body.end() && version->is_number_integer() &&
                                           version->get<int64_t>() >= 0 &&
                                           version->get<int64_t>() <= INT32_MAX) {
    out.version = version->get<int>();
  }
  return out;
}

std::string encodePathSegment(std::string_view segment) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(segment.size());
  for (char c : segment) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '-' ||
        u == '_' || u == '.' || u == '~') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    }
  }
  return out;
}

}  // namespace causeway::schema
