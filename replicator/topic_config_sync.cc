#include "replicator/topic_config_sync.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <set>

namespace causeway::replicator {
namespace {

constexpr std::string_view kTimestampType = "message.timestamp.type";
constexpr std::string_view kMaxMessageBytes = "max.message.bytes";

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) {
    out += (out.empty() ? "" : "; ") + item;
  }
  return out;
}

} // namespace

kafka::TopicConfigValues desiredMirrorConfigs(const kafka::TopicConfigEntries& source,
                                              const config::TopicConfigSyncConfig& settings,
                                              std::vector<std::string>* notes) {
  kafka::TopicConfigValues out;
  const std::set<std::string> excluded(settings.exclude.begin(), settings.exclude.end());
  for (const auto& key : config::syncedTopicConfigs()) {
    if (excluded.count(key) != 0) {
      continue;
    }
    auto it = source.find(key);
    if (it == source.end() || it->second.sensitive) {
      continue;  // the source does not know it (or withholds it): nothing to copy
    }
    std::string value = it->second.value;
    if (key == kTimestampType) {
      // LogAppendTime on the mirror would overwrite every replicated record's timestamp with
      // the target's append time: the mirror keeps the source's values as CreateTime.
      if (value != "CreateTime" && notes != nullptr) {
        notes->push_back("message.timestamp.type: the source's " + value +
                         " is not copied; the mirror keeps CreateTime so replicated records "
                         "keep the source's timestamps");
      }
      value = "CreateTime";
    } else if (key == kMaxMessageBytes) {
      int64_t bytes = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), bytes);
      if (ec == std::errc() && end == value.data() + value.size() && bytes >= 0 &&
          bytes <= std::numeric_limits<int32_t>::max() - kMaxMessageBytesHeadroom) {
        value = std::to_string(bytes + kMaxMessageBytesHeadroom);
      }
    }
    out[key] = std::move(value);
  }
  return out;
}

TopicConfigPlan planTopicConfigs(const kafka::TopicConfigValues& desired,
                                 const kafka::TopicConfigEntries& target) {
  TopicConfigPlan plan;
  for (const auto& [key, value] : desired) {
    auto it = target.find(key);
    if (it == target.end()) {
      plan.skipped.push_back(key + ": the target cluster does not know it");
      continue;
    }
    if (it->second.value == value) {
      continue;
    }
    if (it->second.read_only) {
      plan.skipped.push_back(key + ": read-only on the target (" + it->second.value +
                             ", the source's is " + value + ")");
      continue;
    }
    plan.set[key] = value;
  }
  return plan;
}

TopicConfigSync::TopicConfigSync(config::TopicConfigSyncConfig settings,
                                 kafka::TopicAdmin& source, kafka::TopicAdmin& target)
    : settings_(std::move(settings)), source_(source), target_(target) {
  const std::set<std::string> excluded(settings_.exclude.begin(), settings_.exclude.end());
  for (const auto& key : config::syncedTopicConfigs()) {
    if (excluded.count(key) == 0) {
      names_.push_back(key);
    }
  }
}

void TopicConfigSync::reportCreatedWithout(const std::string& source_topic,
                                           const std::string& why) {
  problems_[source_topic] = "created without the source's configs: " + why;
}

kafka::TopicConfigValues TopicConfigSync::forNewTopic(const std::string& source_topic,
                                                      std::chrono::milliseconds timeout) {
  if (!settings_.sync || names_.empty()) {
    return {};
  }
  if (std::chrono::steady_clock::now() < backoff_until_) {
    problems_[source_topic] = "created without the source's configs: " + backoff_reason_;
    return {};
  }
  auto described = source_.describeTopicConfigs({source_topic}, names_, timeout);
  if (!described) {
    backoff_reason_ = "reading them on the source failed: " + described.error().message;
    backoff_until_ = std::chrono::steady_clock::now() + settings_.interval;
    problems_[source_topic] = "created without the source's configs: " + backoff_reason_;
    return {};
  }
  const auto& answer = (*described)[source_topic];
  if (!answer.error.empty()) {
    problems_[source_topic] =
        "created without the source's configs: reading them on the source: " + answer.error;
    return {};
  }
  std::vector<std::string> notes;
  auto desired = desiredMirrorConfigs(answer.entries, settings_, &notes);
  for (const auto& note : notes) {
    spdlog::info("topic config sync: '{}': {}", source_topic, note);
  }
  return desired;
}

void TopicConfigSync::run(const std::map<std::string, std::string>& mirrors,
                          std::chrono::milliseconds timeout, bool force) {
  const auto now = std::chrono::steady_clock::now();
  if (!settings_.sync || names_.empty() || mirrors.empty()) {
    return;
  }
  if (!force && now < backoff_until_) {
    problems_ = {{"*", "topic configs are not synced: " + backoff_reason_}};
    return;
  }
  if (!force && now < next_run_) {
    return;
  }
  next_run_ = now + settings_.interval;
  auto give_up = [&](const std::string& why) {
    backoff_reason_ = why;
    backoff_until_ = now + settings_.interval;
    problems_ = {{"*", "topic configs are not synced: " + why}};
  };
  std::vector<std::string> sources;
  std::vector<std::string> targets;
  for (const auto& [source, target] : mirrors) {
    sources.push_back(source);
    targets.push_back(target);
  }
  std::map<std::string, std::string> problems;
  auto on_source = source_.describeTopicConfigs(sources, names_, timeout);
  if (!on_source) {
    give_up("reading them on the source failed: " + on_source.error().message);
    return;
  }
  auto on_target = target_.describeTopicConfigs(targets, names_, timeout);
  if (!on_target) {
    give_up("reading them on the target failed: " + on_target.error().message);
    return;
  }
  std::map<std::string, kafka::TopicConfigValues> changes;
  std::map<std::string, std::string> source_of;  // mirror topic -> source topic
  for (const auto& [source, target] : mirrors) {
    const auto& s = (*on_source)[source];
    const auto& t = (*on_target)[target];
    if (!s.error.empty()) {
      problems[source] = "reading its configs on the source: " + s.error;
      continue;
    }
    if (!t.error.empty()) {
      problems[source] = "reading the mirror topic's configs on the target: " + t.error;
      continue;
    }
    const TopicConfigPlan plan =
        planTopicConfigs(desiredMirrorConfigs(s.entries, settings_), t.entries);
    if (!plan.skipped.empty()) {
      problems[source] = "not synced: " + joined(plan.skipped);
    }
    if (!plan.set.empty()) {
      changes[target] = plan.set;
      source_of[target] = source;
    }
  }
  if (!changes.empty()) {
    auto altered = target_.alterTopicConfigs(changes, timeout);
    if (!altered) {
      backoff_reason_ = "changing them on the target failed: " + altered.error().message;
      backoff_until_ = now + settings_.interval;
      for (const auto& [target, values] : changes) {
        problems[source_of[target]] = "changing the mirror topic's configs failed: " +
                                      altered.error().message;
      }
    } else {
      for (const auto& [target, values] : changes) {
        auto it = altered->find(target);
        const std::string why =
            it == altered->end() ? "the cluster did not answer for the topic" : it->second;
        if (why.empty()) {
          updates_ += values.size();
          std::string what;
          for (const auto& [key, value] : values) {
            what += (what.empty() ? "" : ", ") + key + "=" + value;
          }
          spdlog::info("topic config sync: mirror topic '{}' set to the source's {}", target,
                       what);
        } else {
          problems[source_of[target]] = "changing the mirror topic's configs failed: " + why;
        }
      }
    }
  }
  problems_ = std::move(problems);
}

} // namespace causeway::replicator
