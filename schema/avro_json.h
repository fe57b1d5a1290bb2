#pragma once

// An Avro datum as plain JSON, for readers that know no Avro (partner egress streams and the
// policies that edit JSON). The shape is the data's, not Avro's JSON encoding:
//  - records and maps are objects, arrays are arrays, enums are their symbol as a string;
//  - a union is the value of its branch, unwrapped (Avro's encoding would write
//    {"string": "x"}); a null branch is null;
//  - int and long are numbers (a long beyond 2^53 loses precision in JavaScript readers);
//    float and double are numbers, except NaN and the infinities, which become the strings
//    "NaN", "Infinity" and "-Infinity" (as the Protobuf JSON mapping writes them);
//  - bytes and fixed are standard base64 strings;
//  - logical types are written as their underlying type (a decimal's bytes, a
//    timestamp-millis' long).
// Pure: no allocation beyond `out`'s growth, no I/O.

#include "schema/avro_model.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace causeway::schema {

// Arrays of items that take no bytes (nulls, empty records) are refused beyond this many
// items, which would otherwise turn a few bytes into gigabytes of JSON.
inline constexpr uint64_t kMaxEmptyItems = 1u << 16;

// Appends the JSON of one datum of `node` read from `bytes` at `pos`; on success `pos` is past
// it. Meant for bytes walkAvro() accepted; on bytes it would not accept it returns false with
// `problem` set and `out` partly written.
bool appendAvroJson(const AvroNode& node, std::string_view bytes, size_t& pos, std::string& out,
                    std::string& problem);

}  // namespace causeway::schema
