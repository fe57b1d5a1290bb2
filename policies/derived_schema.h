#pragma once

// The shape of what a partner receives when its policy transforms fields of a payload whose
// contract is a JSON Schema: the contract's schema rewritten the way the policy's field rules
// rewrite records, so a partner can validate (or generate code for) what it actually gets.
// A pure function: no I/O, no registry, no keys. The data products listing (egress/) shows it.
//
//   drop                 the property is removed (and from its object's `required`)
//   redact, mask, hash,  {"type": "string"} (["string", "null"] when the field may be null:
//   encrypt, tokenize    transforms keep nulls), keeping `title` and `description`
//   truncate             `maxLength` becomes at most `max` (a non-string fails, so the type stays)
//   set                  {"const": <the constant>}, and required in its object (set inserts it)
//
// Paths follow the policy path language (policies/field_path.h). Local `$ref`s ("#/$defs/x")
// are inlined where a path goes through them, so other uses of the definition keep the
// original; properties are looked for in `allOf`/`anyOf`/`oneOf` branches too. An index
// segment (`value.items[0].sku`) addresses one element: with `prefixItems` (or a draft-4
// `items` list) that element's schema changes; with one `items` schema for every element the
// change is widened to {"anyOf": [original, derived]} (and a drop only leaves `required`),
// since the other elements keep the original shape. A path the schema does not declare (or
// that goes through a `$ref` to another document) changes nothing and is reported.

#include "common/result.h"
#include "config/policies.h"
#include "policies/field_path.h"

#include <string>
#include <string_view>
#include <vector>

namespace causeway::policies {

struct DerivedSchema {
  std::string schema;    // the derived JSON Schema, compact JSON text
  bool changed = false;  // at least one rule changed the shape
  // Rules that could not be described, one line each ("value.customer.emial (mask): no
  // property 'emial' at value.customer"); never values.
  std::vector<std::string> problems;
};

// The schema of `side` (kKey or kValue) after `policy`'s field rules; rules on the other side
// and on headers or record fields do not concern it. A policy in shadow mode changes nothing.
// An error when `schema_text` is not a JSON object or boolean.
Result<DerivedSchema> deriveJsonSchema(std::string_view schema_text,
                                       const config::PolicyConfig& policy,
                                       PathRoot side = PathRoot::kValue);

}  // namespace causeway::policies
