#pragma once

#include "common/result.h"
#include "config/config.h"
#include "kafka/handles.h"
#include "replicator/group_sync_rules.h"
#include "replicator/offset_translation.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace causeway::replicator {

class GroupSyncLease;
class OffsetStateReader;

// What one sync cycle did for one consumer group.
struct GroupSyncOutcome {
  std::string group;
  bool committed = false;  // the target group now has the translated offsets (or
                           // is past them)
  std::string problem;     // why not (active members on the target, no commits yet, ...)
  std::vector<PartitionTranslation> offsets;
  std::chrono::system_clock::time_point at{};
  // The partitions this cycle committed, with the offsets it committed.
  std::vector<PartitionTranslation> written;
  // Another worker of the link holds the group-sync lease, or this one is still
  // joining the lease group: this one did nothing (not a problem; `problem`
  // says which).
  bool leased_elsewhere = false;
  // The link has a failover mark: nothing is committed any more.
  bool failed_over = false;
  // The group consumes on the target (offsets committed there past the sync's,
  // not by it): left alone.
  bool left_alone = false;
  // At-least-once link: each partition is at the FIRST copy of its next record,
  // so consumers may read again records they already read on the source (never
  // skip one).
  bool rereads_possible = false;
};

// Who runs a GroupSync.
enum class GroupSyncRole {
  // A worker of the link: syncs only while it holds the group-sync lease
  // (GroupSyncLease), and
  // never commits once the link has a failover mark.
  kWorker,
  // The failover's final move (replicator::Failover): no lease; it runs before
  // the mark is
  // written, and its commits are what workers must not undo.
  kFailover,
};

// Consumer-group offset sync for one link (control plane). Each cycle, for
// every selected group: translate its committed source offsets
// (OffsetTranslator), read the target group's committed offsets, decide per
// partition (group_sync_rules.h) and commit on the target with the Admin API
// (AlterConsumerGroupOffsets), tagging each offset with the source position it
// stands for. The rules:
//  - exactly one worker of the link syncs at a time (the lease); the others
//  report
//    leased_elsewhere;
//  - a group is never moved back on the target unless its source position moved
//  back (checked
//    again against a fresh read of the source before the commit);
//  - a group whose consumers committed on the target past the sync is left
//  alone, and Kafka
//    refuses the commit while it has active members there;
//  - nothing is committed once the link has a failover mark (checked right
//  before each commit);
//  - a partition whose replication has not reached the group's position waits.
// Every commit is also written as a checkpoint record (key
// "group/topic/partition", JSON value) to the target topic
// causeway.<link>.checkpoints, for failover tooling to read.
//
// At-least-once links are synced too: to the first copy of each group's next
// record (rereads_possible). Not thread-safe: owned by the link's group-sync
// thread (or the failover).
class GroupSync {
public:
  GroupSync(config::LinkConfig link, config::ClusterConfig source, config::ClusterConfig target,
            GroupSyncRole role = GroupSyncRole::kWorker);
  ~GroupSync();

  // Builds the clients, makes sure the link's state topic exists (it carries
  // the lease and the failover mark) and, for a worker, joins the lease group.
  Status open();

  // One cycle over every selected group.
  std::vector<GroupSyncOutcome> runOnce(std::chrono::milliseconds timeout);

  // One group now. With `force`, a partition whose replication has not reached
  // the group's position is moved to the target's readable end: the records in
  // between are lost to the group (the RPO the failover plan reported).
  GroupSyncOutcome syncGroup(const std::string& group, std::chrono::milliseconds timeout,
                             bool force = false);

  // The failover, after writing its mark: a worker's commit that was already on
  // its way when the failover committed `written` can have landed after it.
  // Commits `written` again where the target group now holds another offset
  // committed by a sync (never over a consumer's commit). Returns how many
  // partitions were restored.
  Result<size_t> reassert(const std::string& group,
                          const std::vector<PartitionTranslation>& written,
                          std::chrono::milliseconds timeout);

  // The translator behind the sync (valid after open()), for callers that only
  // plan.
  OffsetTranslator& translator() { return *translator_; }

  static std::string checkpointTopic(const std::string& link) {
    return "causeway." + link + ".checkpoints";
  }

private:
  std::vector<std::string> selectedGroups(std::chrono::milliseconds timeout);
  Result<std::map<MirrorKey, CommittedOnTarget>>
  committedOnTarget(const std::string& group, const std::vector<PartitionTranslation>& offsets,
                    std::chrono::milliseconds timeout);
  Result<std::map<std::pair<std::string, int32_t>, int64_t>>
  committedOnSource(const std::string& group, const std::vector<PartitionTranslation>& offsets,
                    std::chrono::milliseconds timeout);
  // Refreshes the failover mark; true when the link has one (or it cannot be
  // read: stopping is the safe reading of a state topic that does not answer).
  bool failedOver(std::chrono::milliseconds timeout, std::string& why);
  Status commitOnTarget(const std::string& group, const std::vector<PartitionTranslation>& offsets,
                        std::chrono::milliseconds timeout);
  void writeCheckpoints(const std::string& group, const std::vector<PartitionTranslation>& offsets);

  config::LinkConfig link_;
  config::ClusterConfig source_;
  config::ClusterConfig target_;
  GroupSyncRole role_;
  std::unique_ptr<OffsetTranslator> translator_;
  std::unique_ptr<GroupSyncLease> lease_;    // kWorker
  std::unique_ptr<OffsetStateReader> mark_;  // kWorker: the failover mark
  kafka::HandlePtr source_admin_;  // ListConsumerGroups for include regexes, fresh re-reads
  kafka::HandlePtr target_admin_;  // Alter/ListConsumerGroupOffsets, and the
                                   // checkpoint producer
  bool checkpoints_ready_ = false;
  bool listing_unsupported_reported_ = false;
};

}  // namespace causeway::replicator
