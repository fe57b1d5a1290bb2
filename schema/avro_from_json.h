#pragma once

// The Avro binary encoding of a datum given as the data's plain JSON: the form avro_json.h
// writes and partners read, so what Causeway shows can be written back. For tools that take
// sample records from people (`causeway policy test`), not for the record path.
//
//  - null, boolean and string are themselves; int and long are JSON integers in range;
//    float and double are numbers, or the strings "NaN", "Infinity" and "-Infinity";
//  - bytes and fixed are standard base64 strings (a fixed's decode to exactly its size);
//  - an enum is one of its symbols; an array is an array; a map is an object;
//  - a record is an object of its fields by name: a missing field takes its default (read
//    as the specification writes defaults: bytes and fixed as strings of code points), a
//    field the record does not have is an error (a typo is not dropped silently);
//  - a union is the value of a branch, unwrapped: the first branch of the value's own JSON
//    kind is taken (a string is a string, enum, bytes or fixed, in that order of preference;
//    an integer an int, long, float or double; an object a record or map), and when that
//    branch refuses the value the next that takes it.

#include "common/result.h"
#include "schema/avro_model.h"

#include <nlohmann/json_fwd.hpp>

#include <string>

namespace causeway::schema {

// Appends the datum to `out`, or an error naming the path of the first value that does not
// fit ("items[2].price: a long must be an integer, not \"x\"").
Status appendAvroFromJson(const AvroNode& node, const nlohmann::json& value, std::string& out);

}  // namespace causeway::schema
