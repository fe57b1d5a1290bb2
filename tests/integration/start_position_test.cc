// `start: latest` decides where a link begins on the topics that exist when it first starts;
// topics created later are replicated from their first record, and a restart continues where
// the link stopped. Through the real binary, as a user runs it.

#include "tests/support/test_support.h"
#include "verify/mirror_check.h"

#include <gtest/gtest.h>

#include <csignal>

namespace causeway {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::makeRecord;
using testing::produceRecords;
using testing::runCommand;
using testing::startCluster;
using testing::waitFor;

// Every record of a topic, or none while the topic does not exist yet.
std::vector<verify::ConsumedRecord> flat(const std::string& bootstrap, const std::string& topic) {
  std::vector<verify::ConsumedRecord> out;
  verify::ReadOptions options;
  options.bootstrap = bootstrap;
  options.timeout = 60s;
  auto records = verify::readTopic(options, topic);
  if (!records) {
    return out;
  }
  for (auto& partition : *records) {
    out.insert(out.end(), partition.begin(), partition.end());
  }
  return out;
}

TEST(StartPosition, LatestSkipsOnlyWhatExistedAtTheFirstStart) {
  // given: a topic with 50 old records and a link that starts at the latest position
  auto source = startCluster("source", 1, {{"old", 1}});
  auto target = startCluster("target", 1);
  ASSERT_TRUE(source && target);
  ASSERT_TRUE(produceRecords(source->bootstrap(), "old", 1, 50, 0));
  auto config = testing::makeConfig(*source, *target, {"old", "new\\..*"});
  config.links[0].start = config::StartPosition::kLatest;
  const auto config_path = testing::writeTempFile("latest.yaml", testing::toYaml(config));
  const auto log_path = testing::writeTempFile("latest.log", "");
  auto worker = std::make_unique<ChildProcess>(runCommand(config_path), log_path);

  // when: new records arrive on the old topic once the link runs (one at a time until the first
  // shows up on the target: the link's start position is where the topic ended when it started)
  uint64_t seq = 50;
  ASSERT_TRUE(waitFor(
      [&] {
        produceRecords(source->bootstrap(), "old", 1, 1, seq++);
        return !flat(target->bootstrap(), "old").empty();
      },
      60s, 500ms))
      << worker->log();
  // and: a topic is created while the link runs, and 600 records land right after it appeared
  ASSERT_TRUE(source->createTopic("new.orders", 2).ok());
  ASSERT_TRUE(produceRecords(source->bootstrap(), "new.orders", 2, 300, 0));

  // then: every record of the new topic reaches the target, from its first one
  auto check = testing::waitForMirror(source->bootstrap(), target->bootstrap(), "new.orders", 60s);
  EXPECT_EQ(check.sourceRecords(), 600u);
  EXPECT_TRUE(check.identical()) << check.describe() << "\n" << worker->log();
  // and: none of the 50 records that existed before the first start was copied
  for (const auto& record : flat(target->bootstrap(), "old")) {
    for (uint64_t old = 0; old < 50; ++old) {
      ASSERT_NE(record.value, makeRecord("old", 0, old).value) << "old record " << old;
    }
  }

  // when: the worker stops, records arrive while it is down, and it starts again
  worker->signal(SIGTERM);
  ASSERT_TRUE(worker->wait(60s).has_value());
  const size_t copied_before = flat(target->bootstrap(), "old").size();
  const uint64_t first_while_down = seq;
  ASSERT_TRUE(produceRecords(source->bootstrap(), "old", 1, 30, seq));
  seq += 30;
  worker = std::make_unique<ChildProcess>(runCommand(config_path), log_path);

  // then: the restart continues where the link stopped: the 30 records are not skipped
  ASSERT_TRUE(
      waitFor([&] { return flat(target->bootstrap(), "old").size() >= copied_before + 30; }, 60s))
      << worker->log();
  worker->signal(SIGTERM);
  ASSERT_TRUE(worker->wait(60s).has_value());
  const auto copies = flat(target->bootstrap(), "old");
  EXPECT_EQ(copies.back().value, makeRecord("old", 0, seq - 1).value);
  bool found_first = false;
  for (const auto& record : copies) {
    found_first = found_first || record.value == makeRecord("old", 0, first_while_down).value;
  }
  EXPECT_TRUE(found_first) << "the first record produced while the worker was down is missing";
}

}  // namespace
}  // namespace causeway
