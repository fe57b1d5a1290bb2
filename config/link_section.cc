#include "config/sections.h"

#include <algorithm>
#include <charconv>
#include <optional>
#include <regex>
#include <string_view>

namespace causeway::config {
namespace {

// Link names end up in "causeway.<link>.checkpoints" (Kafka allows 249
// characters per topic).
constexpr size_t kMaxLinkNameLength = 200;

const std::vector<std::string> kLinkKeys = {"name",
                                            "source",
                                            "target",
                                            "topics",
                                            "naming",
                                            "start",
                                            "delivery",
                                            "transactional",
                                            "discovery_interval",
                                            "commit_interval",
                                            "max_in_flight_bytes",
                                            "max_in_flight_records",
                                            "consumer_properties",
                                            "producer_properties",
                                            "groups",
                                            "dlq",
                                            "on_reject",
                                            "policy",
                                            "schemas",
                                            "topic_configs"};
const KeysRegistration kLinkKeysRegistration("links[]", kLinkKeys);
const std::vector<std::string> kDlqKeys = {"cluster", "topic"};
const KeysRegistration kDlqKeysRegistration("links[].dlq", kDlqKeys);
const std::vector<std::string> kDlqClusters = {"source", "target"};
const ValuesRegistration kDlqClustersRegistration("links[].dlq.cluster", kDlqClusters);
const std::vector<std::string> kRejectActions = {"stop", "dlq"};
const ValuesRegistration kRejectActionsRegistration("links[].on_reject", kRejectActions);
const std::vector<std::string> kGroupsKeys = {"names", "include", "exclude", "sync_interval"};
const KeysRegistration kGroupsKeysRegistration("links[].groups", kGroupsKeys);
const std::vector<std::string> kTopicConfigsKeys = {"sync", "exclude", "interval"};
const KeysRegistration kTopicConfigsKeysRegistration("links[].topic_configs", kTopicConfigsKeys);
const ValuesRegistration kSyncedTopicConfigsRegistration("links[].topic_configs.exclude",
                                                         syncedTopicConfigs());
const std::vector<std::string> kTopicsKeys = {"include", "exclude"};
const KeysRegistration kTopicsKeysRegistration("links[].topics", kTopicsKeys);
const std::vector<std::string> kNamingKeys = {"prefix", "template"};
const KeysRegistration kNamingKeysRegistration("links[].naming", kNamingKeys);
const std::vector<std::string> kNamingModes = {"identity", "prefix", "template"};
const ValuesRegistration kNamingModesRegistration("links[].naming", kNamingModes);
const std::vector<std::string> kStartValues = {"earliest", "latest"};
const ValuesRegistration kStartRegistration("links[].start", kStartValues);
const std::vector<std::string> kDeliveryValues = {"at_least_once", "exactly_once"};
const ValuesRegistration kDeliveryRegistration("links[].delivery", kDeliveryValues);
const std::vector<std::string> kTemplatePlaceholders = {"source", "target", "topic", "link"};
const ValuesRegistration kPlaceholdersRegistration("links[].naming.template",
                                                   kTemplatePlaceholders);

// Loads the `links` list.
class LinkSection {
public:
  LinkSection(YamlReader& reader, const SectionContext& context) : r_(reader), context_(context) {}

  void loadLinks(const Field& field, Config& config) {
    if (!field.node.IsSequence()) {
      r_.typeError(field, "a list of links");
      return;
    }
    if (field.node.size() == 0) {
      r_.error(field, "at least one link is required");
      return;
    }
    std::map<std::string, int> first_line;
    size_t index = 0;
    for (auto it = field.node.begin(); it != field.node.end(); ++it, ++index) {
      const YAML::Node node = *it;
      const Field link_field{node, node.Mark(), field.path + "[" + std::to_string(index) + "]",
                             node.Mark()};
      LinkConfig link;
      link.location = r_.location(node.Mark());
      if (auto object = r_.object(link_field, kLinkKeys, "a map of link settings")) {
        loadLink(*object, config, first_line, link);
      }
      config.links.push_back(std::move(link));
    }
  }

