#pragma once

// What the schema stages know, as an immutable snapshot the control plane (SchemaService)
// publishes and the stages read without locks: per source topic, key and value, and schema
// (ID or GUID) the record names, either the compiled contract validator or the schema in the
// target registry, or why there is none yet.

#include "schema/contracts.h"
#include "schema/validator.h"
#include "schema/wire_format.h"

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace causeway::schema {

enum class EntryState : uint8_t {
  kReady,    // validator / target schema available
  kRetry,    // a registry did not answer: retry after `retry_after`
  kPaused,   // waiting for a person (a missing contract subject, an incompatible target
             // subject, a GUID the target does not know): retried slowly, status says why
  kRefused,  // the schema cannot pass (unknown to the registry, does not fit the contract):
             // every record naming it is a violation with `detail`
};

struct ValidationEntry {
  EntryState state = EntryState::kRetry;
  ValidatorPtr validator;
  std::string detail;
  std::chrono::milliseconds retry_after{0};
  // kRefused: "unknown-schema" (the registry does not have it) or "schema-mismatch" (it does
  // not fit the contract). Static storage.
  std::string_view reason;
};

struct TranslationEntry {
  EntryState state = EntryState::kRetry;
  SchemaRef target;
  std::string detail;
  std::chrono::milliseconds retry_after{0};
};

struct SideEntries {
  std::unordered_map<SchemaRef, ValidationEntry, SchemaRefHash> validation;
  std::unordered_map<SchemaRef, TranslationEntry, SchemaRefHash> translation;
};

struct TopicEntries {
  SideEntries sides[2];  // by Side
  const SideEntries& side(Side s) const { return sides[static_cast<size_t>(s)]; }
  SideEntries& side(Side s) { return sides[static_cast<size_t>(s)]; }
};

struct TopicHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};

struct SchemaSnapshot {
  uint64_t version = 0;
  std::unordered_map<std::string, TopicEntries, TopicHash, std::equal_to<>> topics;

  const TopicEntries* find(std::string_view topic) const {
    auto it = topics.find(topic);
    return it == topics.end() ? nullptr : &it->second;
  }
};

}  // namespace causeway::schema
