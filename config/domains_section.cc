// `domains:`: who owns which topics and the contracts their records keep.

#include "config/sections.h"

#include <regex>

namespace causeway::config {
namespace {

const std::vector<std::string> kDomainKeys = {"name", "owner", "topics", "contracts"};
const std::vector<std::string> kContractKeys = {"name", "topics", "key", "value", "on_violation"};
const std::vector<std::string> kSideKeys = {"format", "subject_strategy", "compatibility",
                                            "version"};
const std::vector<FutureKey> kRenamedSideKeys = {
    {"subject", "`subject` is called `subject_strategy` (topic, record or topic_record)"}};
const std::vector<std::string> kFormats = {"avro", "protobuf", "json", "string", "bytes"};
const std::vector<std::string> kStrategies = {"topic", "record", "topic_record"};
const std::vector<std::string> kCompatibilities = {"backward", "forward", "full", "none"};
const std::vector<std::string> kViolationActions = {"dlq", "skip", "stop"};
const KeysRegistration kDomainKeysRegistration("domains[]", kDomainKeys);
const KeysRegistration kContractKeysRegistration("domains[].contracts[]", kContractKeys);
const KeysRegistration kSideKeysRegistration("domains[].contracts[].key / value", kSideKeys);
const ValuesRegistration kFormatsRegistration("domains[].contracts[].key / value.format", kFormats);
const ValuesRegistration
    kStrategiesRegistration("domains[].contracts[].key / value.subject_strategy", kStrategies);
const ValuesRegistration
    kCompatibilitiesRegistration("domains[].contracts[].key / value.compatibility",
                                 kCompatibilities);
const ValuesRegistration kViolationActionsRegistration("domains[].contracts[].on_violation",
                                                       kViolationActions);

// A topic name the regex stands for, when it is simple enough to tell (literals, escapes,
// '.', classes, and the quantifiers *, +, ?, {n}): "payments\\..*" -> "payments.". Lets
// ownership be checked on an example; nullopt (no check) for anything else.
std::optional<std::string> exampleOf(const std::string& pattern) {
  std::string out;
  size_t i = 0;
  size_t atom_start = 0;
  if (!pattern.empty() && pattern[0] == '^') {
    ++i;
  }
  while (i < pattern.size()) {
    const char c = pattern[i];
    if (c == '$' && i + 1 == pattern.size()) {
      break;
    }
    if (c == '*' || c == '?') {
      out.resize(atom_start);  // zero times
      ++i;
      continue;
    }
    if (c == '+') {
      ++i;
      continue;
    }
    if (c == '{') {
      const size_t close = pattern.find('}', i);
      if (close == std::string::npos) {
        return std::nullopt;
      }
      const std::string count = pattern.substr(i + 1, close - i - 1);
      int n = 0;
      try {
        n = std::stoi(count);
      } catch (...) {
        return std::nullopt;
      }
      if (n < 0 || n > 100) {
        return std::nullopt;
      }
      const std::string atom = out.substr(atom_start);
      out.resize(atom_start);
      for (int k = 0; k < n; ++k) {
        out += atom;
      }
      i = close + 1;
      continue;
    }
    atom_start = out.size();
    if (c == '\\') {
      if (i + 1 >= pattern.size()) {
        return std::nullopt;
      }
      const char e = pattern[i + 1];
      if (e == 'd') {
        out += '0';
      } else if (e == 'w') {
        out += 'a';
      } else if (std::string(".-_/\\[](){}*+?|^$").find(e) != std::string::npos) {
        out += e;
      } else {
        return std::nullopt;
      }
      i += 2;
    } else if (c == '.') {
      out += 'x';
      ++i;
    } else if (c == '[') {
      if (i + 1 >= pattern.size() || pattern[i + 1] == '^') {
        return std::nullopt;
      }
      size_t j = i + 1;
      char first = pattern[j];
      if (first == '\\' && j + 1 < pattern.size()) {
        first = pattern[j + 1];
        ++j;
      }
      const size_t close = pattern.find(']', j + 1);
      if (close == std::string::npos) {
        return std::nullopt;
      }
      out += first;
      i = close + 1;
    } else if (c == '(' || c == ')' || c == '|' || c == '^' || c == '$') {
      return std::nullopt;
    } else {
      out += c;
      ++i;
    }
  }
  try {
    if (!std::regex_match(out, std::regex(pattern, std::regex::ECMAScript))) {
      return std::nullopt;
    }
  } catch (const std::regex_error&) {
    return std::nullopt;
  }
  return out;
}

bool anyMatches(const std::vector<std::string>& patterns, const std::string& topic) {
  for (const auto& pattern : patterns) {
    try {
      if (std::regex_match(topic, std::regex(pattern, std::regex::ECMAScript))) {
        return true;
      }
    } catch (const std::regex_error&) {
      // Reported where the regex was loaded.
    }
  }
  return false;
}

class DomainSection {
public:
  explicit DomainSection(YamlReader& reader) : r_(reader) {}