  void loadLink(const Object& object, const Config& config, std::map<std::string, int>& first_line,
                LinkConfig& link) {
    if (const Field* name = r_.require(object, "name", "a unique name for the link")) {
      if (auto text = r_.string(*name)) {
        if (!isValidName(*text)) {
          r_.error(*name, "link names may only use letters, digits, '.', '_' "
                          "and '-' and must not be "
                          "empty (the name becomes a consumer group id and "
                          "topic names), found " +
                              quoted(*text));
        } else if (text->size() > kMaxLinkNameLength) {
          r_.error(*name, "link names may be at most " + std::to_string(kMaxLinkNameLength) +
                              " characters (the name becomes part of topic names)");
        } else {
          auto [seen, inserted] = first_line.emplace(*text, r_.location(name->mark).line);
          if (!inserted) {
            r_.error(*name, "duplicate link name " + quoted(*text) + " (first defined at line " +
                                std::to_string(seen->second) + ")");
          }
        }
        link.name = *text;
      }
    }
    const Field* source = r_.require(object, "source", "the cluster to read from");
    const Field* target = r_.require(object, "target", "the cluster to write to");
    if (source != nullptr) {
      clusterReference(r_, *source, context_, link.source);
    }
    if (target != nullptr) {
      clusterReference(r_, *target, context_, link.target);
    }
    if (const Field* topics = r_.require(object, "topics", "which source topics to replicate")) {
      loadTopics(*topics, link.topics);
    }
    if (const Field* naming = object.get("naming")) {
      loadNaming(*naming, link.naming);
    }
    if (const Field* start = object.get("start")) {
      if (auto value = r_.choice(*start, kStartValues)) {
        link.start = *value == "latest" ? StartPosition::kLatest : StartPosition::kEarliest;
      }
    }
    if (const Field* delivery = object.get("delivery")) {
      if (auto value = r_.choice(*delivery, kDeliveryValues)) {
        link.delivery =
            *value == "exactly_once" ? DeliveryMode::kExactlyOnce : DeliveryMode::kAtLeastOnce;
      }
    }
    r_.duration(object.get("discovery_interval"), link.discovery_interval);
    r_.duration(object.get("commit_interval"), link.commit_interval);
    r_.positiveCount(object.get("max_in_flight_bytes"), link.max_in_flight_bytes, true);
    r_.positiveCount(object.get("max_in_flight_records"), link.max_in_flight_records, false);
    loadKafkaProperties(r_, object.get("consumer_properties"), PropertyScope::kConsumer,
                        link.consumer_properties);
    loadKafkaProperties(r_, object.get("producer_properties"), PropertyScope::kProducer,
                        link.producer_properties);
    if (const Field* transactional = object.get("transactional")) {
      if (auto value = r_.string(*transactional)) {
        if (*value == "true" || *value == "false") {
          link.transactional = *value == "true";
        } else {
          r_.error(*transactional, "expected true or false, found " + quoted(*value));
        }
      }
      if (link.transactional && link.delivery != DeliveryMode::kExactlyOnce) {
        r_.error(*transactional, "transactional writes need delivery: exactly_once");
      }
    }
    if (link.transactional) {
      checkTransactionTimeout(object, config, link);
    }
    if (const Field* groups = object.get("groups")) {
      // At-least-once links too: groups move to the first copy of their next record (re-reads
      // possible, never a skipped record; docs/failover.md).
      loadGroups(*groups, link.groups);
    }

    if (const Field* topic_configs = object.get("topic_configs")) {
      loadTopicConfigs(*topic_configs, link.topic_configs);
    }
    if (const Field* dlq = object.get("dlq")) {
      loadDeadLetter(*dlq, link.dlq);
    }
    if (const Field* on_reject = object.get("on_reject")) {
      if (auto value = r_.choice(*on_reject, kRejectActions)) {
        link.on_reject = *value == "dlq" ? RejectAction::kDeadLetter : RejectAction::kStop;
        if (link.on_reject == RejectAction::kDeadLetter && object.get("dlq") == nullptr) {
          r_.error(*on_reject, "on_reject: dlq needs a dead-letter queue: add dlq: {cluster: "
                               "source} (or target) to the link");
        }
      }
    }

    if (const Field* policy = object.get("policy")) {
      if (auto name = r_.nonEmptyString(*policy)) {
        link.policy_location = r_.location(policy->mark);
        if (std::find(context_.policy_names.begin(), context_.policy_names.end(), *name) ==
            context_.policy_names.end()) {
          r_.error(*policy,
                   "unknown policy " + quoted(*name) +
                       (context_.policy_names.empty()
                            ? std::string("; define it under the top-level `policies:`")
                            : suggestion(*name, context_.policy_names, "the policies are")));
        } else {
          link.policy = *name;
        }
      }
    }

    if (const Field* schemas = object.get("schemas")) {
      loadLinkSchemas(r_, *schemas, config, link);
    }

    if (target != nullptr && !link.source.empty() && link.source == link.target) {
      r_.error(*target, "the target is the source cluster " + quoted(link.source) +
                            (link.naming.mode == NamingMode::kIdentity
                                 ? "; with identity naming every mirror topic would be its "
                                   "own source "
                                   "(a replication loop)"
                                 : "; a link replicates between two different clusters"));
    } else if (target != nullptr && !link.source.empty() && !link.target.empty()) {
      const auto s = config.clusters.find(link.source);
      const auto t = config.clusters.find(link.target);
      if (s != config.clusters.end() && t != config.clusters.end() &&
          !s->second.bootstrap.empty() && s->second.bootstrap == t->second.bootstrap) {
        r_.error(*target, "clusters " + quoted(link.source) + " and " + quoted(link.target) +
                              " have the same bootstrap " + quoted(s->second.bootstrap) +
                              ", so this link would write into the cluster it reads from");
      }
    }
  }

