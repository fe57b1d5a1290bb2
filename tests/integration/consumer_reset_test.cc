// A source consumer that is reset to an earlier offset (OFFSET_OUT_OF_RANGE -> earliest) while
// records are in flight: nothing is written twice and nothing freed early (run under ASan).

#include "replicator/worker.h"
#include "tests/support/test_support.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <gtest/gtest.h>

namespace causeway {
namespace {

using namespace std::chrono_literals;
using testing::produceRecords;
using testing::readAll;
using testing::startCluster;
using testing::waitFor;

size_t recordsIn(const std::string& bootstrap, const std::string& topic) {
  size_t n = 0;
  for (const auto& partition : readAll(bootstrap, topic)) {
    n += partition.size();
  }
  return n;
}

TEST(ConsumerReset, ARewoundSourceIsNotWrittenTwiceOnAnExactlyOnceLink) {
  // given: an exactly-once link that replicated 300 records
  auto source = startCluster("source", 1, {{"orders", 1}});
  auto target = startCluster("target", 1);
  ASSERT_TRUE(source && target);
  auto config = testing::makeConfig(*source, *target, {"orders"});
  config.links[0].delivery = config::DeliveryMode::kExactlyOnce;
  ASSERT_TRUE(produceRecords(source->bootstrap(), "orders", 1, 300, 0));
  replicator::Worker worker(config);
  ASSERT_TRUE(worker.start().ok());
  ASSERT_TRUE(waitFor([&] { return recordsIn(target->bootstrap(), "orders") >= 300; }, 60s));

  // when: the target slows down (records stay in flight) and the source answers the next fetches
  // with OFFSET_OUT_OF_RANGE, so the consumer resets to the earliest offset, while more arrive
  rd_kafka_mock_broker_set_rtt(target->mock(), 1, 200);
  ASSERT_TRUE(produceRecords(source->bootstrap(), "orders", 1, 200, 300));
  rd_kafka_mock_push_request_errors(source->mock(), 1 /* Fetch */, 2,
                                    RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE,
                                    RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE);
  ASSERT_TRUE(produceRecords(source->bootstrap(), "orders", 1, 100, 500));
  rd_kafka_mock_broker_set_rtt(target->mock(), 1, 0);
  ASSERT_TRUE(waitFor([&] { return recordsIn(target->bootstrap(), "orders") >= 600; }, 60s));
  std::this_thread::sleep_for(1s);  // a second copy would land now
  const auto status = worker.statuses().at(0);
  worker.stop();

  // then: the target holds every record exactly once, in order
  EXPECT_EQ(status.state, replicator::LinkState::kRunning) << status.error;
  const auto check = verify::checkMirror("orders", readAll(source->bootstrap(), "orders"), "orders",
                                         readAll(target->bootstrap(), "orders"));
  EXPECT_TRUE(check.identical()) << check.describe();
}

}  // namespace
}  // namespace causeway
