#include "kafka/kafka_topic_admin.h"
#include "kafka/handles.h"

#include <spdlog/spdlog.h>

#include <optional>
#include <thread>

namespace causeway::kafka {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;


// How often metadata is re-read while waiting for a created topic or partitions to show up.
constexpr milliseconds kMetadataPollInterval{100};

milliseconds remaining(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
  return std::max(left, milliseconds(0));
}

std::string errorText(rd_kafka_resp_err_t err, const char* detail) {
  std::string text = std::string(rd_kafka_err2name(err)) + ": " + rd_kafka_err2str(err);
  if (detail != nullptr && *detail != '\0' && text.find(detail) == std::string::npos) {
    text += " (" + std::string(detail) + ")";
  }
  return text;
}

// One topic's partition count from an all-topics metadata request; std::nullopt when the topic
// does not exist (yet). Naming the topic in the request would auto-create it where brokers allow.
Result<std::optional<int32_t>> lookupTopic(rd_kafka_t* rk, const std::string& what,
                                           const std::string& topic, milliseconds timeout) {
  const rd_kafka_metadata_t* raw = nullptr;
  rd_kafka_resp_err_t err =
      rd_kafka_metadata(rk, /*all_topics=*/1, nullptr, &raw,
                        static_cast<int>(std::max(timeout, milliseconds(1)).count()));
  MetadataPtr md(raw);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Error{what + ": cannot read the cluster's metadata within " +
                 std::to_string(timeout.count()) + " ms: " + errorText(err, nullptr)};
  }
  for (int i = 0; i < md->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& t = md->topics[i];
    if (topic != t.topic) {
      continue;
    }
    if (t.partition_cnt > 0) {
      return std::optional<int32_t>(t.partition_cnt);
    }
    if (t.err == RD_KAFKA_RESP_ERR_NO_ERROR || t.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
        t.err == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE) {
      return std::optional<int32_t>();
    }
    return Error{what + ": metadata reports an error for the topic: " +
                 errorText(t.err, nullptr)};
  }
  return std::optional<int32_t>();
}

// Runs one Admin API request and waits for its result event until `timeout`.
Result<EventPtr> runAdmin(rd_kafka_t* rk, rd_kafka_admin_op_t op, milliseconds timeout,
                          const std::string& what,
                          const std::function<void(rd_kafka_AdminOptions_t*, rd_kafka_queue_t*)>&
                              call) {
  if (timeout <= milliseconds(0)) {
    return Error{what + ": no time left for the request"};
  }
  QueuePtr queue(rd_kafka_queue_new(rk));
  AdminOptionsPtr options(rd_kafka_AdminOptions_new(rk, op));
  char errstr[512];
  int timeout_ms = static_cast<int>(timeout.count());
  if (rd_kafka_AdminOptions_set_request_timeout(options.get(), timeout_ms, errstr,
                                                sizeof(errstr)) != RD_KAFKA_RESP_ERR_NO_ERROR ||
      rd_kafka_AdminOptions_set_operation_timeout(options.get(), timeout_ms, errstr,
                                                  sizeof(errstr)) !=
          RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Error{what + ": " + errstr};
  }
  call(options.get(), queue.get());
  // The request's own timeout produces a result event at about the same time; whichever comes
  // first, the caller gets an answer within `timeout`. An abandoned request is cleaned up by
  // librdkafka when its queue reference is dropped.
  EventPtr event(rd_kafka_queue_poll(queue.get(), timeout_ms));
  if (!event) {
    return Error{what + ": no answer within " + std::to_string(timeout_ms) + " ms"};
  }
  if (rd_kafka_event_error(event.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Error{what + ": " + errorText(rd_kafka_event_error(event.get()),
                                         rd_kafka_event_error_string(event.get()))};
  }
  return event;
}

// The single topic result of a CreateTopics or CreatePartitions event.
std::pair<rd_kafka_resp_err_t, std::string> topicResult(const rd_kafka_topic_result_t** results,
                                                        size_t count) {
  if (count == 0) {
    return {RD_KAFKA_RESP_ERR__BAD_MSG, "the response has no result for the topic"};
  }
  const char* message = rd_kafka_topic_result_error_string(results[0]);
  return {rd_kafka_topic_result_error(results[0]), message ? message : ""};
}

} // namespace

