// A transactional link commits the transactions of every partition it wrote at once: with the
// target's broker answering each request late (a transaction coordinator in another region),
// every record still arrives once, in order, and the status counts the commits and their time.
// The test prints the average commit time; it asserts no timing (docs/failover.md has the
// figures).

#include "replicator/worker.h"
#include "tests/support/test_support.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <thread>

namespace causeway {
namespace {

using namespace std::chrono_literals;
using testing::produceRecords;
using testing::readAll;
using testing::startCluster;
using testing::totalRecords;
using testing::waitFor;

TEST(TransactionalCommits, SixteenPartitionsThroughASlowTargetArriveOnceInOrderAndAreCounted) {
  // given: a transactional exactly-once link over 16 partitions that replicated a first batch
  constexpr int32_t kPartitions = 16;
  auto source = startCluster("source", 1, {{"orders", kPartitions}});
  auto target = startCluster("target", 1);
  ASSERT_TRUE(source && target);
  ASSERT_TRUE(produceRecords(source->bootstrap(), "orders", kPartitions, 50, 0));
  auto config = testing::makeConfig(*source, *target, {"orders"});
  config.links[0].delivery = config::DeliveryMode::kExactlyOnce;
  config.links[0].transactional = true;
  replicator::Worker worker(config);
  ASSERT_TRUE(worker.start().ok());
  auto failed = [&] { return worker.statuses().at(0).state == replicator::LinkState::kFailed; };
  ASSERT_TRUE(waitFor(
      [&] { return failed() || totalRecords(target->bootstrap(), "orders", kPartitions) >= 800; },
      90s));
  const auto before = worker.statuses().at(0);

  // when: the target answers every request 20 ms late while more records come, in rounds that
  // each end in a commit of every partition
  rd_kafka_mock_broker_set_rtt(target->mock(), 1, 20);
  for (int round = 0; round < 4; ++round) {
    ASSERT_TRUE(produceRecords(source->bootstrap(), "orders", kPartitions, 50, 50 + round * 50));
    std::this_thread::sleep_for(1200ms);  // past the commit interval (1 s)
  }
  const bool complete = waitFor(
      [&] { return failed() || totalRecords(target->bootstrap(), "orders", kPartitions) >= 4000; },
      90s);
  const bool counted = waitFor(
      [&] { return worker.statuses().at(0).transaction_commits >= before.transaction_commits + 4; },
      30s);
  rd_kafka_mock_broker_set_rtt(target->mock(), 1, 0);
  const auto after = worker.statuses().at(0);
  worker.stop();

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
  const auto check = verify::checkMirror("orders", readAll(source->bootstrap(), "orders"), "orders",
                                         readAll(target->bootstrap(), "orders"));
  EXPECT_TRUE(check.identical()) << check.describe();
}

// A commit may take as long as the producer's transaction.timeout.ms. One whose EndTxn answer comes
// later is left under way in librdkafka, which takes no record for that partition until the
// commit is called again: the partition waits for the next commit instead of writing (writing
// failed with "Erroneous state" and stopped the link).
TEST(TransactionalCommits, ACommitThatRunsOutOfTimeIsFinishedAtTheNextOneAndTheLinkGoesOn) {
  // given: a transactional exactly-once link whose transactions may stay open 5 s, over 4
  // partitions that replicated a first batch
  constexpr int32_t kPartitions = 4;
  constexpr int kEndTxnApi = 26;
  auto source = startCluster("source", 1, {{"orders", kPartitions}});
  auto target = startCluster("target", 1);
  ASSERT_TRUE(source && target);
  ASSERT_TRUE(produceRecords(source->bootstrap(), "orders", kPartitions, 50, 0));
  auto config = testing::makeConfig(*source, *target, {"orders"});
  config.links[0].delivery = config::DeliveryMode::kExactlyOnce;
  config.links[0].transactional = true;
  config.links[0].producer_properties["transaction.timeout.ms"] = "5000";
  replicator::Worker worker(config);
  ASSERT_TRUE(worker.start().ok());
  auto failed = [&] { return worker.statuses().at(0).state == replicator::LinkState::kFailed; };
  ASSERT_TRUE(waitFor(
      [&] { return failed() || totalRecords(target->bootstrap(), "orders", kPartitions) >= 200; },
      90s));
  ASSERT_FALSE(failed()) << worker.statuses().at(0).error;
  const auto before = worker.statuses().at(0);

  // when: the target answers the next two EndTxn requests 8 s late, so their commits run out of
  // time, while more records come for every partition
  ASSERT_EQ(rd_kafka_mock_broker_push_request_error_rtts(target->mock(), 1, kEndTxnApi, 2,
                                                         RD_KAFKA_RESP_ERR_NO_ERROR, 8000,
                                                         RD_KAFKA_RESP_ERR_NO_ERROR, 8000),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  for (int round = 0; round < 6; ++round) {
    ASSERT_TRUE(produceRecords(source->bootstrap(), "orders", kPartitions, 50, 50 + round * 50));
    std::this_thread::sleep_for(1500ms);  // past the commit interval (1 s)
  }
  const bool complete = waitFor(
      [&] { return failed() || totalRecords(target->bootstrap(), "orders", kPartitions) >= 1400; },
      90s);
  const bool committed_since = waitFor(
      [&] { return worker.statuses().at(0).transaction_commits >= before.transaction_commits + 3; },
      30s);
  const auto after = worker.statuses().at(0);
  worker.stop();

  // then: the link went on, and every record is on the target once, in order
  ASSERT_NE(after.state, replicator::LinkState::kFailed) << after.error;
  EXPECT_TRUE(complete);
  EXPECT_TRUE(committed_since) << after.transaction_commits;
  const auto check = verify::checkMirror("orders", readAll(source->bootstrap(), "orders"), "orders",
                                         readAll(target->bootstrap(), "orders"));
  EXPECT_TRUE(check.identical()) << check.describe();
}

}  // namespace
}  // namespace causeway
