#pragma once

// Field transforms: what a policy does to one field's value. Compiled once from the
// configuration (TransformRule, immutable and shared), applied per record by a TransformRunner
// (one per thread: it owns the HMAC and AES contexts). Format-neutral: a transform reads a
// FieldValue and produces a FieldEdit, which the payload format writes (docs/policies.md has
// the table of actions and types).

#include "policies/envelope.h"
#include "policies/field_path.h"
#include "policies/key_material.h"
#include "policies/payload_format.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace causeway::policies {

enum class Action : uint8_t { kDrop, kRedact, kMask, kHash, kEncrypt, kTokenize, kTruncate, kSet };

const char* actionName(Action action);

inline constexpr std::string_view kDefaultRedaction = "[REDACTED]";
inline constexpr std::string_view kTokenPrefix = "tok_";

struct TransformRule {
  FieldPath path;
  uint16_t slot = 0;
  // kSet: the object that gets the member when the field is missing (-1: none, e.g. an index).
  int parent_slot = -1;
  Action action = Action::kDrop;
  // "value.card.number:mask": how counters and the audit log name the rule.
  std::string name;
  bool required = false;                         // a missing field is a violation
  size_t keep_last = 4;                          // kMask
  char mask_char = '*';                          // kMask
  size_t max = 0;                                // kTruncate: code points kept
  std::string replacement;                       // kRedact: the token; kSet: the constant's text
  ValueKind constant_kind = ValueKind::kString;  // kSet
  std::shared_ptr<const Secret> secret;          // kHash
  std::shared_ptr<const KeySet> keys;            // kEncrypt, kTokenize
};

// Which value kinds an action accepts; the others fail (a violation at run time, an error at
// load when a schema says the field's type).
bool actionAccepts(Action action, ValueKind kind);

class TransformRunner {
public:
  static Result<TransformRunner> create(const std::vector<TransformRule>& rules);
  TransformRunner(TransformRunner&&) = default;
  TransformRunner& operator=(TransformRunner&&) = default;

  enum class Outcome : uint8_t {
    kApplied,  // `edit` is set
    kKept,     // nothing to do (a null value, a string already short enough)
    kFailed,   // `problem` says why (never the value itself)
  };
  // The edit for rule `rule` on one occurrence: its handle and value. Replacement text is
  // appended to `arena`.
  Outcome apply(size_t rule, const FieldOccurrence& occurrence, std::string& arena, FieldEdit& edit,
                std::string& problem);
  // For kSet on a missing field: the member to insert into the parent occurrence.
  void insert(size_t rule, uint32_t parent_handle, std::string& arena, FieldEdit& edit);

private:
  explicit TransformRunner(const std::vector<TransformRule>* rules) : rules_(rules) {}
  void replaceWith(ValueKind kind, std::string_view text, std::string& arena, FieldEdit& edit);

  const std::vector<TransformRule>* rules_;  // owned by the compiled policy, which outlives this
  std::vector<std::unique_ptr<HmacSha256>> macs_;         // per rule, or null
  std::vector<std::unique_ptr<EnvelopeSealer>> sealers_;  // per rule, or null
  std::string scratch_;
};

}  // namespace causeway::policies
