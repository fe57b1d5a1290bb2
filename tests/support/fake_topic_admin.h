#pragma once

// A hand-written TopicAdmin for tests of topic creation and topic configuration sync: topics and
// their configurations live in memory; each kind of call can be made to fail, and calls are
// counted. The embedded clusters implement neither DescribeConfigs nor AlterConfigs, so this is
// how the config sync is tested. Thread-safe.

#include "kafka/topic_admin.h"

#include <map>
#include <mutex>
#include <string>

namespace causeway::testing {

class FakeTopicAdmin : public kafka::TopicAdmin {
public:
  struct Topic {
    int32_t partitions = 0;
    kafka::TopicConfigEntries configs;
  };

  // A topic with `configs` (values set on the topic) over the defaults every topic has.
  void addTopic(const std::string& name, int32_t partitions,
                const kafka::TopicConfigValues& configs = {});
  // Every topic reports these (not set on the topic) unless set otherwise.
  void setDefault(const std::string& key, const std::string& value, bool read_only = false);

  Topic topic(const std::string& name) const;
  bool has(const std::string& name) const;

  // Failures to inject: a whole call fails with this error text (empty: it works).
  std::string describe_error;
  std::string alter_error;
  std::string create_with_configs_error;
  // Per topic: AlterConfigs refuses it with this text.
  std::map<std::string, std::string> alter_refused;

  int describe_calls = 0;
  int alter_calls = 0;
  int create_calls = 0;

  Result<int32_t> ensureTopic(const std::string& topic, int32_t partitions,
                              std::chrono::milliseconds timeout) override;
  Result<int32_t> ensureTopicWithConfigs(const std::string& topic, int32_t partitions,
                                         const kafka::TopicConfigValues& configs,
                                         std::chrono::milliseconds timeout) override;
  Result<std::map<std::string, kafka::DescribedTopicConfigs>> describeTopicConfigs(
      const std::vector<std::string>& topics, const std::vector<std::string>& names,
      std::chrono::milliseconds timeout) override;
  Result<std::map<std::string, std::string>> alterTopicConfigs(
      const std::map<std::string, kafka::TopicConfigValues>& changes,
      std::chrono::milliseconds timeout) override;

private:
  mutable std::mutex mu_;
  std::map<std::string, Topic> topics_;
  kafka::TopicConfigEntries defaults_;
};

} // namespace causeway::testing
