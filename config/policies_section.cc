// The `policies:` section (config/policies.h). Checks what needs no key material and no
// predicate compiler: structure, types, which options fit which action, where keys come from.
// Compiling filters and paths and reading keys happens in policies::checkConfig, which reports
// at the same line:col through the positions kept here.

#include "config/sections.h"

#include <algorithm>

namespace causeway::config {
namespace {

const std::vector<std::string> kPolicyKeys = {"topics",       "filter", "fields",  "headers",
                                              "on_violation", "mode",   "formats", "audit"};
const std::vector<std::string> kTopicsKeys = {"allow"};
const std::vector<std::string> kHeadersKeys = {"allow", "deny"};
const std::vector<std::string> kFormatsKeys = {"key", "value"};
const std::vector<std::string> kAuditKeys = {"file", "topic", "cluster", "interval"};
const std::vector<std::string> kFieldKeys = {"path",    "action",      "keep_last",  "mask_char",
                                             "max",     "token",       "value",      "key_file",
                                             "key_env", "secret_file", "secret_env", "required"};
const std::vector<std::string> kActions = {"drop",    "redact",   "mask",     "hash",
                                           "encrypt", "tokenize", "truncate", "set"};
const std::vector<std::string> kViolations = {"dlq", "skip", "stop"};
const std::vector<std::string> kModes = {"enforce", "shadow"};
const std::vector<std::string> kKeyFormats = {"string", "json"};
const std::vector<std::string> kValueFormats = {"json", "avro", "protobuf"};
// The configuration reference (docs/configuration.md) documents each of these.
const KeysRegistration kPolicyKeysRegistration("policies.<name>", kPolicyKeys);
const KeysRegistration kTopicsKeysRegistration("policies.<name>.topics", kTopicsKeys);
const KeysRegistration kHeadersKeysRegistration("policies.<name>.headers", kHeadersKeys);
const KeysRegistration kFormatsKeysRegistration("policies.<name>.formats", kFormatsKeys);
const KeysRegistration kAuditKeysRegistration("policies.<name>.audit", kAuditKeys);
const KeysRegistration kFieldKeysRegistration("policies.<name>.fields[]", kFieldKeys);
const ValuesRegistration kActionsRegistration("policies.<name>.fields[].action", kActions);
const ValuesRegistration kViolationsRegistration("policies.<name>.on_violation", kViolations);
const ValuesRegistration kModesRegistration("policies.<name>.mode", kModes);
const ValuesRegistration kKeyFormatsRegistration("policies.<name>.formats.key", kKeyFormats);
const ValuesRegistration kValueFormatsRegistration("policies.<name>.formats.value", kValueFormats);

// Options that only make sense with one action, with the action(s) they belong to.
struct ActionOption {
  std::string key;
  std::vector<FieldAction> actions;
  std::string_view needs;
};
const std::vector<ActionOption> kActionOptions = {
    {"keep_last", {FieldAction::kMask}, "mask"},
    {"mask_char", {FieldAction::kMask}, "mask"},
    {"max", {FieldAction::kTruncate}, "truncate"},
    {"token", {FieldAction::kRedact}, "redact"},
    {"value", {FieldAction::kSet}, "set"},
    {"key_file", {FieldAction::kEncrypt, FieldAction::kTokenize}, "encrypt or tokenize"},
    {"key_env", {FieldAction::kEncrypt, FieldAction::kTokenize}, "encrypt or tokenize"},
    {"secret_file", {FieldAction::kHash}, "hash"},
    {"secret_env", {FieldAction::kHash}, "hash"},
};

bool isNumberText(const std::string& text) {
  size_t i = 0;
  if (i < text.size() && text[i] == '-') {
    ++i;
  }
  const size_t digits = i;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) != 0) {
    ++i;
  }
  if (i == digits || (text[digits] == '0' && i - digits > 1)) {
    return false;
  }
  if (i < text.size() && text[i] == '.') {
    const size_t frac = ++i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) != 0) {
      ++i;
    }
    if (i == frac) {
      return false;
    }
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
      ++i;
    }
    const size_t exp = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) != 0) {
      ++i;
    }
    if (i == exp) {
      return false;
    }
  }
  return i == text.size();
}

class PolicySection {
public:
  explicit PolicySection(YamlReader& reader) : r_(reader) {}

