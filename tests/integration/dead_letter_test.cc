// Records the target refuses for good: dead-lettered (on_reject: dlq) or the link stops at them,
// and a restart never jumps over them. Refusals are injected into the target's Produce answers
// (rd_kafka_mock_push_request_errors).

#include "replicator/dead_letter_writer.h"
#include "replicator/worker.h"
#include "tests/support/test_support.h"

#include <librdkafka/rdkafka_mock.h>

#include <gtest/gtest.h>

namespace causeway {
namespace {

using namespace std::chrono_literals;
using testing::makeConfig;
using testing::makeRecord;
using testing::produceRecords;
using testing::readAll;
using testing::startCluster;
using testing::waitFor;

std::optional<std::string> header(const verify::ConsumedRecord& record, const std::string& name) {
  std::optional<std::string> found;
  for (const auto& [key, value] : record.headers) {
    if (key == name) {
      found = value.value_or("");
    }
  }
  return found;
}

size_t recordsIn(const std::string& bootstrap, const std::string& topic) {
  size_t n = 0;
  for (const auto& partition : readAll(bootstrap, topic)) {
    n += partition.size();
  }
  return n;
}

replicator::LinkStatus linkStatus(const replicator::Worker& worker) {
  return worker.statuses().at(0);
}

TEST(DeadLetters, RecordsTheTargetRefusesGoToTheQueueAndTheRestArrivesInOrder) {
  // given: an at-least-once link that dead-letters refused records into the source cluster
  auto source = startCluster("source", 1, {{"orders", 1}});
  auto target = startCluster("target", 1);
  ASSERT_TRUE(source && target);
  auto config = makeConfig(*source, *target, {"orders"});
  config.links[0].dlq.enabled = true;
  config.links[0].dlq.on_source = true;
  config.links[0].on_reject = config::RejectAction::kDeadLetter;
  const std::string dlq_topic = config.links[0].deadLetterTopic();
  replicator::Worker worker(config);
  ASSERT_TRUE(worker.start().ok());
  ASSERT_TRUE(produceRecords(source->bootstrap(), "orders", 1, 30, 0));
  ASSERT_TRUE(waitFor([&] { return recordsIn(target->bootstrap(), "orders") >= 30; }, 60s));

  // when: the target refuses the next produce request (one record in it), then accepts again
  rd_kafka_mock_push_request_errors(target->mock(), 0 /* Produce */, 1,
                                    RD_KAFKA_RESP_ERR_INVALID_RECORD);
  ASSERT_TRUE(produceRecords(source->bootstrap(), "orders", 1, 1, 30));
  ASSERT_TRUE(waitFor([&] { return recordsIn(source->bootstrap(), dlq_topic) >= 1; }, 30s))
      << "nothing reached the dead-letter topic";
  ASSERT_TRUE(produceRecords(source->bootstrap(), "orders", 1, 29, 31));
  ASSERT_TRUE(waitFor([&] { return recordsIn(target->bootstrap(), "orders") >= 59; }, 60s));
  // The link publishes its status periodically: wait until it counts the dead-letter too.
  ASSERT_TRUE(waitFor([&] { return !linkStatus(worker).decisions.empty(); }, 10s));
  const auto status = linkStatus(worker);
  worker.stop();

  // then: the queue holds exactly the refused record, as it was read, with the reason
  EXPECT_EQ(status.state, replicator::LinkState::kRunning) << status.error;
  ASSERT_EQ(status.decisions.size(), 1u);
  EXPECT_EQ(status.decisions[0].outcome, "dead_lettered");
  EXPECT_EQ(status.decisions[0].stage, "target");
  EXPECT_EQ(status.decisions[0].reason, "rejected:INVALID_RECORD");
  EXPECT_EQ(status.decisions[0].rule, "on_reject");
  EXPECT_EQ(status.decisions[0].records, 1u);
  const auto dead = readAll(source->bootstrap(), dlq_topic);
  ASSERT_EQ(dead.size(), 1u);
  ASSERT_EQ(dead[0].size(), 1u);
  const auto& record = dead[0][0];
  const auto expected = makeRecord("orders", 0, 30);
  EXPECT_EQ(record.key, expected.key);
  EXPECT_EQ(record.value, expected.value);
  EXPECT_EQ(record.timestamp, expected.timestamp);
  for (const auto& [name, value] : expected.headers) {
    EXPECT_EQ(header(record, name), value) << name;
  }
  EXPECT_EQ(header(record, std::string(replicator::kDlqSourceTopicHeader)), "orders");
  EXPECT_EQ(header(record, std::string(replicator::kDlqSourcePartitionHeader)), "0");
  EXPECT_EQ(header(record, std::string(replicator::kDlqSourceOffsetHeader)), "30");
  EXPECT_EQ(header(record, std::string(replicator::kDlqLinkHeader)), "test-link");
  EXPECT_EQ(header(record, std::string(replicator::kDlqRuleHeader)), "on_reject");
  EXPECT_TRUE(header(record, std::string(replicator::kDlqReasonHeader))
                  .value_or("")
                  .starts_with("rejected:INVALID_RECORD"));
  // ... and the target everything else, in source order, nothing lost
  const auto mirror = readAll(target->bootstrap(), "orders");
  ASSERT_EQ(mirror.size(), 1u);
  ASSERT_EQ(mirror[0].size(), 59u);
  uint64_t seq = 0;
  for (const auto& copy : mirror[0]) {
    if (seq == 30) {
      seq += 1;
    }
    EXPECT_EQ(copy.value, makeRecord("orders", 0, seq).value) << "target offset " << copy.offset;
    seq += 1;
  }
}

TEST(DeadLetters, ExactlyOnceStopsAtARefusedRecordAndARestartDoesNotJumpOverIt) {
  // given: an exactly-once link without a dead-letter queue that replicated 20 records
  auto source = startCluster("source", 1, {{"orders", 1}});
  auto target = startCluster("target", 1);
  ASSERT_TRUE(source && target);
  auto config = makeConfig(*source, *target, {"orders"});
  config.links[0].delivery = config::DeliveryMode::kExactlyOnce;
  ASSERT_TRUE(produceRecords(source->bootstrap(), "orders", 1, 20, 0));
  {
    replicator::Worker worker(config);
    ASSERT_TRUE(worker.start().ok());
    ASSERT_TRUE(waitFor([&] { return recordsIn(target->bootstrap(), "orders") >= 20; }, 60s));
    // (and saved its offset runs, the first save after records: the injected error below must
    // meet the next record, not that state record)
    ASSERT_TRUE(waitFor(
        [&] { return recordsIn(target->bootstrap(), "causeway.test-link.state") >= 1; }, 30s));

    // when: the target refuses the next record
    rd_kafka_mock_push_request_errors(target->mock(), 0 /* Produce */, 1,
                                      RD_KAFKA_RESP_ERR_INVALID_RECORD);
    ASSERT_TRUE(produceRecords(source->bootstrap(), "orders", 1, 1, 20));
    // then: the link stops, naming the partition and the offset
    EXPECT_TRUE(waitFor(
        [&] {
          const auto status = linkStatus(worker);
          return status.state == replicator::LinkState::kFailed &&
                 status.error.find("orders[0]@20") != std::string::npos;
        },
        30s))
        << linkStatus(worker).error;
    worker.stop();
  }
  ASSERT_TRUE(produceRecords(source->bootstrap(), "orders", 1, 10, 21));
  {
    // and: a restart while the target still refuses it stops at the same record
    rd_kafka_mock_push_request_errors(target->mock(), 0 /* Produce */, 1,
                                      RD_KAFKA_RESP_ERR_INVALID_RECORD);
    replicator::Worker worker(config);
    ASSERT_TRUE(worker.start().ok());
    EXPECT_TRUE(waitFor(
        [&] {
          const auto status = linkStatus(worker);
          return status.state == replicator::LinkState::kFailed &&
                 status.error.find("orders[0]@20") != std::string::npos;
        },
        60s))
        << linkStatus(worker).error;
    worker.stop();
  }
  EXPECT_EQ(recordsIn(target->bootstrap(), "orders"), 20u) << "something after the refused "
                                                              "record reached the target";
  {
    // and: once the target takes it, everything arrives exactly once, in order
    replicator::Worker worker(config);
    ASSERT_TRUE(worker.start().ok());
    ASSERT_TRUE(waitFor([&] { return recordsIn(target->bootstrap(), "orders") >= 31; }, 60s));
    worker.stop();
  }
  const auto check = verify::checkMirror("orders", readAll(source->bootstrap(), "orders"), "orders",
                                         readAll(target->bootstrap(), "orders"));
  EXPECT_TRUE(check.identical()) << check.describe();
}

}  // namespace
}  // namespace causeway
