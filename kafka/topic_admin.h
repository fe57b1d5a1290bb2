#pragma once

#include "common/result.h"
#include "config/config.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace causeway::kafka {

// The one seam through which Causeway creates mirror topics on a target cluster. Replication
// never relies on broker auto-creation (it would pick the broker's default partition count).
//
// Implementations: KafkaTopicAdmin (Admin API: CreateTopics / CreatePartitions, for real Kafka
// and Redpanda) and EmbeddedTopicAdmin (the HTTP control endpoint of a Causeway embedded
// cluster, whose mock brokers do not implement CreateTopics).
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
};

using TopicAdminPtr = std::unique_ptr<TopicAdmin>;

// Picks the implementation from the cluster's config (`embedded_control` set -> embedded).
TopicAdminPtr makeTopicAdmin(const config::ClusterConfig& cluster);

} // namespace causeway::kafka