KafkaTopicAdmin::KafkaTopicAdmin(config::ClusterConfig cluster) : cluster_(std::move(cluster)) {}

Result<rd_kafka_t*> KafkaTopicAdmin::handle() {
  if (!handle_) {
    ClientSpec spec;
    spec.type = RD_KAFKA_PRODUCER;  // any handle type can run Admin API requests
    spec.cluster = &cluster_;
    spec.client_id = "causeway-topic-admin";
    auto client = makeClient(spec);
    if (!client.ok()) {
      return client.error();
    }
    handle_ = std::move(*client);
  }
  return handle_.get();
}

Result<int32_t> KafkaTopicAdmin::ensureTopic(const std::string& topic, int32_t partitions,
                                             milliseconds timeout) {
  return ensure(topic, partitions, timeout, {});
}

Result<int32_t> KafkaTopicAdmin::ensureCompactedTopic(const std::string& topic,
                                                      int32_t partitions, milliseconds timeout) {
  // Small segments so compaction (which never touches the active segment) keeps the topic small
  // enough to be read whole at every start.
  return ensure(topic, partitions, timeout,
                {{"cleanup.policy", "compact"}, {"segment.bytes", "16777216"}});
}

Result<int32_t> KafkaTopicAdmin::ensureTopicWithConfigs(const std::string& topic,
                                                        int32_t partitions,
                                                        const TopicConfigValues& configs,
                                                        milliseconds timeout) {
  return ensure(topic, partitions, timeout, configs);
}

Result<int32_t> KafkaTopicAdmin::ensure(const std::string& topic, int32_t partitions,
                                        milliseconds timeout, const TopicConfigValues& configs) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto deadline = Clock::now() + timeout;
  const std::string what = describeCluster(cluster_) + ": topic '" + topic + "'";
  auto rk = handle();
  if (!rk.ok()) {
    return Error{what + ": " + rk.error().message};
  }

  auto existing = lookupTopic(*rk, what, topic, remaining(deadline));
  if (!existing.ok()) {
    return existing.error();
  }

  // Waits until metadata shows the topic with at least `wanted` partitions, or the deadline.
  auto awaitPartitions = [&](int32_t wanted) -> Result<int32_t> {
    std::optional<int32_t> last;
    while (true) {
      auto seen = lookupTopic(*rk, what, topic, remaining(deadline));
      if (!seen.ok()) {
        return seen.error();
      }
      last = *seen;
      if (last && *last >= wanted) {
        return *last;
      }
      if (remaining(deadline) < kMetadataPollInterval) {
        break;
      }
      std::this_thread::sleep_for(kMetadataPollInterval);
    }
    return Error{what + ": the cluster accepted the change but its metadata still shows " +
                 (last ? std::to_string(*last) + " partitions" : std::string("no such topic")) +
                 " after " + std::to_string(timeout.count()) + " ms (wanted " +
                 std::to_string(wanted) + ")"};
  };

  if (!existing->has_value()) {
    const std::string action =
        what + ": cannot create it with " + std::to_string(partitions) + " partitions";
    char errstr[512];
    NewTopicPtr new_topic(rd_kafka_NewTopic_new(topic.c_str(), partitions,
                                                /*replication_factor=*/-1, errstr,
                                                sizeof(errstr)));
    if (!new_topic) {
      return Error{action + ": " + errstr};
    }
    for (const auto& [name, value] : configs) {
      if (rd_kafka_resp_err_t err =
              rd_kafka_NewTopic_set_config(new_topic.get(), name.c_str(), value.c_str())) {
        return Error{action + ": config " + name + "=" + value + ": " + rd_kafka_err2str(err)};
      }
    }
    auto event = runAdmin(*rk, RD_KAFKA_ADMIN_OP_CREATETOPICS, remaining(deadline), action,
                          [&](rd_kafka_AdminOptions_t* options, rd_kafka_queue_t* queue) {
                            rd_kafka_NewTopic_t* topics[] = {new_topic.get()};
                            rd_kafka_CreateTopics(*rk, topics, 1, options, queue);
                          });
    if (!event.ok()) {
      return event.error();
    }
    size_t count = 0;
    const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(
        rd_kafka_event_CreateTopics_result(event->get()), &count);
    auto [err, message] = topicResult(results, count);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      spdlog::info("{}: created with {} partitions", what, partitions);
    } else if (err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
      return Error{action + ": " + errorText(err, message.c_str())};
    }
    // Created by us or by someone else meanwhile: either way, see what is there now. A topic
    // someone else created may still have too few partitions.
    auto created = awaitPartitions(1);
    if (!created.ok()) {
      return created.error();
    }
    existing = std::optional<int32_t>(*created);
  }

  int32_t current = **existing;
  if (current >= partitions) {
    return current;
  }

  const std::string action = what + ": cannot grow it from " + std::to_string(current) + " to " +
                             std::to_string(partitions) + " partitions";
  char errstr[512];
  NewPartitionsPtr new_partitions(
      rd_kafka_NewPartitions_new(topic.c_str(), partitions, errstr, sizeof(errstr)));
  if (!new_partitions) {
    return Error{action + ": " + errstr};
  }
  auto event = runAdmin(*rk, RD_KAFKA_ADMIN_OP_CREATEPARTITIONS, remaining(deadline), action,
                        [&](rd_kafka_AdminOptions_t* options, rd_kafka_queue_t* queue) {
                          rd_kafka_NewPartitions_t* parts[] = {new_partitions.get()};
                          rd_kafka_CreatePartitions(*rk, parts, 1, options, queue);
                        });
  if (!event.ok()) {
    return event.error();
  }
  size_t count = 0;
  const rd_kafka_topic_result_t** results = rd_kafka_CreatePartitions_result_topics(
      rd_kafka_event_CreatePartitions_result(event->get()), &count);
  auto [err, message] = topicResult(results, count);
  if (err == RD_KAFKA_RESP_ERR_INVALID_PARTITIONS) {
    // Also the answer when someone else grew the topic meanwhile: metadata decides.
    auto now = lookupTopic(*rk, what, topic, remaining(deadline));
    if (now.ok() && now->has_value() && **now >= partitions) {
      return **now;
    }
  }
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Error{action + ": " + errorText(err, message.c_str())};
  }
  spdlog::info("{}: grew from {} to {} partitions", what, current, partitions);
  return awaitPartitions(partitions);
}

