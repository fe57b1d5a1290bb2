#pragma once

// The format-neutral value of one field of one record, as predicates and transforms see it. A
// payload format (JSON today; Avro and Protobuf through the same interface) fills these from the
// bytes of a record; nothing here owns memory: views point into the record or into the format's
// per-record scratch, valid until the next record.

#include <cstdint>
#include <string_view>

namespace causeway::policies {

enum class ValueKind : uint8_t {
  kMissing,  // the path does not resolve (no such member, index past the end, not a map)
  kNull,     // JSON null, an Avro null branch, a null header value, a tombstone
  kBool,
  kNumber,
  kString,  // text: the decoded string (escapes resolved)
  kBytes,   // text: raw bytes (Avro bytes/fixed, Protobuf bytes, a key read as bytes)
  kObject,  // text: the raw encoded value (JSON text)
  kArray,   // text: the raw encoded value (JSON text)
};

const char* kindName(ValueKind kind);

struct FieldValue {
  ValueKind kind = ValueKind::kMissing;
  bool boolean = false;
  double number = 0;
  // kString/kBytes: the content. kNumber: the number as written (JSON literal, or the decimal
  // text of a binary number), so transforms work on exactly what was sent. kObject/kArray: the
  // encoded value.
  std::string_view text;

  bool present() const { return kind != ValueKind::kMissing; }
  bool isNullish() const { return kind == ValueKind::kMissing || kind == ValueKind::kNull; }

  static FieldValue missing() { return {}; }
  static FieldValue null() { return {ValueKind::kNull, false, 0, {}}; }
  static FieldValue ofBool(bool b) { return {ValueKind::kBool, b, 0, b ? "true" : "false"}; }
  static FieldValue ofNumber(double n, std::string_view text) {
    return {ValueKind::kNumber, false, n, text};
  }
  static FieldValue ofString(std::string_view s) { return {ValueKind::kString, false, 0, s}; }
};

}  // namespace causeway::policies
