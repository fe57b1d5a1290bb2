#pragma once

#include "common/result.h"
#include "config/config.h"
#include "kafka/handles.h"
#include "replicator/offset_translation.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

namespace causeway::replicator {

// What one sync cycle did for one consumer group.
struct GroupSyncOutcome {
  std::string group;
  bool committed = false;   // the target group now has the translated offsets
  std::string problem;      // why not (active members on the target, no commits yet, ...)
  std::vector<PartitionTranslation> offsets;
  std::chrono::system_clock::time_point at{};
};

// Consumer-group offset sync for one exactly-once link (control plane). Each cycle: for every
// selected group, translate its committed source offsets exactly (OffsetTranslator) and commit
// them for the same group on the target with the Admin API. Kafka refuses that while the group
// has active members on the target, so a group that already failed over is never disturbed.
// A partition never moves backwards on the target unless its source offset moved backwards.
// Every sync is also written as a checkpoint record (key "group/topic/partition", JSON value)
// to the target topic causeway.<link>.checkpoints, for failover tooling to read.
//
// Not thread-safe: owned by the link's group-sync thread.
class GroupSync {
public:
  GroupSync(config::LinkConfig link, config::ClusterConfig source, config::ClusterConfig target);
  ~GroupSync();

  Status open();

  // One cycle over every selected group.
  std::vector<GroupSyncOutcome> runOnce(std::chrono::milliseconds timeout);

  // One group now (the failover command uses it for a final sync). With `force`, a partition
  // whose replication has not reached the group's position is moved to the target's end: the
  // records in between are lost to the group (the RPO the failover plan reported).
  GroupSyncOutcome syncGroup(const std::string& group, std::chrono::milliseconds timeout,
                             bool force = false);

  // The translator behind the sync (valid after open()), for callers that only plan.
  OffsetTranslator& translator() { return *translator_; }

  static std::string checkpointTopic(const std::string& link) {
    return "causeway." + link + ".checkpoints";
  }

private:
  std::vector<std::string> selectedGroups(std::chrono::milliseconds timeout);
  Status commitOnTarget(const std::string& group, const std::vector<PartitionTranslation>& offsets,
                        std::chrono::milliseconds timeout);
  void writeCheckpoints(const std::string& group, const std::vector<PartitionTranslation>& offsets);

  config::LinkConfig link_;
  config::ClusterConfig source_;
  config::ClusterConfig target_;
  std::unique_ptr<OffsetTranslator> translator_;
  kafka::HandlePtr source_admin_;  // ListConsumerGroups for include regexes
  kafka::HandlePtr target_admin_;  // AlterConsumerGroupOffsets, and the checkpoint producer
  bool checkpoints_ready_ = false;
  bool listing_unsupported_reported_ = false;
  // Last synced (source offset, target offset) per group and target partition.
  std::map<std::tuple<std::string, std::string, int32_t>, std::pair<int64_t, int64_t>> last_;
};

} // namespace causeway::replicator
