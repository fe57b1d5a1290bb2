// Operating a running worker: pause and resume a link, reload the configuration.

#include "replicator/worker.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>

namespace causeway {
namespace {

using namespace std::chrono_literals;
using testing::produceRecords;
using testing::startCluster;
using testing::waitFor;

const replicator::LinkStatus* find(const std::vector<replicator::LinkStatus>& statuses,
                                   const std::string& name) {
  for (const auto& s : statuses) {
    if (s.name == name) {
      return &s;
    }
  }
  return nullptr;
}

int64_t lag(const replicator::LinkStatus& status) {
  int64_t total = 0;
  for (const auto& p : status.partitions) {
    total += std::max<int64_t>(0, p.lag);
  }
  return total;
}

TEST(WorkerControl, PausedLinkSaysSoAndItsLagGrowsUntilResumed) {
  // given: a running link that caught up
  auto source = startCluster("source", 3, {{"clicks", 2}});
  auto target = startCluster("target", 3);
  ASSERT_TRUE(source && target);
  replicator::Worker worker(testing::makeConfig(*source, *target, {"clicks"}));
  ASSERT_TRUE(worker.start().ok());
  ASSERT_TRUE(produceRecords(source->bootstrap(), "clicks", 2, 100, 0));
  ASSERT_TRUE(waitFor([&] { auto s = worker.statuses(); return s[0].records_replicated >= 200 &&
                                                               lag(s[0]) == 0; }, 60s));

  // when: it is paused and records keep arriving
  ASSERT_TRUE(worker.pauseLink("test-link").ok());
  ASSERT_TRUE(waitFor([&] { return worker.statuses()[0].state == replicator::LinkState::kPaused; },
                      10s));
  ASSERT_TRUE(produceRecords(source->bootstrap(), "clicks", 2, 150, 100));
  const bool lag_grew = waitFor([&] { return lag(worker.statuses()[0]) >= 300; }, 20s);
  const auto paused = worker.statuses()[0];

  // then: it stays paused with the lag visible, and after resume it catches up
  ASSERT_TRUE(worker.resumeLink("test-link").ok());
  const bool caught_up = waitFor(
      [&] {
        auto s = worker.statuses()[0];
        return s.state == replicator::LinkState::kRunning && s.records_replicated >= 500 &&
               lag(s) == 0;
      },
      60s);
  worker.stop();
  EXPECT_TRUE(lag_grew) << "lag while paused: " << lag(paused);
  EXPECT_EQ(paused.state, replicator::LinkState::kPaused);
  EXPECT_LE(paused.records_replicated, 200u);
  EXPECT_TRUE(caught_up);
  EXPECT_FALSE(worker.pauseLink("nope").ok());
}

TEST(WorkerControl, ReloadAddsALinkAndLeavesAnUnchangedOneRunning) {
  // given: a worker running link "test-link" on topic a
  auto source = startCluster("source", 3, {{"a", 1}, {"b", 1}});
  auto target = startCluster("target", 3);
  ASSERT_TRUE(source && target);
  auto config = testing::makeConfig(*source, *target, {"a"});
  replicator::Worker worker(config);
  ASSERT_TRUE(worker.start().ok());
  ASSERT_TRUE(produceRecords(source->bootstrap(), "a", 1, 100, 0));
  ASSERT_TRUE(waitFor([&] { return worker.statuses()[0].records_replicated >= 100; }, 60s));

  // when: the config gains a second link for topic b
  auto next = config;
  auto second = next.links[0];
  second.name = "b-link";
  second.topics.include = {"b"};
  next.links.push_back(second);
  auto reloaded = worker.reload(next);
  ASSERT_TRUE(reloaded.ok()) << reloaded.error().message;
  ASSERT_TRUE(produceRecords(source->bootstrap(), "a", 1, 50, 100));
  ASSERT_TRUE(produceRecords(source->bootstrap(), "b", 1, 70, 0));
  const bool both = waitFor(
      [&] {
        auto s = worker.statuses();
        return find(s, "test-link") && find(s, "b-link") &&
               find(s, "test-link")->records_replicated >= 150 &&
               find(s, "b-link")->records_replicated >= 70;
      },
      60s);
  const auto statuses = worker.statuses();

  // and: a reload without b-link removes it again
  auto removed = worker.reload(config);
  worker.stop();

  // then: test-link kept running (its counter was never reset), b-link came and went
  EXPECT_EQ(reloaded->unchanged, std::vector<std::string>{"test-link"});
  EXPECT_EQ(reloaded->added, std::vector<std::string>{"b-link"});
  ASSERT_TRUE(both);
  EXPECT_EQ(find(statuses, "test-link")->records_replicated, 150u);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(removed->removed, std::vector<std::string>{"b-link"});
  EXPECT_EQ(worker.statuses().size(), 1u);
}

} // namespace
} // namespace causeway