  void loadDeadLetter(const Field& field, DeadLetterConfig& out) {
    auto object =
        r_.object(field, kDlqKeys, "a map with cluster (source or target) and optionally topic");
    if (!object) {
      return;
    }
    out.enabled = true;
    if (const Field* cluster =
            r_.require(*object, "cluster", "where the dead-letter topic lives: source or target")) {
      if (auto value = r_.choice(*cluster, kDlqClusters)) {
        out.on_source = *value == "source";
      }
    }
    if (const Field* topic = object->get("topic")) {
      if (auto value = r_.nonEmptyString(*topic)) {
        if (!isValidName(*value) || value->size() > 249) {
          r_.error(*topic, "not a valid Kafka topic name (letters, digits, '.', '_', '-'; at "
                           "most 249 characters): " +
                               quoted(*value));
        } else {
          out.topic = *value;
        }
      }
    }
  }

  void loadTopics(const Field& field, TopicSelectionConfig& out) {
    auto object = r_.object(field, kTopicsKeys, "a map with include (and exclude) regex lists");
    if (!object) {
      return;
    }
    if (const Field* include =
            r_.require(*object, "include", "regexes of the topics to replicate")) {
      if (include->node.IsSequence() && include->node.size() == 0) {
        r_.error(*include, "must list at least one regex");
      } else {
        r_.regexList(*include, out.include);
      }
    }
    if (const Field* exclude = object->get("exclude")) {
      r_.regexList(*exclude, out.exclude);
    }
  }

  void loadTopicConfigs(const Field& field, TopicConfigSyncConfig& out) {
    auto object =
        r_.object(field, kTopicConfigsKeys, "a map with sync (true/false), exclude and interval");
    if (!object) {
      return;
    }
    if (const Field* sync = object->get("sync")) {
      if (auto value = r_.boolean(*sync)) {
        out.sync = *value;
      }
    }
    if (const Field* exclude = object->get("exclude")) {
      if (auto items = r_.items(*exclude, "a list of topic config names")) {
        for (const Field& item : *items) {
          auto name = r_.string(item);
          if (!name) {
            continue;
          }
          const auto& known = syncedTopicConfigs();
          if (std::find(known.begin(), known.end(), *name) == known.end()) {
            r_.error(item, quoted(*name) + " is not a synced topic config" +
                               suggestion(*name, known, "the synced ones are"));
            continue;
          }
          out.exclude.push_back(*name);
        }
      }
    }
    r_.duration(object->get("interval"), out.interval);
  }

