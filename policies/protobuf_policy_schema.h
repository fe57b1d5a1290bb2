#pragma once

// What a policy's field rules make of Protobuf records written with one writer schema (a .proto
// file, with its imports): the .proto text of what the partner receives (registered in the
// target registry by links that translate IDs), and how each rule's result is written
// (protobuf_payload.h). Computed once per writer schema; a pure function of the compiled file
// and the compiled rules (no I/O, no keys).
//
//   drop                 the field is removed, and its number and name are reserved
//   redact, mask, hash,  the field becomes `string` (a string field keeps its type); it stays
//   encrypt, tokenize,   in its oneof, and keeps `optional`
//   truncate
//   set                  the constant's type: string, int64 (an integer), double or bool
//
// Paths start at the record's message. The derived file changes the file's first message
// (message indexes [0]) and the messages under it: a record of another message in the file is
// a violation while the derivation changes anything (the registered file would not describe it
// after the edits).
//
// What cannot be described is a problem, and every record of that writer schema is then a
// violation: a change to a message used in more than one place (its other uses keep the
// type), to a repeated field's element type, to an element of a repeated field, or to a
// message from a schema reference (another subject's); `set` to null (Protobuf fields hold no
// null: drop the field instead).

#include "common/result.h"
#include "policies/transforms.h"
#include "schema/protobuf_validator.h"

#include <google/protobuf/descriptor.h>

#include <string>
#include <vector>

namespace causeway::policies {

// How one slot's edits are written into records of one writer schema.
struct ProtobufSlotPlan {
  enum class Change : uint8_t {
    kNone,    // the field keeps its type: edits are written in the field's own type
    kRemove,  // the field is left out
    kRetype,  // the field's type is `type`
  };
  Change change = Change::kNone;
  google::protobuf::FieldDescriptor::Type type = google::protobuf::FieldDescriptor::TYPE_STRING;
};

struct ProtobufPolicySchema {
  std::string schema;  // the derived .proto text
  bool changed = false;
  // The message the plans and the derived file are for: the file's first message.
  const google::protobuf::Descriptor* root = nullptr;
  std::vector<ProtobufSlotPlan> slots;  // by slot (policies::FieldSlots)
  // Rules that cannot be applied to records of this schema, one line each, naming the path.
  std::vector<std::string> problems;
};

// The type `set` with a constant (`kind`, `text`) gives `field` in the derived file: the field's
// own type when it holds the constant as it is (a string in a string or bytes field, a symbol
// of an enum field, a number in a numeric field whose range holds it, a boolean in a bool),
// else string, int64 (an integer), double or bool.
google::protobuf::FieldDescriptor::Type setType(const google::protobuf::FieldDescriptor& field,
                                                ValueKind kind, std::string_view text);

// The value side's file after `rules` (rules on the key, headers or record fields do not
// concern it). An error when the derived file does not build.
Result<ProtobufPolicySchema> deriveProtobufSchema(const schema::ProtoFile& writer,
                                                  const std::vector<TransformRule>& rules,
                                                  size_t slot_count);

}  // namespace causeway::policies