  void load(const Field& field, Config& config) {
    auto list = r_.items(field, "a list of domains");
    if (!list) {
      return;
    }
    std::map<std::string, int> first_line;
    std::vector<std::vector<Field>> topic_fields;             // per domain: its topics' fields
    std::vector<std::vector<ContractTopic>> contract_topics;  // per domain
    for (const Field& item : *list) {
      DomainConfig domain;
      domain.location = r_.location(item.mark);
      topic_fields.emplace_back();
      contract_topics.emplace_back();
      if (auto object = r_.object(item, kDomainKeys, "a map with name, owner, topics, contracts")) {
        loadDomain(*object, domain, first_line, topic_fields.back(), contract_topics.back());
      }
      config.domains.push_back(std::move(domain));
    }
    checkOwnership(config, topic_fields, contract_topics);
  }

private:
  struct ContractTopic {
    std::string pattern;
    Field field;
  };

  void loadDomain(const Object& object, DomainConfig& domain,
                  std::map<std::string, int>& first_line, std::vector<Field>& topic_fields,
                  std::vector<ContractTopic>& contract_topics) {
    if (const Field* name = r_.require(object, "name", "the domain's name")) {
      if (auto text = r_.string(*name)) {
        if (!isValidName(*text)) {
          r_.error(*name, "domain names may only use letters, digits, '.', '_' and '-' (they "
                          "name rules and metrics), found " +
                              config::quoted(*text));
        } else if (auto [seen, inserted] = first_line.emplace(*text, r_.location(name->mark).line);
                   !inserted) {
          r_.error(*name, "duplicate domain " + config::quoted(*text) + " (first defined at line " +
                              std::to_string(seen->second) + ")");
        }
        domain.name = *text;
      }
    }
    if (const Field* owner = object.get("owner")) {
      if (auto text = r_.string(*owner)) {
        domain.owner = *text;
      }
    }
    if (const Field* topics = r_.require(object, "topics", "regexes of the topics it owns")) {
      r_.regexList(*topics, domain.topics);
      if (auto items = r_.items(*topics, "a list of regexes")) {
        topic_fields = *items;
      }
    }
    if (const Field* contracts = object.get("contracts")) {
      auto items = r_.items(*contracts, "a list of contracts");
      for (const Field& item : items ? *items : std::vector<Field>{}) {
        ContractConfig contract;
        contract.location = r_.location(item.mark);
        if (auto contract_object =
                r_.object(item, kContractKeys, "a map with topics, key, value, on_violation")) {
          loadContract(*contract_object, contract, contract_topics);
        }
        domain.contracts.push_back(std::move(contract));
      }
    }
  }

  void loadContract(const Object& object, ContractConfig& contract,
                    std::vector<ContractTopic>& contract_topics) {
    if (const Field* name = object.get("name")) {
      if (auto text = r_.string(*name)) {
        if (!isValidName(*text)) {
          r_.error(*name, "contract names may only use letters, digits, '.', '_' and '-'");
        } else {
          contract.name = *text;
        }
      }
    }
    if (const Field* topics = r_.require(object, "topics", "regexes of the topics it covers")) {
      const size_t before = contract.topics.size();
      r_.regexList(*topics, contract.topics);
      if (auto items = r_.items(*topics, "a list of regexes")) {
        for (size_t i = 0; i < items->size() && before + i < contract.topics.size(); ++i) {
          contract_topics.push_back(ContractTopic{contract.topics[before + i], (*items)[i]});
        }
      }
    }
    const Field* key = object.get("key");
    const Field* value = object.get("value");
    if (key == nullptr && value == nullptr) {
      r_.error(object.mark, object.path, "a contract needs `key`, `value` or both");
    }
    if (key != nullptr) {
      loadSide(*key, contract.key);
    }
    if (value != nullptr) {
      loadSide(*value, contract.value);
    }
    if (const Field* action = object.get("on_violation")) {
      if (auto word = r_.choice(*action, kViolationActions)) {
        contract.on_violation = *word == "skip"   ? ViolationAction::kSkip
                                : *word == "stop" ? ViolationAction::kStop
                                                  : ViolationAction::kDeadLetter;
      }
    }
  }

