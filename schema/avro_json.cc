#include "schema/avro_json.h"

#include "common/base64.h"
#include "common/json_string.h"

#include <simdjson.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>

namespace causeway::schema {
namespace {

using Kind = AvroNode::Kind;

// Nesting deeper than this is refused (walkAvro refuses it first).
constexpr int kMaxDepth = 256;

class JsonWriter {
public:
  JsonWriter(std::string_view bytes, std::string& out, std::string& problem)
      : bytes_(bytes), out_(out), problem_(problem) {}

  bool datum(const AvroNode& node, size_t& pos, int depth) {
    if (depth > kMaxDepth) {
      return fail("nested too deep");
    }
    switch (node.kind) {
    case Kind::kNull:
      out_ += "null";
      return true;
    case Kind::kBoolean:
      if (pos >= bytes_.size()) {
        return fail("truncated boolean");
      }
      out_ += bytes_[pos++] != 0 ? "true" : "false";
      return true;
    case Kind::kInt:
    case Kind::kLong: {
      int64_t value = 0;
      if (!varint(pos, value)) {
        return false;
      }
      number(value);
      return true;
    }
    case Kind::kFloat: {
      float value = 0;
      if (!little(pos, &value, sizeof value)) {
        return false;
      }
      real(value);
      return true;
    }
    case Kind::kDouble: {
      double value = 0;
      if (!little(pos, &value, sizeof value)) {
        return false;
      }
      real(value);
      return true;
    }
    case Kind::kString:
    case Kind::kBytes: {
      int64_t length = 0;
      if (!varint(pos, length)) {
        return false;
      }
      if (length < 0 || static_cast<uint64_t>(length) > bytes_.size() - pos) {
        return fail("a length beyond the bytes");
      }
      const std::string_view content = bytes_.substr(pos, static_cast<size_t>(length));
      pos += static_cast<size_t>(length);
      if (node.kind == Kind::kBytes) {
        base64(content);
      } else if (!simdjson::validate_utf8(content.data(), content.size())) {
        return fail("a string that is not UTF-8");
      } else {
        appendJsonString(out_, content);
      }
      return true;
    }
    case Kind::kFixed: {
      const auto size = static_cast<size_t>(node.size);
      if (size > bytes_.size() - pos) {
        return fail("truncated fixed");
      }
      base64(bytes_.substr(pos, size));
      pos += size;
      return true;
    }
    case Kind::kEnum: {
      int64_t index = 0;
      if (!varint(pos, index)) {
        return false;
      }
      if (index < 0 || static_cast<uint64_t>(index) >= node.symbols.size()) {
        return fail("an enum index outside the symbols");
      }
      appendJsonString(out_, node.symbols[static_cast<size_t>(index)]);
      return true;
    }
    case Kind::kUnion: {
      int64_t index = 0;
      if (!varint(pos, index)) {
        return false;
      }
      if (index < 0 || static_cast<uint64_t>(index) >= node.branches.size()) {
        return fail("a union branch outside the branches");
      }
      return datum(*node.branches[static_cast<size_t>(index)], pos, depth + 1);
    }
    case Kind::kRecord: {
      out_ += '{';
      bool first = true;
      for (const auto& field : node.fields) {
        if (!first) {
          out_ += ',';
        }
        first = false;
        appendJsonString(out_, field.name);
        out_ += ':';
        if (!datum(*field.type, pos, depth + 1)) {
          return false;
        }
      }
      out_ += '}';
      return true;
    }
    case Kind::kArray:
    case Kind::kMap:
      return blocks(node, pos, depth);
    }
    return fail("an unknown type");
  }

private:
  bool blocks(const AvroNode& node, size_t& pos, int depth) {
    const bool map = node.kind == Kind::kMap;
    out_ += map ? '{' : '[';
    bool first = true;
    uint64_t empty_items = 0;
    while (true) {
      int64_t count = 0;
      if (!varint(pos, count)) {
        return false;
      }
      if (count == 0) {
        break;
      }
      if (count < 0) {
        if (count == INT64_MIN) {
          return fail("a block count out of range");
        }
        count = -count;
        int64_t block_bytes = 0;
        if (!varint(pos, block_bytes)) {
          return false;
        }
      }
      if (node.items->min_size == 0 && !map) {
        empty_items += static_cast<uint64_t>(count);
        if (empty_items > kMaxEmptyItems) {
          return fail("more than " + std::to_string(kMaxEmptyItems) +
                      " items that take no bytes");
        }
      }
      for (int64_t i = 0; i < count; ++i) {
        if (!first) {
          out_ += ',';
        }
        first = false;
        if (map) {
          int64_t length = 0;
          if (!varint(pos, length)) {
            return false;
          }
          if (length < 0 || static_cast<uint64_t>(length) > bytes_.size() - pos) {
            return fail("a map key beyond the bytes");
          }
          const std::string_view key = bytes_.substr(pos, static_cast<size_t>(length));
          if (!simdjson::validate_utf8(key.data(), key.size())) {
            return fail("a map key that is not UTF-8");
          }
          pos += static_cast<size_t>(length);
          appendJsonString(out_, key);
          out_ += ':';
        }
        if (!datum(*node.items, pos, depth + 1)) {
          return false;
        }
      }
    }
    out_ += map ? '}' : ']';
    return true;
  }

  bool varint(size_t& pos, int64_t& value) {
    uint64_t raw = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (pos >= bytes_.size()) {
        return fail("truncated varint");
      }
      const auto byte = static_cast<uint8_t>(bytes_[pos++]);
      raw |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        value = static_cast<int64_t>(raw >> 1) ^ -static_cast<int64_t>(raw & 1);
        return true;
      }
    }
    return fail("a varint longer than 10 bytes");
  }

  // Avro writes floats and doubles little-endian.
  bool little(size_t& pos, void* value, size_t size) {
    if (size > bytes_.size() - pos) {
      return fail("truncated number");
    }
    unsigned char raw[8];
    for (size_t i = 0; i < size; ++i) {
      raw[i] = static_cast<unsigned char>(bytes_[pos + i]);
    }
    if constexpr (std::endian::native == std::endian::big) {
      std::reverse(raw, raw + size);
    }
    std::memcpy(value, raw, size);
    pos += size;
    return true;
  }

  void number(int64_t value) {
    char buf[24];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
    out_.append(buf, static_cast<size_t>(end - buf));
  }

  template <typename Real> void real(Real value) {
    if (std::isnan(value)) {
      out_ += "\"NaN\"";
    } else if (std::isinf(value)) {
      out_ += value > 0 ? "\"Infinity\"" : "\"-Infinity\"";
    } else {
      char buf[32];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
      out_.append(buf, static_cast<size_t>(end - buf));
    }
  }

  void base64(std::string_view content) {
    out_ += '"';
    appendBase64(out_, content);
    out_ += '"';
  }

  bool fail(std::string problem) {
    problem_ = std::move(problem);
    return false;
  }

  std::string_view bytes_;
  std::string& out_;
  std::string& problem_;
};

}  // namespace

bool appendAvroJson(const AvroNode& node, std::string_view bytes, size_t& pos, std::string& out,
                    std::string& problem) {
  if (pos > bytes.size()) {
    problem = "position beyond the bytes";
    return false;
  }
  return JsonWriter(bytes, out, problem).datum(node, pos, 0);
}

}  // namespace causeway::schema
