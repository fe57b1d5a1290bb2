// A source group that answers a commit with REBALANCE_IN_PROGRESS holds the link's source commits
// for up to 10 s (librdkafka 2.0.2 would drop the whole assignment on the next stale-generation
// commit). Only the source commit waits: the offset runs and the target transaction live on the
// target and must keep their commit interval, or failover and group sync translate from state
// that is seconds old.

#include "replicator/offset_state.h"
#include "replicator/worker.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka_mock.h>

#include <chrono>

namespace causeway {
namespace {

using namespace std::chrono_literals;
using testing::produceRecords;
using testing::startCluster;
using testing::waitFor;

constexpr int16_t kOffsetCommitApi = 8;

// The number of runs saved on the target for partition 0 of `topic`, -1 when none is readable.
int savedRuns(const config::Config& config, const std::string& topic) {
  replicator::OffsetStateReader reader(config.clusters.at("target"), config.links[0].name);
  if (!reader.open().ok() || !reader.refresh(std::chrono::steady_clock::now() + 10s).ok()) {
    return -1;
  }
  const auto* saved = reader.find(topic, 0);
  if (saved == nullptr || !saved->error.empty()) {
    return -1;
  }
  return static_cast<int>(saved->runs.runs().size());
}

bool commitsHeld(replicator::Worker& worker) {
  const auto statuses = worker.statuses();
  const auto& errors = statuses.at(0).errors;
  const auto found = errors.find("commit:REBALANCE_IN_PROGRESS");
  return found != errors.end() && found->second > 0;
}

TEST(CommitHold, RunsAreStillSavedWhileSourceCommitsAreHeld) {
  // given: an exactly-once link that replicated 100 records and saved its runs
  auto source = startCluster("source", 1, {{"ledger", 1}});
  auto target = startCluster("target", 1);
  ASSERT_TRUE(source && target);
  auto config = testing::makeConfig(*source, *target, {"ledger"});
  config.links[0].delivery = config::DeliveryMode::kExactlyOnce;
  config.links[0].commit_interval = 200ms;
  ASSERT_TRUE(produceRecords(source->bootstrap(), "ledger", 1, 100, 0));
  replicator::Worker worker(config);
  ASSERT_TRUE(worker.start().ok());
  ASSERT_TRUE(waitFor([&] { return savedRuns(config, "ledger") == 1; }, 60s, 200ms));

  // when: the source group answers commits with REBALANCE_IN_PROGRESS (the link holds its source
  // commits), then a foreign record lands in the mirror partition and more records follow, so
  // the link's runs gain a second run that the next commit cycle saves
  rd_kafka_mock_push_request_errors(
      source->mock(), kOffsetCommitApi, 3, RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS,
      RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS, RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS);
  ASSERT_TRUE(produceRecords(source->bootstrap(), "ledger", 1, 1, 100));
  ASSERT_TRUE(waitFor([&] { return commitsHeld(worker); }, 30s, 50ms));
  ASSERT_TRUE(produceRecords(target->bootstrap(), "ledger", 1, 1, 1000));  // foreign
  ASSERT_TRUE(produceRecords(source->bootstrap(), "ledger", 1, 50, 101));

  // then: the new run is saved within a few commit intervals, well inside the 10 s hold
  const auto start = std::chrono::steady_clock::now();
  const bool saved = waitFor([&] { return savedRuns(config, "ledger") == 2; }, 8s, 200ms);
  const auto waited = std::chrono::steady_clock::now() - start;
  worker.stop();
  EXPECT_TRUE(saved) << "runs not saved within 8 s of the held commit";
  EXPECT_LT(waited, 8s);
}

}  // namespace
}  // namespace causeway
