#pragma once

#include "common/result.h"
#include "config/config.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace causeway::kafka {

// One topic configuration value as a cluster reports it (DescribeConfigs).
struct TopicConfigEntry {
  std::string value;
  bool set_on_topic = false;  // a topic-level override (else the cluster's or Kafka's default)
  bool read_only = false;
  bool sensitive = false;  // the value is withheld
};
using TopicConfigEntries = std::map<std::string, TopicConfigEntry>;

// One topic's configuration, or why it could not be read.
struct DescribedTopicConfigs {
  TopicConfigEntries entries;
  std::string error;
};

// Config name -> value.
using TopicConfigValues = std::map<std::string, std::string>;

// The one seam through which Causeway creates mirror topics on a target cluster. Replication
// never relies on broker auto-creation (it would pick the broker's default partition count).
//
// Implementations: KafkaTopicAdmin (Admin API: CreateTopics / CreatePartitions /
// DescribeConfigs / AlterConfigs, for real Kafka and Redpanda) and EmbeddedTopicAdmin (the HTTP
// control endpoint of a Causeway embedded cluster, whose mock brokers implement neither
// CreateTopics nor the config APIs). Tests put a fake behind it.
//
// Thread-safe: the link's discovery thread calls it; calls may block up to `timeout`.
class TopicAdmin {
public:
  virtual ~TopicAdmin() = default;

  // Makes sure `topic` exists with at least `partitions` partitions: creates it if missing, adds
  // partitions if it has fewer. Returns the partition count the topic has afterwards. An error
  // says which cluster, which topic and why.
  virtual Result<int32_t> ensureTopic(const std::string& topic, int32_t partitions,
                                      std::chrono::milliseconds timeout) = 0;

  // The same for a log-compacted topic (cleanup.policy=compact) for state keyed by name, kept
  // forever in its latest version. An existing topic is used as it is.
  virtual Result<int32_t> ensureCompactedTopic(const std::string& topic, int32_t partitions,
                                               std::chrono::milliseconds timeout) {
    return ensureTopic(topic, partitions, timeout);  // clusters without topic configs
  }

  // ensureTopic(), creating a missing topic with `configs` (an existing one is left as it is).
  // Without config support the configs are ignored (describeTopicConfigs() then says so).
  virtual Result<int32_t> ensureTopicWithConfigs(const std::string& topic, int32_t partitions,
                                                 const TopicConfigValues& configs,
                                                 std::chrono::milliseconds timeout) {
    return ensureTopic(topic, partitions, timeout);
  }

  // The configuration of each of `topics` (DescribeConfigs), restricted to `names` when it is
  // not empty. An error when the cluster cannot be asked at all; per topic, `error` says why one
  // topic's answer is missing.
  virtual Result<std::map<std::string, DescribedTopicConfigs>> describeTopicConfigs(
      const std::vector<std::string>& topics, const std::vector<std::string>& names,
      std::chrono::milliseconds timeout) {
    return Error{"this cluster's topic admin cannot describe topic configurations"};
  }

  // Sets `changes[topic]` on each topic, leaving its other configurations as they are. Per
  // topic: "" when applied, else why not. An error when the cluster cannot be asked at all.
  virtual Result<std::map<std::string, std::string>> alterTopicConfigs(
      const std::map<std::string, TopicConfigValues>& changes,
      std::chrono::milliseconds timeout) {
    return Error{"this cluster's topic admin cannot change topic configurations"};
  }
};

using TopicAdminPtr = std::unique_ptr<TopicAdmin>;

// Picks the implementation from the cluster's config (`embedded_control` set -> embedded).
TopicAdminPtr makeTopicAdmin(const config::ClusterConfig& cluster);

} // namespace causeway::kafka
