// Zombie fencing of a transactional exactly-once link: a worker frozen (SIGSTOP) while it owns
// partitions loses them to a second worker, then wakes up and tries to go on. Kafka must fence
// it (its group generation is stale, its transaction is aborted), so a read_committed consumer
// of the target sees every source record exactly once.
//
// The embedded clusters cannot show this: they fence nothing and hide no aborted record
// (EmbeddedClusterLimits in embedded_limits_test.cc pins that). So the test runs against real
// clusters given by CAUSEWAY_TEST_KAFKA_SOURCE / CAUSEWAY_TEST_KAFKA_TARGET (bootstrap lists of
// two Kafka clusters), and is skipped otherwise. CAUSEWAY_ZOMBIE_ON_EMBEDDED=1 runs the same
// steps on embedded clusters, where it is expected to FAIL with the zombie's duplicates: that
// shows the test's mechanics reach the check, and how many records a zombie adds when nothing
// fences it.

#include "kafka/topic_admin.h"
#include "tests/support/test_support.h"
#include "verify/mirror_check.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <thread>

namespace causeway {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::waitFor;

constexpr int32_t kPartitions = 6;

TEST(ZombieFencing, FrozenTransactionalWorkerIsFencedAfterItsPartitionsMoved) {
  const char* source_env = std::getenv("CAUSEWAY_TEST_KAFKA_SOURCE");
  const char* target_env = std::getenv("CAUSEWAY_TEST_KAFKA_TARGET");
  const bool on_embedded = std::getenv("CAUSEWAY_ZOMBIE_ON_EMBEDDED") != nullptr;
  if ((source_env == nullptr || target_env == nullptr) && !on_embedded) {
    GTEST_SKIP() << "needs two Kafka clusters (CAUSEWAY_TEST_KAFKA_SOURCE, "
                    "CAUSEWAY_TEST_KAFKA_TARGET): the embedded clusters do not fence zombies";
  }

  // given: a source topic and a transactional exactly-once link between the two clusters
  const std::string topic =
      "causeway-zombie-" + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                              std::chrono::system_clock::now().time_since_epoch())
                                              .count());
  embedded::EmbeddedClusterPtr source_cluster;
  embedded::EmbeddedClusterPtr target_cluster;
  config::Config config;
  if (on_embedded) {
    source_cluster = testing::startCluster("source", 3, {{topic, kPartitions}});
    target_cluster = testing::startCluster("target", 3);
    ASSERT_TRUE(source_cluster && target_cluster);
    config = testing::makeConfig(*source_cluster, *target_cluster, {topic});
  } else {
    config = testing::makeConfig(source_env, "", target_env, "", {topic});
    auto created =
        kafka::makeTopicAdmin(config.clusters["source"])->ensureTopic(topic, kPartitions, 60s);
    ASSERT_TRUE(created.ok()) << created.error().message;
  }
  config.links[0].delivery = config::DeliveryMode::kExactlyOnce;
  config.links[0].transactional = true;
  // Records wait up to 100 ms in the producer before they are sent: a worker frozen in a burst
  // then surely holds records that reach the target only after it wakes up.
  config.links[0].producer_properties["linger.ms"] = "100";
  const std::string source_bootstrap = config.clusters["source"].bootstrap;
  const std::string target_bootstrap = config.clusters["target"].bootstrap;
  const auto config_path = testing::writeTempFile("zombie.yaml", testing::toYaml(config));
  ASSERT_TRUE(testing::produceRecords(source_bootstrap, topic, kPartitions, 50, 0));

  // worker A owns every partition and replicates while the source keeps receiving records
  ChildProcess a(testing::runCommand(config_path), testing::writeTempFile("zombie-a.log", ""));
  ASSERT_TRUE(waitFor(
      [&] { return a.log().find("assigned " + std::to_string(kPartitions)) != std::string::npos; },
      60s, 200ms))
      << a.log();
  ASSERT_TRUE(waitFor(
      [&] { return testing::totalRecords(target_bootstrap, topic, kPartitions) >= 300; }, 60s,
      100ms));
  // A steady flow (about 3,000 records/s; at most ~1.5 MiB per partition in all) so A always
  // holds records when it freezes.
  std::atomic<bool> feeding{true};
  std::thread feeder([&] {
    for (uint64_t round = 0; round < 400 && feeding.load(); ++round) {
      testing::produceRecords(source_bootstrap, topic, kPartitions, 50, 50 + round * 50);
      std::this_thread::sleep_for(100ms);
    }
  });

  // when: A freezes in the flow, with records read, queued and in flight; B joins and gets
  // A's partitions once A's session expires; then A wakes up, believing it still owns them
  std::this_thread::sleep_for(2s);
  a.signal(SIGSTOP);
  ChildProcess b(testing::runCommand(config_path), testing::writeTempFile("zombie-b.log", ""));
  const bool b_took_over = waitFor(
      [&] {
        return b.log().find(std::to_string(kPartitions) + " in total") != std::string::npos;
      },
      90s, 200ms);
  std::this_thread::sleep_for(3s);  // B writes A's partitions for a while
  a.signal(SIGCONT);
  std::this_thread::sleep_for(10s);  // A acts on what it believed it owned
  feeding = false;
  feeder.join();

  // then: a read_committed reader of the target sees every source record exactly once
  auto check = testing::waitForMirror(source_bootstrap, target_bootstrap, topic, 120s);
  a.signal(SIGTERM);
  b.signal(SIGTERM);
  a.wait(60s);
  b.wait(60s);
  EXPECT_TRUE(b_took_over) << b.log();
  std::cout << "[ report ] zombie: missing " << check.missing() << ", duplicates "
            << check.duplicates() << (on_embedded ? " (embedded clusters: nothing fences)" : "")
            << "\n";
  EXPECT_EQ(check.missing(), 0u) << check.describe();
  EXPECT_EQ(check.duplicates(), 0u) << check.describe() << "\nworker A:\n" << a.log();
}

} // namespace
} // namespace causeway
