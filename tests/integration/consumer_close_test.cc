// A worker stopped while its source consumer is between the group's JoinGroup and SyncGroup
// answers must still exit cleanly. librdkafka 2.0.2 asserts in the cooperative-sticky assignor
// when such a consumer is destroyed (the assignor's state only exists after the first SyncGroup
// answer; fixed in 2.3.0), which aborted `causeway run` on SIGTERM. The source delays its
// SyncGroup answer, and the worker is stopped once that request has arrived.

#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <chrono>
#include <csignal>

namespace causeway {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::startCluster;
using testing::waitFor;

constexpr int16_t kSyncGroupApi = 14;

TEST(ConsumerClose, AWorkerStoppedBetweenJoinAndSyncGroupExitsCleanly) {
  // given: a source whose next SyncGroup answer takes 3 s
  auto source = startCluster("source", 1, {{"orders", 1}});
  auto target = startCluster("target", 1);
  ASSERT_TRUE(source && target);
  const auto config = testing::makeConfig(*source, *target, {"orders"});
  const auto config_path = testing::writeTempFile("consumer-close.yaml", testing::toYaml(config));
  const auto log_path = testing::writeTempFile("consumer-close.log", "");
  ASSERT_EQ(rd_kafka_mock_broker_push_request_error_rtts(source->mock(), 1, kSyncGroupApi, 1,
                                                         RD_KAFKA_RESP_ERR_NO_ERROR, 3000),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  auto sync_group_sent = [&] {
    size_t left = 1;
    rd_kafka_mock_broker_error_stack_cnt(source->mock(), 1, kSyncGroupApi, &left);
    return left == 0;
  };

  // when: a worker joins the group and is stopped while its SyncGroup answer is on the way
  ChildProcess worker(testing::runCommand(config_path), log_path);
  ASSERT_TRUE(waitFor(sync_group_sent, 60s, 20ms)) << worker.log();
  worker.signal(SIGTERM);
  const auto code = worker.wait(60s);

  // then: it exits 0 (an abort shows as 128 + SIGABRT)
  ASSERT_TRUE(code.has_value()) << worker.log();
  EXPECT_EQ(*code, 0) << worker.log();
}

}  // namespace
}  // namespace causeway
