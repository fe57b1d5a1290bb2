// The decisions of consumer-group offset sync (replicator/group_sync_rules.h):
// never move a group back on the target unless its source position moved back,
// leave a group alone that consumes on the target, wait for replication, and
// the commit metadata that carries the source offset.

#include "replicator/group_sync_rules.h"

#include <gtest/gtest.h>

namespace causeway::replicator {
namespace {

PartitionTranslation translation(int64_t source, int64_t target, int64_t target_end = 500) {
  PartitionTranslation t;
  t.source_topic = "orders";
  t.target_topic = "orders";
  t.partition = 0;
  t.source_offset = source;
  t.target_offset = target;
  t.target_end = target_end;
  return t;
}

CommittedOnTarget ours(int64_t offset, int64_t source) { return {offset, source}; }
CommittedOnTarget foreign(int64_t offset) { return {offset, std::nullopt}; }

TEST(GroupSyncMetadata, RoundTripsTheSourceOffsetForItsLink) {
  const std::string metadata = syncMetadata("east-to-west", 12345);
  EXPECT_EQ(metadata, "causeway-sync:v1:12345:east-to-west");
  EXPECT_EQ(parseSyncMetadata(metadata, "east-to-west"), 12345);
  EXPECT_EQ(parseSyncMetadata(metadata, "west-to-east"), std::nullopt);
}

TEST(GroupSyncMetadata, AnythingElseIsNotOurs) {
  for (const char* text : {"", "causeway-sync:v1:", "causeway-sync:v1::l", "causeway-sync:v1:x:l",
                           "causeway-sync:v1:-4:l", "causeway-sync:v2:4:l", "4:l",
                           "causeway-sync:v1:4", "causeway-sync:v1:99999999999999999999:l"}) {
    EXPECT_EQ(parseSyncMetadata(text, "l"), std::nullopt) << text;
  }
  EXPECT_EQ(parseSyncMetadata("causeway-sync:v1:0:a:b", "a:b"),
            0);  // the link is the rest
}

TEST(GroupSyncRules, NothingCommittedOnTheTargetIsSet) {
  const auto plan = planPartition(translation(40, 77), CommittedOnTarget{}, false);
  EXPECT_EQ(plan.action, PartitionAction::kCommit);
  EXPECT_EQ(plan.target_offset, 77);
}

TEST(GroupSyncRules, MovesForwardAndKnowsWhenItIsThere) {
  EXPECT_EQ(planPartition(translation(40, 77), ours(60, 30), false).action,
            PartitionAction::kCommit);
  EXPECT_EQ(planPartition(translation(40, 77), foreign(60), false).action,
            PartitionAction::kCommit);  // a consumer behind the source group: moved on
  EXPECT_EQ(planPartition(translation(40, 77), ours(77, 40), false).action,
            PartitionAction::kAlreadyThere);
}

TEST(GroupSyncRules, NeverMovesAGroupBackUnlessItsSourcePositionMovedBack) {
  // given: the target group is at 90, committed by a sync (or the failover) for
  // source 50 when: a translation for source 50 or later lands lower (a stale
  // cycle, runs changed)
  const auto stale = planPartition(translation(50, 80), ours(90, 50), false);
  // then: kept
  EXPECT_EQ(stale.action, PartitionAction::kKeepAhead);
  // when: the source group itself went back (an operator reset it to 20)
  const auto reset = planPartition(translation(20, 57), ours(90, 50), false);
  // then: followed, once confirmed
  EXPECT_EQ(reset.action, PartitionAction::kMoveBack);
  EXPECT_EQ(reset.target_offset, 57);
}

TEST(GroupSyncRules, AGroupThatConsumesOnTheTargetIsLeftAlone) {
  // given: the group's consumers ran on the target (after a failover, a drill,
  // or assign()-mode consumers) and committed past the sync's translation on
  // one partition
  std::vector<PartitionTranslation> translations = {translation(40, 77)};
  translations.push_back(translation(10, 15));
  translations[1].partition = 1;
  std::map<MirrorKey, CommittedOnTarget> committed = {{{"orders", 0}, foreign(120)},
                                                            {{"orders", 1}, ours(3, 2)}};
  // when
  const auto plan = planGroup(translations, committed, false);
  // then: the whole group is left alone, even the partition the sync could move
  // forward
  EXPECT_TRUE(plan.leaveAlone());
  EXPECT_EQ(plan.foreign_ahead, 1u);
  EXPECT_EQ(plan.partitions[0].action, PartitionAction::kForeignAhead);
  EXPECT_EQ(plan.partitions[1].action, PartitionAction::kCommit);
}

TEST(GroupSyncRules, AnEmptyGroupOnTheTargetBehindTheSyncIsMovedForward) {
  // Merely empty (consumers restarting) with offsets behind ours: not a reason
  // to stop syncing.
  const auto plan =
      planGroup({translation(40, 77)}, {{{"orders", 0}, foreign(10)}}, /*force=*/false);
  EXPECT_FALSE(plan.leaveAlone());
  EXPECT_EQ(plan.to_commit, 1u);
}

TEST(GroupSyncRules, NotReplicatedYetWaitsUnlessForced) {
  const auto waiting = planPartition(translation(40, -1, 300), ours(10, 5), false);
  EXPECT_EQ(waiting.action, PartitionAction::kWait);
  const auto forced = planPartition(translation(40, -1, 300), ours(10, 5), true);
  EXPECT_EQ(forced.action, PartitionAction::kCommit);
  EXPECT_EQ(forced.target_offset, 300);  // the readable end: the rest is the RPO
  // A forced move never moves a group back either.
  EXPECT_EQ(planPartition(translation(40, -1, 300), foreign(400), true).action,
            PartitionAction::kForeignAhead);
}

TEST(GroupSyncRules, PartitionsWithoutASourcePositionAreSkipped) {
  const auto plan = planGroup({translation(-1, -1)}, {}, false);
  EXPECT_EQ(plan.partitions[0].action, PartitionAction::kNoPosition);
  EXPECT_EQ(plan.to_commit, 0u);
  EXPECT_EQ(plan.waiting, 0u);
}

TEST(GroupSyncRules, AMoveBackNeedsAFreshSourceReadBelowTheSyncedPosition) {
  // The sync committed source 50. A fresh read still at 20: the source really
  // moved back.
  EXPECT_TRUE(moveBackConfirmed(ours(90, 50), 20));
  // A fresh read at 50 or later: the translation was older than the commit it
  // would undo.
  EXPECT_FALSE(moveBackConfirmed(ours(90, 50), 50));
  EXPECT_FALSE(moveBackConfirmed(ours(90, 50), 70));
  EXPECT_FALSE(moveBackConfirmed(ours(90, 50), -1));
  EXPECT_FALSE(moveBackConfirmed(foreign(90), 20));
}

}  // namespace
}  // namespace causeway::replicator
