// Exactly-once hand-overs: a partition only changes owner once what was sent for it is
// acknowledged (a slow target must not leave records landing after the next owner resumed), and
// where hundreds of partitions resume is found off the rebalance callback, all at once.

#include "replicator/worker.h"
#include "tests/support/test_support.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <gtest/gtest.h>

#include <atomic>
#include <iostream>
#include <thread>

namespace causeway {
namespace {

using namespace std::chrono_literals;
using testing::produceRecords;
using testing::readAll;
using testing::startCluster;
using testing::totalRecords;
using testing::waitFor;

void secondWorkerJoinsWhileTheTargetIsSlow(bool transactional) {
  // given: an exactly-once link on one worker, a target answering after 300 ms, records flowing
  constexpr int32_t kPartitions = 6;
  auto source = startCluster("source", 3, {{"orders", kPartitions}});
  auto target = startCluster("target", 3);
  ASSERT_TRUE(source && target);
  auto config = testing::makeConfig(*source, *target, {"orders"});
  config.links[0].delivery = config::DeliveryMode::kExactlyOnce;
  config.links[0].transactional = transactional;
  replicator::Worker first(config);
  ASSERT_TRUE(first.start().ok());
  ASSERT_TRUE(produceRecords(source->bootstrap(), "orders", kPartitions, 50, 0));
  ASSERT_TRUE(waitFor(
      [&] { return totalRecords(target->bootstrap(), "orders", kPartitions) >= 50 * kPartitions; },
      60s));
  for (int broker = 1; broker <= 3; ++broker) {
    rd_kafka_mock_broker_set_rtt(target->mock(), broker, 300);
  }
  // Records flow until the hand-over is done and a while after (capped: the mock keeps at most
  // 5 MiB per partition), however long the rebalance takes on a slow machine.
  std::atomic<bool> feeding{true};
  std::atomic<uint64_t> fed{50};
  std::thread feeder([&] {
    while (feeding.load() && fed.load() < 3000) {
      produceRecords(source->bootstrap(), "orders", kPartitions, 10, fed.load());
      fed += 10;
      std::this_thread::sleep_for(100ms);
    }
  });

  // when: a second worker joins mid-flow (a cooperative rebalance moves partitions to it)
  std::this_thread::sleep_for(1s);
  replicator::Worker second(config);
  const bool second_started = second.start().ok();
  const bool handed_over =
      second_started && waitFor([&] { return !second.statuses().at(0).partitions.empty(); }, 90s);
  const uint64_t fed_at_handover = fed.load();
  // A few more rounds through the slow target after the hand-over.
  waitFor([&] { return fed.load() >= fed_at_handover + 30; }, 30s);
  feeding = false;
  feeder.join();
  ASSERT_TRUE(second_started);
  ASSERT_TRUE(handed_over) << "the second worker got no partition within 90 s";
  for (int broker = 1; broker <= 3; ++broker) {
    rd_kafka_mock_broker_set_rtt(target->mock(), broker, 0);
  }
  const uint64_t total = fed.load() * kPartitions;
  const bool complete = waitFor(
      [&] { return totalRecords(target->bootstrap(), "orders", kPartitions) >= int64_t(total); },
      90s);
  std::this_thread::sleep_for(2s);  // late copies would land now
  const auto first_status = first.statuses().at(0);
  const auto second_status = second.statuses().at(0);
  second.stop();
  first.stop();

  // then: every record is on the target exactly once, in order
  EXPECT_TRUE(complete);
  EXPECT_NE(first_status.state, replicator::LinkState::kFailed) << first_status.error;
  EXPECT_NE(second_status.state, replicator::LinkState::kFailed) << second_status.error;
  EXPECT_GT(second_status.rebalances, 0u);
  const auto check = verify::checkMirror("orders", readAll(source->bootstrap(), "orders"), "orders",
                                         readAll(target->bootstrap(), "orders"));
  EXPECT_TRUE(check.identical()) << check.describe();
}

TEST(ExactlyOnceHandover, ASecondWorkerJoiningWhileTheTargetIsSlowDuplicatesNothing) {
  secondWorkerJoinsWhileTheTargetIsSlow(/*transactional=*/false);
}

// Transactional: each partition moves with its own producer (a transactional.id per source
// partition), committed and closed by the old owner before the new one takes the id over.
TEST(ExactlyOnceHandover, ATransactionalLinkHandsEachPartitionsProducerOver) {
  secondWorkerJoinsWhileTheTargetIsSlow(/*transactional=*/true);
}

TEST(ExactlyOnceHandover, SixHundredPartitionsOfAFullTargetResumeTogether) {
  // given: 600 mirror partitions that already hold this link's records
#if defined(__SANITIZE_ADDRESS__)
  // Under AddressSanitizer the embedded clusters alone need minutes for 600 partitions; the
  // breadth is measured in the plain build.
  constexpr int32_t kPartitions = 200;
#else
  constexpr int32_t kPartitions = 600;
#endif
  auto source = startCluster("source", 3, {{"wide", kPartitions}});
  auto target = startCluster("target", 3);
  ASSERT_TRUE(source && target);
  auto config = testing::makeConfig(*source, *target, {"wide"});
  config.links[0].delivery = config::DeliveryMode::kExactlyOnce;
  ASSERT_TRUE(produceRecords(source->bootstrap(), "wide", kPartitions, 3, 0));
  {
    replicator::Worker worker(config);
    ASSERT_TRUE(worker.start().ok());
    ASSERT_TRUE(waitFor(
        [&] { return totalRecords(target->bootstrap(), "wide", kPartitions) >= 3 * kPartitions; },
        120s));
    worker.stop();
  }

  // when: one more record per partition arrives and a new worker starts
  ASSERT_TRUE(produceRecords(source->bootstrap(), "wide", kPartitions, 1, 3));
  const auto started = std::chrono::steady_clock::now();
  replicator::Worker worker(config);
  ASSERT_TRUE(worker.start().ok());
  const bool complete = waitFor(
      [&] { return totalRecords(target->bootstrap(), "wide", kPartitions) >= 4 * kPartitions; },
      120s, 200ms);
  const auto took = std::chrono::steady_clock::now() - started;
  worker.stop();

  // then: every partition resumed exactly after its last record (no copy twice)
  ASSERT_TRUE(complete);
  std::cout << "[ report ] start to the last of " << kPartitions << " new records on the target: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms\n";
  EXPECT_EQ(totalRecords(target->bootstrap(), "wide", kPartitions), 4 * kPartitions);
}

}  // namespace
}  // namespace causeway