namespace {

using ConfigResourcePtr =
    std::unique_ptr<rd_kafka_ConfigResource_t, Destroyer<rd_kafka_ConfigResource_destroy>>;

} // namespace

Result<std::map<std::string, DescribedTopicConfigs>> KafkaTopicAdmin::describe(
    rd_kafka_t* rk, const std::vector<std::string>& topics, const std::vector<std::string>& names,
    milliseconds timeout) {
  std::map<std::string, DescribedTopicConfigs> out;
  if (topics.empty()) {
    return out;
  }
  const std::string what = describeCluster(cluster_) + ": describing the configuration of " +
                           std::to_string(topics.size()) + " topic(s)";
  std::vector<ConfigResourcePtr> resources;
  std::vector<rd_kafka_ConfigResource_t*> raw;
  for (const auto& topic : topics) {
    resources.emplace_back(rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str()));
    for (const auto& name : names) {
      rd_kafka_ConfigResource_set_config(resources.back().get(), name.c_str(), nullptr);
    }
    raw.push_back(resources.back().get());
  }
  auto event = runAdmin(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, timeout, what,
                        [&](rd_kafka_AdminOptions_t* options, rd_kafka_queue_t* queue) {
                          rd_kafka_DescribeConfigs(rk, raw.data(), raw.size(), options, queue);
                        });
  if (!event.ok()) {
    return event.error();
  }
  size_t count = 0;
  const rd_kafka_ConfigResource_t** results = rd_kafka_DescribeConfigs_result_resources(
      rd_kafka_event_DescribeConfigs_result(event->get()), &count);
  for (size_t i = 0; i < count; ++i) {
    DescribedTopicConfigs& described = out[rd_kafka_ConfigResource_name(results[i])];
    if (rd_kafka_resp_err_t err = rd_kafka_ConfigResource_error(results[i])) {
      described.error = errorText(err, rd_kafka_ConfigResource_error_string(results[i]));
      continue;
    }
    size_t entries = 0;
    const rd_kafka_ConfigEntry_t** configs = rd_kafka_ConfigResource_configs(results[i], &entries);
    for (size_t e = 0; e < entries; ++e) {
      TopicConfigEntry entry;
      const char* value = rd_kafka_ConfigEntry_value(configs[e]);
      entry.value = value != nullptr ? value : "";
      entry.set_on_topic =
          rd_kafka_ConfigEntry_source(configs[e]) == RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG;
      entry.read_only = rd_kafka_ConfigEntry_is_read_only(configs[e]) != 0;
      entry.sensitive = rd_kafka_ConfigEntry_is_sensitive(configs[e]) != 0;
      described.entries[rd_kafka_ConfigEntry_name(configs[e])] = std::move(entry);
    }
  }
  for (const auto& topic : topics) {
    if (out.find(topic) == out.end()) {
      out[topic].error = "the cluster's answer has no entry for the topic";
    }
  }
  return out;
}

