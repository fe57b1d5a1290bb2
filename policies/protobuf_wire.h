#pragma once

// Protobuf's binary encoding as the policy reader and writer use it (protobuf_payload.h): the
// wire type of a field type, varints, fixed-size little-endian numbers, and number texts.
// Internal to policies/.

#include <google/protobuf/descriptor.h>
#include <google/protobuf/wire_format_lite.h>

#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace causeway::policies::protobuf_wire {

using FD = google::protobuf::FieldDescriptor;
using google::protobuf::internal::WireFormatLite;

inline int wireTypeOf(FD::Type type) {
  return static_cast<int>(
      WireFormatLite::WireTypeForFieldType(static_cast<WireFormatLite::FieldType>(type)));
}

inline void putVarint(uint64_t value, std::string& out) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7F) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

template <class T> inline void putFixed(T value, std::string& out) {
  char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));  // little-endian hosts (x86-64, aarch64)
  out.append(bytes, sizeof(T));
}

template <class T> inline T loadFixed(const char* at) {
  T value;
  std::memcpy(&value, at, sizeof(T));
  return value;
}

template <class T> inline bool parseWhole(std::string_view text, T& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace causeway::policies::protobuf_wire
