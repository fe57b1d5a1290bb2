// Exactly-once partitions whose takeover the target does not answer in time: the partition stays
// held and is taken over again, backing off, instead of stopping the link. On Kafka this is a
// transaction coordinator that does not answer InitProducerId (a broker restart, a network cut);
// here the target's broker answers the first InitProducerId after 15 s.

#include "replicator/worker.h"
#include "tests/support/test_support.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <gtest/gtest.h>

namespace causeway {
namespace {

using namespace std::chrono_literals;
using testing::produceRecords;
using testing::readAll;
using testing::startCluster;
using testing::totalRecords;
using testing::waitFor;

constexpr int16_t kInitProducerIdApi = 22;

TEST(ResumeRetry, ATakeoverTheTargetDoesNotAnswerInTimeIsTriedAgainAndNothingIsLost) {
  // given: records on a 2-partition source and a transactional exactly-once link
  constexpr int32_t kPartitions = 2;
  auto source = startCluster("source", 1, {{"orders", kPartitions}});
  auto target = startCluster("target", 1);
  ASSERT_TRUE(source && target);
  ASSERT_TRUE(produceRecords(source->bootstrap(), "orders", kPartitions, 30, 0));
  auto config = testing::makeConfig(*source, *target, {"orders"});
  config.links[0].delivery = config::DeliveryMode::kExactlyOnce;
  config.links[0].transactional = true;
  replicator::Worker worker(config);
  ASSERT_TRUE(worker.start().ok());
  // The link's first producer (the reachability check) is gone once start() returned, and the
  // first assignment takes seconds: the next InitProducerId is a partition's takeover.
  ASSERT_EQ(rd_kafka_mock_broker_push_request_error_rtts(target->mock(), 1, kInitProducerIdApi, 1,
                                                         RD_KAFKA_RESP_ERR_NO_ERROR, 15000),
            RD_KAFKA_RESP_ERR_NO_ERROR);

  // when: that takeover runs out of time (10 s) and the target answers the next one at once
  const bool asked_again = waitFor(
      [&] {
        const auto status = worker.statuses().at(0);
        auto it = status.errors.find("resume:unavailable");
        return status.state == replicator::LinkState::kFailed ||
               (it != status.errors.end() && it->second >= 1);
      },
      90s);
  const bool complete = waitFor(
      [&] {
        return worker.statuses().at(0).state == replicator::LinkState::kFailed ||
               totalRecords(target->bootstrap(), "orders", kPartitions) >= 30 * kPartitions;
      },
      90s);
  ASSERT_TRUE(produceRecords(source->bootstrap(), "orders", kPartitions, 10, 30));
  const bool more = waitFor(
      [&] {
        return worker.statuses().at(0).state == replicator::LinkState::kFailed ||
               totalRecords(target->bootstrap(), "orders", kPartitions) >= 40 * kPartitions;
      },
      60s);
  // The status says why partitions wait until the next status update after they started.
  const auto waits = [](const replicator::LinkStatus& s) {
    return s.last_error.find("wait for the target to say where they resume") != std::string::npos;
  };
  const bool note_cleared = waitFor([&] { return !waits(worker.statuses().at(0)); }, 10s);
  const auto status = worker.statuses().at(0);
  worker.stop();

  // then: the link kept running, said why the partition waited, and every record is on the target
  // once, in order
  ASSERT_NE(status.state, replicator::LinkState::kFailed) << status.error;
  EXPECT_TRUE(asked_again) << "no takeover was tried again";
  EXPECT_TRUE(complete && more);
  EXPECT_TRUE(note_cleared && !waits(status)) << status.last_error;
  const auto check = verify::checkMirror("orders", readAll(source->bootstrap(), "orders"), "orders",
                                         readAll(target->bootstrap(), "orders"));
  EXPECT_TRUE(check.identical()) << check.describe();
}

TEST(ResumeRetry, ATakeoverTheTargetRefusesStopsTheLinkNamingThePartition) {
  // given: a transactional exactly-once link whose target refuses the takeover for good (the
  // worker may not use the partition's transactional.id)
  auto source = startCluster("source", 1, {{"orders", 1}});
  auto target = startCluster("target", 1);
  ASSERT_TRUE(source && target);
  ASSERT_TRUE(produceRecords(source->bootstrap(), "orders", 1, 5, 0));
  auto config = testing::makeConfig(*source, *target, {"orders"});
  config.links[0].delivery = config::DeliveryMode::kExactlyOnce;
  config.links[0].transactional = true;
  replicator::Worker worker(config);
  ASSERT_TRUE(worker.start().ok());
  ASSERT_EQ(rd_kafka_mock_broker_push_request_error_rtts(
                target->mock(), 1, kInitProducerIdApi, 1,
                RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 0),
            RD_KAFKA_RESP_ERR_NO_ERROR);

  // when: the partition is assigned
  const bool failed =
      waitFor([&] { return worker.statuses().at(0).state == replicator::LinkState::kFailed; }, 60s);
  const auto status = worker.statuses().at(0);
  worker.stop();

  // then: the link stops, naming the partition's transactional.id and the refusal, and wrote
  // nothing
  ASSERT_TRUE(failed) << "the link kept running";
  EXPECT_NE(status.error.find("cannot take over transactional.id 'causeway:test-link:orders:0'"),
            std::string::npos)
      << status.error;
  EXPECT_NE(status.error.find("uthoriz"), std::string::npos) << status.error;
  EXPECT_EQ(totalRecords(target->bootstrap(), "orders", 1), 0);
}

}  // namespace
}  // namespace causeway
