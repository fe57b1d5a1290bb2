// The shared live window: eviction by bytes, where resuming clients may join, and waiters.

#include "egress/live_window.h"

#include <gtest/gtest.h>

namespace causeway::egress {
namespace {

const ResumeTokenCodec kCodec("window-test-secret-0123456789abcdef");
const uint32_t kTag = topicTag("t");

// Events on partitions 0 and 1 alternately; the tail's position after each.
class LiveWindowTest : public ::testing::Test {
protected:
  std::vector<TokenPosition> position_ = {{kTag, 0, 10}, {kTag, 1, 20}};

  StreamEvent next(int32_t partition, size_t data_bytes = 100) {
    StreamEvent e;
    e.topic_tag = kTag;
    e.partition = partition;
    e.offset = position_[static_cast<size_t>(partition)].next_offset++;
    e.topic = "t";
    e.data = std::string(data_bytes, 'x');
    e.token = kCodec.encode("p", position_);
    return e;
  }

  void add(LiveWindow& window, int n) {
    std::vector<StreamEvent> batch;
    for (int i = 0; i < n; ++i) {
      batch.push_back(next(i % 2));
    }
    window.append(batch);
  }
};

TEST_F(LiveWindowTest, EvictsOldestBeyondItsBytesAndMovesCoverage) {
  LiveWindow window(10 * 1024);
  window.reset(kCodec.encode("p", position_));
  add(window, 200);
  const auto s = window.snapshot();
  EXPECT_GT(s.first_seq, 0u);
  EXPECT_EQ(s.next_seq, 200u);
  EXPECT_LE(window.bytes(), 10u * 1024);
  // A client at the start position is behind the coverage now: it cannot join.
  const std::vector<TokenPosition> start = {{kTag, 0, 10}, {kTag, 1, 20}};
  EXPECT_FALSE(window.joinPoint(start, 1u << 30, kCodec, "p"));
  EXPECT_FALSE(window.afterToken(kCodec.encode("p", start), 1u << 30));
}

TEST_F(LiveWindowTest, ResumingFromAnIssuedTokenStartsRightAfterIt) {
  LiveWindow window(1u << 20);
  window.reset(kCodec.encode("p", position_));
  add(window, 10);
  std::string token_of_fourth;
  window.readOrWait(3, [&](const StreamEvent& e) {
    token_of_fourth = e.token;
    return false;
  });
  EXPECT_EQ(window.afterToken(token_of_fourth, 1u << 20), 4u);
  // Too far behind for a small buffer: not from the window.
  EXPECT_FALSE(window.afterToken(token_of_fourth, 100));
}

TEST_F(LiveWindowTest, JoinPointNeedsEverythingBeforeItSeen) {
  LiveWindow window(1u << 20);
  const std::vector<TokenPosition> start = position_;
  window.reset(kCodec.encode("p", position_));
  add(window, 10);  // offsets 10..14 on p0, 20..24 on p1
  // A client at the start joins at the first event.
  EXPECT_EQ(window.joinPoint(start, 1u << 20, kCodec, "p"), 0u);
  // With a buffer of about two events, the join point is near the head, and a client at the
  // start has not seen what lies before it.
  const uint64_t two_events = 2 * (sizeof(StreamEvent) + 100 + 100);
  EXPECT_FALSE(window.joinPoint(start, two_events, kCodec, "p"));
  // A client that is at the head may join there.
  EXPECT_TRUE(window.joinPoint(position_, two_events, kCodec, "p"));
  // Behind the coverage on one partition: no.
  const std::vector<TokenPosition> behind = {{kTag, 0, 5}, {kTag, 1, 25}};
  EXPECT_FALSE(window.joinPoint(behind, 1u << 20, kCodec, "p"));
}

TEST_F(LiveWindowTest, WaiterRegisteredAtTheHeadIsCalledOnAppend) {
  LiveWindow window(1u << 20);
  window.reset(kCodec.encode("p", position_));
  int calls = 0;
  LiveWindow::Waiter waiter = [&] { ++calls; };
  window.readOrWait(
      0, [](const StreamEvent&) { return true; }, &waiter);
  EXPECT_EQ(calls, 0);
  add(window, 1);
  EXPECT_EQ(calls, 1);
  add(window, 1);
  EXPECT_EQ(calls, 1) << "waiters are called once";
  window.fail("stopped");
  EXPECT_TRUE(window.snapshot().failure);
}

TEST(NotAheadTest, ComparesPerPartition) {
  const std::vector<TokenPosition> bound = {{1, 0, 10}, {1, 1, 10}};
  EXPECT_TRUE(notAhead({{1, 0, 10}, {1, 1, 3}}, bound));
  EXPECT_FALSE(notAhead({{1, 0, 11}}, bound));
  EXPECT_TRUE(notAhead({{2, 0, 99}}, bound)) << "partitions the bound lacks do not count";
}

} // namespace
} // namespace causeway::egress
