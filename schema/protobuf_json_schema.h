#pragma once

// The JSON Schema of the JSON a Protobuf schema's messages take on partner egress streams (the
// Protobuf JSON mapping with the .proto's field names, schema/protobuf_json.h), so a partner can
// validate or generate code for what it receives, and the partner's policy can be applied to it
// (policies/derived_schema.h). Draft 2020-12, compact text:
//   message        {"type": "object", "properties": ..., "additionalProperties": false} under
//                  "$defs" (by full name), referenced with "$ref"; no field is required (fields
//                  at their default value are left out)
//   int32, sint32, sfixed32     integers in range; uint32, fixed32 from 0
//   int64 family   a string of digits ("-?[0-9]+")
//   float, double  a number or "NaN", "Infinity", "-Infinity"
//   bool, string   boolean, string     bytes  a base64 string ("contentEncoding")
//   enum           its value names, or an integer (a number the enum does not name)
//   repeated       an array             map   an object of the value's schema, keys as strings
//   well-known types their JSON forms (Timestamp an RFC 3339 string, Duration "1.5s", wrappers
//                  their wrapped value, Struct an object, Value anything, Any an object with
//                  "@type", NullValue null)
// The root is the file's only top-level message, or "anyOf" its top-level messages (a record's
// message indexes say which one it is). A pure function of the descriptors.

#include <google/protobuf/descriptor.h>

#include <string>

namespace causeway::schema {

std::string protobufJsonSchema(const google::protobuf::FileDescriptor& file);

}  // namespace causeway::schema
