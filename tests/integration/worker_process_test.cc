// `causeway run` as a real process: SIGTERM drains and a restart resumes; two workers share a
// link and one leaves. The clusters live in the test process; the workers reach them over TCP.

#include "tests/support/test_support.h"
#include "verify/mirror_check.h"

#include <gtest/gtest.h>

#include <csignal>
#include <iostream>

namespace causeway {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::produceRecords;
using testing::readAll;
using testing::runCommand;
using testing::startCluster;
using testing::totalRecords;
using testing::waitFor;

constexpr int32_t kPartitions = 6;

// Waits until the mirror holds at least `n` records (duplicates count too).
bool targetHolds(const embedded::EmbeddedCluster& target, const std::string& topic, int64_t n,
                 std::chrono::milliseconds timeout) {
  return waitFor([&] { return totalRecords(target.bootstrap(), topic, kPartitions) >= n; },
                 timeout, 250ms);
}

TEST(WorkerProcess, SigtermDrainsAndRestartLosesNothing) {
  // given: a worker process replicating a topic
  auto source = startCluster("source", 3, {{"orders", kPartitions}});
  auto target = startCluster("target", 3);
  ASSERT_TRUE(source && target);
  const auto config_path = testing::writeTempFile(
      "run.yaml", testing::toYaml(testing::makeConfig(*source, *target, {"orders"})));
  const auto log_path = testing::writeTempFile("worker.log", "");
  ASSERT_TRUE(produceRecords(source->bootstrap(), "orders", kPartitions, 500, 0));  // 3000
  auto first = std::make_unique<ChildProcess>(runCommand(config_path), log_path);
  ASSERT_TRUE(targetHolds(*target, "orders", 3000, 90s)) << first->log();

  // when: more records arrive while it is stopped with SIGTERM mid-stream
  std::thread feeder([&] { produceRecords(source->bootstrap(), "orders", kPartitions, 1000, 500); });
  std::this_thread::sleep_for(300ms);
  first->signal(SIGTERM);
  const auto exit_code = first->wait(60s);
  feeder.join();
  ASSERT_TRUE(exit_code.has_value()) << "worker did not exit within 60 s of SIGTERM\n"
                                     << first->log();
  EXPECT_EQ(*exit_code, 0) << first->log();
  const int64_t before_restart = totalRecords(target->bootstrap(), "orders", kPartitions);

  // and: a new worker is started with the same config
  ASSERT_TRUE(produceRecords(source->bootstrap(), "orders", kPartitions, 500, 1500));  // 12000
  auto second = std::make_unique<ChildProcess>(runCommand(config_path), log_path);
  auto check = testing::waitForMirror(source->bootstrap(), target->bootstrap(), "orders", 90s);
  second->signal(SIGTERM);
  const auto second_exit = second->wait(60s);

  // then: nothing is missing, order is kept; duplicates are counted and reported
  ASSERT_TRUE(second_exit.has_value());
  EXPECT_EQ(*second_exit, 0);
  EXPECT_EQ(check.sourceRecords(), 12000u);
  EXPECT_EQ(check.missing(), 0u) << check.describe() << "\n" << second->log();
  EXPECT_EQ(check.unexpected(), 0u) << check.describe();
  EXPECT_TRUE(check.atLeastOnce()) << check.describe();
  std::cout << "[ report ] records before restart on target: " << before_restart
            << ", duplicates after SIGTERM + restart: " << check.duplicates() << "\n";
  ::testing::Test::RecordProperty("duplicates", static_cast<int>(check.duplicates()));
}

TEST(WorkerProcess, TwoWorkersShareALinkAndOneLeaves) {
  // given: two worker processes with the same config
  auto source = startCluster("source", 3, {{"orders", kPartitions}});
  auto target = startCluster("target", 3);
  ASSERT_TRUE(source && target);
  const auto config_path = testing::writeTempFile(
      "run.yaml", testing::toYaml(testing::makeConfig(*source, *target, {"orders"})));
  const auto log_a = testing::writeTempFile("worker-a.log", "");
  const auto log_b = testing::writeTempFile("worker-b.log", "");
  // Workers join one after the other, as when scaling out. (Two consumers joining the
  // embedded cluster's group within milliseconds of each other can leave one without its
  // JoinGroup answer for a whole session timeout: a mock limitation, not the protocol's.)
  ASSERT_TRUE(produceRecords(source->bootstrap(), "orders", kPartitions, 300, 0));
  auto a = std::make_unique<ChildProcess>(runCommand(config_path), log_a);
  ASSERT_TRUE(waitFor([&] { return a->log().find("assigned") != std::string::npos; }, 60s))
      << a->log();
  auto b = std::make_unique<ChildProcess>(runCommand(config_path), log_b);

  // when: once both workers own partitions, worker A is stopped mid-stream
  const bool both_assigned = waitFor(
      [&] {
        return b->log().find("assigned") != std::string::npos &&
               totalRecords(target->bootstrap(), "orders", kPartitions) >= 1800;
      },
      90s, 250ms);
  ASSERT_TRUE(both_assigned) << "A:\n" << a->log() << "\nB:\n" << b->log();
  std::thread feeder([&] { produceRecords(source->bootstrap(), "orders", kPartitions, 1000, 300); });
  std::this_thread::sleep_for(200ms);
  a->signal(SIGTERM);
  const auto a_exit = a->wait(60s);
  feeder.join();
  ASSERT_TRUE(produceRecords(source->bootstrap(), "orders", kPartitions, 200, 1300));  // 9000

  // then: worker B takes over A's partitions and everything arrives
  auto check = testing::waitForMirror(source->bootstrap(), target->bootstrap(), "orders", 90s);
  b->signal(SIGTERM);
  const auto b_exit = b->wait(60s);
  ASSERT_TRUE(a_exit.has_value());
  EXPECT_EQ(*a_exit, 0) << a->log();
  ASSERT_TRUE(b_exit.has_value());
  EXPECT_EQ(*b_exit, 0);
  EXPECT_EQ(check.sourceRecords(), 9000u);
  EXPECT_EQ(check.missing(), 0u) << check.describe() << "\nB:\n" << b->log();
  EXPECT_EQ(check.unexpected(), 0u) << check.describe();
  EXPECT_TRUE(check.atLeastOnce()) << check.describe();
  std::cout << "[ report ] duplicates after a worker left: " << check.duplicates() << "\n";
}

TEST(WorkerProcess, InvalidConfigStartsNothingAndListsErrors) {
  const auto path = testing::writeTempFile("bad.yaml", R"(clusters:
  east: {bootstrap: ""}
links:
  - name: l
    source: east
    target: nowhere
    topics: {include: ["("]}
)");
  ChildProcess run(runCommand(path), testing::writeTempFile("bad.log", ""));
  const auto code = run.wait(30s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 1);
  const std::string log = run.log();
  EXPECT_NE(log.find(":2:"), std::string::npos) << log;  // the empty bootstrap
  EXPECT_NE(log.find(":6:"), std::string::npos) << log;  // the unknown target cluster
  EXPECT_NE(log.find(":7:"), std::string::npos) << log;  // the bad regex
  EXPECT_EQ(log.find("running"), std::string::npos) << log;
}

} // namespace
} // namespace causeway
