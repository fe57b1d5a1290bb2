#pragma once

// The `policies:` section: what a partner (or a data product's consumers) may receive. Loaded
// by config/policies_section.cc; compiled and enforced by policies/ (docs/policies.md).

#include "config/scalar_position.h"

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace causeway::config {

// Where a key or secret is read from: a file or an environment variable, never the YAML.
struct KeyReference {
  std::string file;
  std::string env;
  SourceLocation location;  // of the key_file / key_env / secret_file / secret_env value
  bool set() const { return !file.empty() || !env.empty(); }
};

enum class FieldAction { kDrop, kRedact, kMask, kHash, kEncrypt, kTokenize, kTruncate, kSet };

// A `set` constant, typed as YAML reads it: a quoted scalar is a string, a plain one a number,
// true/false or null when it reads as one.
enum class ConstantKind { kString, kNumber, kBool, kNull };

struct FieldRuleConfig {
  ScalarText path;  // `value.card.number`, with positions for errors inside it
  FieldAction action = FieldAction::kDrop;
  SourceLocation action_location;
  size_t keep_last = 4;         // mask
  std::string mask_char = "*";  // mask: one ASCII character
  size_t max = 0;               // truncate: characters kept
  std::string token;            // redact: the replacement (default "[REDACTED]")
  std::string value;            // set: the constant as written
  ConstantKind value_kind = ConstantKind::kString;
  KeyReference key;       // hash: the secret; encrypt, tokenize: the key set
  bool required = false;  // a missing field is a violation (on_violation)
  SourceLocation location;
};

enum class OnViolation { kDeadLetter, kSkip, kStop };
enum class PolicyMode { kEnforce, kShadow };

struct PolicyConfig {
  std::string name;
  // Topics the policy lets through (ECMAScript regexes, full match). Default deny: a topic
  // that matches none is never written.
  std::vector<std::string> topics_allow;
  std::optional<ScalarText> filter;
  std::vector<FieldRuleConfig> fields;
  // Header names (exact). With `allow`, only those pass; `deny` removes names. Causeway's own
  // causeway-* headers are not affected (loop prevention needs them).
  std::vector<std::string> headers_allow;
  bool headers_allow_set = false;
  std::vector<std::string> headers_deny;
  OnViolation on_violation = OnViolation::kDeadLetter;
  PolicyMode mode = PolicyMode::kEnforce;
  std::string key_format = "string";  // string | json
  std::string value_format = "json";  // json, avro or protobuf (on links that translate schema IDs)
  // Audit log of aggregated decision counts, one JSON line per interval (no record values).
  // Lines go to a file, a topic on one of the configured clusters (one record per line), or both.
  std::string audit_file;
  std::string audit_topic;
  std::string audit_cluster;
  SourceLocation audit_cluster_location;
  std::chrono::milliseconds audit_interval{60000};
  SourceLocation location;
  SourceLocation topics_location;
};

}  // namespace causeway::config
