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
// Topic configurations: DescribeConfigs and AlterConfigs.
//
// Lifecycle: the admin client is created on the first ensureTopic() and lives as long as this
// object. Thread-safe: calls are serialized, each bounded by its `timeout`.
//
// Against the embedded (mock) clusters only the metadata half works: their CreateTopics,
// CreatePartitions, DescribeConfigs and AlterConfigs never answer, so those fail after
// `timeout`.
class KafkaTopicAdmin : public TopicAdmin {
public:
  explicit KafkaTopicAdmin(config::ClusterConfig cluster);

  Result<int32_t> ensureTopic(const std::string& topic, int32_t partitions,
                              std::chrono::milliseconds timeout) override;
  Result<int32_t> ensureCompactedTopic(const std::string& topic, int32_t partitions,
                                       std::chrono::milliseconds timeout) override;
  Result<int32_t> ensureTopicWithConfigs(const std::string& topic, int32_t partitions,
                                         const TopicConfigValues& configs,
                                         std::chrono::milliseconds timeout) override;

  // DescribeConfigs for every topic in one request (restricted to `names`).
  Result<std::map<std::string, DescribedTopicConfigs>> describeTopicConfigs(
      const std::vector<std::string>& topics, const std::vector<std::string>& names,
      std::chrono::milliseconds timeout) override;
  // librdkafka 2.0.2 has no IncrementalAlterConfigs (it came with 2.2.0), and AlterConfigs
  // replaces a topic's whole set of topic-level overrides. So each topic's current overrides are
  // read first (DescribeConfigs) and sent again with the changes: a read-modify-write that keeps
  // what others set, unless they change the same topic between the two requests. A topic with
  // a sensitive override (its value is withheld, so it cannot be sent again) is not changed.
  Result<std::map<std::string, std::string>> alterTopicConfigs(
      const std::map<std::string, TopicConfigValues>& changes,
      std::chrono::milliseconds timeout) override;

private:
  Result<int32_t> ensure(const std::string& topic, int32_t partitions,
                         std::chrono::milliseconds timeout, const TopicConfigValues& configs);
  Result<std::map<std::string, DescribedTopicConfigs>> describe(
      rd_kafka_t* rk, const std::vector<std::string>& topics,
      const std::vector<std::string>& names, std::chrono::milliseconds timeout);
  Result<rd_kafka_t*> handle();

  const config::ClusterConfig cluster_;
  std::mutex mutex_;
  HandlePtr handle_;  // guarded by mutex_
};

} // namespace causeway::kafka
