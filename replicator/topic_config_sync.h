#pragma once

// Topic configuration sync (MirrorMaker 2's sync.topic.configs): mirror topics get their source
// topic's retention, compaction, compression and the like (config::syncedTopicConfigs()), on
// creation and every `topic_configs.interval` after. The plan is a pure function over what the
// clusters report; TopicConfigSync runs it through the TopicAdmin seam and never fails a link:
// what a cluster refuses is reported per topic.

#include "common/result.h"
#include "config/config.h"
#include "kafka/topic_admin.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace causeway::replicator {

// Room added to the source's max.message.bytes on the mirror: the headers Causeway adds to a
// record (causeway-src: 8 bytes + the link name; causeway-origin: the clusters passed through)
// must not make a record the source accepted too large for its mirror.
inline constexpr int64_t kMaxMessageBytesHeadroom = 16 * 1024;

// The values a mirror topic should have, from its source topic's configuration: the synced keys
// the source reports (minus `exclude`), with message.timestamp.type always CreateTime and
// max.message.bytes raised by kMaxMessageBytesHeadroom. `notes` gets what is worth telling (the
// source's LogAppendTime not copied).
kafka::TopicConfigValues desiredMirrorConfigs(const kafka::TopicConfigEntries& source,
                                              const config::TopicConfigSyncConfig& settings,
                                              std::vector<std::string>* notes = nullptr);

struct TopicConfigPlan {
  kafka::TopicConfigValues set;     // what to change on the mirror topic
  std::vector<std::string> skipped;  // "key: why" for what cannot be changed there
};

// What to change on a mirror topic whose configuration is `target` so it has `desired`. Keys
// the target does not know (another Kafka version, Redpanda) and read-only ones are skipped.
TopicConfigPlan planTopicConfigs(const kafka::TopicConfigValues& desired,
                                 const kafka::TopicConfigEntries& target);

// Runs the sync for one link. Not thread-safe: owned by the link's discovery thread.
class TopicConfigSync {
public:
  TopicConfigSync(config::TopicConfigSyncConfig settings, kafka::TopicAdmin& source,
                  kafka::TopicAdmin& target);

  // The configs to create a new mirror topic with (empty when the source's cannot be read: the
  // reason goes to problems() under the source topic's name).
  kafka::TopicConfigValues forNewTopic(const std::string& source_topic,
                                       std::chrono::milliseconds timeout);

  // Compares every (source topic -> mirror topic) pair and changes what differs, when
  // `interval` has passed since the last run (or `now` is forced). Nothing here throws or fails:
  // problems() says what is not in sync and why.
  void run(const std::map<std::string, std::string>& mirrors, std::chrono::milliseconds timeout,
           bool force = false);

  // By source topic ("*": the sync as a whole): why its mirror's configs are not (all) in sync.
  const std::map<std::string, std::string>& problems() const { return problems_; }
  // Config values set on mirror topics so far.
  uint64_t updates() const { return updates_; }
  // A created mirror topic could not take the configs (it was created without them).
  void reportCreatedWithout(const std::string& source_topic, const std::string& why);

private:
  config::TopicConfigSyncConfig settings_;
  kafka::TopicAdmin& source_;
  kafka::TopicAdmin& target_;
  std::vector<std::string> names_;  // the synced keys, minus the excluded ones
  std::map<std::string, std::string> problems_;
  uint64_t updates_ = 0;
  std::chrono::steady_clock::time_point next_run_{};
  // After a cluster could not be asked at all (no answer, no such API, no permission), no config
  // call is made until this passes (one interval), so a cluster that never answers costs one
  // timeout per interval, not one per topic or per discovery cycle.
  std::chrono::steady_clock::time_point backoff_until_{};
  std::string backoff_reason_;
};

} // namespace causeway::replicator
