// A link replicates several topics end to end between two embedded clusters; the target is
// checked record by record.

#include "replicator/worker.h"
#include "tests/support/test_support.h"
#include "verify/mirror_check.h"

#include <gtest/gtest.h>

namespace causeway {
namespace {

using namespace std::chrono_literals;
using testing::makeConfig;
using testing::produceRecords;
using testing::readAll;
using testing::startCluster;
using testing::waitFor;

// Sum of replicated records over every link and partition status.
uint64_t replicated(const replicator::Worker& worker) {
  uint64_t n = 0;
  for (const auto& s : worker.statuses()) {
    n += s.records_replicated;
  }
  return n;
}

TEST(Replication, ManyTopicsAndPartitionsArriveIdentical) {
  // given: a source with three topics of 4, 3 and 2 partitions holding 12,000 records with
  // headers and explicit timestamps
  auto source = startCluster("source", 3, {{"orders", 4}, {"payments", 3}, {"audit.log", 2}});
  auto target = startCluster("target", 3);
  ASSERT_TRUE(source && target);
  ASSERT_TRUE(produceRecords(source->bootstrap(), "orders", 4, 1500));    // 6000
  ASSERT_TRUE(produceRecords(source->bootstrap(), "payments", 3, 1000));  // 3000
  ASSERT_TRUE(produceRecords(source->bootstrap(), "audit.log", 2, 1500)); // 3000

  // when: a link replicates them
  auto config = makeConfig(*source, *target, {"orders", "payments", "audit\\..*"});
  replicator::Worker worker(config);
  ASSERT_TRUE(worker.start().ok());
  const bool caught_up = waitFor([&] { return replicated(worker) >= 12000; }, 90s);
  worker.stop();

  // then: every mirror partition is identical to its source partition
  ASSERT_TRUE(caught_up) << "replicated only " << replicated(worker) << " of 12000";
  for (const auto& [topic, partitions] :
       std::vector<std::pair<std::string, int>>{{"orders", 4}, {"payments", 3}, {"audit.log", 2}}) {
    auto target_partitions = target->partitionCount(topic);
    ASSERT_TRUE(target_partitions.ok()) << topic << ": " << target_partitions.error().message;
    EXPECT_EQ(*target_partitions, partitions) << "mirror topic partition count for " << topic;
    auto check = verify::checkMirror(topic, readAll(source->bootstrap(), topic), topic,
                                     readAll(target->bootstrap(), topic));
    EXPECT_TRUE(check.identical()) << check.describe();
  }
}

TEST(Replication, PrefixNamingAndExcludes) {
  // given: two topics, one of them excluded
  auto source = startCluster("source", 3, {{"events", 2}, {"events.internal", 1}});
  auto target = startCluster("target", 3);
  ASSERT_TRUE(source && target);
  ASSERT_TRUE(produceRecords(source->bootstrap(), "events", 2, 200));
  ASSERT_TRUE(produceRecords(source->bootstrap(), "events.internal", 1, 50));

  // when: the link uses a prefix
  auto config = makeConfig(*source, *target, {"events.*"});
  config.links[0].topics.exclude = {".*\\.internal"};
  config.links[0].naming = {config::NamingMode::kPrefix, "src."};
  replicator::Worker worker(config);
  ASSERT_TRUE(worker.start().ok());
  const bool caught_up = waitFor([&] { return replicated(worker) >= 400; }, 60s);
  // Give an erroneous replication of the excluded topic a chance to show up.
  std::this_thread::sleep_for(1s);
  worker.stop();

  // then
  ASSERT_TRUE(caught_up);
  EXPECT_EQ(replicated(worker), 400u);
  auto check = verify::checkMirror("events", readAll(source->bootstrap(), "events"), "src.events",
                                   readAll(target->bootstrap(), "src.events"));
  EXPECT_TRUE(check.identical()) << check.describe();
  EXPECT_FALSE(target->partitionCount("src.events.internal").ok());
  EXPECT_FALSE(target->partitionCount("events.internal").ok());
}

TEST(Replication, TopicCreatedWhileRunningIsPickedUp) {
  // given: a running link with one topic
  auto source = startCluster("source", 3, {{"metrics.cpu", 2}});
  auto target = startCluster("target", 3);
  ASSERT_TRUE(source && target);
  auto config = makeConfig(*source, *target, {"metrics\\..*"});
  replicator::Worker worker(config);
  ASSERT_TRUE(worker.start().ok());
  ASSERT_TRUE(produceRecords(source->bootstrap(), "metrics.cpu", 2, 100));
  ASSERT_TRUE(waitFor([&] { return replicated(worker) >= 200; }, 60s));

  // when: a matching topic appears on the source and gets records
  ASSERT_TRUE(source->createTopic("metrics.disk", 3).ok());
  ASSERT_TRUE(produceRecords(source->bootstrap(), "metrics.disk", 3, 100));
  const auto created_at = std::chrono::steady_clock::now();
  const bool mirrored = waitFor([&] { return target->partitionCount("metrics.disk").ok(); }, 15s);
  const auto discovery_time = std::chrono::steady_clock::now() - created_at;
  const bool caught_up = waitFor([&] { return replicated(worker) >= 500; }, 60s);
  worker.stop();

  // then: it is mirrored with its partition count within the discovery bound and replicated
  ASSERT_TRUE(mirrored) << "metrics.disk was not created on the target within 15 s";
  EXPECT_LT(discovery_time, 10s);
  EXPECT_EQ(*target->partitionCount("metrics.disk"), 3);
  ASSERT_TRUE(caught_up) << "replicated " << replicated(worker) << " of 500";
  auto check = verify::checkMirror("metrics.disk", readAll(source->bootstrap(), "metrics.disk"),
                                   "metrics.disk", readAll(target->bootstrap(), "metrics.disk"));
  EXPECT_TRUE(check.identical()) << check.describe();
}

TEST(Replication, TargetBrokerDownAndUpLosesNothing) {
  // given: a link replicating a steady stream
  auto source = startCluster("source", 3, {{"payments", 3}});
  auto target = startCluster("target", 3);
  ASSERT_TRUE(source && target);
  auto config = makeConfig(*source, *target, {"payments"});
  replicator::Worker worker(config);
  ASSERT_TRUE(worker.start().ok());
  ASSERT_TRUE(produceRecords(source->bootstrap(), "payments", 3, 500, 0));
  ASSERT_TRUE(waitFor([&] { return replicated(worker) >= 1500; }, 60s));

  // when: a target broker goes down mid-stream and comes back
  ASSERT_TRUE(target->setBrokerDown(2).ok());
  ASSERT_TRUE(produceRecords(source->bootstrap(), "payments", 3, 500, 500));
  std::this_thread::sleep_for(3s);
  ASSERT_TRUE(target->setBrokerUp(2).ok());
  ASSERT_TRUE(produceRecords(source->bootstrap(), "payments", 3, 500, 1000));
  auto check =
      testing::waitForMirror(source->bootstrap(), target->bootstrap(), "payments", 90s);
  const auto statuses = worker.statuses();
  worker.stop();

  // then: everything arrived, in order
  EXPECT_EQ(statuses[0].state, replicator::LinkState::kRunning) << statuses[0].error;
  EXPECT_EQ(check.sourceRecords(), 4500u);
  EXPECT_EQ(check.missing(), 0u) << check.describe();
  EXPECT_TRUE(check.atLeastOnce()) << check.describe();
}

TEST(Replication, TargetOutagePausesFetchingWithBoundedInFlightAndResumesByItself) {
  // given: a link allowed only 200 unacknowledged records, replicating a backlog
  auto source = startCluster("source", 3, {{"clicks", 2}});
  auto target = startCluster("target", 3);
  ASSERT_TRUE(source && target);
  auto config = makeConfig(*source, *target, {"clicks"});
  config.links[0].max_in_flight_records = 200;
  replicator::Worker worker(config);
  ASSERT_TRUE(worker.start().ok());
  ASSERT_TRUE(produceRecords(source->bootstrap(), "clicks", 2, 100, 0));
  ASSERT_TRUE(waitFor([&] { return replicated(worker) >= 200; }, 60s));

  // when: every target broker goes down while 3,000 more records wait on the source
  for (int broker = 1; broker <= 3; ++broker) {
    ASSERT_TRUE(target->setBrokerDown(broker).ok());
  }
  ASSERT_TRUE(produceRecords(source->bootstrap(), "clicks", 2, 1500, 100));
  uint64_t max_in_flight = 0;
  bool paused_seen = false;
  waitFor(
      [&] {
        const auto status = worker.statuses()[0];
        max_in_flight = std::max(max_in_flight, status.in_flight_records);
        for (const auto& p : status.partitions) {
          paused_seen = paused_seen || p.paused;
        }
        return false;  // observe for the whole outage
      },
      5s, 50ms);
  const uint64_t during_outage = replicated(worker);
  const auto outage_status = worker.statuses()[0];
  for (int broker = 1; broker <= 3; ++broker) {
    ASSERT_TRUE(target->setBrokerUp(broker).ok());
  }

  // then: fetching paused with at most the limit (+1 record that crossed it) in flight, the link
  // stayed up, and once the target is back everything arrives in order
  auto check = testing::waitForMirror(source->bootstrap(), target->bootstrap(), "clicks", 90s);
  worker.stop();
  EXPECT_TRUE(paused_seen) << "fetching was never paused during the outage";
  EXPECT_LE(max_in_flight, 201u);
  EXPECT_LT(during_outage, 3200u);
  EXPECT_EQ(outage_status.state, replicator::LinkState::kRunning) << outage_status.error;
  EXPECT_EQ(check.sourceRecords(), 3200u);
  EXPECT_EQ(check.missing(), 0u) << check.describe();
  EXPECT_TRUE(check.atLeastOnce()) << check.describe();
}

TEST(Replication, UnreachableTargetIsReportedByNameWithinTimeout) {
  // given: a target address where nothing listens
  auto source = startCluster("source", 1, {{"t", 1}});
  ASSERT_TRUE(source);
  auto target = startCluster("target", 1);
  ASSERT_TRUE(target);
  auto config = makeConfig(*source, *target, {"t"});
  config.clusters["target"].bootstrap = "127.0.0.1:1";  // nothing listens on port 1
  config.clusters["target"].connect_timeout = 2s;

  // when
  replicator::Worker worker(config);
  const auto started_at = std::chrono::steady_clock::now();
  Status started = worker.start();
  const auto took = std::chrono::steady_clock::now() - started_at;

  // then: start fails within the timeout (plus slack), naming the cluster and its address
  ASSERT_FALSE(started.ok());
  EXPECT_LT(took, 8s);
  EXPECT_NE(started.message().find("cluster 'target' (127.0.0.1:1)"), std::string::npos)
      << started.message();
  EXPECT_EQ(worker.statuses()[0].state, replicator::LinkState::kFailed);
}

} // namespace
} // namespace causeway
