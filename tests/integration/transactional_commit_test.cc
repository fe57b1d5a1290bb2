// Transactional links commit the transactions of every partition they wrote at once: with the
// target's broker answering each request late (a transaction coordinator in another region),
// every record still arrives once, in order, and the status counts the commits and their time
// (the test prints the average commit time and asserts no timing; docs/failover.md has the
// figures). A commit that runs out of time is finished later while the link goes on.

#include "replicator/worker.h"
#include "tests/support/exactly_once_link_fixture.h"
#include "tests/support/test_support.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <thread>

namespace causeway {
namespace {

using namespace std::chrono_literals;
using testing::produceRecords;
using testing::readAll;
using testing::startCluster;
using testing::totalRecords;
using testing::waitFor;

// A transactional exactly-once link over "orders" that has replicated its first 50 records per
// partition.
class TransactionalCommits : public testing::ExactlyOnceLinkTest {
protected:
  void startLink(int32_t partitions, const std::map<std::string, std::string>& producer = {}) {
    ASSERT_NO_FATAL_FAILURE(
        ExactlyOnceLinkTest::startLink(partitions, 50, /*transactional=*/true, producer));
    ASSERT_TRUE(targetHolds(50LL * partitions, 90s));
    ASSERT_FALSE(failed()) << status().error;
  }

  // `rounds` more rounds of 50 records per partition, each followed by `pause` (past the commit
  // interval, 1 s, so that each round ends in a commit).
  void produceRounds(int rounds, std::chrono::milliseconds pause) {
    for (int round = 0; round < rounds; ++round) {
      ASSERT_TRUE(produceRecords(source_->bootstrap(), "orders", partitions_, 50, 50 + round * 50));
      std::this_thread::sleep_for(pause);
    }
  }

  bool committedSince(const replicator::LinkStatus& before, uint64_t commits) {
    return waitFor(
        [&] { return status().transaction_commits >= before.transaction_commits + commits; }, 30s);
  }
};

TEST_F(TransactionalCommits, SixteenPartitionsThroughASlowTargetArriveOnceInOrderAndAreCounted) {
  // given: a transactional exactly-once link over 16 partitions that replicated a first batch
  ASSERT_NO_FATAL_FAILURE(startLink(16));
  const auto before = status();

  // when: the target answers every request 20 ms late while more records come, in rounds that
  // each end in a commit of every partition
  rd_kafka_mock_broker_set_rtt(target_->mock(), 1, 20);
  ASSERT_NO_FATAL_FAILURE(produceRounds(4, 1200ms));
  const bool complete = targetHolds(16 * 250, 90s);
  const bool counted = committedSince(before, 4);
  rd_kafka_mock_broker_set_rtt(target_->mock(), 1, 0);
  const auto after = status();

  // then: every record is on the target once, in order, and the commits were counted with their
  // time
  ASSERT_NE(after.state, replicator::LinkState::kFailed) << after.error;
  EXPECT_TRUE(complete);
  EXPECT_TRUE(counted) << after.transaction_commits;
  EXPECT_GT(after.transaction_commit_seconds, before.transaction_commit_seconds);
  const uint64_t commits = after.transaction_commits - before.transaction_commits;
  if (commits > 0) {
    std::printf("transactional commits through a 20 ms target: %llu, %.1f ms on average\n",
                static_cast<unsigned long long>(commits),
                1000 * (after.transaction_commit_seconds - before.transaction_commit_seconds) /
                    static_cast<double>(commits));
  }
  expectMirrorIdentical();
}

// A commit may take as long as the producer's transaction.timeout.ms. One whose EndTxn answer comes
// later is left under way in librdkafka, which takes no record for that partition until the
// commit is called again: the partition waits for the next commit instead of writing (writing
// failed with "Producing not allowed in transactional state CommittingTransaction" and stopped
// the link).
TEST_F(TransactionalCommits, ACommitThatRunsOutOfTimeIsFinishedAtTheNextOneAndTheLinkGoesOn) {
  // given: a transactional exactly-once link whose transactions may stay open 5 s, over 4
  // partitions that replicated a first batch
  constexpr int kEndTxnApi = 26;
  ASSERT_NO_FATAL_FAILURE(startLink(4, {{"transaction.timeout.ms", "5000"}}));
  const auto before = status();

  // when: the target answers the next two EndTxn requests 8 s late, so their commits run out of
  // time, while more records come for every partition
  ASSERT_EQ(rd_kafka_mock_broker_push_request_error_rtts(target_->mock(), 1, kEndTxnApi, 2,
                                                         RD_KAFKA_RESP_ERR_NO_ERROR, 8000,
                                                         RD_KAFKA_RESP_ERR_NO_ERROR, 8000),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  ASSERT_NO_FATAL_FAILURE(produceRounds(6, 1500ms));
  const bool complete = targetHolds(4 * 350, 90s);
  const bool committed_since = committedSince(before, 3);
  const auto after = status();

  // then: the link went on, and every record is on the target once, in order
  ASSERT_NE(after.state, replicator::LinkState::kFailed) << after.error;
  EXPECT_TRUE(complete);
  EXPECT_TRUE(committed_since) << after.transaction_commits;
  expectMirrorIdentical();
}

// A commit the target refuses for good (an EndTxn error librdkafka 2.0.2 takes as abortable) stops
// the link, naming the partition, after aborting its transaction; a restart resumes exactly after
// what is committed on the target.
TEST_F(TransactionalCommits, ACommitTheTargetRefusesStopsTheLinkAndARestartResumesExactly) {
  // given: a transactional exactly-once link over 4 partitions that replicated a first batch
  constexpr int kEndTxnApi = 26;
  ASSERT_NO_FATAL_FAILURE(startLink(4));

  // when: the target refuses the next EndTxn while more records come
  rd_kafka_mock_push_request_errors(target_->mock(), kEndTxnApi, 1,
                                    RD_KAFKA_RESP_ERR_UNKNOWN);  // UNKNOWN_SERVER_ERROR
  ASSERT_NO_FATAL_FAILURE(produceRounds(1, 0ms));
  const bool stopped = waitFor([&] { return failed(); }, 60s);
  const auto refused = status();

  // then: the link stopped, naming the partition whose commit was refused and aborted
  ASSERT_TRUE(stopped) << refused.last_error;
  EXPECT_NE(refused.error.find("committing the transaction of orders["), std::string::npos)
      << refused.error;
  EXPECT_NE(refused.error.find("failed and the transaction was aborted"), std::string::npos)
      << refused.error;

  // and when: it restarts and more records come, every record is on the target once, in order
  ASSERT_NO_FATAL_FAILURE(restartWorker());
  ASSERT_TRUE(produceRecords(source_->bootstrap(), "orders", partitions_, 50, 100));
  EXPECT_TRUE(targetHolds(4 * 150, 90s));
  EXPECT_FALSE(failed()) << status().error;
  expectMirrorIdentical();
}

}  // namespace
}  // namespace causeway