  // The target's transaction coordinator aborts a transaction open longer than
  // transaction.timeout.ms. A link's transaction is open for about a commit_interval, plus the
  // wait for its records and its commit: a timeout under twice the interval would abort
  // transactions and stop the link as fenced. The timeout is the link's, else its target
  // cluster's, else Causeway's default (kDefaultTransactionTimeoutMs).
  void checkTransactionTimeout(const Object& object, const Config& config, const LinkConfig& link) {
    constexpr std::string_view kKey = "transaction.timeout.ms";
    std::optional<Field> property;  // a copy: entries() returns a temporary list
    const Field* at = nullptr;
    const std::string* text = nullptr;
    if (const Field* properties = object.get("producer_properties");
        properties != nullptr && properties->node.IsMap()) {
      for (auto& [key, value] : r_.entries(*properties)) {
        if (key == kKey && link.producer_properties.count(key) > 0) {
          property = value;
          at = &*property;
          text = &link.producer_properties.at(key);
        }
      }
    }
    std::string whose = "producer_properties";
    if (text == nullptr) {
      auto cluster = config.clusters.find(link.target);
      if (cluster != config.clusters.end() && cluster->second.properties.count(std::string(kKey))) {
        text = &cluster->second.properties.at(std::string(kKey));
        whose = "cluster '" + link.target + "' properties";
      }
      at = object.get("commit_interval");
      if (at == nullptr) {
        at = object.get("transactional");
      }
    }
    int64_t ms = kDefaultTransactionTimeoutMs;
    if (text != nullptr &&
        (std::from_chars(text->data(), text->data() + text->size(), ms).ec != std::errc() ||
         ms <= 0)) {
      return;  // librdkafka names a value it cannot read when the producer is made
    }
    if (at != nullptr && ms < 2 * link.commit_interval.count()) {
      r_.error(*at, std::string(kKey) + " (" + std::to_string(ms) + " ms" +
                        (text == nullptr ? ", the default" : ", from " + whose) +
                        ") must be at least twice the link's commit_interval (" +
                        std::to_string(link.commit_interval.count()) +
                        " ms): the target aborts a transaction open longer than that, and the "
                        "link would stop as fenced; raise it in producer_properties or shorten "
                        "commit_interval");
    }
  }

  void loadGroups(const Field& field, GroupSyncConfig& out) {
    auto object = r_.object(field, kGroupsKeys,
                            "a map with names (a list of groups) and/or include/exclude regexes");
    if (!object) {
      return;
    }
    if (const Field* names = object->get("names")) {
      if (!names->node.IsSequence()) {
        r_.typeError(*names, "a list of consumer group names");
      } else {
        size_t index = 0;
        for (auto it = names->node.begin(); it != names->node.end(); ++it, ++index) {
          const YAML::Node node = *it;
          const Field item{node, node.Mark(), names->path + "[" + std::to_string(index) + "]",
                           node.Mark()};
          if (auto name = r_.string(item)) {
            if (name->empty()) {
              r_.error(item, "a consumer group name cannot be empty");
            } else {
              out.names.push_back(*name);
            }
          }
        }
      }
    }
    if (const Field* include = object->get("include")) {
      r_.regexList(*include, out.include);
    }
    if (const Field* exclude = object->get("exclude")) {
      r_.regexList(*exclude, out.exclude);
    }
    r_.duration(object->get("sync_interval"), out.sync_interval);
    if (object->get("names") == nullptr && object->get("include") == nullptr) {
      r_.error(field, "name the groups to sync: names (a list) and/or include (regexes)");
    }
  }

