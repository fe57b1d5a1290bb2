#pragma once

// The JSON Schema of the JSON an Avro schema's data takes on partner egress streams
// (schema/avro_json.h), so a partner can validate or generate code for what it receives, and
// the partner's policy can be applied to it (policies/derived_schema.h):
//   record     {"type": "object", "properties": ..., "required": [every field],
//               "additionalProperties": false} under "$defs" (by full name) and referenced
//              with "$ref" (recursive types stay finite)
//   enum       {"enum": [symbols]}     array  {"type": "array", "items": ...}
//   map        {"type": "object", "additionalProperties": ...}
//   union      {"anyOf": [branches]}   null   {"type": "null"}
//   int, long  {"type": "integer"}     float, double  a number or "NaN", "Infinity", "-Infinity"
//   string     {"type": "string"}      bytes, fixed   a base64 string ("contentEncoding")
// A pure function of the model.

#include "schema/avro_model.h"

#include <string>

namespace causeway::schema {

// Compact JSON text (draft 2020-12).
std::string avroJsonSchema(const AvroModel& model);

}  // namespace causeway::schema
