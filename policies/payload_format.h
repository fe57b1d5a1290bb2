#pragma once

// The seam between policies and payload formats. A policy names fields by path; a payload
// format finds them in a record's key or value bytes and writes the bytes back with edits.
// JSON: json_payload.h; Avro: avro_payload.h; Protobuf: protobuf_payload.h (the last two read
// records with their writer's schema and write them for a derived schema).
//
// Lifecycle: a PayloadReader is made once per stage (per thread) for one root (key or value)
// and the paths under it, then read() and write() run per record, reusing its buffers.

#include "policies/field_path.h"
#include "policies/field_value.h"

#include <cstdint>
#include <memory>
#include <optional>
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
  // Whether write() can add a member to `occurrence` (a kInsert edit: `set` on a missing
  // field). JSON objects can; so can Protobuf messages, which predicates see as bytes.
  virtual bool acceptsInsert(const FieldOccurrence& occurrence) const {
    return occurrence.value.kind == ValueKind::kObject;
  }
};

// A reader of records framed for a schema registry (Avro, Protobuf), which reads each record
// with its writer's schema and writes edited records for the schema the policy derives from
// it. The writer's schema comes from what the control plane learned as it translated the
// record's schema ID on the link.
class WriterSchemaReader : public PayloadReader {
public:
  // The writer's schema for the next read(): the one `source_payload` (the record of `topic` as
  // the source cluster has it) names in its prefix. A payload without an ID prefix, or a record
  // whose schema ID is in a header (`id_in_header`), leaves no schema selected, and read() says
  // why.
  virtual void selectWriter(std::string_view topic, std::optional<std::string_view> source_payload,
                            bool id_in_header) = 0;
  // After read(): what the policy cannot do to this record's schema (empty when its records can
  // be edited). A violation, but only for records the filter keeps.
  virtual const std::vector<std::string>* shapeProblems() const = 0;
  // After read(): whether the record must be written again even without edits (it holds a
  // field whose type the derived schema changes or that it leaves out).
  virtual bool rewritesUnedited() const = 0;
};

// A path a reader resolves: a slot and the segments under the reader's root.
struct ReaderPath {
  uint16_t slot = 0;
  std::vector<PathSegment> segments;
};

enum class PayloadFormat : uint8_t { kString, kJson, kAvro, kProtobuf };

const char* formatName(PayloadFormat format);

}  // namespace causeway::policies
