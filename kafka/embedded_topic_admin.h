#pragma once

#include "config/config.h"
#include "kafka/topic_admin.h"

namespace causeway::kafka {

// TopicAdmin for a Causeway embedded cluster (`causeway dev-cluster`, the demo, tests), whose
// mock brokers do not implement CreateTopics: asks the cluster's HTTP control endpoint
// (ClusterConfig::embedded_control, "host:port") to create the topic. The endpoint creates a
// missing topic, accepts an existing one with at least the requested partitions (and reports its
// real count), and refuses to grow one: the mock cannot add partitions.
//
// Stateless apart from the config; thread-safe. Every call opens its own HTTP connection,
// bounded by `timeout` for connecting and for the answer.
class EmbeddedTopicAdmin : public TopicAdmin {
public:
  explicit EmbeddedTopicAdmin(config::ClusterConfig cluster);

  Result<int32_t> ensureTopic(const std::string& topic, int32_t partitions,
                              std::chrono::milliseconds timeout) override;

  // The mock brokers never answer DescribeConfigs or AlterConfigs (the request times out after
  // 10-30 s) and keep no topic configuration: both fail at once, saying so.
  Result<std::map<std::string, DescribedTopicConfigs>> describeTopicConfigs(
      const std::vector<std::string>& topics, const std::vector<std::string>& names,
      std::chrono::milliseconds timeout) override;
  Result<std::map<std::string, std::string>> alterTopicConfigs(
      const std::map<std::string, TopicConfigValues>& changes,
      std::chrono::milliseconds timeout) override;

private:
  const config::ClusterConfig cluster_;
};

} // namespace causeway::kafka
