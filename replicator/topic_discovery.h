#pragma once

#include "common/result.h"
#include "config/config.h"
#include "kafka/topic_admin.h"
#include "replicator/topic_config_sync.h"
#include "replicator/topic_selector.h"

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace causeway::replicator {

// A source topic that is ready to replicate: its mirror topic exists on the target.
struct ReadyTopic {
  std::string target_topic;
  int32_t source_partitions = 0;
  // Partitions the mirror topic has; a source partition >= this cannot be written yet.
  int32_t target_partitions = 0;
};

struct DiscoveryResult {
  std::map<std::string, ReadyTopic> ready;  // by source topic
  // Topics selected but not ready, with why (e.g. the target refused to create it). They are
  // retried every cycle.
  std::map<std::string, std::string> problems;
  // Topic configuration sync (when enabled): by source topic ("*": the sync as a whole), why a
  // mirror topic's configs are not (all) its source's; and how many config values the sync has
  // set on mirror topics so far. Never a reason not to replicate.
  std::map<std::string, std::string> config_problems;
  uint64_t config_updates = 0;
};

// Control plane of a link: lists the source cluster's topics, selects the link's topics, and
// makes sure each mirror topic exists on the target with at least the source's partition count
// (through the TopicAdmin seam). Remembers what it already ensured so the admin is only asked
// again for new topics or grown partition counts. With topic configuration sync enabled, new
// mirror topics are created with their source's configs and existing ones are brought in line
// every `topic_configs.interval` (TopicConfigSync).
//
// Not thread-safe: owned by the link's discovery thread.
class TopicDiscovery {
public:
  TopicDiscovery(const config::ClusterConfig& source, TopicSelector selector,
                 kafka::TopicAdmin& target_admin, std::chrono::milliseconds timeout);

  // One discovery cycle. `source_client` is any client of the source cluster (metadata calls
  // are thread-safe in librdkafka). Fails only when the source cannot be listed.
  Result<DiscoveryResult> run(rd_kafka_t* source_client);

  // Turns on topic configuration sync (the link's `topic_configs`; nothing happens when its
  // `sync` is false). `source_admin`: the seam to the source cluster (null: made from the source
  // cluster's config).
  void enableConfigSync(const config::TopicConfigSyncConfig& settings,
                        kafka::TopicAdminPtr source_admin = nullptr);

  const TopicSelector& selector() const { return selector_; }

private:
  Result<int32_t> createMirror(const std::string& source_topic, const std::string& target,
                               int32_t partitions);

  const config::ClusterConfig& source_;
  TopicSelector selector_;
  kafka::TopicAdmin& target_admin_;
  std::chrono::milliseconds timeout_;
  std::map<std::string, ReadyTopic> ensured_;
  kafka::TopicAdminPtr source_admin_;
  std::unique_ptr<TopicConfigSync> config_sync_;
};

} // namespace causeway::replicator
