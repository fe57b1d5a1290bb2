#pragma once

// A client's `?filter=` (SSE) or `filter` field (gRPC Subscribe) as a stage: the policies'
// predicate language (policies/predicate.h, grammar in docs/policies.md), compiled by the same
// compiler and evaluated by the same PolicyStage a policy's `filter` uses, so a client filter
// means exactly what the same text means in a policy.
//
// A client filter only narrows: the stage runs on the record after the partner's stages (what
// the partner's policy let through, already masked), its policy allows every topic and has no
// field rules or header lists, and a record it cannot read (a value that is not JSON while the
// predicate names value fields) is dropped (counted as skipped, never passed).
//
// Bounds, because the text comes from a partner's request: at most kMaxClientFilterBytes, and
// no `matches` (std::regex backtracks; a partner's regex over the partner's data would run on
// the server's threads). Errors name the 1-based column (a byte offset) and what is wrong.
//
// The key is text (`key == "card-42"`) unless the filter names its fields (`key.customer`,
// `key[0]`): then it is read as JSON (a key decoded from Avro or Protobuf by the product's
// contract, or a JSON key), `key` alone is its JSON value, and a record whose key is not JSON
// is dropped, as for value paths.

#include "egress/stages.h"

#include <cstddef>
#include <string>
#include <string_view>

namespace causeway::egress {

inline constexpr size_t kMaxClientFilterBytes = 1024;

// The factory for EgressServer::Options::filters (`causeway run` uses it). Payload paths
// (`value.amount`, `key.customer`) are checked at run time, since a product's value and key are
// JSON without a schema known to the filter.
FilterFactory predicateFilterFactory();

// Compiles `text` as a client filter without building a stage: an empty string when it is
// valid, else "filter: column C: what is wrong". For tests and the fuzz target.
std::string checkClientFilter(std::string_view text);

}  // namespace causeway::egress
