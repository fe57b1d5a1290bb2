#pragma once

// The JSON bodies of the Confluent schema registry REST API, in one place for the REST client
// and for tools and tests that speak the same API.

#include "schema/registry.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace causeway::schema {

// {"schema": ..., "schemaType": ..., "references": [...], "metadata": {...}, "ruleSet": {...}}
// (schemaType left out for Avro, metadata and ruleSet when empty), the body of registration,
// lookup and compatibility requests.
nlohmann::json schemaToJson(const Schema& schema);

// Reads the schema fields of an answer (GET /schemas/ids/{id}, GET /subjects/.../versions/...,
// POST /subjects/{s}). nullopt with `problem` set when a field has the wrong type.
std::optional<Schema> schemaFromJson(const nlohmann::json& body, std::string& problem);

// The same plus id, guid, subject and version where present.
std::optional<RegisteredSchema> registeredFromJson(const nlohmann::json& body,
                                                   std::string& problem);

// Percent-encodes a subject for a URL path segment (contexts contain ':', subjects may
// contain '/').
std::string encodePathSegment(std::string_view segment);

}  // namespace causeway::schema