Result<std::map<std::string, DescribedTopicConfigs>> KafkaTopicAdmin::describeTopicConfigs(
    const std::vector<std::string>& topics, const std::vector<std::string>& names,
    milliseconds timeout) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto rk = handle();
  if (!rk.ok()) {
    return rk.error();
  }
  return describe(*rk, topics, names, timeout);
}

Result<std::map<std::string, std::string>> KafkaTopicAdmin::alterTopicConfigs(
    const std::map<std::string, TopicConfigValues>& changes, milliseconds timeout) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto deadline = Clock::now() + timeout;
  auto rk = handle();
  if (!rk.ok()) {
    return rk.error();
  }
  std::map<std::string, std::string> out;
  std::vector<std::string> topics;
  for (const auto& [topic, values] : changes) {
    if (!values.empty()) {
      topics.push_back(topic);
    }
  }
  if (topics.empty()) {
    return out;
  }
  // AlterConfigs replaces every topic-level override: send the current ones with the changes.
  auto current = describe(*rk, topics, {}, remaining(deadline));
  if (!current.ok()) {
    return current.error();
  }
  std::vector<ConfigResourcePtr> resources;
  std::vector<rd_kafka_ConfigResource_t*> raw;
  for (const auto& topic : topics) {
    const DescribedTopicConfigs& now = (*current)[topic];
    if (!now.error.empty()) {
      out[topic] = "reading its current configuration: " + now.error;
      continue;
    }
    TopicConfigValues merged;
    std::string sensitive;
    for (const auto& [name, entry] : now.entries) {
      if (entry.set_on_topic) {
        if (entry.sensitive) {
          sensitive = name;
        }
        merged[name] = entry.value;
      }
    }
    if (!sensitive.empty()) {
      out[topic] = "its override of " + sensitive +
                   " is sensitive (its value is withheld), so its configuration cannot be "
                   "rewritten without losing it; set the synced configs yourself";
      continue;
    }
    for (const auto& [name, value] : changes.at(topic)) {
      merged[name] = value;
    }
    resources.emplace_back(rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic.c_str()));
    for (const auto& [name, value] : merged) {
      rd_kafka_ConfigResource_set_config(resources.back().get(), name.c_str(), value.c_str());
    }
    raw.push_back(resources.back().get());
  }
  if (raw.empty()) {
    return out;
  }
  const std::string what = describeCluster(cluster_) + ": changing the configuration of " +
                           std::to_string(raw.size()) + " topic(s)";
  auto event = runAdmin(*rk, RD_KAFKA_ADMIN_OP_ALTERCONFIGS, remaining(deadline), what,
                        [&](rd_kafka_AdminOptions_t* options, rd_kafka_queue_t* queue) {
                          rd_kafka_AlterConfigs(*rk, raw.data(), raw.size(), options, queue);
                        });
  if (!event.ok()) {
    return event.error();
  }
  size_t count = 0;
  const rd_kafka_ConfigResource_t** results = rd_kafka_AlterConfigs_result_resources(
      rd_kafka_event_AlterConfigs_result(event->get()), &count);
  for (size_t i = 0; i < count; ++i) {
    const rd_kafka_resp_err_t err = rd_kafka_ConfigResource_error(results[i]);
    out[rd_kafka_ConfigResource_name(results[i])] =
        err == RD_KAFKA_RESP_ERR_NO_ERROR
            ? std::string()
            : errorText(err, rd_kafka_ConfigResource_error_string(results[i]));
  }
  for (const auto* resource : raw) {
    const std::string name = rd_kafka_ConfigResource_name(resource);
    if (out.find(name) == out.end()) {
      out[name] = "the cluster's answer has no entry for the topic";
    }
  }
  return out;
}

} // namespace causeway::kafka
