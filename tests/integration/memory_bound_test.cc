// One target partition stuck (its leader is down) while the others flow: the worker's memory
// stays bounded by max_in_flight_bytes plus the consumer's prefetch and a fixed overhead,
// whatever the fetch responses that carried the stuck records held. Measured on the real
// binary (peak RSS from /proc/<pid>/status), then nothing is lost once the leader is back.

#include "tests/support/test_support.h"
#include "verify/mirror_check.h"

#include <librdkafka/rdkafka.h>

#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <iostream>
#include <sstream>

namespace causeway {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::produceRecords;
using testing::runCommand;
using testing::startCluster;
using testing::totalRecords;
using testing::waitFor;

constexpr int32_t kPartitions = 16;
constexpr uint64_t kMiB = 1 << 20;
constexpr uint64_t kMaxInFlight = 8 * kMiB;
constexpr uint64_t kConsumerQueue = 4 * kMiB;  // queued.max.messages.kbytes
// What the process needs beyond the in-flight window and the prefetch: librdkafka's buffers for
// fetch responses being decoded and produce requests being sent, allocator slack.
constexpr uint64_t kFixedOverhead = 24 * kMiB;

// Produces `count` records of `value_bytes` into every partition, waiting for each
// acknowledgement. False with a gtest failure on error.
bool produceLarge(const std::string& bootstrap, const std::string& topic, uint64_t count,
                  size_t value_bytes) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof(err));
  rd_kafka_conf_set(conf, "linger.ms", "5", err, sizeof(err));
  rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (producer == nullptr) {
    ADD_FAILURE() << err;
    return false;
  }
  const std::string value(value_bytes, 'v');
  for (uint64_t i = 0; i < count; ++i) {
    for (int32_t p = 0; p < kPartitions; ++p) {
      const std::string key = "k" + std::to_string(i);
      while (rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(p),
                               RD_KAFKA_V_KEY(key.data(), key.size()),
                               RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                               RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                               RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_poll(producer, 10);
      }
    }
  }
  const bool flushed = rd_kafka_flush(producer, 60000) == RD_KAFKA_RESP_ERR_NO_ERROR;
  rd_kafka_destroy(producer);
  EXPECT_TRUE(flushed) << "producing " << topic << " did not finish";
  return flushed;
}

// A field of /proc/<pid>/status in bytes ("VmRSS", "VmHWM"), 0 if unreadable.
uint64_t procStatusBytes(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      std::istringstream fields(line.substr(field.size() + 1));
      uint64_t kib = 0;
      fields >> kib;
      return kib * 1024;
    }
  }
  return 0;
}

TEST(MemoryBound, OneStuckTargetPartitionKeepsTheWorkerWithinItsWindow) {
  // given: all source partitions on one broker (each fetch response carries every partition), a
  // mirror topic whose partition 0 is led by a broker that goes down
  auto source = startCluster("source", 1, {{"flow", kPartitions}});
  auto target = startCluster("target", 3, {{"flow", kPartitions}});
  ASSERT_TRUE(source && target);
  for (int32_t p = 0; p < kPartitions; ++p) {
    ASSERT_TRUE(target->setPartitionLeader("flow", p, p == 0 ? 3 : 1 + p % 2).ok());
  }
  auto config = testing::makeConfig(*source, *target, {"flow"});
  config.links[0].max_in_flight_bytes = kMaxInFlight;
  config.links[0].consumer_properties["queued.max.messages.kbytes"] =
      std::to_string(kConsumerQueue / 1024);
  // Fetch responses of up to 1 MiB with at most 64 KiB per partition: each carries every
  // partitions, so a response holding a few stuck records is mostly other partitions' data.
  config.links[0].consumer_properties["fetch.max.bytes"] = std::to_string(kMiB);
  config.links[0].consumer_properties["max.partition.fetch.bytes"] = std::to_string(64 * 1024);
  const auto config_path = testing::writeTempFile("memory.yaml", testing::toYaml(config));
  const auto log_path = testing::writeTempFile("memory.log", "");
  ASSERT_TRUE(produceRecords(source->bootstrap(), "flow", kPartitions, 20, 0));
  ChildProcess worker(runCommand(config_path), log_path);
  ASSERT_TRUE(waitFor(
      [&] { return totalRecords(target->bootstrap(), "flow", kPartitions) >= 20 * kPartitions; },
      60s))
      << worker.log();
  const uint64_t baseline = procStatusBytes(worker.pid(), "VmRSS");
  ASSERT_GT(baseline, 0u);

  // when: partition 0's leader goes down and 4 MiB per partition arrive (1 KiB records; the
  // embedded clusters keep 5 MiB per partition): 64 MiB, of which the stuck partition's 4 MiB
  // must wait
  ASSERT_TRUE(target->setBrokerDown(3).ok());
  ASSERT_TRUE(produceLarge(source->bootstrap(), "flow", 4096, 1024));
  std::this_thread::sleep_for(5s);  // the window fills and fetching pauses
  const uint64_t peak = procStatusBytes(worker.pid(), "VmHWM");

  // then: the peak stays within the window, the prefetch and the fixed overhead
  std::cout << "[ report ] worker RSS: baseline " << baseline / kMiB << " MiB, peak " << peak / kMiB
            << " MiB (window " << kMaxInFlight / kMiB << " MiB, prefetch " << kConsumerQueue / kMiB
            << " MiB)\n";
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer keeps freed memory in quarantine and adds shadow memory: the bound is
  // checked in the plain build (`make test`); here only that nothing is lost.
  std::cout << "[ report ] RSS bound not checked under AddressSanitizer\n";
#else
  EXPECT_LE(peak, baseline + kMaxInFlight + kConsumerQueue + kFixedOverhead);
#endif

  // and: once the leader is back, every record arrives (at-least-once: none missing)
  ASSERT_TRUE(target->setBrokerUp(3).ok());
  auto check = testing::waitForMirror(source->bootstrap(), target->bootstrap(), "flow", 90s);
  worker.signal(SIGTERM);
  worker.wait(60s);
  EXPECT_EQ(check.missing(), 0u) << check.describe();
  EXPECT_TRUE(check.atLeastOnce()) << check.describe();
}

}  // namespace
}  // namespace causeway
