// Exactly-once partitions whose start the target does not answer in time: the partition stays
// held and is asked about again, backing off, instead of stopping the link. On Kafka this is a
// transaction coordinator that does not answer InitProducerId, or saved offset runs or a mirror
// partition's tail that cannot be read (a broker restart, a leader election, a network cut).
// Here the target's broker answers late or with an error.

#include "replicator/worker.h"
#include "tests/support/exactly_once_link_fixture.h"
#include "tests/support/test_support.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <gtest/gtest.h>

#include <optional>
#include <vector>

namespace causeway {
namespace {

using namespace std::chrono_literals;
using testing::produceRecords;
using testing::readAll;
using testing::startCluster;
using testing::totalRecords;
using testing::waitFor;

constexpr int16_t kListOffsetsApi = 2;
constexpr int16_t kInitProducerIdApi = 22;

// The high watermark of one partition of an existing topic, or -1.
int64_t highWatermark(const std::string& bootstrap, const std::string& topic, int32_t partition) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof(err)) !=
      RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    return -1;
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (rk == nullptr) {
    return -1;
  }
  int64_t low = 0;
  int64_t high = -1;
  if (rd_kafka_query_watermark_offsets(rk, topic.c_str(), partition, &low, &high, 5000) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    high = -1;
  }
  rd_kafka_destroy(rk);
  return high;
}

class ResumeRetry : public testing::ExactlyOnceLinkTest {
protected:
  // Waits until the link asked about a partition again, or failed; keeps the note it showed.
  bool askedAgain(std::string& note) {
    return waitFor(
        [&] {
          const auto s = status();
          auto it = s.errors.find("resume:unavailable");
          if (waits(s)) {
            note = s.last_error;
          }
          return s.state == replicator::LinkState::kFailed ||
                 (it != s.errors.end() && it->second >= 1);
        },
        90s);
  }

  // After a 2-partition link of 30 records each started: waits for those, then for 10 more per
  // partition, then for the status update that clears the note (it says why partitions wait
  // until the next status update after they started).
  struct Outcome {
    bool complete = false;
    bool note_cleared = false;
    replicator::LinkStatus last;
  };
  Outcome carryOn() {
    Outcome out;
    out.complete = targetHolds(60, 90s);
    if (!produceRecords(source_->bootstrap(), "orders", 2, 10, 30)) {
      ADD_FAILURE() << "producing 10 more records per partition failed";
    }
    out.complete = targetHolds(80, 60s) && out.complete;
    out.note_cleared = waitFor([&] { return !waits(status()); }, 10s);
    out.last = status();
    return out;
  }

  // The status says why partitions wait until the next status update after they started.
  static bool waits(const replicator::LinkStatus& s) {
    return s.last_error.find("wait for the target to say where they resume") != std::string::npos;
  }
};

TEST_F(ResumeRetry, ATakeoverTheTargetDoesNotAnswerInTimeIsTriedAgainAndNothingIsLost) {
  // given: records on a 2-partition source and a transactional exactly-once link
  ASSERT_NO_FATAL_FAILURE(startLink(2, 30, /*transactional=*/true));
  // The link's first producer (the reachability check) is gone once start() returned, and the
  // first assignment takes seconds: the next InitProducerId is a partition's takeover.
  ASSERT_EQ(rd_kafka_mock_broker_push_request_error_rtts(target_->mock(), 1, kInitProducerIdApi, 1,
                                                         RD_KAFKA_RESP_ERR_NO_ERROR, 15000),
            RD_KAFKA_RESP_ERR_NO_ERROR);

  // when: that takeover runs out of time (10 s) and the target answers the next one at once
  std::string note;
  const bool asked_again = askedAgain(note);
  const Outcome outcome = carryOn();
  const auto& last = outcome.last;

  // then: the link kept running, said why the partition waited, and every record is on the target
  // once, in order
  ASSERT_NE(last.state, replicator::LinkState::kFailed) << last.error;
  EXPECT_TRUE(asked_again) << "no takeover was tried again";
  EXPECT_TRUE(outcome.complete);
  EXPECT_TRUE(outcome.note_cleared && !waits(last)) << last.last_error;
  expectMirrorIdentical();
}

