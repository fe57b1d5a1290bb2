#include "replicator/offset_runs.h"
#include "replicator/source_accounting.h"

#include <gtest/gtest.h>

namespace causeway::replicator {
namespace {

TEST(SourceAccounting, NothingIsKnownBeforeAnythingWasDispatched) {
  OffsetTracker tracker;
  // An end reached right after the assignment says nothing about what lies below the start.
  EXPECT_EQ(accountedEnd(tracker, 500), -1);
}

TEST(SourceAccounting, DroppedAndDeadLetteredRecordsAreAccountedOnceAcknowledged) {
  // given: 10 delivered, 11 dropped by a stage (dispatched and acknowledged at once, as
  // Link::skip does), 12 dead-lettered and not yet acknowledged by the dead-letter queue
  OffsetTracker tracker;
  tracker.ack(tracker.dispatch(10, 1));
  tracker.ack(tracker.dispatch(11, 0));
  auto& dead_letter = tracker.dispatch(12, 1);
  // then: the end stops at the pending record, whatever end the reader reached
  EXPECT_EQ(accountedEnd(tracker, 20), 12);
  // when: the dead-letter queue has it
  tracker.ack(dead_letter);
  // then: everything up to the end reached is accounted for (13-19: no records, markers)
  EXPECT_EQ(accountedEnd(tracker, 20), 20);
  EXPECT_EQ(accountedEnd(tracker, -1), 13);
}

TEST(SourceAccounting, ATrailingTransactionMarkerIsAccountedAtTheEnd) {
  // given: records 0-4 delivered, a commit marker at 5, the partition's end at 6
  OffsetTracker tracker;
  for (int64_t o = 0; o < 5; ++o) {
    tracker.ack(tracker.dispatch(o, 1));
  }
  // then: a read_committed group at 6 (past the marker) has nothing left to wait for
  EXPECT_EQ(accountedEnd(tracker, 6), 6);
}

TEST(SourceAccounting, ARefusedRecordStopsItForGood) {
  OffsetTracker tracker;
  tracker.ack(tracker.dispatch(0, 1));
  auto& refused = tracker.dispatch(1, 1);
  tracker.ack(tracker.dispatch(2, 1));
  tracker.fail(refused);
  EXPECT_EQ(accountedEnd(tracker, 10), 1);
}

TEST(SourceAccounting, TheRunsKeepTheLargestAccountedEnd) {
  // The link marks the runs before each save; an older, smaller answer never moves them back.
  OffsetRuns runs;
  runs.add(0, 100);
  runs.markAccounted(20);
  runs.markAccounted(-1);
  runs.markAccounted(5);
  EXPECT_EQ(runs.accountedEnd(), 20);
}

}  // namespace
}  // namespace causeway::replicator
