#pragma once

// The decisions of consumer-group offset sync, apart from talking to the
// clusters: what to commit for a group on the target given its translated
// positions and what the target group has committed already. Pure functions,
// unit-tested in tests/unit/group_sync_rules_test.cc. No Kafka.

#include "replicator/offset_translation.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace causeway::replicator {

// The commit metadata Causeway writes with every offset it commits for a group
// on the target: "causeway-sync:v1:<source offset>:<link>". Reading it back
// tells a later sync (another worker, a restarted one, the failover) which
// source position that target offset stood for, and that Causeway, not a
// consumer on the target, committed it.
std::string syncMetadata(std::string_view link, int64_t source_offset);
// The source offset in `metadata` if the sync of `link` wrote it, else nullopt.
std::optional<int64_t> parseSyncMetadata(std::string_view metadata, std::string_view link);

// What the target group has committed for one mirror partition.
struct CommittedOnTarget {
  int64_t offset = -1;  // -1: nothing committed
  // The source offset Causeway's sync committed this offset for (from the
  // metadata); nullopt when a consumer on the target (or anything else)
  // committed it.
  std::optional<int64_t> synced_source;
};

enum class PartitionAction {
  kNoPosition,    // the group has no committed offset on the source for it:
                  // nothing to do
  kWait,          // not replicated up to the group's position yet: synced once it is
  kAlreadyThere,  // the target group is at the translated offset
  kCommit,        // move the target group forward (or set it: nothing committed there)
  kMoveBack,      // the source group moved back below what the sync committed:
                  // follow it, once a fresh read of the source confirms it
  kKeepAhead,     // the target is past the translation: never move a group back
  kForeignAhead,  // the target is past the translation and the sync did not
                  // commit that: the group consumes on the target (its consumers
                  // committed there)
};

const char* toString(PartitionAction action);

struct PartitionPlan {
  PartitionAction action = PartitionAction::kNoPosition;
  int64_t target_offset = -1;  // what to commit (kCommit, kMoveBack)
};

// One partition. `force` (a forced failover): a position not replicated yet
// moves to the mirror partition's readable end instead of waiting (the records
// in between are the RPO).
PartitionPlan planPartition(const PartitionTranslation& t, const CommittedOnTarget& current,
                            bool force);

using MirrorKey = std::pair<std::string, int32_t>;  // target topic, partition

// The whole group.
struct GroupCommitPlan {
  std::vector<PartitionPlan> partitions;  // one per translation, same order
  size_t waiting = 0;                     // kWait
  size_t to_commit = 0;                   // kCommit + kMoveBack
  size_t move_backs = 0;                  // kMoveBack
  size_t foreign_ahead = 0;               // kForeignAhead
  // The group consumes on the target (a consumer there committed past the
  // sync): nothing may be committed for it, not even on other partitions.
  bool leaveAlone() const { return foreign_ahead > 0; }
};

GroupCommitPlan planGroup(const std::vector<PartitionTranslation>& translations,
                          const std::map<MirrorKey, CommittedOnTarget>& committed,
                          bool force);

// A move back is applied only while a fresh read of the source group still
// shows the position below what the sync committed (`fresh_source`: that read;
// -1 when the group has none now): a translation made before another sync or
// the failover committed a later position is stale, not a move back.
bool moveBackConfirmed(const CommittedOnTarget& current, int64_t fresh_source);

}  // namespace causeway::replicator
