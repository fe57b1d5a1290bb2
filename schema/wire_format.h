#pragma once

// How a record says which schema wrote it. Three forms exist on the wire:
//
//   Confluent prefix   0x00 | 4-byte big-endian schema ID | [message indexes] | payload
//   GUID prefix        0x01 | 16-byte schema GUID         | [message indexes] | payload
//   header mode        the same prefix (magic byte, ID or GUID, message indexes) as the value of
//                      the `__key_schema_id` / `__value_schema_id` header; the payload is the
//                      whole key or value, with no prefix.
//
// Message indexes exist for Protobuf only: they name the message inside the .proto file as a
// path of indexes (first top-level message = [0], its second nested message = [0, 1]). They are
// written as a zig-zag varint count followed by that many zig-zag varints, and the path [0] is
// written as the single byte 0x00 (count 0).
//
// Everything here is pure and allocation-free on success: the contract and ID translation
// stages call it for every record. Errors are a small value naming the problem and the byte it
// was found at; describe() turns one into text only when a person will read it.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace causeway::schema {

inline constexpr std::string_view kKeySchemaIdHeader = "__key_schema_id";
inline constexpr std::string_view kValueSchemaIdHeader = "__value_schema_id";

inline constexpr uint8_t kMagicId = 0x00;
inline constexpr uint8_t kMagicGuid = 0x01;
inline constexpr size_t kIdPrefixSize = 5;     // magic + 4-byte ID
inline constexpr size_t kGuidPrefixSize = 17;  // magic + 16-byte GUID

using Guid = std::array<uint8_t, 16>;

// A schema as a record names it: a registry-local ID or a registry-global GUID.
struct SchemaRef {
  enum class Kind : uint8_t { kId, kGuid };
  Kind kind = Kind::kId;
  uint32_t id = 0;  // kId
  Guid guid{};      // kGuid

  static SchemaRef ofId(uint32_t id) { return SchemaRef{Kind::kId, id, {}}; }
  static SchemaRef ofGuid(const Guid& guid) { return SchemaRef{Kind::kGuid, 0, guid}; }
  bool isGuid() const { return kind == Kind::kGuid; }
  bool operator==(const SchemaRef& other) const {
    return kind == other.kind && (kind == Kind::kId ? id == other.id : guid == other.guid);
  }
  // "id 42" or "guid 6f1c...": for details and status lines.
  std::string str() const;
};

struct SchemaRefHash {
  size_t operator()(const SchemaRef& ref) const;
};

// Deeper paths are refused: no real .proto nests messages this deep, and the bound keeps the
// parsed form fixed-size.
inline constexpr size_t kMaxMessageDepth = 16;

// A Protobuf message path; empty (size 0) when the form has none (Avro, JSON).
struct MessageIndexes {
  uint8_t size = 0;
  std::array<int32_t, kMaxMessageDepth> path{};

  bool operator==(const MessageIndexes& other) const;
  // "[0, 2]"
  std::string str() const;
};

// What was parsed from a prefix (or a header value).
struct Frame {
  SchemaRef schema;
  MessageIndexes indexes;
  // Bytes before the payload: 5 or 17 plus the indexes' bytes; 0 in header mode, where the
  // prefix is in the header and the payload is the whole key or value.
  uint32_t prefix_size = 0;
  uint32_t indexes_size = 0;  // bytes the message indexes took (after the ID or GUID)
};

enum class FrameProblem : uint8_t {
  kNone,
  kEmpty,            // no bytes at all
  kBadMagic,         // byte 0 is neither 0x00 nor 0x01
  kTruncatedId,      // fewer than 5 bytes after a 0x00
  kTruncatedGuid,    // fewer than 17 bytes after a 0x01
  kTruncatedVarint,  // the bytes end inside a message-index varint
  kVarintTooLong,    // a varint of more than 5 bytes (not a 32-bit value)
  kNegativeCount,    // the message-index count is negative
  kTooDeep,          // more than kMaxMessageDepth message indexes
  kNegativeIndex,    // a message index is negative
  kTrailingBytes,    // a header value longer than its prefix
};

struct FrameError {
  FrameProblem problem = FrameProblem::kNone;
  uint32_t at = 0;    // the byte offset the problem was found at
  uint8_t found = 0;  // kBadMagic: the byte found
  int64_t value = 0;  // kNegativeCount / kTooDeep / kNegativeIndex: the value read
  uint32_t size = 0;  // the size of the bytes examined

  // "byte 0 is 0x7b, expected the magic byte 0x00 (schema ID) or 0x01 (schema GUID)".
  std::string describe() const;
};

// Parses the prefix at the start of a key or value. `protobuf`: message indexes follow the ID
// or GUID. Returns false and fills `error` when the bytes do not start with a valid prefix.
bool parseFrame(std::string_view bytes, bool protobuf, Frame& out, FrameError& error);

// Parses a `__key_schema_id` / `__value_schema_id` header value: the same prefix, and nothing
// after it. `out.prefix_size` is 0 (the payload has no prefix).
bool parseHeaderId(std::string_view header_value, bool protobuf, Frame& out, FrameError& error);

// Stores `id` big-endian into the 4 bytes at `at` (bytes 1..4 of a Confluent prefix).
inline void storeId(char* at, uint32_t id) {
  at[0] = static_cast<char>(id >> 24);
  at[1] = static_cast<char>(id >> 16);
  at[2] = static_cast<char>(id >> 8);
  at[3] = static_cast<char>(id);
}
inline uint32_t loadId(const char* at) {
  return (uint32_t{static_cast<uint8_t>(at[0])} << 24) |
         (uint32_t{static_cast<uint8_t>(at[1])} << 16) |
         (uint32_t{static_cast<uint8_t>(at[2])} << 8) | uint32_t{static_cast<uint8_t>(at[3])};
}

// Writes `bytes` into `out` with the Confluent ID replaced by `id`: the whole key or value,
// whose prefix was parsed as kId. `out` is reused (no allocation once it has grown).
void rewriteId(std::string_view bytes, uint32_t id, std::string& out);

// Appends a prefix: magic byte, ID or GUID, then the message indexes when `indexes.size > 0`
// (the path [0] as the single byte 0x00). For tests, samples and header rewrites.
void appendPrefix(std::string& out, const SchemaRef& schema, const MessageIndexes& indexes);
void appendMessageIndexes(std::string& out, const MessageIndexes& indexes);

// "6f1c8f3a-0f2e-4c35-9d1a-2b3c4d5e6f70" and back (false on anything else).
std::string guidText(const Guid& guid);
bool parseGuid(std::string_view text, Guid& out);

}  // namespace causeway::schema
