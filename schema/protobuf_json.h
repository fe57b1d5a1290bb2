#pragma once

// A parsed Protobuf message as the Protobuf JSON mapping prints it with the .proto's field names
// (what protobuf's MessageToJsonString writes with preserve_proto_field_names), without going
// through protobuf's converter: that one rebuilds type information from the descriptors and
// re-serializes the message on every call, which made it the cost of a partner stream of a
// Protobuf contract. Covered by this printer: every message whose type graph holds no
// well-known type (google.protobuf.*: Timestamp, Any, Struct, wrappers, ...), no extension
// range, no group and no closed (proto2) enum; those keep protobuf's printer
// (protobufJsonCovers() says which).
//
// The mapping: fields that are set (implicit-presence scalars only when not their default), in
// field-number order; 64-bit integers as decimal strings, other integers as numbers; float and
// double as their shortest round-trip text (floats as protobuf writes them: 6 significant digits,
// or 9 when 6 do not read back), NaN and the infinities as "NaN", "Infinity",
// "-Infinity"; enums by value name (a number the enum does not name: the number); bytes as
// standard padded base64; maps as objects whose keys are strings. Strings must be UTF-8 (the
// caller walks the payload first). No I/O; appends to `out` and allocates only for its growth.

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace causeway::schema {

// Whether appendProtobufJson() covers messages of `descriptor` (and every message they hold).
bool protobufJsonCovers(const google::protobuf::Descriptor& descriptor);

// Scratch reused across calls by one thread (field lists per nesting level).
struct ProtobufJsonScratch {
  std::vector<std::vector<const google::protobuf::FieldDescriptor*>> fields;
  std::string text;
};

// Messages nested deeper than this are not printed, as protobuf's printer refuses them.
inline constexpr size_t kMaxProtobufJsonDepth = 64;

enum class ProtobufJsonResult : uint8_t {
  kOk,
  kTooLarge,  // the JSON would grow beyond `limit` bytes of `out`
  kTooDeep,   // messages nest deeper than kMaxProtobufJsonDepth
};

// Appends the JSON of `message` to `out` (partly written when the result is not kOk).
ProtobufJsonResult appendProtobufJson(const google::protobuf::Message& message, std::string& out,
                                      size_t limit, ProtobufJsonScratch& scratch);

}  // namespace causeway::schema
