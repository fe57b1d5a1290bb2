// Group sync per link, not per process: one worker syncs at a time (the group-sync lease), the
// target group's committed offsets are read first and never moved back, a group consuming on
// the target is left alone, and nothing is committed once the link has a failover mark.
//
// The mirror partition is written directly (records carrying the causeway-src header, as the
// link writes them), so each test spends its time on the sync, not on replication.

#include "replicator/group_sync.h"
#include "replicator/group_sync_lease.h"
#include "replicator/group_sync_rules.h"
#include "replicator/offset_state.h"
#include "replicator/record_headers.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <memory>
#include <optional>

namespace causeway {
namespace {

using namespace std::chrono_literals;
using testing::startCluster;
using testing::waitFor;

constexpr int64_t kRecords = 100;

// Produces `count` records to orders[0] on `bootstrap`; with `link` set, each carries the
// causeway-src header of that link for source offsets first_source, first_source + 1, ...
void produce(const std::string& bootstrap, int64_t count, const std::string& link = "",
             int64_t first_source = 0) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof(err));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  ASSERT_NE(rk, nullptr) << err;
  for (int64_t i = 0; i < count; ++i) {
    const std::string value = "record-" + std::to_string(first_source + i);
    rd_kafka_headers_t* headers = rd_kafka_headers_new(1);
    if (!link.empty()) {
      const std::string src = replicator::encodeSource(link, first_source + i);
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

// Commits `offset` for group "billing" on orders[0] the way a consumer does (no metadata).
void commitAsConsumer(const std::string& bootstrap, int64_t offset) {
  ASSERT_TRUE(testing::setGroupOffsets(bootstrap, "billing", "orders", {offset}));
}

struct Committed {
  int64_t offset = -1;
  std::string metadata;
};

// What group "billing" has committed for orders[0].
Committed committedOn(const std::string& bootstrap) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof(err));
  rd_kafka_conf_set(conf, "group.id", "billing", err, sizeof(err));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
  Committed out;
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, "orders", 0);
  if (rd_kafka_committed(rk, list, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    out.offset = list->elems[0].offset;
    if (list->elems[0].metadata != nullptr) {
      out.metadata.assign(static_cast<const char*>(list->elems[0].metadata),
                          list->elems[0].metadata_size);
    }
  }
  rd_kafka_topic_partition_list_destroy(list);
  rd_kafka_destroy(rk);
  return out;
}

class GroupSyncLeaseTest : public ::testing::Test {
protected:
  void SetUp() override {
    // Source orders[0] holds 100 records; the link wrote them to target orders[0] at the same
    // offsets.
    source_ = startCluster("source", 1, {{"orders", 1}});
    target_ = startCluster("target", 1, {{"orders", 1}});
    ASSERT_TRUE(source_ && target_);
    produce(source_->bootstrap(), kRecords);
    produce(target_->bootstrap(), kRecords, "test-link");
    config_ = testing::makeConfig(*source_, *target_, {"orders"});
    config_.links[0].delivery = config::DeliveryMode::kExactlyOnce;
    config_.links[0].groups.names = {"billing"};
  }

  std::unique_ptr<replicator::GroupSync>
  makeSync(replicator::GroupSyncRole role = replicator::GroupSyncRole::kWorker) {
    auto sync = std::make_unique<replicator::GroupSync>(
        config_.links[0], config_.clusters.at("source"), config_.clusters.at("target"), role);
    EXPECT_TRUE(sync->open().ok());
    return sync;
  }

  // Runs one cycle of `sync` until it commits or is told another worker holds the lease.
  replicator::GroupSyncOutcome cycleUntilDecided(replicator::GroupSync& sync,
                                                 std::chrono::milliseconds timeout) {
    replicator::GroupSyncOutcome last;
    waitFor(
        [&] {
          last = sync.syncGroup("billing", 10s);
          return last.committed || (last.leased_elsewhere &&
                                    last.problem.find("another worker") != std::string::npos);
        },
        timeout, 200ms);
    return last;
  }