  void loadPolicy(const std::string& name, const Field& field, PolicyConfig& policy) {
    policy.name = name;
    policy.location = r_.location(field.key_mark);
    if (!isValidName(name)) {
      r_.error(field.key_mark, field.path,
               "policy names may only use letters, digits, '.', '_' and '-' (they appear in "
               "metrics and the audit log)");
    }
    auto object = r_.object(field, kPolicyKeys, "a map of policy settings");
    if (!object) {
      return;
    }
    if (const Field* topics = r_.require(*object, "topics",
                                         "the topics this policy lets through, as "
                                         "{allow: [regex, ...]}; every other topic is denied")) {
      policy.topics_location = r_.location(topics->mark);
      if (auto t = r_.object(*topics, kTopicsKeys, "a map with allow: [regex, ...]")) {
        if (const Field* allow = r_.require(*t, "allow", "regexes of the allowed topics")) {
          r_.regexList(*allow, policy.topics_allow);
        }
      }
    }
    if (const Field* filter = object->get("filter")) {
      if (auto text = r_.scalarText(*filter)) {
        if (trim(text->text).empty()) {
          r_.error(*filter, "the filter is empty; remove it to let every record through");
        } else {
          policy.filter = std::move(*text);
        }
      }
    }
    if (const Field* fields = object->get("fields")) {
      if (auto items = r_.items(*fields, "a list of field rules")) {
        for (const Field& item : *items) {
          FieldRuleConfig rule;
          if (loadField(item, rule)) {
            policy.fields.push_back(std::move(rule));
          }
        }
      }
    }
    if (const Field* headers = object->get("headers")) {
      if (auto h = r_.object(*headers, kHeadersKeys, "a map with allow and/or deny lists")) {
        if (const Field* allow = h->get("allow")) {
          r_.stringList(*allow, policy.headers_allow, "a list of header names");
          policy.headers_allow_set = true;
        }
        if (const Field* deny = h->get("deny")) {
          r_.stringList(*deny, policy.headers_deny, "a list of header names");
        }
      }
    }
    if (const Field* violation = object->get("on_violation")) {
      if (auto value = r_.choice(*violation, kViolations)) {
        policy.on_violation = *value == "dlq"    ? OnViolation::kDeadLetter
                              : *value == "skip" ? OnViolation::kSkip
                                                 : OnViolation::kStop;
      }
    }
    if (const Field* mode = object->get("mode")) {
      if (auto value = r_.choice(*mode, kModes)) {
        policy.mode = *value == "shadow" ? PolicyMode::kShadow : PolicyMode::kEnforce;
      }
    }
    if (const Field* formats = object->get("formats")) {
      if (auto f = r_.object(*formats, kFormatsKeys, "a map like {key: string, value: json}")) {
        if (const Field* key = f->get("key")) {
          if (auto value = r_.choice(*key, kKeyFormats)) {
            policy.key_format = *value;
          }
        }
        if (const Field* value_field = f->get("value")) {
          if (auto value = r_.choice(*value_field, kValueFormats)) {
            policy.value_format = *value;
          }
        }
      }
    }
    if (const Field* audit = object->get("audit")) {
      if (auto a = r_.object(*audit, kAuditKeys,
                             "a map like {file: /var/log/x.jsonl} or {topic: causeway.audit, "
                             "cluster: east}")) {
        const Field* file = a->get("file");
        const Field* topic = a->get("topic");
        const Field* cluster = a->get("cluster");
        if (file != nullptr) {
          if (auto path = r_.nonEmptyString(*file)) {
            policy.audit_file = *path;
          }
        }
        if (topic != nullptr) {
          if (auto name = r_.nonEmptyString(*topic)) {
            policy.audit_topic = *name;
          }
          if (cluster == nullptr) {
            r_.error(*topic, "an audit topic needs `cluster`: the configured cluster it is on");
          }
        }
        if (cluster != nullptr) {
          policy.audit_cluster_location = r_.location(cluster->mark);
          if (auto name = r_.nonEmptyString(*cluster)) {
            policy.audit_cluster = *name;
          }
          if (topic == nullptr) {
            r_.error(*cluster, "`cluster` names where the audit `topic` goes; there is no topic");
          }
        }
        if (file == nullptr && topic == nullptr) {
          r_.error(*audit, "an audit log needs `file`, `topic` (with `cluster`), or both");
        }
        r_.duration(a->get("interval"), policy.audit_interval);
      }
    }
  }

private:
  bool loadField(const Field& item, FieldRuleConfig& rule) {
    rule.location = r_.location(item.mark);
    auto object = r_.object(item, kFieldKeys,
                            "a map like {path: value.card.number, action: "
                            "mask}");
    if (!object) {
      return false;
    }
    bool ok = true;
    if (const Field* path = r_.require(*object, "path", "the field, like value.card.number")) {
      if (auto text = r_.scalarText(*path)) {
        rule.path = std::move(*text);
      } else {
        ok = false;
      }
    } else {
      ok = false;
    }
    const Field* action = r_.require(
        *object, "action", "drop, redact, mask, hash, encrypt, tokenize, truncate or set");
    if (action == nullptr) {
      return false;
    }
    rule.action_location = r_.location(action->mark);
    auto name = r_.choice(*action, kActions);
    if (!name) {
      return false;
    }
    rule.action = static_cast<FieldAction>(std::find(kActions.begin(), kActions.end(), *name) -
                                           kActions.begin());
    for (const ActionOption& option : kActionOptions) {
      const Field* f = object->get(option.key);
      if (f != nullptr && std::find(option.actions.begin(), option.actions.end(), rule.action) ==
                              option.actions.end()) {
        r_.error(f->key_mark, item.path,
                 quoted(option.key) + " applies to " + std::string(option.needs) + ", not to " +
                     *name);
        ok = false;
      }
    }
    if (const Field* keep = object->get("keep_last")) {
      size_t n = rule.keep_last;
      if (keep->node.IsScalar() && trim(keep->node.Scalar()) == "0") {
        n = 0;
      } else {
        r_.positiveCount(keep, n, false);
      }
      rule.keep_last = n;
    }
    if (const Field* c = object->get("mask_char")) {
      if (auto text = r_.string(*c)) {
        if (text->size() != 1 || static_cast<unsigned char>((*text)[0]) < 0x20 ||
            static_cast<unsigned char>((*text)[0]) >= 0x7F || (*text)[0] == '"' ||
            (*text)[0] == '\\') {
          r_.error(*c, "mask_char is one printable ASCII character other than \" and \\");
          ok = false;
        } else {
          rule.mask_char = *text;
        }
      }
    }
    if (rule.action == FieldAction::kTruncate) {
      if (const Field* max = r_.require(*object, "max", "how many characters to keep")) {
        r_.positiveCount(max, rule.max, false);
      } else {
        ok = false;
      }
    }
    if (const Field* token = object->get("token")) {
      if (auto text = r_.string(*token)) {
        rule.token = *text;
      }
    }
    if (rule.action == FieldAction::kSet) {
      if (const Field* value = r_.require(*object, "value", "the constant to write")) {
        if (!value->node.IsScalar() && !value->node.IsNull()) {
          r_.typeError(*value, "a string, number, true, false or null");
          ok = false;
        } else if (value->node.IsNull()) {
          rule.value_kind = ConstantKind::kNull;
        } else {
          rule.value = value->node.Scalar();
          // yaml-cpp tags quoted scalars "!" and plain ones "?".
          const bool plain = value->node.Tag() != "!";
          if (plain && (rule.value == "true" || rule.value == "false")) {
            rule.value_kind = ConstantKind::kBool;
          } else if (plain && (rule.value == "null" || rule.value == "~")) {
            rule.value_kind = ConstantKind::kNull;
          } else if (plain && isNumberText(rule.value)) {
            rule.value_kind = ConstantKind::kNumber;
          }
        }
      } else {
        ok = false;
      }
    }
    const bool needs_keys =
        rule.action == FieldAction::kEncrypt || rule.action == FieldAction::kTokenize;
    const bool needs_secret = rule.action == FieldAction::kHash;
    if (needs_keys) {
      ok = keyReference(*object, item, "key_file", "key_env", rule.key) && ok;
    } else if (needs_secret) {
      ok = keyReference(*object, item, "secret_file", "secret_env", rule.key) && ok;
    }
    if (const Field* required = object->get("required")) {
      if (auto value = r_.boolean(*required)) {
        rule.required = *value;
      }
    }
    return ok;
  }

