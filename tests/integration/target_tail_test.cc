// TargetTail finds the last source offset a link wrote into a mirror partition, past records of
// other writers, from what is on the target alone.

#include "replicator/record_headers.h"
#include "replicator/target_tail.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

namespace causeway {
namespace {

using namespace std::chrono_literals;

// Produces `count` records to partition 0, each with a causeway-src header for `link` (source
// offsets first_source_offset, +1, ...) or, with an empty link, no Causeway header at all.
void produceTagged(const std::string& bootstrap, const std::string& topic,
                   const std::string& link, int64_t first_source_offset, int count) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof(err));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  ASSERT_NE(rk, nullptr) << err;
  for (int i = 0; i < count; ++i) {
    rd_kafka_headers_t* headers = rd_kafka_headers_new(1);
    if (!link.empty()) {
      const std::string value = replicator::encodeSource(link, first_source_offset + i);
      rd_kafka_header_add(headers, "causeway-src", -1, value.data(),
                          static_cast<ssize_t>(value.size()));
    }
    ASSERT_EQ(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(0),
                                RD_KAFKA_V_VALUE(const_cast<char*>("v"), 1),
                                RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END),
              RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  ASSERT_EQ(rd_kafka_flush(rk, 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_destroy(rk);
}

class TargetTailTest : public ::testing::Test {
protected:
  void SetUp() override {
    cluster_ = testing::startCluster("target", 1, {{"mirror", 1}});
    ASSERT_TRUE(cluster_);
    config_.name = "target";
    config_.bootstrap = cluster_->bootstrap();
  }
  Result<std::optional<int64_t>> lastOf(const std::string& link) {
    replicator::TargetTail tail(config_, link);
    if (auto opened = tail.open(); !opened) {
      return opened.error();
    }
    return tail.lastSourceOffset("mirror", 0, 30s);
  }
  embedded::EmbeddedClusterPtr cluster_;
  config::ClusterConfig config_;
};

TEST_F(TargetTailTest, EmptyPartitionHoldsNothingOfTheLink) {
  auto last = lastOf("east-to-west");
  ASSERT_TRUE(last.ok()) << last.error().message;
  EXPECT_FALSE(last->has_value());
}

TEST_F(TargetTailTest, FindsTheLastSourceOffsetAtTheEnd) {
  produceTagged(cluster_->bootstrap(), "mirror", "east-to-west", 1000, 50);
  auto last = lastOf("east-to-west");
  ASSERT_TRUE(last.ok()) << last.error().message;
  EXPECT_EQ(**last, 1049);
}

TEST_F(TargetTailTest, ScansBackPastOtherWritersRecords) {
  // given: our 10 records, then 2,000 written by another link and plain producers
  produceTagged(cluster_->bootstrap(), "mirror", "east-to-west", 7, 10);
  produceTagged(cluster_->bootstrap(), "mirror", "south-to-west", 0, 1000);
  produceTagged(cluster_->bootstrap(), "mirror", "", 0, 1000);
  auto last = lastOf("east-to-west");
  ASSERT_TRUE(last.ok()) << last.error().message;
  EXPECT_EQ(**last, 16);
}

TEST_F(TargetTailTest, AnotherLinksRecordsAreNotOurs) {
  produceTagged(cluster_->bootstrap(), "mirror", "south-to-west", 0, 20);
  auto last = lastOf("east-to-west");
  ASSERT_TRUE(last.ok()) << last.error().message;
  EXPECT_FALSE(last->has_value());
}

TEST_F(TargetTailTest, APartitionWithoutALeaderFailsAloneAndTheOthersAreFound) {
  // given: our records in pair[0], and pair[1] without a leader
  ASSERT_EQ(rd_kafka_mock_topic_create(cluster_->mock(), "pair", 2, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
  produceTagged(cluster_->bootstrap(), "pair", "east-to-west", 40, 10);
  ASSERT_EQ(rd_kafka_mock_partition_set_leader(cluster_->mock(), "pair", 1, -1),
            RD_KAFKA_RESP_ERR_NO_ERROR);

  // when: both are read together
  replicator::TargetTail tail(config_, "east-to-west");
  ASSERT_TRUE(tail.open().ok());
  const auto found = tail.lastSourceOffsets({{"pair", 0}, {"pair", 1}},
                                            std::chrono::steady_clock::now() + 20s);

  // then: pair[0] is found; pair[1] fails as one to ask about again
  ASSERT_EQ(found.size(), 2u);
  ASSERT_TRUE(found[0].ok()) << found[0].error().message;
  EXPECT_EQ(*found[0].value(), 49);
  ASSERT_FALSE(found[1].ok());
  EXPECT_EQ(found[1].error().kind, ErrorKind::kUnavailable) << found[1].error().message;
  EXPECT_NE(found[1].error().message.find("pair[1]"), std::string::npos)
      << found[1].error().message;
}

} // namespace
} // namespace causeway
