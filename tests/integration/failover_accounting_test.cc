// Failover and translation at a partition's end and on at-least-once links, through the real
// `causeway failover` command against what a link leaves on the target:
//  - a partition whose last source records have no copy (they came from the target in
//    active-active, a stage dropped them, or a transaction marker ends it): the saved accounted
//    end says so, the drain reaches zero and the RPO is 0, and the group resumes right after the
//    link's last record (foreign records after it are read, not skipped);
//  - an at-least-once link whose restart re-sent records: groups move to the first copy of their
//    next record, and the report says re-reads are possible.
// The mirror partitions and the saved state are written directly, as the link writes them, so
// the tests need no running worker.

#include "replicator/failover.h"
#include "replicator/offset_runs.h"
#include "replicator/offset_state.h"
#include "replicator/offset_translation.h"
#include "replicator/record_headers.h"
#include "replicator/worker.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

namespace causeway {
namespace {

using namespace std::chrono_literals;
using testing::startCluster;
using testing::waitFor;

// Produces records to orders[0]: each source offset in `sources` as a record of link
// "test-link" (causeway-src header), or, for -1, a record another writer put there.
void produce(const std::string& bootstrap, const std::vector<int64_t>& sources) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof(err));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  ASSERT_NE(rk, nullptr) << err;
  for (int64_t source : sources) {
    const std::string value = source < 0 ? "foreign" : "record-" + std::to_string(source);
    rd_kafka_headers_t* headers = rd_kafka_headers_new(1);
    if (source >= 0) {
      const std::string src = replicator::encodeSource("test-link", source);
      rd_kafka_header_add(headers, "causeway-src", -1, src.data(), src.size());
    }
    ASSERT_EQ(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("orders"), RD_KAFKA_V_PARTITION(0),
                                RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END),
              RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  ASSERT_EQ(rd_kafka_flush(rk, 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_destroy(rk);
}

std::vector<int64_t> range(int64_t from, int64_t to) {
  std::vector<int64_t> out;
  for (int64_t i = from; i < to; ++i) {
    out.push_back(i);
  }
  return out;
}

// Produces `count` records to orders[0] that came from the target (their causeway-origin names
// it): a link from there skips them (loop prevention), as in active-active.
void produceFromTarget(const std::string& bootstrap, int count) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof(err));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  ASSERT_NE(rk, nullptr) << err;
  for (int i = 0; i < count; ++i) {
    const std::string value = "from-target-" + std::to_string(i);
    rd_kafka_headers_t* headers = rd_kafka_headers_new(1);
    rd_kafka_header_add(headers, "causeway-origin", -1, "target", 6);
    ASSERT_EQ(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC("orders"), RD_KAFKA_V_PARTITION(0),
                                RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END),
              RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  ASSERT_EQ(rd_kafka_flush(rk, 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_destroy(rk);
}

// Saves `runs` as the state of orders[0] of link "test-link", as its worker would.
void saveState(const std::string& bootstrap, const replicator::OffsetRuns& runs) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof(err));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  ASSERT_NE(rk, nullptr) << err;
  const std::string topic = replicator::stateTopic("test-link");
  const std::string key = replicator::stateKey("orders", 0);
  const std::string value = runs.encode();
  ASSERT_EQ(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(0),
                              RD_KAFKA_V_KEY(key.data(), key.size()),
                              RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  ASSERT_EQ(rd_kafka_flush(rk, 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_destroy(rk);
}

// The committed offset of group "billing" for orders[0] on a cluster.
int64_t committedOn(const std::string& bootstrap) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof(err));
  rd_kafka_conf_set(conf, "group.id", "billing", err, sizeof(err));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, "orders", 0);
  int64_t offset = -2;
  if (rd_kafka_committed(rk, list, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    offset = list->elems[0].offset;
  }
  rd_kafka_topic_partition_list_destroy(list);
  rd_kafka_destroy(rk);
  return offset;
}

// Runs `causeway ARGS...` to completion and returns (exit code, output).
std::pair<int, std::string> causeway(std::vector<std::string> args) {
  args.insert(args.begin(), CAUSEWAY_BINARY);
  testing::ChildProcess child(args, testing::writeTempFile("cli.log", ""));
  const auto code = child.wait(120s);
  return {code.value_or(-1), child.log()};
}

class FailoverAccountingTest : public ::testing::Test {
protected:
  void SetUp() override {
    source_ = startCluster("source", 1, {{"orders", 1}});
    target_ = startCluster("target", 1, {{"orders", 1}, {"causeway.test-link.state", 1}});
    ASSERT_TRUE(source_ && target_);
    config_ = testing::makeConfig(*source_, *target_, {"orders"});
    config_.links[0].groups.names = {"billing"};
  }

  embedded::EmbeddedClusterPtr source_;
  embedded::EmbeddedClusterPtr target_;
  config::Config config_;
};

TEST_F(FailoverAccountingTest, APartitionEndingInSkippedRecordsDrainsToZeroWithRpoZero) {
  // given: source orders[0] holds 100 records; the exactly-once link wrote 0-79 (target 0-79)
  // and skipped 80-99 (they came from the target, as in active-active), then 5 records of the
  // target's own writers landed after; its saved state accounts for everything below 100. The
  // group read all 100 on the source.
  ASSERT_TRUE(testing::produceRecords(source_->bootstrap(), "orders", 1, 100));
  produce(target_->bootstrap(), range(0, 80));
  produce(target_->bootstrap(), {-1, -1, -1, -1, -1});
  replicator::OffsetRuns runs;
  runs.assign({replicator::OffsetRun{0, 0, 80, false}}, /*accounted_end=*/100);
  saveState(target_->bootstrap(), runs);
  ASSERT_TRUE(testing::setGroupOffsets(source_->bootstrap(), "billing", "orders", {100}));
  config_.links[0].delivery = config::DeliveryMode::kExactlyOnce;
  const auto config_path = testing::writeTempFile("failover.yaml", testing::toYaml(config_));

  // when: the operator translates and fails over
  auto translated = replicator::translateGroupOffsets(config_, "test-link", "billing", 30s);
  auto [code, out] = causeway(
      {"failover", "--config", config_path, "--link", "test-link", "--drain-timeout", "5s"});

  // then: the position translates to right after the link's last record (the 5 foreign records
  // are read, none skipped), nothing is left to drain, the RPO is 0, and the group moved there
  ASSERT_TRUE(translated.ok()) << translated.error().message;
  ASSERT_EQ(translated->size(), 1u);
  EXPECT_EQ(translated->front().target_offset, 80);
  EXPECT_EQ(translated->front().resume, replicator::ResumeReason::kAfterLastRecord);
  EXPECT_EQ(translated->front().not_yet_replicated, 0);
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("0 record(s) still to replicate"), std::string::npos) << out;
  EXPECT_NE(out.find("RPO if failed over now: 0 record(s)"), std::string::npos) << out;
  EXPECT_NE(out.find("FAILOVER DONE"), std::string::npos) << out;
  EXPECT_EQ(committedOn(target_->bootstrap()), 80);
}

TEST_F(FailoverAccountingTest, ARunningLinkSavesTheAccountedEndOfRecordsItSkipped) {
  // given: source orders[0] holds 40 records, then 10 that came from the target; an
  // exactly-once link replicates it (the 10 are loop-skipped) and the group read all 50
  ASSERT_TRUE(testing::produceRecords(source_->bootstrap(), "orders", 1, 40));
  produceFromTarget(source_->bootstrap(), 10);
  ASSERT_TRUE(testing::setGroupOffsets(source_->bootstrap(), "billing", "orders", {50}));
  config_.links[0].delivery = config::DeliveryMode::kExactlyOnce;
  config_.links[0].groups.names.clear();  // the test translates itself
  {
    replicator::Worker worker(config_);
    ASSERT_TRUE(worker.start().ok());
    int64_t next = -1;
    const bool caught_up = waitFor(
        [&] {
          const auto statuses = worker.statuses();
          next = statuses.empty() || statuses[0].partitions.empty()
                     ? -1
                     : statuses[0].partitions[0].next_offset;
          return next == 50 && testing::totalRecords(target_->bootstrap(), "orders", 1) >= 40;
        },
        30s, 100ms);
    ASSERT_TRUE(caught_up) << "next offset " << next;
    worker.stop();  // saves the runs with how far the partition is accounted for
  }

  // when: the operator translates and plans a failover
  auto translated = replicator::translateGroupOffsets(config_, "test-link", "billing", 30s);
  replicator::Failover failover(config_, "test-link", {"billing"});
  ASSERT_TRUE(failover.open().ok());
  auto plan = failover.plan(30s);

  // then: the group resumes right after the link's last record with nothing left to replicate,
  // and the partition has no lag although its last 10 records have no copy
  ASSERT_TRUE(translated.ok()) << translated.error().message;
  ASSERT_EQ(translated->size(), 1u);
  EXPECT_EQ(translated->front().target_offset, 40);
  EXPECT_EQ(translated->front().resume, replicator::ResumeReason::kAfterLastRecord);
  EXPECT_EQ(translated->front().not_yet_replicated, 0);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_EQ(plan->total_lag, 0);
}

TEST_F(FailoverAccountingTest, WithoutTheAccountedEndTheSkippedTailStillCountsAsNotReplicated) {
  // given: the same, but the saved state only accounts up to 90 (the worker had not seen the
  // rest yet)
  ASSERT_TRUE(testing::produceRecords(source_->bootstrap(), "orders", 1, 100));
  produce(target_->bootstrap(), range(0, 80));
  replicator::OffsetRuns runs;
  runs.assign({replicator::OffsetRun{0, 0, 80, false}}, /*accounted_end=*/90);
  saveState(target_->bootstrap(), runs);
  ASSERT_TRUE(testing::setGroupOffsets(source_->bootstrap(), "billing", "orders", {100}));
  config_.links[0].delivery = config::DeliveryMode::kExactlyOnce;

  // when
  auto translated = replicator::translateGroupOffsets(config_, "test-link", "billing", 30s);

  // then: no target offset yet: the group waits until the link accounts for 90-99. Its RPO
  // counts only what it has not read (nothing: it read all 100 on the source); the 10 records
  // the link still owes are the partition's lag, which the drain waits for.
  ASSERT_TRUE(translated.ok()) << translated.error().message;
  EXPECT_EQ(translated->front().target_offset, -1);
  EXPECT_EQ(translated->front().resume, replicator::ResumeReason::kNotYetReplicated);
  EXPECT_EQ(translated->front().not_yet_replicated, 0);
  replicator::Failover failover(config_, "test-link", {"billing"});
  ASSERT_TRUE(failover.open().ok());
  auto plan = failover.plan(30s);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_EQ(plan->total_lag, 10);
}

TEST_F(FailoverAccountingTest, AtLeastOnceLinksMoveGroupsToTheFirstCopyAndSayReReadsArePossible) {
  // given: an at-least-once link wrote source 0-29, then a restart re-sent 20-49: target 0-29
  // hold 0-29, target 30-59 hold 20-49. The group read 35 records on the source.
  ASSERT_TRUE(testing::produceRecords(source_->bootstrap(), "orders", 1, 50));
  produce(target_->bootstrap(), range(0, 30));
  produce(target_->bootstrap(), range(20, 50));
  ASSERT_TRUE(testing::setGroupOffsets(source_->bootstrap(), "billing", "orders", {35}));
  const auto config_path = testing::writeTempFile("failover-alo.yaml", testing::toYaml(config_));

  // when
  auto translated = replicator::translateGroupOffsets(config_, "test-link", "billing", 30s);
  auto [code, out] = causeway(
      {"failover", "--config", config_path, "--link", "test-link", "--drain-timeout", "5s"});

  // then: the first copy of source 35 is target 45 (the re-sent stretch: the first stretch ends
  // at 29), nothing is left to drain, and the report says re-reads are possible
  ASSERT_TRUE(translated.ok()) << translated.error().message;
  EXPECT_EQ(translated->front().target_offset, 45);
  EXPECT_TRUE(translated->front().rereads_possible);
  EXPECT_EQ(translated->front().method, "first-copy");
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("0 record(s) still to replicate"), std::string::npos) << out;
  EXPECT_NE(out.find("FAILOVER DONE"), std::string::npos) << out;
  EXPECT_NE(out.find("at-least-once link"), std::string::npos) << out;
  EXPECT_NE(out.find("may read again"), std::string::npos) << out;
  EXPECT_EQ(committedOn(target_->bootstrap()), 45);
}

TEST_F(FailoverAccountingTest, AtLeastOnceFirstCopyOfARecordBeforeTheResendIsTheOriginal) {
  ASSERT_TRUE(testing::produceRecords(source_->bootstrap(), "orders", 1, 50));
  produce(target_->bootstrap(), range(0, 30));
  produce(target_->bootstrap(), range(20, 50));
  ASSERT_TRUE(testing::setGroupOffsets(source_->bootstrap(), "billing", "orders", {25}));
  auto translated = replicator::translateGroupOffsets(config_, "test-link", "billing", 30s);
  ASSERT_TRUE(translated.ok()) << translated.error().message;
  // Source 25 first landed at target 25; a consumer there reads 25-29, then 20-29 again, then
  // 30-49: re-reads, nothing skipped.
  EXPECT_EQ(translated->front().target_offset, 25);
}

}  // namespace
}  // namespace causeway