  void loadSide(const Field& field, ContractSideConfig& side) {
    side.location = r_.location(field.mark);
    auto object = r_.object(field, kSideKeys,
                            "a map with format (and subject_strategy, "
                            "compatibility, version for avro, protobuf, json)",
                            kRenamedSideKeys);
    if (!object) {
      return;
    }
    side.present = true;
    if (const Field* format = r_.require(*object, "format",
                                         "avro, protobuf, json, string or "
                                         "bytes")) {
      if (auto word = r_.choice(*format, kFormats)) {
        side.format = *word == "avro"       ? PayloadFormat::kAvro
                      : *word == "protobuf" ? PayloadFormat::kProtobuf
                      : *word == "json"     ? PayloadFormat::kJson
                      : *word == "string"   ? PayloadFormat::kString
                                            : PayloadFormat::kBytes;
      }
    }
    const bool registry = side.usesRegistry();
    for (const char* key : {"subject_strategy", "compatibility", "version"}) {
      const Field* extra = object->get(key);
      if (extra != nullptr && !registry && object->get("format") != nullptr) {
        r_.error(extra->key_mark, object->path,
                 std::string("`") + key + "` applies to avro, protobuf and json; this format (" +
                     payloadFormatName(side.format) + ") has no schema");
      }
    }
    if (const Field* strategy = object->get("subject_strategy"); strategy && registry) {
      if (auto word = r_.choice(*strategy, kStrategies)) {
        side.subject_strategy = *word == "record"         ? SubjectStrategy::kRecord
                                : *word == "topic_record" ? SubjectStrategy::kTopicRecord
                                                          : SubjectStrategy::kTopic;
      }
    }
    if (const Field* compatibility = object->get("compatibility"); compatibility && registry) {
      if (auto word = r_.choice(*compatibility, kCompatibilities)) {
        side.compatibility = *word == "forward" ? Compatibility::kForward
                             : *word == "full"  ? Compatibility::kFull
                             : *word == "none"  ? Compatibility::kNone
                                                : Compatibility::kBackward;
      }
    }
    if (const Field* version = object->get("version"); version && registry) {
      if (auto text = r_.string(*version)) {
        if (*text != "latest") {
          size_t n = 0;
          r_.positiveCount(version, n, false);
          if (n > static_cast<size_t>(INT32_MAX)) {
            r_.error(*version, "a version number out of range");
          } else {
            side.version = static_cast<int>(n);
          }
        }
      }
    }
  }

  // A contract covers topics of its own domain; a topic belongs to one domain. Checked on the
  // example topic each regex stands for (regexes too complex for an example are not checked).
  void checkOwnership(const Config& config, const std::vector<std::vector<Field>>& topic_fields,
                      const std::vector<std::vector<ContractTopic>>& contract_topics) {
    for (size_t d = 0; d < config.domains.size(); ++d) {
      const DomainConfig& domain = config.domains[d];
      for (const auto& [pattern, field] : contract_topics[d]) {
        auto example = exampleOf(pattern);
        if (!example || anyMatches(domain.topics, *example)) {
          continue;
        }
        std::string owner;
        for (const auto& other : config.domains) {
          if (&other != &domain && anyMatches(other.topics, *example)) {
            owner = other.name;
          }
        }
        r_.error(field, "the contract covers " + config::quoted(*example) + ", which domain " +
                            config::quoted(domain.name) + " does not own" +
                            (owner.empty() ? " (no domain owns it)"
                                           : " (domain " + config::quoted(owner) + " does)"));
      }
      for (size_t t = 0; t < domain.topics.size() && t < topic_fields[d].size(); ++t) {
        auto example = exampleOf(domain.topics[t]);
        if (!example) {
          continue;
        }
        for (size_t o = 0; o < d; ++o) {
          if (anyMatches(config.domains[o].topics, *example)) {
            r_.error(topic_fields[d][t], "topic " + config::quoted(*example) +
                                             " is also owned by domain " +
                                             config::quoted(config.domains[o].name) +
                                             "; a topic belongs to one domain");
          }
        }
      }
    }
  }

  YamlReader& r_;
};

}  // namespace

const char* payloadFormatName(PayloadFormat format) {
  switch (format) {
  case PayloadFormat::kBytes:
    return "bytes";
  case PayloadFormat::kString:
    return "string";
  case PayloadFormat::kAvro:
    return "avro";
  case PayloadFormat::kProtobuf:
    return "protobuf";
  case PayloadFormat::kJson:
    return "json";
  }
  return "bytes";
}

const char* subjectStrategyName(SubjectStrategy strategy) {
  switch (strategy) {
  case SubjectStrategy::kTopic:
    return "topic";
  case SubjectStrategy::kRecord:
    return "record";
  case SubjectStrategy::kTopicRecord:
    return "topic_record";
  }
  return "topic";
}

bool contractReadsWriters(Compatibility compatibility) {
  return compatibility == Compatibility::kBackward || compatibility == Compatibility::kFull;
}

bool writersReadContract(Compatibility compatibility) {
  return compatibility == Compatibility::kForward || compatibility == Compatibility::kFull;
}

const char* compatibilityName(Compatibility compatibility) {
  switch (compatibility) {
  case Compatibility::kBackward:
    return "backward";
  case Compatibility::kForward:
    return "forward";
  case Compatibility::kFull:
    return "full";
  case Compatibility::kNone:
    return "none";
  }
  return "backward";
}

const char* violationActionName(ViolationAction action) {
  switch (action) {
  case ViolationAction::kDeadLetter:
    return "dlq";
  case ViolationAction::kSkip:
    return "skip";
  case ViolationAction::kStop:
    return "stop";
  }
  return "dlq";
}

void loadDomains(YamlReader& reader, const Field& field, Config& config) {
  DomainSection(reader).load(field, config);
}

}  // namespace causeway::config
