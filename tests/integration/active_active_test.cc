// Two links in opposite directions on the same topic names (identity naming) must not loop:
// each record appears exactly once on each side.

#include "replicator/worker.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>

#include <map>
#include <thread>

namespace causeway {
namespace {

using namespace std::chrono_literals;
using testing::produceRecords;
using testing::readAll;
using testing::startCluster;
using testing::waitFor;

config::LinkConfig link(const std::string& name, const std::string& from, const std::string& to) {
  config::LinkConfig l;
  l.name = name;
  l.source = from;
  l.target = to;
  l.topics.include = {"events"};
  l.discovery_interval = 1s;
  l.commit_interval = 500ms;
  l.consumer_properties["fetch.wait.max.ms"] = "10";
  l.consumer_properties["session.timeout.ms"] = "6000";
  return l;
}

// How often each produced value appears in the topic.
std::map<std::string, int> valueCounts(const std::string& bootstrap) {
  std::map<std::string, int> counts;
  for (const auto& partition : readAll(bootstrap, "events")) {
    for (const auto& record : partition) {
      counts[record.value.value_or("<null>")] += 1;
    }
  }
  return counts;
}

TEST(ActiveActive, IdentityNamedLinksBothWaysDoNotLoop) {
  // given: clusters a and b, each with its own writers on topic "events"
  auto a = startCluster("a", 3, {{"events", 2}});
  auto b = startCluster("b", 3, {{"events", 2}});
  ASSERT_TRUE(a && b);
  config::Config config;
  config.clusters["a"] = {.name = "a", .bootstrap = a->bootstrap(),
                          .embedded_control = a->controlAddress()};
  config.clusters["b"] = {.name = "b", .bootstrap = b->bootstrap(),
                          .embedded_control = b->controlAddress()};
  config.links = {link("a-to-b", "a", "b"), link("b-to-a", "b", "a")};
  ASSERT_TRUE(produceRecords(a->bootstrap(), "events", 2, 150, 0));     // 300 written on a
  ASSERT_TRUE(produceRecords(b->bootstrap(), "events", 2, 100, 1000));  // 200 written on b

  // when: both links run
  replicator::Worker worker(config);
  ASSERT_TRUE(worker.start().ok());
  auto total = [&](const embedded::EmbeddedCluster& c) {
    uint64_t n = 0;
    for (const auto& [value, count] : valueCounts(c.bootstrap())) {
      n += static_cast<uint64_t>(count);
    }
    return n;
  };
  const bool both_complete = waitFor([&] { return total(*a) >= 500 && total(*b) >= 500; }, 90s,
                                     500ms);
  // A loop would keep growing the topics: give it time to show.
  std::this_thread::sleep_for(3s);
  const auto statuses = worker.statuses();
  worker.stop();

  // then: 500 distinct records on each side, each exactly once
  ASSERT_TRUE(both_complete) << "a holds " << total(*a) << ", b holds " << total(*b);
  for (const auto* cluster : {a.get(), b.get()}) {
    const auto counts = valueCounts(cluster->bootstrap());
    EXPECT_EQ(counts.size(), 500u) << cluster->name();
    for (const auto& [value, count] : counts) {
      EXPECT_EQ(count, 1) << cluster->name() << ": " << value;
    }
  }
  uint64_t skipped = 0;
  for (const auto& s : statuses) {
    skipped += s.records_skipped_loop;
  }
  EXPECT_EQ(skipped, 500u) << "each link skips the records that came from its target";
}

} // namespace
} // namespace causeway
