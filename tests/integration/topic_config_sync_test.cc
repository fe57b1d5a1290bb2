// Topic discovery with topic configuration sync: new mirror topics are created with the source
// topic's configs, a target refusing them still gets the topic, and on the embedded clusters
// (which have no DescribeConfigs / AlterConfigs) replication goes on and the status says why the
// configs are not synced. The source is an embedded cluster (its topic list); the config answers
// come from fakes of the TopicAdmin seam.

#include "kafka/client_factory.h"
#include "kafka/topic_admin.h"
#include "replicator/topic_discovery.h"
#include "replicator/topic_selector.h"
#include "tests/support/fake_topic_admin.h"
#include "tests/support/test_support.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace causeway {
namespace {

using namespace std::chrono_literals;
using testing::FakeTopicAdmin;
using ::testing::HasSubstr;
using testing::startCluster;

class TopicConfigDiscoveryTest : public ::testing::Test {
protected:
  void SetUp() override {
    source_ = startCluster("source", 1, {{"orders", 2}});
    target_ = startCluster("target", 1);
    ASSERT_TRUE(source_ && target_);
    config_ = testing::makeConfig(*source_, *target_, {"orders"});
    config_.links[0].naming = {config::NamingMode::kPrefix, "east."};
    kafka::ClientSpec spec;
    spec.type = RD_KAFKA_PRODUCER;
    spec.cluster = &config_.clusters.at("source");
    auto client = kafka::makeClient(spec);
    ASSERT_TRUE(client.ok()) << client.error().message;
    client_ = std::move(*client);
  }

  std::unique_ptr<replicator::TopicDiscovery> discovery(kafka::TopicAdmin& target_admin) {
    auto selector = replicator::TopicSelector::create(config_.links[0]);
    EXPECT_TRUE(selector.ok());
    return std::make_unique<replicator::TopicDiscovery>(config_.clusters.at("source"),
                                                        std::move(*selector), target_admin, 10s);
  }

  embedded::EmbeddedClusterPtr source_;
  embedded::EmbeddedClusterPtr target_;
  config::Config config_;
  kafka::HandlePtr client_;
};

TEST_F(TopicConfigDiscoveryTest, NewMirrorTopicsAreCreatedWithTheSourcesConfigs) {
  // given: the source topic is compacted with a one-hour retention
  auto source_admin = std::make_unique<FakeTopicAdmin>();
  source_admin->addTopic("orders", 2, {{"cleanup.policy", "compact"}, {"retention.ms", "3600000"}});
  FakeTopicAdmin target_admin;
  auto d = discovery(target_admin);
  d->enableConfigSync(config_.links[0].topic_configs, std::move(source_admin));
  // when
  auto result = d->run(client_.get());
  // then: the mirror topic exists with them, ready to replicate, nothing to report
  ASSERT_TRUE(result.ok()) << result.error().message;
  ASSERT_EQ(result->ready.count("orders"), 1u);
  const auto mirror = target_admin.topic("east.orders");
  EXPECT_EQ(mirror.partitions, 2);
  EXPECT_EQ(mirror.configs.at("cleanup.policy").value, "compact");
  EXPECT_EQ(mirror.configs.at("retention.ms").value, "3600000");
  EXPECT_TRUE(result->config_problems.empty()) << result->config_problems.begin()->second;
}

TEST_F(TopicConfigDiscoveryTest, ATargetRefusingTheConfigsStillGetsTheTopic) {
  auto source_admin = std::make_unique<FakeTopicAdmin>();
  source_admin->addTopic("orders", 2, {{"retention.ms", "1000"}});
  FakeTopicAdmin target_admin;
  target_admin.setDefault("retention.ms", "604800000");
  target_admin.create_with_configs_error = "POLICY_VIOLATION: retention.ms below the minimum";
  target_admin.alter_refused["east.orders"] = "POLICY_VIOLATION: retention.ms below the minimum";
  auto d = discovery(target_admin);
  d->enableConfigSync(config_.links[0].topic_configs, std::move(source_admin));
  auto result = d->run(client_.get());
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->ready.count("orders"), 1u);
  EXPECT_TRUE(result->problems.empty());
  EXPECT_TRUE(target_admin.has("east.orders"));
  ASSERT_EQ(result->config_problems.count("orders"), 1u);
  EXPECT_THAT(result->config_problems.at("orders"), HasSubstr("POLICY_VIOLATION"));
}

TEST_F(TopicConfigDiscoveryTest, EmbeddedClustersReplicateAndSayWhyConfigsAreNotSynced) {
  // given: the real seams of two embedded clusters (no DescribeConfigs / AlterConfigs)
  auto target_admin = kafka::makeTopicAdmin(config_.clusters.at("target"));
  auto d = discovery(*target_admin);
  d->enableConfigSync(config_.links[0].topic_configs);
  // when
  const auto started = std::chrono::steady_clock::now();
  auto result = d->run(client_.get());
  // then: the mirror topic is ready at once (no request waits for a timeout), and the status
  // names the reason
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->ready.count("orders"), 1u);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  ASSERT_EQ(result->config_problems.count("*"), 1u) << testing::toYaml(config_);
  EXPECT_THAT(result->config_problems.at("*"), HasSubstr("embedded cluster"));
}

}  // namespace
}  // namespace causeway
