#pragma once

#include "config/domains.h"
#include "config/egress.h"
#include "config/partners.h"
#include "config/policies.h"
#include "config/products.h"
#include "config/registries.h"
#include "config/source_location.h"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace causeway::config {

// One Kafka cluster. `properties` are librdkafka properties passed through
// verbatim to every client Causeway builds for this cluster (security.protocol,
// sasl.*, ssl.*, tuning).
struct ClusterConfig {
  std::string name;
  std::string bootstrap;                          // bootstrap.servers
  std::map<std::string, std::string> properties;  // librdkafka passthrough
  // How topics are created on this cluster when it is a link's target:
  //  empty           -> the Kafka Admin API (CreateTopics / CreatePartitions),
  //  for real clusters; "host:port"     -> the control endpoint of a Causeway
  //  embedded cluster (`causeway
  //                     dev-cluster` prints it), which has no CreateTopics.
  std::string embedded_control;
  // How long to wait for the first broker answer before reporting the cluster
  // unreachable.
  std::chrono::milliseconds connect_timeout{10000};
  // The schema registry that serves this cluster's records (a `registries:` name), or empty.
  std::string registry;
  SourceLocation location;
};

enum class NamingMode { kIdentity, kPrefix, kTemplate };

// How a source topic's name becomes the mirror topic's name on the target.
struct NamingConfig {
  NamingMode mode = NamingMode::kIdentity;
  // kPrefix: the prefix ("east."). kTemplate: a template with {topic} and
  // optionally {source}, {target}, {link} ("{source}.{topic}").
  std::string value;
};

// Topic selection: a topic is replicated when it fully matches one `include`
// regex (ECMAScript syntax) and no `exclude` regex. Internal topics ("__*" and
// "causeway.*") are never selected.
struct TopicSelectionConfig {
  std::vector<std::string> include;
  std::vector<std::string> exclude;
};

// Where a link starts reading a partition that has no committed offset for the
// link's group.
enum class StartPosition { kEarliest, kLatest };

enum class DeliveryMode { kAtLeastOnce, kExactlyOnce };

// Consumer groups whose committed source offsets are translated and committed
// for the same group on the target (exactly-once links only), so consumers can
// fail over.
struct GroupSyncConfig {
  std::vector<std::string> names;    // explicit group names
  std::vector<std::string> include;  // regexes over listed groups (needs ListConsumerGroups)
  std::vector<std::string> exclude;
  std::chrono::milliseconds sync_interval{5000};
  bool enabled() const { return !names.empty() || !include.empty(); }
};

// The topic configurations a link keeps the same on its mirror topics as on their source topics
// (MirrorMaker 2's sync.topic.configs), unless excluded. message.timestamp.type is managed
// rather than copied: mirror topics are set to CreateTime, so replicated records keep the
// source's timestamps (LogAppendTime on the mirror would replace them); max.message.bytes gets
// room for Causeway's headers. Settings that are the cluster's business (min.insync.replicas,
// replication throttles, unclean leader election) and limits that would make the target refuse
// replicated records (message.timestamp.difference.max.ms and its successors) are never synced.
inline const std::vector<std::string>& syncedTopicConfigs() {
  static const std::vector<std::string> keys = {
      "cleanup.policy",         "compression.type",        "delete.retention.ms",
      "max.compaction.lag.ms",  "max.message.bytes",       "message.timestamp.type",
      "min.cleanable.dirty.ratio", "min.compaction.lag.ms", "retention.bytes",
      "retention.ms",           "segment.bytes",           "segment.ms"};
  return keys;
}

// Topic configuration sync of a link (`topic_configs`).
struct TopicConfigSyncConfig {
  bool sync = true;
  std::vector<std::string> exclude;  // out of syncedTopicConfigs()
  // How often the configs of existing mirror topics are compared and brought in line; new
  // mirror topics are created with them.
  std::chrono::milliseconds interval{600000};
};

// Where a link writes the records it cannot or must not write to the target (dead-letter queue).
struct DeadLetterConfig {
  bool enabled = false;
  bool on_source = true;  // `cluster: source` (the domain's own cluster) or `cluster: target`
  std::string topic;      // default causeway.<link>.dlq
};

// What a link does when the target refuses a record for good (MESSAGE_TOO_LARGE,
// INVALID_RECORD, POLICY_VIOLATION, INVALID_TIMESTAMP).
enum class RejectAction { kStop, kDeadLetter };

// The transaction.timeout.ms of a transactional link's producers unless the link or its
// target cluster sets it (replicator/target_writer.cc; checked against commit_interval at load).
inline constexpr int64_t kDefaultTransactionTimeoutMs = 10000;

struct LinkConfig {
  std::string name;
  std::string source;  // cluster name
  std::string target;  // cluster name
  TopicSelectionConfig topics;
  NamingConfig naming;
  StartPosition start = StartPosition::kEarliest;
  DeliveryMode delivery = DeliveryMode::kAtLeastOnce;
  // Exactly-once links only: write each source partition through a transactional
  // producer of its own (transactional.id per partition), committing its records
  // and offset runs together, so that on Kafka a worker whose partitions moved (a
  // paused or partitioned-away zombie) is fenced by the next owner's takeover.
  bool transactional = false;
  // How often the source is listed for new topics and partitions.
  std::chrono::milliseconds discovery_interval{5000};
  // How often acknowledged source offsets are committed (also on revoke and on
  // stop).
  std::chrono::milliseconds commit_interval{1000};
  // Backpressure: fetching pauses while more than this many bytes / records are
  // read from the source but not yet acknowledged by the target, and resumes
  // below half of it.
  size_t max_in_flight_bytes = 64u << 20;
  size_t max_in_flight_records = 200000;
  // librdkafka properties for this link's clients, layered over the cluster's
  // `properties`.
  std::map<std::string, std::string> consumer_properties;
  std::map<std::string, std::string> producer_properties;
  GroupSyncConfig groups;
  // The policy (config.policies) every record of this link goes through; empty: none.
  std::string policy;
  SourceLocation policy_location;
  TopicConfigSyncConfig topic_configs;
  DeadLetterConfig dlq;
  RejectAction on_reject = RejectAction::kStop;
  LinkSchemasConfig schemas;
  SourceLocation location;

  // The source cluster's consumer group this link's workers share:
  // "causeway.<name>".
  std::string groupId() const { return "causeway." + name; }
  // The dead-letter topic: the configured one, or causeway.<name>.dlq.
  std::string deadLetterTopic() const {
    return dlq.topic.empty() ? "causeway." + name + ".dlq" : dlq.topic;
  }
};

struct Config {
  std::map<std::string, RegistryConfig> registries;
  std::map<std::string, ClusterConfig> clusters;
  std::vector<DomainConfig> domains;
  std::vector<LinkConfig> links;
  std::map<std::string, PolicyConfig> policies;
  std::vector<ProductConfig> products;
  std::map<std::string, PartnerConfig> partners;
  std::optional<EgressConfig> egress;  // absent: no egress server

  // "a, b, c": the link names, for "unknown link" messages.
  std::string linkNames() const {
    std::string names;
    for (const auto& link : links) {
      names += (names.empty() ? "" : ", ") + link.name;
    }
    return names;
  }

  const ProductConfig* findProduct(const std::string& name) const {
    for (const auto& product : products) {
      if (product.name == name) {
        return &product;
      }
    }
    return nullptr;
  }

  const LinkConfig* findLink(const std::string& name) const {
    for (const auto& link : links) {
      if (link.name == name) {
        return &link;
      }
    }
    return nullptr;
  }
};

}  // namespace causeway::config
