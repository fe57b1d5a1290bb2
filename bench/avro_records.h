#pragma once

// The Avro records of the schema benchmarks (bench/README.md, "Avro records and the schema
// contenders"): what causeway-bench-load writes for `--payload avro`. Each value is a
// Confluent-framed Avro datum (magic byte 0, 4-byte big-endian schema ID, then the binary
// encoding of kBenchAvroSchema) of exactly the requested size, and a pure function of
// (schema ID, partition, sequence), so the load generator can rebuild any record afterwards and
// compare a target record byte for byte, with the ID the target registry must have given it.
//
// The datum is a small payment with the usual Avro types (long, int, double, enum, string,
// boolean, an array of strings, a ["null", "string"] union); the union's string (`note`) pads to
// the size. Built into one reused buffer: a record costs no allocation once the buffer is sized.
// Benchmarks only; nothing in the product includes this.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

namespace causeway::bench {

// The writer schema of every benchmark record; the driver puts it into the contenders' catalogs.
inline constexpr std::string_view kBenchAvroSchema = R"({
  "type": "record", "name": "Payment", "namespace": "causeway.bench",
  "fields": [
    {"name": "sequence", "type": "long"},
    {"name": "partition", "type": "int"},
    {"name": "amount", "type": "double"},
    {"name": "currency", "type": {"type": "enum", "name": "Currency",
                                  "symbols": ["EUR", "USD", "GBP", "CHF"]}},
    {"name": "merchant", "type": "string"},
    {"name": "approved", "type": "boolean"},
    {"name": "tags", "type": {"type": "array", "items": "string"}},
    {"name": "note", "type": ["null", "string"]}
  ]
})";

class AvroRecordWriter {
public:
  // Values smaller than this cannot hold the fields.
  static constexpr size_t kMinSize = 80;

  AvroRecordWriter(size_t size, uint32_t schema_id) : size_(size), schema_id_(schema_id) {
    value_.reserve(size + 16);
  }

  // Writes record (partition, sequence) into the buffer and returns it: exactly `size` bytes
  // (callers refuse sizes below kMinSize; std::logic_error if none fits).
  const std::string& fill(int partition, int64_t sequence) {
    for (size_t merchant = 16; merchant < 20; ++merchant) {
      if (encode(partition, sequence, merchant)) {
        return value_;
      }
    }
    // Unreachable from kMinSize up (one of the merchant lengths always fits); a record of the
    // wrong size would make every measurement and read-back check wrong without a word.
    throw std::logic_error("no Avro bench record of exactly " + std::to_string(size_) + " bytes");
  }

private:
  // Encodes with a merchant name of `merchant_len` characters; false when no note length
  // makes the value exactly size_ bytes (the note's length prefix grows by a byte at 64 and
  // 8192 characters, so one size in a few thousand needs a longer merchant name instead).
  bool encode(int partition, int64_t sequence, size_t merchant_len) {
    value_.clear();
    value_.push_back('\0');
    for (int shift = 24; shift >= 0; shift -= 8) {
      value_.push_back(static_cast<char>((schema_id_ >> shift) & 0xff));
    }
    putLong(sequence);
    putLong(partition);
    const double amount = static_cast<double>(sequence % 100000) / 100.0;
    char bytes[8];
    std::memcpy(bytes, &amount, sizeof(bytes));  // Avro doubles are little-endian, as is x86/arm
    value_.append(bytes, sizeof(bytes));
    putLong(static_cast<int64_t>((sequence + partition) % 4));  // currency symbol index
    char merchant[24];
    std::snprintf(merchant, sizeof(merchant), "merchant-%02d-%04lld", partition % 100,
                  static_cast<long long>(sequence % 10000));
    const size_t named = std::strlen(merchant);
    putLong(static_cast<int64_t>(merchant_len));
    value_.append(merchant, std::min(named, merchant_len));
    value_.append(merchant_len > named ? merchant_len - named : 0, '_');
    value_.push_back(sequence % 7 == 0 ? '\0' : '\1');  // approved
    putLong(2);                                         // tags: one block of 2 items
    putString("retail");
    putString("online");
    putLong(0);  // end of the array
    putLong(1);  // note: the union's "string" branch
    const size_t used = value_.size();
    if (size_ <= used) {
      putLong(0);
      return true;
    }
    const size_t rest = size_ - used;
    for (size_t prefix = 1; prefix <= 4 && prefix < rest; ++prefix) {
      const size_t note = rest - prefix;
      if (varintSize(static_cast<uint64_t>(note) << 1) == prefix) {
        putLong(static_cast<int64_t>(note));
        value_.append(note, 'x');
        return true;
      }
    }
    return false;
  }

  static size_t varintSize(uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) {
      v >>= 7;
      ++n;
    }
    return n;
  }

  // Avro's long: zig-zag, then a little-endian base-128 varint.
  void putLong(int64_t n) {
    uint64_t v = (static_cast<uint64_t>(n) << 1) ^ static_cast<uint64_t>(n >> 63);
    while (v >= 0x80) {
      value_.push_back(static_cast<char>((v & 0x7f) | 0x80));
      v >>= 7;
    }
    value_.push_back(static_cast<char>(v));
  }

  void putString(std::string_view text) {
    putLong(static_cast<int64_t>(text.size()));
    value_.append(text);
  }

  size_t size_;
  uint32_t schema_id_;
  std::string value_;
};

}  // namespace causeway::bench
