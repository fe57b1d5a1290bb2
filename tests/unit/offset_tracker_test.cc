#include "replicator/offset_tracker.h"

#include <gtest/gtest.h>

#include <vector>

namespace causeway::replicator {
namespace {

TEST(OffsetTracker, NothingToCommitBeforeAnythingWasSent) {
  OffsetTracker tracker;
  EXPECT_FALSE(tracker.commitPoint().has_value());
  EXPECT_EQ(tracker.inFlightRecords(), 0u);
}

TEST(OffsetTracker, CommitPointStaysAtFirstUnackedRecord) {
  // given: three records sent
  OffsetTracker tracker;
  auto& a = tracker.dispatch(10, 100);
  tracker.dispatch(11, 100);
  tracker.dispatch(12, 100);
  // then: nothing acknowledged means a restart must begin at the first
  EXPECT_EQ(tracker.commitPoint(), 10);
  // when: the first is acknowledged
  EXPECT_TRUE(tracker.ack(a));
  // then
  EXPECT_EQ(tracker.commitPoint(), 11);
  EXPECT_EQ(tracker.inFlightRecords(), 2u);
  EXPECT_EQ(tracker.inFlightBytes(), 200u);
}

TEST(OffsetTracker, OutOfOrderAcksAdvanceOnlyOverContiguousPrefix) {
  OffsetTracker tracker;
  std::vector<OffsetTracker::Entry*> e;
  for (int64_t o = 0; o < 5; ++o) {
    e.push_back(&tracker.dispatch(o, 1));
  }
  // when: 3, 1, 4 are acknowledged before 0
  EXPECT_FALSE(tracker.ack(*e[3]));
  EXPECT_FALSE(tracker.ack(*e[1]));
  EXPECT_FALSE(tracker.ack(*e[4]));
  // then: the commit point may not pass 0
  EXPECT_EQ(tracker.commitPoint(), 0);
  // when: 0 is acknowledged, the point moves over 0 and 1 and stops at 2
  EXPECT_TRUE(tracker.ack(*e[0]));
  EXPECT_EQ(tracker.commitPoint(), 2);
  // when: 2 arrives, everything is acknowledged: resume after the last record sent
  EXPECT_TRUE(tracker.ack(*e[2]));
  EXPECT_EQ(tracker.commitPoint(), 5);
  EXPECT_EQ(tracker.inFlightRecords(), 0u);
}

TEST(OffsetTracker, GapsInSourceOffsetsAreCommittedPast) {
  // Compacted topics and transaction markers leave gaps between offsets.
  OffsetTracker tracker;
  auto& a = tracker.dispatch(100, 1);
  auto& b = tracker.dispatch(105, 1);
  tracker.ack(b);
  EXPECT_EQ(tracker.commitPoint(), 100);
  tracker.ack(a);
  EXPECT_EQ(tracker.commitPoint(), 106);
}

TEST(OffsetTracker, FailedDeliveryBlocksTheCommitPointForGood) {
  OffsetTracker tracker;
  auto& a = tracker.dispatch(0, 1);
  auto& b = tracker.dispatch(1, 1);
  auto& c = tracker.dispatch(2, 1);
  tracker.ack(a);
  tracker.fail(b);
  tracker.ack(c);
  EXPECT_EQ(tracker.commitPoint(), 1);
  EXPECT_TRUE(tracker.hasFailed());
  EXPECT_EQ(tracker.inFlightRecords(), 0u);
}

TEST(OffsetTracker, EntriesKeepTheirAddressWhileOthersComeAndGo) {
  // The delivery report carries a pointer to its entry: it must survive growth of the queue.
  OffsetTracker tracker;
  auto& first = tracker.dispatch(0, 1);
  std::vector<OffsetTracker::Entry*> later;
  for (int64_t o = 1; o < 10000; ++o) {
    later.push_back(&tracker.dispatch(o, 1));
  }
  EXPECT_EQ(first.offset, 0);
  for (auto* entry : later) {
    tracker.ack(*entry);
  }
  EXPECT_EQ(first.offset, 0);  // still valid: not yet passed by the commit point
  tracker.ack(first);
  EXPECT_EQ(tracker.commitPoint(), 10000);
}

TEST(OffsetTracker, ResetStartsOver) {
  OffsetTracker tracker;
  tracker.dispatch(7, 1);
  tracker.reset();
  EXPECT_FALSE(tracker.commitPoint().has_value());
  EXPECT_EQ(tracker.lastDispatched(), -1);
  auto& e = tracker.dispatch(3, 1);
  tracker.ack(e);
  EXPECT_EQ(tracker.commitPoint(), 4);
}

TEST(OffsetTracker, ContextIsKept) {
  int owner = 0;
  OffsetTracker tracker(&owner);
  auto& e = tracker.dispatch(0, 1);
  EXPECT_EQ(e.tracker->context(), &owner);
}

}  // namespace
}  // namespace causeway::replicator