  void loadNaming(const Field& field, NamingConfig& out) {
    if (field.node.IsScalar()) {
      const auto text = r_.string(field);
      if (!text) {
        return;  // a reference that did not resolve, already reported
      }
      const std::string& mode = *text;
      if (mode == "identity") {
        out.mode = NamingMode::kIdentity;
      } else if (mode == "prefix") {
        r_.error(field, "prefix needs a value, like naming: {prefix: \"east.\"}");
      } else if (mode == "template") {
        r_.error(field, "template needs a value, like naming: {template: "
                        "\"{source}.{topic}\"}");
      } else {
        r_.error(field, "unknown naming " + r_.shown(field, mode) + suggestion(mode, kNamingModes) +
                            " (identity, {prefix: \"east.\"} or {template: "
                            "\"{source}.{topic}\"})");
      }
      return;
    }
    auto object = r_.object(field, kNamingKeys,
                            "identity, {prefix: \"east.\"} or {template: \"{source}.{topic}\"}");
    if (!object) {
      return;
    }
    const Field* prefix = object->get("prefix");
    const Field* templ = object->get("template");
    if (prefix != nullptr && templ != nullptr) {
      r_.error(object->mark, object->path, "set either prefix or template, not both");
      return;
    }
    if (prefix == nullptr && templ == nullptr) {
      if (field.node.size() == 0) {
        r_.error(object->mark, object->path, "expected prefix or template");
      }
      return;  // otherwise only unknown keys, already reported
    }
    if (prefix != nullptr) {
      if (auto value = r_.nonEmptyString(*prefix)) {
        if (!isValidName(*value)) {
          r_.error(*prefix, "the prefix becomes part of topic names and may "
                            "only use letters, "
                            "digits, '.', '_' and '-', found " +
                                quoted(*value));
          return;
        }
        out.mode = NamingMode::kPrefix;
        out.value = *value;
      }
      return;
    }
    if (auto value = r_.nonEmptyString(*templ)) {
      if (auto problem = templateProblem(*value)) {
        r_.error(*templ, *problem);
        return;
      }
      out.mode = NamingMode::kTemplate;
      out.value = *value;
    }
  }

  // Why a naming template is unusable, or nullopt when it is fine.
  static std::optional<std::string> templateProblem(const std::string& text) {
    bool has_topic = false;
    for (size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      if (c == '{') {
        const size_t close = text.find('}', i + 1);
        if (close == std::string::npos) {
          return "unclosed '{' in template " + quoted(text);
        }
        const std::string name = text.substr(i + 1, close - i - 1);
        if (std::find(kTemplatePlaceholders.begin(), kTemplatePlaceholders.end(), name) ==
            kTemplatePlaceholders.end()) {
          auto best = closest(name, kTemplatePlaceholders);
          return "unknown placeholder " + quoted("{" + name + "}") +
                 (best ? "; did you mean '{" + *best + "}'?" : std::string()) +
                 " (allowed: {source}, {target}, {topic}, {link})";
        }
        has_topic = has_topic || name == "topic";
        i = close;
      } else if (c == '}') {
        return "'}' without a matching '{' in template " + quoted(text);
      } else if (!isNameChar(c)) {
        return "template " + quoted(text) +
               " has a character topic names cannot contain; use letters, "
               "digits, '.', '_', '-'";
      }
    }
    if (!has_topic) {
      return "the template must contain {topic}, or every source topic would "
             "map to the same "
             "mirror topic";
    }
    return std::nullopt;
  }

private:
  YamlReader& r_;
  const SectionContext& context_;
};

}  // namespace

void loadLinks(YamlReader& reader, const Field& field, Config& config,
               const SectionContext& context) {
  LinkSection(reader, context).loadLinks(field, config);
}

void clusterReference(YamlReader& r_, const Field& field, const SectionContext& context_,
                      std::string& out) {
  auto name = r_.string(field);
  if (!name) {
    return;
  }
  if (context_.have_clusters &&
      std::find(context_.cluster_names.begin(), context_.cluster_names.end(), *name) ==
          context_.cluster_names.end()) {
    r_.error(field, "unknown cluster " + quoted(*name) +
                        suggestion(*name, context_.cluster_names, "the clusters are"));
    return;
  }
  out = *name;
}

}  // namespace causeway::config
