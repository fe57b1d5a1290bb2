#pragma once

#include "common/result.h"
#include "config/config.h"
#include "kafka/topic_admin.h"
#include "replicator/topic_selector.h"

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdint>
#include <map>
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
};

// Control plane of a link: lists the source cluster's topics, selects the link's topics, and
// makes sure each mirror topic exists on the target with at least the source's partition count
// (through the TopicAdmin seam). Remembers what it already ensured so the admin is only asked
// again for new topics or grown partition counts.
//
// Not thread-safe: owned by the link's discovery thread.
class TopicDiscovery {
public:
  TopicDiscovery(const config::ClusterConfig& source, TopicSelector selector,
                 kafka::TopicAdmin& target_admin, std::chrono::milliseconds timeout);

  // One discovery cycle. `source_client` is any client of the source cluster (metadata calls
  // are thread-safe in librdkafka). Fails only when the source cannot be listed.
  Result<DiscoveryResult> run(rd_kafka_t* source_client);

  const TopicSelector& selector() const { return selector_; }

private:
  const config::ClusterConfig& source_;
  TopicSelector selector_;
  kafka::TopicAdmin& target_admin_;
  std::chrono::milliseconds timeout_;
  std::map<std::string, ReadyTopic> ensured_;
};

} // namespace causeway::replicator
