#pragma once

// The seam between policies and payload formats. A policy names fields by path; a payload
// format finds them in a record's key or value bytes and writes the bytes back with edits.
// JSON is implemented here (json_payload.h); Avro and Protobuf plug in through the same
// interface, with the schema subsystem's decoders and a derived schema for the edited shape.
//
// Lifecycle: a PayloadReader is made once per stage (per thread) for one root (key or value)
// and the paths under it, then read() and write() run per record, reusing its buffers.

#include "policies/field_path.h"
#include "policies/field_value.h"

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace causeway::policies {

// One place a slot's path resolved to in one payload. A path can resolve more than once (a
// JSON object with a duplicate member name): every occurrence is transformed, and predicates
// see the last one, as most JSON readers do.
struct FieldOccurrence {
  uint16_t slot = 0;
  FieldValue value;
  uint32_t handle = 0;  // the format's own reference to the position, for edits
};

// A change to a payload, made by a transform.
struct FieldEdit {
  enum class Kind : uint8_t {
    kRemove,   // remove the occurrence (an object member, an array element)
    kReplace,  // replace the occurrence's value
    kInsert,   // add member `name` to the object occurrence `handle` (set on a missing field)
  };
  Kind kind = Kind::kReplace;
  uint32_t handle = 0;
  // kReplace, kInsert: the new value's kind (kString, kNumber, kBool, kNull) and its text
  // (string content, or a number as written), at [text_begin, text_begin + text_size) of the
  // arena passed to write().
  ValueKind value_kind = ValueKind::kString;
  uint32_t text_begin = 0;
  uint32_t text_size = 0;
  std::string_view name;  // kInsert: member name (from the compiled policy)
};

class PayloadReader {
public:
  virtual ~PayloadReader() = default;
  // Resolves the paths in `payload`. False with `problem` when the payload is not valid in
  // this format; the problem names a position or a rule, never the payload's content.
  virtual bool read(std::string_view payload, std::string& problem) = 0;
  // After read(): every occurrence found, in payload order.
  virtual std::span<const FieldOccurrence> occurrences() const = 0;
  // After read(): the payload with `edits` applied, into `out`. False with `problem`.
  virtual bool write(std::span<const FieldEdit> edits, std::string_view arena, std::string& out,
                     std::string& problem) = 0;
};

// A path a reader resolves: a slot and the segments under the reader's root.
struct ReaderPath {
  uint16_t slot = 0;
  std::vector<PathSegment> segments;
};

enum class PayloadFormat : uint8_t { kString, kJson, kAvro, kProtobuf };

const char* formatName(PayloadFormat format);

}  // namespace causeway::policies
