// delivery: exactly_once. A worker resumes each partition from what is on the target (the
// causeway-src header), not from the source group's commits: killed at any moment with SIGKILL
// and restarted, the target ends up with every source record exactly once, in order.

#include "replicator/offset_state.h"
#include "replicator/record_headers.h"
#include "replicator/worker.h"
#include "tests/support/test_support.h"
#include "verify/mirror_check.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <random>
#include <thread>

namespace causeway {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::produceRecords;
using testing::runCommand;
using testing::startCluster;
using testing::waitFor;
using testing::waitForMirror;

config::Config exactlyOnceConfig(const embedded::EmbeddedCluster& source,
                                 const embedded::EmbeddedCluster& target,
                                 const std::string& topic) {
  auto config = testing::makeConfig(source, target, {topic});
  config.links[0].delivery = config::DeliveryMode::kExactlyOnce;
  return config;
}

TEST(ExactlyOnce, ResumesFromTheTargetNotFromTheSourceGroup) {
  // given: an exactly-once worker that never commits to the source group (commit interval of
  // an hour) and is killed after replicating 1,200 records
  auto source = startCluster("source", 3, {{"ledger", 3}});
  auto target = startCluster("target", 3);
  ASSERT_TRUE(source && target);
  auto config = exactlyOnceConfig(*source, *target, "ledger");
  config.links[0].commit_interval = std::chrono::hours(1);
  const auto config_path = testing::writeTempFile("eos-resume.yaml", testing::toYaml(config));
  const auto log_path = testing::writeTempFile("eos-resume.log", "");
  ASSERT_TRUE(produceRecords(source->bootstrap(), "ledger", 3, 400, 0));
  auto first = std::make_unique<ChildProcess>(runCommand(config_path), log_path);
  ASSERT_TRUE(waitFor(
      [&] { return testing::totalRecords(target->bootstrap(), "ledger", 3) >= 1200; }, 60s, 200ms))
      << first->log();
  first->signal(SIGKILL);
  ASSERT_TRUE(first->wait(10s).has_value());

  // when: more records arrive and a new worker starts; the source group has no committed
  // offset, so a worker that trusted it would re-read everything from the earliest offset
  ASSERT_TRUE(produceRecords(source->bootstrap(), "ledger", 3, 300, 400));
  auto second = std::make_unique<ChildProcess>(runCommand(config_path), log_path);
  auto check = waitForMirror(source->bootstrap(), target->bootstrap(), "ledger", 60s);
  std::this_thread::sleep_for(2s);  // a wrongly re-read backlog would show up by now
  check = waitForMirror(source->bootstrap(), target->bootstrap(), "ledger", 60s);
  second->signal(SIGTERM);
  ASSERT_TRUE(second->wait(60s).has_value());

  // then: the target holds each of the 2,100 records once, in order
  EXPECT_EQ(check.sourceRecords(), 2100u);
  EXPECT_TRUE(check.identical()) << check.describe() << "\n" << second->log();
  EXPECT_NE(second->log().find("resumes at source offset"), std::string::npos) << second->log();
}
// Checks the offset runs the workers saved on the target against the mirror's content: every
// record a run lists is there with that source offset, no record of the link hides between runs
// unless the later run is marked as following a hole, and for every source offset the runs
// either answer exactly right or bound a range holding the answer. Returns the problems found
// (empty: none) and counts the runs.
std::string checkSavedRuns(const embedded::EmbeddedCluster& target, const config::Config& config,
                           const std::string& topic, int32_t partitions, size_t& runs_total) {
  replicator::OffsetStateReader reader(config.clusters.at("target"), config.links[0].name);
  if (auto opened = reader.open(); !opened) {
    return opened.message();
  }
  if (auto refreshed = reader.refresh(std::chrono::steady_clock::now() + 30s); !refreshed) {
    return refreshed.message();
  }
  const auto mirror = testing::readAll(target.bootstrap(), topic);
  std::string problems;
  runs_total = 0;
  for (int32_t p = 0; p < partitions; ++p) {
    const auto* saved = reader.find(topic, p);
    if (saved == nullptr || !saved->error.empty()) {
      problems += "partition " + std::to_string(p) + ": no valid saved runs\n";
      continue;
    }
    // (source, target) of every record the link wrote, from the causeway-src headers.
    std::vector<std::pair<int64_t, int64_t>> ours;
    for (const auto& record : mirror.at(static_cast<size_t>(p))) {
      for (const auto& [name, value] : record.headers) {
        if (name == replicator::kSourceHeader && value) {
          if (auto source = replicator::decodeSource(*value, config.links[0].name)) {
            ours.emplace_back(*source, record.offset);
          }
        }
      }
    }
    const auto& runs = saved->runs;
    runs_total += runs.runs().size();
    const int64_t end = ours.empty() ? 0 : ours.back().second + 1;
    for (int64_t s = 0; s <= (ours.empty() ? 0 : ours.back().first + 1); ++s) {
      auto it = std::lower_bound(ours.begin(), ours.end(), std::pair<int64_t, int64_t>{s, -1});
      const int64_t expected = it == ours.end() ? end : it->second;
      const auto lookup = runs.lookup(s);
      const bool right =
          lookup.exact
              ? lookup.target == expected && it != ours.end() && it->first == lookup.source_there
              : lookup.search_low <= expected &&
                    (lookup.search_high < 0 || expected <= lookup.search_high);
      if (!right) {
        problems += "partition " + std::to_string(p) + " source offset " + std::to_string(s) +
                    ": runs say " + (lookup.exact ? "exactly " : "search from ") +
                    std::to_string(lookup.exact ? lookup.target : lookup.search_low) +
                    ", the target says " + std::to_string(expected) + "\n";
        break;
      }
    }
  }
  return problems;
}

// The end of the workers' shared log (all of them append to it), for failure messages.
std::string logTail(const ChildProcess& worker) {
  const std::string log = worker.log();
  constexpr size_t kTail = 6000;
  return log.size() <= kTail ? log : "...\n" + log.substr(log.size() - kTail);
}

// Kills a worker process `kills` times at random moments while `rounds` x 600 records flow,
// then checks the whole target.
void crashTest(bool transactional, int kills, uint64_t rounds) {
  // given: a worker process replicating a steady stream exactly-once
  constexpr int32_t kPartitions = 6;
  const int kKills = kills;
  auto source = startCluster("source", 3, {{"payments", kPartitions}});
  auto target = startCluster("target", 3);
  ASSERT_TRUE(source && target);
  auto config = exactlyOnceConfig(*source, *target, "payments");
  config.links[0].transactional = transactional;
  const auto config_path = testing::writeTempFile("eos.yaml", testing::toYaml(config));
  const auto log_path = testing::writeTempFile("eos-worker.log", "");

  // `rounds` x 600 records of ~120 B (at most 21,000: about 0.4 MiB per partition, far below the
  // mock's 5 MiB) fed in rounds while the workers are killed, and 600 more after the last restart.
  std::atomic<bool> feeding{true};
  std::thread feeder([&] {
    for (uint64_t round = 0; round < rounds; ++round) {
      produceRecords(source->bootstrap(), "payments", kPartitions, 100, round * 100);
      std::this_thread::sleep_for(700ms);
    }
    feeding = false;
  });

  // when: the worker is killed with SIGKILL at random moments and restarted each time
  std::mt19937 random(20261122);
  std::uniform_int_distribution<int> pause_ms(500, 4000);
  auto worker = std::make_unique<ChildProcess>(runCommand(config_path), log_path);
  for (int kill = 0; kill < kKills; ++kill) {
    // Let it get (re)assigned and replicate for a random while before killing it.
    waitFor([&] { return false; }, std::chrono::milliseconds(4000 + pause_ms(random)), 100ms);
    worker->signal(SIGKILL);
    ASSERT_TRUE(worker->wait(10s).has_value());
    worker = std::make_unique<ChildProcess>(runCommand(config_path), log_path);
  }
  feeder.join();
  // One more round after the last restart. Only the last worker can write it, so once it is on
  // the target that worker owns every partition and has written to each: stopping, it saves every
  // partition's runs. Without it, on a slow machine (AddressSanitizer, a loaded box) the feed can
  // end before the last worker's first assignment; a partition whose records all came from
  // workers killed before their first save then has no saved runs (only a hole, which
  // translation searches), and the check below would depend on the timing, not the product.
  ASSERT_TRUE(produceRecords(source->bootstrap(), "payments", kPartitions, 100, rounds * 100));

  // then: once the last worker caught up, every partition is identical to its source
  auto check = waitForMirror(source->bootstrap(), target->bootstrap(), "payments", 120s);
  worker->signal(SIGTERM);
  const auto exit_code = worker->wait(60s);
  EXPECT_EQ(check.sourceRecords(), (rounds + 1) * 100 * kPartitions);
  EXPECT_EQ(check.missing(), 0u) << check.describe();
  EXPECT_EQ(check.duplicates(), 0u) << check.describe();
  EXPECT_TRUE(check.identical()) << check.describe();
  ASSERT_TRUE(exit_code.has_value());
  EXPECT_EQ(*exit_code, 0);
  // The offset runs the killed workers and their successors saved still translate exactly.
  size_t runs = 0;
  const std::string problems = checkSavedRuns(*target, config, "payments", kPartitions, runs);
  EXPECT_EQ(problems, "") << logTail(*worker);
  std::cout << "[ report ] " << kKills << " SIGKILLs" << (transactional ? " (transactional)" : "")
            << ": missing " << check.missing() << ", duplicates " << check.duplicates()
            << ", saved offset runs " << runs << " over " << kPartitions << " partitions\n";
}

TEST(ExactlyOnce, SigkillAtRandomMomentsLosesAndDuplicatesNothing) {
  // 5 kills while 21,000 records flow in the suite; CAUSEWAY_CRASH_KILLS=50 for a longer soak.
  const char* kills = std::getenv("CAUSEWAY_CRASH_KILLS");
  crashTest(/*transactional=*/false, kills != nullptr ? std::max(1, std::atoi(kills)) : 5, 35);
}

TEST(ExactlyOnce, TransactionalWritesSurviveSigkillsToo) {
  // The transactional path (begin / send offsets / commit every commit_interval) under kills.
  // The embedded clusters do not fence zombies or hide aborted records, so this shows the path
  // keeps exactly-once here; fencing itself can only be shown against Kafka.
  crashTest(/*transactional=*/true, 3, 20);
}

}  // namespace
}  // namespace causeway
