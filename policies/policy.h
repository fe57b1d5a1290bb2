#pragma once

// One partner policy compiled from its configuration (config/policies.h): the topic allow-list,
// the filter, the field transforms with their keys, the header lists. Immutable once compiled
// and shared by every stage that applies it (any link, any thread); compiling reads key files,
// so it happens at load (check-config, worker start, reload), never per record.

#include "config/config.h"
#include "config/yaml_reader.h"
#include "policies/field_types.h"
#include "policies/payload_format.h"
#include "policies/predicate.h"
#include "policies/transforms.h"

#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

namespace causeway::policies {

class Policy;
using PolicyPtr = std::shared_ptr<const Policy>;

struct CompileOptions {
  // What a contract's schema says about the value's and key's fields (schema/); null: nothing
  // is known, every payload path may hold anything (JSON without a schema).
  const FieldTypes* value_types = nullptr;
  const FieldTypes* key_types = nullptr;
  // False: key and secret files are not read. For checks of paths and types that compile a
  // policy once per topic (egress/policy_paths.h); such a policy has no keys to run with.
  bool load_keys = true;
};

struct CompileResult {
  PolicyPtr policy;  // set only when there are no errors
  std::vector<config::ConfigError> errors;
};

class Policy {
public:
  static CompileResult compile(const config::PolicyConfig& config,
                               const CompileOptions& options = {});

  const std::string& name() const { return config_.name; }
  const config::PolicyConfig& config() const { return config_; }
  bool shadow() const { return config_.mode == config::PolicyMode::kShadow; }

  // Default deny: true only when the topic fully matches one of the allow regexes. Thread-safe;
  // stages cache the answer per topic.
  bool allowsTopic(std::string_view topic) const;

  const std::optional<Predicate>& filter() const { return filter_; }
  const std::vector<TransformRule>& rules() const { return rules_; }
  const FieldSlots& slots() const { return slots_; }
  PayloadFormat keyFormat() const { return key_format_; }
  PayloadFormat valueFormat() const { return value_format_; }
  // The paths each payload reader resolves.
  const std::vector<ReaderPath>& keyPaths() const { return key_paths_; }
  const std::vector<ReaderPath>& valuePaths() const { return value_paths_; }

  // Header names: whether a header passes the allow/deny lists.
  bool headerAllowed(std::string_view name) const;
  bool filtersHeaders() const { return config_.headers_allow_set || !config_.headers_deny.empty(); }

  // "partner-acme.filter", "partner-acme.topics", "partner-acme.fields": rule names used in
  // verdicts and metrics (precomputed so verdicts do not format strings).
  const std::string& topicsRule() const { return topics_rule_; }
  const std::string& filterRule() const { return filter_rule_; }
  const std::string& fieldsRule() const { return fields_rule_; }
  const std::string& payloadRule() const { return payload_rule_; }

private:
  explicit Policy(config::PolicyConfig config) : config_(std::move(config)) {}

  config::PolicyConfig config_;
  std::vector<std::regex> allow_;
  std::optional<Predicate> filter_;
  std::vector<TransformRule> rules_;
  FieldSlots slots_;
  PayloadFormat key_format_ = PayloadFormat::kString;
  PayloadFormat value_format_ = PayloadFormat::kJson;
  std::vector<ReaderPath> key_paths_;
  std::vector<ReaderPath> value_paths_;
  std::string topics_rule_;
  std::string filter_rule_;
  std::string fields_rule_;
  std::string payload_rule_;
};

}  // namespace causeway::policies
