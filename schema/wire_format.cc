#include "schema/wire_format.h"

#include <cstdio>

namespace causeway::schema {
namespace {

// Kafka's ByteUtils.readVarint: a zig-zag encoded 32-bit value in at most 5 bytes. Returns the
// bytes read, 0 when `bytes` ends inside the varint, -1 when it is longer than 5 bytes.
int readZigZag(std::string_view bytes, size_t at, int32_t& out) {
  uint32_t raw = 0;
  for (int i = 0; i < 5; ++i) {
    if (at + i >= bytes.size()) {
      return 0;
    }
    const auto b = static_cast<uint8_t>(bytes[at + i]);
    raw |= uint32_t{b & 0x7fu} << (7 * i);
    if ((b & 0x80u) == 0) {
      out = static_cast<int32_t>((raw >> 1) ^ (~(raw & 1) + 1));
      return i + 1;
    }
  }
  return -1;
}

void appendZigZag(std::string& out, int32_t value) {
  auto raw = (static_cast<uint32_t>(value) << 1) ^ static_cast<uint32_t>(value >> 31);
  while (raw >= 0x80) {
    out.push_back(static_cast<char>((raw & 0x7f) | 0x80));
    raw >>= 7;
  }
  out.push_back(static_cast<char>(raw));
}

bool fail(FrameError& error, FrameProblem problem, size_t at, size_t size, int64_t value = 0) {
  error.problem = problem;
  error.at = static_cast<uint32_t>(at);
  error.size = static_cast<uint32_t>(size);
  error.value = value;
  return false;
}

// Reads the message indexes starting at `at`; `consumed` gets their size.
bool parseIndexes(std::string_view bytes, size_t at, MessageIndexes& out, size_t& consumed,
                  FrameError& error) {
  const size_t start = at;
  int32_t count = 0;
  int n = readZigZag(bytes, at, count);
  if (n <= 0) {
    return fail(error, n == 0 ? FrameProblem::kTruncatedVarint : FrameProblem::kVarintTooLong, at,
                bytes.size());
  }
  at += static_cast<size_t>(n);
  if (count < 0) {
    return fail(error, FrameProblem::kNegativeCount, start, bytes.size(), count);
  }
  if (count == 0) {  // the single-byte shortcut for the first message
    out.size = 1;
    out.path[0] = 0;
    consumed = at - start;
    return true;
  }
  if (static_cast<size_t>(count) > kMaxMessageDepth) {
    return fail(error, FrameProblem::kTooDeep, start, bytes.size(), count);
  }
  out.size = static_cast<uint8_t>(count);
  for (int32_t i = 0; i < count; ++i) {
    int32_t index = 0;
    n = readZigZag(bytes, at, index);
    if (n <= 0) {
      return fail(error, n == 0 ? FrameProblem::kTruncatedVarint : FrameProblem::kVarintTooLong, at,
                  bytes.size());
    }
    if (index < 0) {
      return fail(error, FrameProblem::kNegativeIndex, at, bytes.size(), index);
    }
    out.path[static_cast<size_t>(i)] = index;
    at += static_cast<size_t>(n);
  }
  consumed = at - start;
  return true;
}

char hexDigit(unsigned v) { return static_cast<char>(v < 10 ? '0' + v : 'a' + (v - 10)); }

int hexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

}  // namespace

std::string SchemaRef::str() const {
  return kind == Kind::kId ? "id " + std::to_string(id) : "guid " + guidText(guid);
}

size_t SchemaRefHash::operator()(const SchemaRef& ref) const {
  if (ref.kind == SchemaRef::Kind::kId) {
    return std::hash<uint32_t>()(ref.id);
  }
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (uint8_t b : ref.guid) {
    h = (h ^ b) * 1099511628211ull;
  }
  return static_cast<size_t>(h);
}

bool MessageIndexes::operator==(const MessageIndexes& other) const {
  if (size != other.size) {
    return false;
  }
  for (size_t i = 0; i < size; ++i) {
    if (path[i] != other.path[i]) {
      return false;
    }
  }
  return true;
}

std::string MessageIndexes::str() const {
  std::string out = "[";
  for (size_t i = 0; i < size; ++i) {
    out += (i ? ", " : "") + std::to_string(path[i]);
  }
  return out + "]";
}

std::string FrameError::describe() const {
  char found_hex[8];
  std::snprintf(found_hex, sizeof(found_hex), "0x%02x", found);
  const std::string at_byte = "byte " + std::to_string(at);
  switch (problem) {
  case FrameProblem::kNone:
    return "no problem";
  case FrameProblem::kEmpty:
    return "no bytes, expected a schema prefix (magic byte 0x00 or 0x01)";
  case FrameProblem::kBadMagic:
    return at_byte + " is " + found_hex +
           ", expected the magic byte 0x00 (schema ID) or 0x01 (schema GUID): not in the schema "
           "registry wire format";
  case FrameProblem::kTruncatedId:
    return "truncated: " + std::to_string(size) +
           " bytes, a schema ID prefix needs 5 (magic byte and 4-byte ID)";
  case FrameProblem::kTruncatedGuid:
    return "truncated: " + std::to_string(size) +
           " bytes, a schema GUID prefix needs 17 (magic byte and 16-byte GUID)";
  case FrameProblem::kTruncatedVarint:
    return "truncated at " + at_byte + ": the bytes end inside a Protobuf message index";
  case FrameProblem::kVarintTooLong:
    return at_byte + ": a Protobuf message index varint is longer than 5 bytes";
  case FrameProblem::kNegativeCount:
    return at_byte + ": the Protobuf message index count is " + std::to_string(value) +
           " (negative)";
  case FrameProblem::kTooDeep:
    return at_byte + ": " + std::to_string(value) + " Protobuf message indexes, at most " +
           std::to_string(kMaxMessageDepth) + " are supported";
  case FrameProblem::kNegativeIndex:
    return at_byte + ": Protobuf message index " + std::to_string(value) + " is negative";
  case FrameProblem::kTrailingBytes:
    return at_byte + ": " + std::to_string(size - at) +
           " unexpected bytes after the schema ID in the header";
  }
  return "unknown problem";
}

bool parseFrame(std::string_view bytes, bool protobuf, Frame& out, FrameError& error) {
  if (bytes.empty()) {
    return fail(error, FrameProblem::kEmpty, 0, 0);
  }
  const auto magic = static_cast<uint8_t>(bytes[0]);
  size_t at = 0;
  if (magic == kMagicId) {
    if (bytes.size() < kIdPrefixSize) {
      return fail(error, FrameProblem::kTruncatedId, bytes.size(), bytes.size());
    }
    out.schema.kind = SchemaRef::Kind::kId;
    out.schema.id = loadId(bytes.data() + 1);
    at = kIdPrefixSize;
  } else if (magic == kMagicGuid) {
    if (bytes.size() < kGuidPrefixSize) {
      return fail(error, FrameProblem::kTruncatedGuid, bytes.size(), bytes.size());
    }
    out.schema.kind = SchemaRef::Kind::kGuid;
    out.schema.id = 0;
    for (size_t i = 0; i < 16; ++i) {
      out.schema.guid[i] = static_cast<uint8_t>(bytes[1 + i]);
    }
    at = kGuidPrefixSize;
  } else {
    error.found = magic;
    return fail(error, FrameProblem::kBadMagic, 0, bytes.size());
  }
  out.indexes.size = 0;
  out.indexes_size = 0;
  if (protobuf) {
    size_t consumed = 0;
    if (!parseIndexes(bytes, at, out.indexes, consumed, error)) {
      return false;
    }
    out.indexes_size = static_cast<uint32_t>(consumed);
    at += consumed;
  }
  out.prefix_size = static_cast<uint32_t>(at);
  return true;
}

bool parseHeaderId(std::string_view header_value, bool protobuf, Frame& out, FrameError& error) {
  if (!parseFrame(header_value, protobuf, out, error)) {
    return false;
  }
  if (out.prefix_size != header_value.size()) {
    return fail(error, FrameProblem::kTrailingBytes, out.prefix_size, header_value.size());
  }
  out.prefix_size = 0;
  return true;
}

void rewriteId(std::string_view bytes, uint32_t id, std::string& out) {
  out.assign(bytes.data(), bytes.size());
  storeId(out.data() + 1, id);
}

void appendMessageIndexes(std::string& out, const MessageIndexes& indexes) {
  if (indexes.size == 1 && indexes.path[0] == 0) {
    out.push_back('\0');
    return;
  }
  appendZigZag(out, indexes.size);
  for (size_t i = 0; i < indexes.size; ++i) {
    appendZigZag(out, indexes.path[i]);
  }
}

void appendPrefix(std::string& out, const SchemaRef& schema, const MessageIndexes& indexes) {
  if (schema.kind == SchemaRef::Kind::kId) {
    out.push_back(static_cast<char>(kMagicId));
    char id[4];
    storeId(id, schema.id);
    out.append(id, 4);
  } else {
    out.push_back(static_cast<char>(kMagicGuid));
    out.append(reinterpret_cast<const char*>(schema.guid.data()), schema.guid.size());
  }
  if (indexes.size > 0) {
    appendMessageIndexes(out, indexes);
  }
}

std::string guidText(const Guid& guid) {
  std::string out;
  out.reserve(36);
  for (size_t i = 0; i < guid.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) {
      out.push_back('-');
    }
    out.push_back(hexDigit(guid[i] >> 4));
    out.push_back(hexDigit(guid[i] & 0xf));
  }
  return out;
}

bool parseGuid(std::string_view text, Guid& out) {
  if (text.size() != 36) {
    return false;
  }
  size_t byte = 0;
  for (size_t i = 0; i < text.size();) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') {
        return false;
      }
      ++i;
      continue;
    }
    const int hi = hexValue(text[i]);
    const int lo = hexValue(text[i + 1]);
    if (hi < 0 || lo < 0) {
      return false;
    }
    out[byte++] = static_cast<uint8_t>(hi << 4 | lo);
    i += 2;
  }
  return byte == 16;
}

}  // namespace causeway::schema