  bool keyReference(const Object& object, const Field& item, const std::string& file_key,
                    const std::string& env_key, KeyReference& out) {
    const Field* file = object.get(file_key);
    const Field* env = object.get(env_key);
    if (file != nullptr && env != nullptr) {
      r_.error(env->key_mark, item.path,
               "set either " + file_key + " or " + env_key + ", not both");
      return false;
    }
    if (file == nullptr && env == nullptr) {
      r_.error(object.mark, item.path,
               "missing " + file_key + " (or " + env_key +
                   "): keys are read from a file or an environment variable, never the YAML");
      return false;
    }
    const Field* chosen = file != nullptr ? file : env;
    auto text = r_.nonEmptyString(*chosen);
    if (!text) {
      return false;
    }
    out.location = r_.location(chosen->mark);
    if (file != nullptr) {
      // A relative path is relative to the configuration file, not to the working directory.
      const size_t slash = r_.file().rfind('/');
      out.file = (*text)[0] == '/' || slash == std::string::npos
                     ? *text
                     : r_.file().substr(0, slash + 1) + *text;
    } else {
      out.env = *text;
    }
    return true;
  }

  YamlReader& r_;
};

}  // namespace

void loadPolicies(YamlReader& reader, const Field& field, Config& config, SectionContext& context) {
  if (!field.node.IsMap()) {
    reader.typeError(field, "a map of policy name -> policy settings");
    return;
  }
  PolicySection section(reader);
  for (auto& [name, value] : reader.entries(field)) {
    context.policy_names.push_back(name);
    PolicyConfig policy;
    section.loadPolicy(name, value, policy);
    config.policies.emplace(name, std::move(policy));
  }
}

}  // namespace causeway::config