TEST_F(ResumeRetry, AReadOfTheTargetThatFailsIsTriedAgainAndNothingIsLost) {
  // given: records on a 2-partition source and an exactly-once link without transactions, which
  // finds where each partition resumes by reading its saved offset runs, then the last records on
  // the target
  ASSERT_NO_FATAL_FAILURE(startLink(2, 30, /*transactional=*/false));
  // The target answers the next watermark queries with an error that librdkafka does not retry
  // itself: the failover mark's read (which only warns), then the saved runs' read fail, and
  // the tails' if errors are left. Each query is two ListOffsets.
  const std::vector<rd_kafka_resp_err_t> errors(16, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
  rd_kafka_mock_push_request_errors_array(target_->mock(), kListOffsetsApi, errors.size(),
                                          errors.data());

  // when: a read fails and the target answers again
  std::string note;
  const bool asked_again = askedAgain(note);
  const Outcome outcome = carryOn();
  const auto& last = outcome.last;

  // then: the link kept running, said that the saved runs could not be read (not only a tail:
  // the partitions did not start without their runs), and every record is on the target once,
  // in order
  ASSERT_NE(last.state, replicator::LinkState::kFailed) << last.error;
  EXPECT_TRUE(asked_again) << "nothing was read again";
  EXPECT_NE(note.find("reading the state topic"), std::string::npos) << note;
  EXPECT_TRUE(outcome.complete);
  EXPECT_TRUE(outcome.note_cleared && !waits(last)) << last.last_error;
  expectMirrorIdentical();
}

TEST_F(ResumeRetry, AReadOfTheSavedRunsTheTargetRefusesStopsTheLinkNamingTheStateTopic) {
  // given: a 2-partition exactly-once link without transactions, which reads its saved offset
  // runs before it reads the last records on the target
  ASSERT_NO_FATAL_FAILURE(startLink(2, 30, /*transactional=*/false));
  // The target refuses the next watermark queries for authorization: the failover mark's reads
  // (every discovery interval, 1 s, each only warns) until the partitions are assigned, then the
  // saved runs' read. Plenty, so that some are left for it however slowly the group forms; the
  // link stops at the first saved-runs read that fails.
  const std::vector<rd_kafka_resp_err_t> errors(200, RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED);
  rd_kafka_mock_push_request_errors_array(target_->mock(), kListOffsetsApi, errors.size(),
                                          errors.data());

  // when: the partitions are assigned
  const bool stopped = waitFor([&] { return failed(); }, 90s);
  const auto last = status();
  worker_->stop();

  // then: the link stopped, naming the state topic, rather than start the partitions without
  // their saved runs (which resent dead-lettered records and left translation stale)
  ASSERT_TRUE(stopped) << last.last_error;
  EXPECT_NE(last.error.find("cannot start without breaking exactly-once"), std::string::npos)
      << last.error;
  EXPECT_NE(last.error.find("reading the state topic"), std::string::npos) << last.error;
  EXPECT_NE(last.error.find("authorization failed"), std::string::npos) << last.error;
}

TEST_F(ResumeRetry, AMirrorPartitionWithoutALeaderWaitsAloneAndStartsOnceItHasOne) {
  // given: an exactly-once link without transactions over 2 partitions, whose mirror partition
  // orders[1] has no leader on the target when the link starts (a leader election)
  ASSERT_NO_FATAL_FAILURE(startLink(2, 30, /*transactional=*/false));
  ASSERT_EQ(rd_kafka_mock_partition_set_leader(target_->mock(), "orders", 1, -1),
            RD_KAFKA_RESP_ERR_NO_ERROR);

  // when: orders[1]'s tail cannot be read, and later its leader is back
  std::string note;
  const bool asked_again = askedAgain(note);
  const bool first_arrived = waitFor(
      [&] { return failed() || highWatermark(target_->bootstrap(), "orders", 0) >= 30; }, 60s);
  ASSERT_EQ(rd_kafka_mock_partition_set_leader(target_->mock(), "orders", 1, 1),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  const bool complete = targetHolds(60, 120s);
  const bool note_cleared = waitFor([&] { return !waits(status()); }, 10s);
  const auto last = status();

  // then: orders[0] did not wait for it, orders[1] started once it had a leader, and every record
  // is on the target once, in order
  ASSERT_NE(last.state, replicator::LinkState::kFailed) << last.error;
  EXPECT_TRUE(asked_again) << "orders[1] was not asked about again";
  EXPECT_NE(note.find("orders[1]"), std::string::npos) << note;
  EXPECT_TRUE(first_arrived) << "orders[0] waited for orders[1]";
  EXPECT_TRUE(complete);
  EXPECT_TRUE(note_cleared && !waits(last)) << last.last_error;
  expectMirrorIdentical();
}

TEST_F(ResumeRetry, ATakeoverTheTargetRefusesStopsTheLinkNamingThePartition) {
  // given: a transactional exactly-once link whose target refuses the takeover for good (the
  // worker may not use the partition's transactional.id)
  ASSERT_NO_FATAL_FAILURE(startLink(1, 5, /*transactional=*/true));
  ASSERT_EQ(rd_kafka_mock_broker_push_request_error_rtts(
                target_->mock(), 1, kInitProducerIdApi, 1,
                RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED, 0),
            RD_KAFKA_RESP_ERR_NO_ERROR);

  // when: the partition is assigned
  const bool stopped = waitFor([&] { return failed(); }, 60s);
  const auto last = status();
  worker_->stop();

  // then: the link stops, naming the partition's transactional.id and the refusal, and wrote
  // nothing
  ASSERT_TRUE(stopped) << "the link kept running";
  EXPECT_NE(last.error.find("cannot take over transactional.id 'causeway:test-link:orders:0'"),
            std::string::npos)
      << last.error;
  EXPECT_NE(last.error.find("uthoriz"), std::string::npos) << last.error;
  EXPECT_EQ(totalRecords(target_->bootstrap(), "orders", 1), 0);
}

}  // namespace
}  // namespace causeway
