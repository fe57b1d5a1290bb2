#include "tests/support/fake_topic_admin.h"

#include <algorithm>

namespace causeway::testing {

void FakeTopicAdmin::addTopic(const std::string& name, int32_t partitions,
                              const kafka::TopicConfigValues& configs) {
  std::lock_guard lock(mu_);
  Topic& topic = topics_[name];
  topic.partitions = partitions;
  for (const auto& [key, value] : configs) {
    topic.configs[key] = kafka::TopicConfigEntry{value, /*set_on_topic=*/true, false, false};
  }
}

void FakeTopicAdmin::setDefault(const std::string& key, const std::string& value,
                                bool read_only) {
  std::lock_guard lock(mu_);
  defaults_[key] = kafka::TopicConfigEntry{value, /*set_on_topic=*/false, read_only, false};
}

FakeTopicAdmin::Topic FakeTopicAdmin::topic(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = topics_.find(name);
  return it == topics_.end() ? Topic{} : it->second;
}

bool FakeTopicAdmin::has(const std::string& name) const {
  std::lock_guard lock(mu_);
  return topics_.count(name) != 0;
}

Result<int32_t> FakeTopicAdmin::ensureTopic(const std::string& topic, int32_t partitions,
                                            std::chrono::milliseconds timeout) {
  return ensureTopicWithConfigs(topic, partitions, {}, timeout);
}

Result<int32_t> FakeTopicAdmin::ensureTopicWithConfigs(const std::string& topic,
                                                       int32_t partitions,
                                                       const kafka::TopicConfigValues& configs,
                                                       std::chrono::milliseconds) {
  std::lock_guard lock(mu_);
  create_calls += 1;
  auto it = topics_.find(topic);
  if (it != topics_.end()) {
    it->second.partitions = std::max(it->second.partitions, partitions);
    return it->second.partitions;
  }
  if (!configs.empty() && !create_with_configs_error.empty()) {
    return Error{"fake: topic '" + topic + "': " + create_with_configs_error};
  }
  Topic& created = topics_[topic];
  created.partitions = partitions;
  for (const auto& [key, value] : configs) {
    created.configs[key] = kafka::TopicConfigEntry{value, /*set_on_topic=*/true, false, false};
  }
  return partitions;
}

Result<std::map<std::string, kafka::DescribedTopicConfigs>> FakeTopicAdmin::describeTopicConfigs(
    const std::vector<std::string>& topics, const std::vector<std::string>& names,
    std::chrono::milliseconds) {
  std::lock_guard lock(mu_);
  describe_calls += 1;
  if (!describe_error.empty()) {
    return Error{"fake: " + describe_error};
  }
  std::map<std::string, kafka::DescribedTopicConfigs> out;
  for (const auto& name : topics) {
    auto it = topics_.find(name);
    if (it == topics_.end()) {
      out[name].error = "UNKNOWN_TOPIC_OR_PART";
      continue;
    }
    kafka::TopicConfigEntries all = defaults_;
    for (const auto& [key, entry] : it->second.configs) {
      all[key] = entry;
    }
    for (const auto& [key, entry] : all) {
      if (names.empty() || std::find(names.begin(), names.end(), key) != names.end()) {
        out[name].entries[key] = entry;
      }
    }
  }
  return out;
}

Result<std::map<std::string, std::string>> FakeTopicAdmin::alterTopicConfigs(
    const std::map<std::string, kafka::TopicConfigValues>& changes, std::chrono::milliseconds) {
  std::lock_guard lock(mu_);
  alter_calls += 1;
  if (!alter_error.empty()) {
    return Error{"fake: " + alter_error};
  }
  std::map<std::string, std::string> out;
  for (const auto& [name, values] : changes) {
    auto refused = alter_refused.find(name);
    if (refused != alter_refused.end()) {
      out[name] = refused->second;
      continue;
    }
    auto it = topics_.find(name);
    if (it == topics_.end()) {
      out[name] = "UNKNOWN_TOPIC_OR_PART";
      continue;
    }
    for (const auto& [key, value] : values) {
      it->second.configs[key] = kafka::TopicConfigEntry{value, /*set_on_topic=*/true, false, false};
    }
    out[name] = "";
  }
  return out;
}

} // namespace causeway::testing