  embedded::EmbeddedClusterPtr source_;
  embedded::EmbeddedClusterPtr target_;
  config::Config config_;
};

TEST_F(GroupSyncLeaseTest, OneOfTwoWorkersSyncsAndTheOtherTakesOverWhenItLeaves) {
  // given: the group read 40 records on the source, and two workers run the link's group sync
  commitAsConsumer(source_->bootstrap(), 40);
  auto first = makeSync();
  auto second = makeSync();

  // when: both run cycles until one of them has committed while the other knows it is not
  // its turn
  replicator::GroupSyncOutcome a;
  replicator::GroupSyncOutcome b;
  const bool decided = waitFor(
      [&] {
        a = first->syncGroup("billing", 10s);
        b = second->syncGroup("billing", 10s);
        auto other = [](const replicator::GroupSyncOutcome& o) {
          return o.leased_elsewhere && o.problem.find("another worker") != std::string::npos;
        };
        return (a.committed && other(b)) || (b.committed && other(a));
      },
      40s, 200ms);

  // then: exactly one of them holds the lease; the other did nothing and says why
  ASSERT_TRUE(decided) << a.problem << " / " << b.problem;
  ASSERT_NE(a.leased_elsewhere, b.leased_elsewhere) << a.problem << " / " << b.problem;
  auto& holder = a.leased_elsewhere ? second : first;
  auto& other = a.leased_elsewhere ? first : second;
  const auto& idle = a.leased_elsewhere ? a : b;
  EXPECT_FALSE(idle.committed);
  EXPECT_NE(idle.problem.find("synced by another worker"), std::string::npos) << idle.problem;
  Committed now = committedOn(target_->bootstrap());
  EXPECT_EQ(now.offset, 40);
  EXPECT_EQ(now.metadata, replicator::syncMetadata("test-link", 40));

  // when: the holder stops (its process ends) and the group moves on at the source
  holder.reset();
  commitAsConsumer(source_->bootstrap(), 60);
  replicator::GroupSyncOutcome taken;
  const bool took_over = waitFor(
      [&] {
        taken = other->syncGroup("billing", 10s);
        return taken.committed;
      },
      30s, 250ms);

  // then: the other worker took over the sync and moved the group on
  ASSERT_TRUE(took_over) << taken.problem;
  EXPECT_EQ(committedOn(target_->bootstrap()).offset, 60);
}

TEST_F(GroupSyncLeaseTest, AGroupConsumingOnTheTargetIsLeftAloneAndNeverMovedBack) {
  // given: a worker synced the group at 40
  commitAsConsumer(source_->bootstrap(), 40);
  auto sync = makeSync();
  ASSERT_TRUE(cycleUntilDecided(*sync, 30s).committed);
  ASSERT_EQ(committedOn(target_->bootstrap()).offset, 40);

  // when: the group's consumers ran on the target (a drill, assign()-mode consumers) and
  // committed 70 there, while on the source it only reached 50
  commitAsConsumer(target_->bootstrap(), 70);
  commitAsConsumer(source_->bootstrap(), 50);
  const auto outcome = sync->syncGroup("billing", 10s);

  // then: the empty group on the target keeps its consumers' position
  EXPECT_TRUE(outcome.left_alone) << outcome.problem;
  EXPECT_FALSE(outcome.committed);
  EXPECT_NE(outcome.problem.find("consumes on the target"), std::string::npos) << outcome.problem;
  EXPECT_EQ(committedOn(target_->bootstrap()).offset, 70);
}

TEST_F(GroupSyncLeaseTest, FollowsTheSourceGroupBackWhenAnOperatorResetsIt) {
  // given: the sync committed 60 (and the source position it stands for)
  commitAsConsumer(source_->bootstrap(), 60);
  auto sync = makeSync();
  ASSERT_TRUE(cycleUntilDecided(*sync, 30s).committed);
  ASSERT_EQ(committedOn(target_->bootstrap()).offset, 60);

  // when: an operator resets the group on the source to 20
  commitAsConsumer(source_->bootstrap(), 20);
  const auto back = sync->syncGroup("billing", 10s);

  // then: the target follows it back
  EXPECT_TRUE(back.committed) << back.problem;
  EXPECT_EQ(committedOn(target_->bootstrap()).offset, 20);
}

TEST_F(GroupSyncLeaseTest, NothingIsCommittedOnceTheLinkHasAFailoverMark) {
  // given: a worker synced the group at 40, then the link was failed over at 50
  commitAsConsumer(source_->bootstrap(), 40);
  auto sync = makeSync();
  ASSERT_TRUE(cycleUntilDecided(*sync, 30s).committed);
  commitAsConsumer(source_->bootstrap(), 50);
  auto final_move = makeSync(replicator::GroupSyncRole::kFailover);
  ASSERT_TRUE(final_move->syncGroup("billing", 10s).committed);
  replicator::FailoverMark mark;
  mark.at_ms = 1;
  mark.by = "test";
  ASSERT_TRUE(
      replicator::writeFailoverMark(config_.clusters.at("target"), "test-link", mark, 10s).ok());

  // when: the old source's group moves on (an application still running there), or back
  commitAsConsumer(source_->bootstrap(), 80);
  const auto forward = sync->syncGroup("billing", 10s);
  commitAsConsumer(source_->bootstrap(), 10);
  const auto backward = sync->syncGroup("billing", 10s);

  // then: the worker commits nothing, and says why
  EXPECT_TRUE(forward.failed_over) << forward.problem;
  EXPECT_TRUE(backward.failed_over) << backward.problem;
  EXPECT_FALSE(forward.committed);
  EXPECT_NE(forward.problem.find("failed over"), std::string::npos) << forward.problem;
  EXPECT_EQ(committedOn(target_->bootstrap()).offset, 50);
}

}  // namespace
}  // namespace causeway
