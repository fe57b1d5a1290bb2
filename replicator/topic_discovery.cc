#include "replicator/topic_discovery.h"

#include "kafka/client_factory.h"

#include <spdlog/spdlog.h>

namespace causeway::replicator {

TopicDiscovery::TopicDiscovery(const config::ClusterConfig& source, TopicSelector selector,
                               kafka::TopicAdmin& target_admin,
                               std::chrono::milliseconds timeout)
    : source_(source), selector_(std::move(selector)), target_admin_(target_admin),
      timeout_(timeout) {}

void TopicDiscovery::enableConfigSync(const config::TopicConfigSyncConfig& settings,
                                      kafka::TopicAdminPtr source_admin) {
  if (!settings.sync) {
    config_sync_.reset();
    return;
  }
  source_admin_ = source_admin ? std::move(source_admin) : kafka::makeTopicAdmin(source_);
  config_sync_ = std::make_unique<TopicConfigSync>(settings, *source_admin_, target_admin_);
}

Result<int32_t> TopicDiscovery::createMirror(const std::string& source_topic,
                                             const std::string& target, int32_t partitions) {
  if (!config_sync_) {
    return target_admin_.ensureTopic(target, partitions, timeout_);
  }
  const kafka::TopicConfigValues configs = config_sync_->forNewTopic(source_topic, timeout_);
  auto created = target_admin_.ensureTopicWithConfigs(target, partitions, configs, timeout_);
  if (created || configs.empty()) {
    return created;
  }
  // A target that refuses the configs must not keep the topic from being replicated: create it
  // without them (the periodic sync says what is not in line).
  auto plain = target_admin_.ensureTopic(target, partitions, timeout_);
  if (plain) {
    config_sync_->reportCreatedWithout(source_topic, created.error().message);
  }
  return plain;
}

Result<DiscoveryResult> TopicDiscovery::run(rd_kafka_t* source_client) {
  auto md = kafka::fetchAllTopics(source_client, source_, timeout_);
  if (!md) {
    return md.error();
  }
  DiscoveryResult result;
  for (int i = 0; i < (*md)->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& topic = (*md)->topics[i];
    if (topic.err != RD_KAFKA_RESP_ERR_NO_ERROR || topic.partition_cnt <= 0) {
      continue;  // being created or deleted: look again next cycle
    }
    const std::string name = topic.topic;
    if (!selector_.selects(name)) {
      continue;
    }
    auto known = ensured_.find(name);
    if (known != ensured_.end() && known->second.target_partitions >= topic.partition_cnt) {
      known->second.source_partitions = topic.partition_cnt;
      result.ready.emplace(name, known->second);
      continue;
    }
    const std::string target = selector_.targetTopic(name);
    auto partitions = known == ensured_.end()
                          ? createMirror(name, target, topic.partition_cnt)
                          : target_admin_.ensureTopic(target, topic.partition_cnt, timeout_);
    if (!partitions) {
      result.problems.emplace(name, partitions.error().message);
      continue;
    }
    if (known == ensured_.end()) {
      spdlog::info("topic discovery: replicating '{}' -> '{}' ({} partitions)", name, target,
                   topic.partition_cnt);
    } else {
      spdlog::info("topic discovery: '{}' grew to {} partitions; mirror '{}' has {}", name,
                   topic.partition_cnt, target, *partitions);
    }
    ReadyTopic ready{target, topic.partition_cnt, *partitions};
    ensured_[name] = ready;
    result.ready.emplace(name, ready);
  }
  if (config_sync_) {
    std::map<std::string, std::string> mirrors;
    for (const auto& [source, ready] : result.ready) {
      mirrors.emplace(source, ready.target_topic);
    }
    config_sync_->run(mirrors, timeout_);
    result.config_problems = config_sync_->problems();
    result.config_updates = config_sync_->updates();
  }
  return result;
}

} // namespace causeway::replicator
