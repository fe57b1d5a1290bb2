#pragma once

#include "config/config.h"
#include "kafka/client_factory.h"
#include "kafka/topic_admin.h"

#include <mutex>

namespace causeway::kafka {

// TopicAdmin over the Kafka Admin API, for real Kafka and Redpanda targets: reads the topic's
// partition count from metadata (all topics, so nothing is auto-created), creates a missing topic
// with CreateTopics (replication factor -1: the broker's default) and grows a topic with too few
// partitions with CreatePartitions. A topic someone else creates meanwhile counts as success.
//
// Lifecycle: the admin client is created on the first ensureTopic() and lives as long as this
// object. Thread-safe: calls are serialized, each bounded by its `timeout`.
//
// Against the embedded (mock) clusters only the metadata half works: their CreateTopics and
// CreatePartitions never answer, so ensureTopic() of a missing topic fails after `timeout`.
class KafkaTopicAdmin : public TopicAdmin {
public:
  explicit KafkaTopicAdmin(config::ClusterConfig cluster);

  Result<int32_t> ensureTopic(const std::string& topic, int32_t partitions,
                              std::chrono::milliseconds timeout) override;
  Result<int32_t> ensureCompactedTopic(const std::string& topic, int32_t partitions,
                                       std::chrono::milliseconds timeout) override;

private:
  Result<int32_t> ensure(const std::string& topic, int32_t partitions,
                         std::chrono::milliseconds timeout, bool compacted);
  Result<rd_kafka_t*> handle();

  const config::ClusterConfig cluster_;
  std::mutex mutex_;
  HandlePtr handle_;  // guarded by mutex_
};

} // namespace causeway::kafka
