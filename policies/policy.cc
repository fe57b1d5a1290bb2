#include "policies/policy.h"

#include <map>

namespace causeway::policies {
namespace {

Action toAction(config::FieldAction action) {
  return static_cast<Action>(static_cast<int>(action));
}

ValueKind constantKind(config::ConstantKind kind) {
  switch (kind) {
  case config::ConstantKind::kNumber:
    return ValueKind::kNumber;
  case config::ConstantKind::kBool:
    return ValueKind::kBool;
  case config::ConstantKind::kNull:
    return ValueKind::kNull;
  default:
    return ValueKind::kString;
  }
}

// The value kind a schema type holds, for checking actions against types at load.
ValueKind kindOf(FieldType type) {
  switch (type) {
  case FieldType::kBool:
    return ValueKind::kBool;
  case FieldType::kNumber:
    return ValueKind::kNumber;
  case FieldType::kString:
    return ValueKind::kString;
  case FieldType::kBytes:
    return ValueKind::kBytes;
  case FieldType::kObject:
    return ValueKind::kObject;
  case FieldType::kArray:
    return ValueKind::kArray;
  default:
    return ValueKind::kMissing;
  }
}

bool isPrefix(const FieldPath& a, const FieldPath& b) {
  if (a.root != b.root || a.segments.size() > b.segments.size()) {
    return false;
  }
  return std::equal(a.segments.begin(), a.segments.end(), b.segments.begin());
}

// Types of the record's own fields with the payloads' types from `options`.
class CombinedTypes : public FieldTypes {
public:
  CombinedTypes(const CompileOptions& options, bool key_json)
      : options_(options), schemaless_(key_json) {}
  std::optional<FieldType> typeOf(const FieldPath& path, std::string& problem) const override {
    if (path.root == PathRoot::kValue && options_.value_types != nullptr) {
      return options_.value_types->typeOf(path, problem);
    }
    if (path.root == PathRoot::kKey && options_.key_types != nullptr) {
      return options_.key_types->typeOf(path, problem);
    }
    return schemaless_.typeOf(path, problem);
  }

private:
  const CompileOptions& options_;
  SchemalessTypes schemaless_;
};

}  // namespace

CompileResult Policy::compile(const config::PolicyConfig& config, const CompileOptions& options) {
  CompileResult result;
  auto policy = std::shared_ptr<Policy>(new Policy(config));
  Policy& p = *policy;
  auto error = [&](const config::SourceLocation& where, const std::string& message) {
    result.errors.push_back(config::ConfigError{where, "policies." + config.name + ": " + message});
  };
  p.topics_rule_ = config.name + ".topics";
  p.filter_rule_ = config.name + ".filter";
  p.fields_rule_ = config.name + ".fields";
  p.payload_rule_ = config.name + ".payload";

  for (const std::string& pattern : config.topics_allow) {
    try {
      p.allow_.emplace_back(pattern, std::regex::ECMAScript | std::regex::optimize);
    } catch (const std::regex_error& e) {
      error(config.topics_location, "invalid regex " + config::quoted(pattern) + ": " + e.what());
    }
  }
  const bool key_json = config.key_format == "json";
  p.key_format_ = key_json ? PayloadFormat::kJson : PayloadFormat::kString;
  p.value_format_ = config.value_format == "avro"       ? PayloadFormat::kAvro
                    : config.value_format == "protobuf" ? PayloadFormat::kProtobuf
                                                        : PayloadFormat::kJson;
  CombinedTypes types(options, key_json);

  // Field rules, in order. Keys are loaded once per file or variable.
  std::map<std::pair<std::string, std::string>, std::shared_ptr<const KeySet>> key_sets;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<const Secret>> secrets;
  for (const config::FieldRuleConfig& field : config.fields) {
    PredicateError path_error;
    std::optional<FieldPath> path = parseFieldPath(field.path.text, path_error);
    if (!path) {
      error(field.path.at(path_error.offset), "path: " + path_error.message);
      continue;
    }
    if (!path->inPayload()) {
      error(field.path.at(0), "path: transforms apply to fields of the value (value.x) or of a "
                              "JSON key (key.x); use headers: {allow, deny} for headers");
      continue;
    }
    std::string problem;
    std::optional<FieldType> type = types.typeOf(*path, problem);
    if (!type) {
      error(field.path.at(0), path->text() + ": " + problem);
      continue;
    }
    const Action action = toAction(field.action);
    if (*type != FieldType::kAny && !actionAccepts(action, kindOf(*type))) {
      error(field.action_location, std::string(actionName(action)) + " does not fit " +
                                       path->text() + ", which is " + typeName(*type));
      continue;
    }
    bool overlaps = false;
    for (const TransformRule& other : p.rules_) {
      if (isPrefix(other.path, *path) || isPrefix(*path, other.path)) {
        error(field.path.at(0),
              other.path == *path
                  ? path->text() + " already has a rule (" + other.name + "); one rule per field"
                  : path->text() + " overlaps " + other.path.text() + " (" + other.name +
                        "); transform either the field or what contains it");
        overlaps = true;
        break;
      }
    }
    if (overlaps) {
      continue;
    }
    TransformRule rule;
    rule.path = *path;
    rule.action = action;
    rule.name = path->text() + ":" + actionName(action);
    rule.required = field.required;
    rule.keep_last = field.keep_last;
    rule.mask_char = field.mask_char.empty() ? '*' : field.mask_char[0];
    rule.max = field.max;
    if (action == Action::kRedact) {
      rule.replacement = field.token.empty() ? std::string(kDefaultRedaction) : field.token;
    }
    if (action == Action::kSet) {
      rule.replacement = field.value;
      rule.constant_kind = constantKind(field.value_kind);
      if (rule.constant_kind == ValueKind::kBool || rule.constant_kind == ValueKind::kNull) {
        rule.replacement = rule.constant_kind == ValueKind::kNull ? "null" : field.value;
      }
    }
    const std::pair<std::string, std::string> key_id{field.key.file, field.key.env};
    const KeyLocation location{field.key.file, field.key.env};
    if (!options.load_keys) {
      // Paths and types only (CompileOptions::load_keys).
    } else if (action == Action::kEncrypt || action == Action::kTokenize) {
      auto it = key_sets.find(key_id);
      if (it == key_sets.end()) {
        Result<KeySet> keys = loadKeySet(location);
        if (!keys) {
          error(field.key.location, keys.error().message);
          continue;
        }
        it = key_sets.emplace(key_id, std::make_shared<const KeySet>(std::move(*keys))).first;
      }
      rule.keys = it->second;
    } else if (action == Action::kHash) {
      auto it = secrets.find(key_id);
      if (it == secrets.end()) {
        Result<Secret> secret = loadSecret(location);
        if (!secret) {
          error(field.key.location, secret.error().message);
          continue;
        }
        it = secrets.emplace(key_id, std::make_shared<const Secret>(std::move(*secret))).first;
      }
      rule.secret = it->second;
    }
    if (p.slots_.size() >= 1000) {
      error(field.location, "too many fields in one policy");
      continue;
    }
    rule.slot = p.slots_.slotOf(*path);
    if (action == Action::kSet && !path->segments.back().is_index) {
      FieldPath parent = *path;
      parent.segments.pop_back();
      rule.parent_slot = p.slots_.slotOf(parent);
    }
    p.rules_.push_back(std::move(rule));
  }

  if (config.filter) {
    PredicateError filter_error;
    p.filter_ = Predicate::compile(config.filter->text, types, p.slots_, filter_error);
    if (!p.filter_) {
      error(config.filter->at(filter_error.offset), "filter: " + filter_error.message);
    }
  }

  for (size_t slot = 0; slot < p.slots_.size(); ++slot) {
    const FieldPath& path = p.slots_.path(static_cast<uint16_t>(slot));
    if (path.root == PathRoot::kValue) {
      p.value_paths_.push_back({static_cast<uint16_t>(slot), path.segments});
    } else if (path.root == PathRoot::kKey && key_json) {
      p.key_paths_.push_back({static_cast<uint16_t>(slot), path.segments});
    }
  }
  if (result.errors.empty()) {
    result.policy = std::move(policy);
  }
  return result;
}

bool Policy::allowsTopic(std::string_view topic) const {
  for (const std::regex& allow : allow_) {
    if (std::regex_match(topic.begin(), topic.end(), allow)) {
      return true;
    }
  }
  return false;
}

bool Policy::headerAllowed(std::string_view name) const {
  if (name.substr(0, 9) == "causeway-") {
    return true;  // provenance and loop prevention
  }
  if (config_.headers_allow_set &&
      std::find(config_.headers_allow.begin(), config_.headers_allow.end(), name) ==
          config_.headers_allow.end()) {
    return false;
  }
  return std::find(config_.headers_deny.begin(), config_.headers_deny.end(), name) ==
         config_.headers_deny.end();
}

}  // namespace causeway::policies
