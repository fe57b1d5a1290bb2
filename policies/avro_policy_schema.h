#pragma once

// What a policy's field rules make of Avro records written with one writer schema: the Avro
// schema of what the partner receives (registered in the target registry by links that
// translate IDs), and how each rule's result is encoded (avro_payload.h). Computed once per
// writer schema; a pure function of the schema text and the compiled rules (no I/O, no keys).
//
//   drop                 the record field is removed (its bytes are left out)
//   redact, mask, hash,  the field becomes "string", or ["null", "string"] when its type was a
//   encrypt, tokenize,   union with null (transforms keep nulls); a field that already holds a
//   truncate             string (string, or a union with a string branch) keeps its type
//   set                  the constant's type: string, long (an integer), double, boolean, null
//
// A retyped field that had a default gets one of its new type: null for ["null", T], else "",
// 0, 0.0, false or null (records on the target always hold the field; the default keeps later
// versions compatible in the target registry).
// Everything else (names, namespaces, docs, defaults, logical types, aliases) stays as written.
//
// What cannot be described is a problem, and every record of that writer schema is then a
// violation rather than a record its schema does not describe: changing the type of (or
// dropping) an array element or map value (the other elements keep the type), a field of a
// named record that is used in more than one place, a path through a union of several
// non-null types, or a change to a named type from a schema reference (another subject's).

#include "common/result.h"
#include "policies/field_path.h"
#include "policies/transforms.h"
#include "schema/avro_model.h"

#include <string>
#include <string_view>
#include <vector>

namespace causeway::policies {

// How one slot's edits are written into records of one writer schema.
struct AvroSlotPlan {
  enum class Change : uint8_t {
    kNone,    // the field keeps its type: edits are encoded in the writer's type
    kRemove,  // the record field is left out
    kRetype,  // the field's type is `kind` (with a null branch when null_branch >= 0)
  };
  Change change = Change::kNone;
  // The Avro type an edit's value is written as, and where the field's type is a union, the
  // branch index of that type and of null (-1: not a union, or no such branch).
  schema::AvroNode::Kind kind = schema::AvroNode::Kind::kString;
  int branch = -1;
  int null_branch = -1;
};

struct AvroPolicySchema {
  std::string schema;               // the derived Avro schema, compact JSON text
  bool changed = false;             // it differs from the writer's schema
  std::vector<AvroSlotPlan> slots;  // by slot (policies::FieldSlots)
  // Rules that cannot be applied to records of this schema, one line each, naming the path.
  std::vector<std::string> problems;
};

// Writer schemas nesting arrays and objects deeper than this are refused.
inline constexpr size_t kMaxAvroSchemaNesting = 256;

// The value side's schema after `rules` (rules on the key, headers or record fields do not
// concern it). `references`: the texts of the writer's schema references, whose named types
// paths may go through (read only: changing one is a problem). An error when `writer_text` is
// not an Avro schema in JSON.
Result<AvroPolicySchema> deriveAvroSchema(std::string_view writer_text,
                                          const std::vector<std::string_view>& references,
                                          const std::vector<TransformRule>& rules,
                                          size_t slot_count);

}  // namespace causeway::policies
