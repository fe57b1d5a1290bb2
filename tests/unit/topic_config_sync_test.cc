// Topic configuration sync (replicator/topic_config_sync.h): what a mirror topic gets from its
// source topic, what is changed on an existing mirror, and that a cluster refusing the config
// APIs never stops anything. The embedded clusters have no DescribeConfigs / AlterConfigs, so a
// fake TopicAdmin stands for both clusters here.

#include "replicator/topic_config_sync.h"
#include "tests/support/fake_topic_admin.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace causeway::replicator {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using testing::FakeTopicAdmin;

kafka::TopicConfigEntries entries(const kafka::TopicConfigValues& values) {
  kafka::TopicConfigEntries out;
  for (const auto& [key, value] : values) {
    out[key] = kafka::TopicConfigEntry{value, true, false, false};
  }
  return out;
}

TEST(TopicConfigSync, MirrorsGetTheSyncedConfigsOnly) {
  const auto desired = desiredMirrorConfigs(
      entries({{"cleanup.policy", "compact"},
               {"retention.ms", "86400000"},
               {"min.insync.replicas", "2"},                    // the cluster's business
               {"message.timestamp.difference.max.ms", "1000"},  // would refuse old records
               {"compression.type", "zstd"}}),
      config::TopicConfigSyncConfig{});
  EXPECT_EQ(desired, (kafka::TopicConfigValues{{"cleanup.policy", "compact"},
                                               {"compression.type", "zstd"},
                                               {"retention.ms", "86400000"}}));
}

TEST(TopicConfigSync, TimestampTypeIsAlwaysCreateTimeAndLogAppendTimeIsNoted) {
  std::vector<std::string> notes;
  const auto desired = desiredMirrorConfigs(
      entries({{"message.timestamp.type", "LogAppendTime"}}), config::TopicConfigSyncConfig{},
      &notes);
  EXPECT_EQ(desired.at("message.timestamp.type"), "CreateTime");
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_THAT(notes[0], HasSubstr("keep the source's timestamps"));
}

TEST(TopicConfigSync, MaxMessageBytesGetsRoomForCausewaysHeaders) {
  const auto desired = desiredMirrorConfigs(entries({{"max.message.bytes", "1048588"}}),
                                            config::TopicConfigSyncConfig{});
  EXPECT_EQ(desired.at("max.message.bytes"), std::to_string(1048588 + kMaxMessageBytesHeadroom));
  // A value that is not a number is copied as it is (the target will say what it thinks).
  EXPECT_EQ(desiredMirrorConfigs(entries({{"max.message.bytes", "lots"}}),
                                 config::TopicConfigSyncConfig{})
                .at("max.message.bytes"),
            "lots");
}

TEST(TopicConfigSync, ExcludedConfigsAreLeftAlone) {
  config::TopicConfigSyncConfig settings;
  settings.exclude = {"retention.ms"};
  const auto desired = desiredMirrorConfigs(
      entries({{"retention.ms", "1000"}, {"retention.bytes", "10"}}), settings);
  EXPECT_EQ(desired, (kafka::TopicConfigValues{{"retention.bytes", "10"}}));
}

TEST(TopicConfigSync, PlanChangesWhatDiffersAndSkipsWhatTheTargetCannotTake) {
  kafka::TopicConfigEntries target = entries({{"retention.ms", "1000"}, {"cleanup.policy", "delete"}});
  target["segment.bytes"] = kafka::TopicConfigEntry{"1073741824", false, /*read_only=*/true, false};
  const auto plan = planTopicConfigs({{"retention.ms", "1000"},
                                      {"cleanup.policy", "compact"},
                                      {"segment.bytes", "16777216"},
                                      {"max.compaction.lag.ms", "5000"}},
                                     target);
  EXPECT_EQ(plan.set, (kafka::TopicConfigValues{{"cleanup.policy", "compact"}}));
  ASSERT_EQ(plan.skipped.size(), 2u);
  EXPECT_THAT(plan.skipped[0], HasSubstr("max.compaction.lag.ms: the target cluster does not know it"));
  EXPECT_THAT(plan.skipped[1], HasSubstr("segment.bytes: read-only on the target"));
}

class TopicConfigSyncRunTest : public ::testing::Test {
protected:
  void SetUp() override {
    for (auto* admin : {&source_, &target_}) {
      admin->setDefault("cleanup.policy", "delete");
      admin->setDefault("retention.ms", "604800000");
      admin->setDefault("message.timestamp.type", "CreateTime");
    }
    source_.addTopic("orders", 3, {{"cleanup.policy", "compact"}, {"retention.ms", "3600000"}});
    target_.addTopic("east.orders", 3);
    settings_.interval = 1h;
  }

  FakeTopicAdmin source_;
  FakeTopicAdmin target_;
  config::TopicConfigSyncConfig settings_;
};

TEST_F(TopicConfigSyncRunTest, AnExistingMirrorTopicIsBroughtInLine) {
  TopicConfigSync sync(settings_, source_, target_);
  sync.run({{"orders", "east.orders"}}, 1s);
  const auto mirror = target_.topic("east.orders");
  EXPECT_EQ(mirror.configs.at("cleanup.policy").value, "compact");
  EXPECT_EQ(mirror.configs.at("retention.ms").value, "3600000");
  EXPECT_EQ(mirror.configs.count("message.timestamp.type"), 0u);  // already CreateTime
  EXPECT_EQ(sync.updates(), 2u);
  EXPECT_TRUE(sync.problems().empty());
}

TEST_F(TopicConfigSyncRunTest, RunsOncePerIntervalAndFollowsLaterChanges) {
  TopicConfigSync sync(settings_, source_, target_);
  sync.run({{"orders", "east.orders"}}, 1s);
  source_.addTopic("orders", 3, {{"retention.ms", "60000"}});
  sync.run({{"orders", "east.orders"}}, 1s);  // within the interval: nothing asked
  EXPECT_EQ(source_.describe_calls, 1);
  EXPECT_EQ(target_.topic("east.orders").configs.at("retention.ms").value, "3600000");
  sync.run({{"orders", "east.orders"}}, 1s, /*force=*/true);
  EXPECT_EQ(target_.topic("east.orders").configs.at("retention.ms").value, "60000");
}

TEST_F(TopicConfigSyncRunTest, ATopicTheTargetRefusesIsReportedAndTheOthersAreSynced) {
  source_.addTopic("payments", 1, {{"retention.ms", "1000"}});
  target_.addTopic("east.payments", 1);
  target_.alter_refused["east.payments"] = "POLICY_VIOLATION: retention too short";
  TopicConfigSync sync(settings_, source_, target_);
  sync.run({{"orders", "east.orders"}, {"payments", "east.payments"}}, 1s);
  EXPECT_EQ(target_.topic("east.orders").configs.at("retention.ms").value, "3600000");
  ASSERT_EQ(sync.problems().count("payments"), 1u);
  EXPECT_THAT(sync.problems().at("payments"), HasSubstr("POLICY_VIOLATION"));
  EXPECT_EQ(sync.problems().count("orders"), 0u);
}

TEST_F(TopicConfigSyncRunTest, AClusterWithoutTheConfigApisIsReportedOnceAndNotAskedAgain) {
  // given: a source that cannot describe configs (the embedded clusters, a missing ACL)
  source_.describe_error = "DescribeConfigs is not supported";
  TopicConfigSync sync(settings_, source_, target_);
  // when
  sync.run({{"orders", "east.orders"}}, 1s);
  const auto created_with = sync.forNewTopic("payments", 1s);
  sync.run({{"orders", "east.orders"}}, 1s);
  // then: one problem for the whole sync, nothing changed, and no further request until the
  // interval passed
  ASSERT_EQ(sync.problems().count("*"), 1u);
  EXPECT_THAT(sync.problems().at("*"), HasSubstr("DescribeConfigs is not supported"));
  EXPECT_TRUE(created_with.empty());
  EXPECT_EQ(source_.describe_calls, 1);
  EXPECT_EQ(target_.alter_calls, 0);
}

TEST_F(TopicConfigSyncRunTest, ANewMirrorTopicIsCreatedWithTheSourcesConfigs) {
  TopicConfigSync sync(settings_, source_, target_);
  const auto configs = sync.forNewTopic("orders", 1s);
  EXPECT_EQ(configs, (kafka::TopicConfigValues{{"cleanup.policy", "compact"},
                                               {"message.timestamp.type", "CreateTime"},
                                               {"retention.ms", "3600000"}}));
}

TEST_F(TopicConfigSyncRunTest, SyncOffDoesNothing) {
  settings_.sync = false;
  TopicConfigSync sync(settings_, source_, target_);
  sync.run({{"orders", "east.orders"}}, 1s, /*force=*/true);
  EXPECT_TRUE(sync.forNewTopic("orders", 1s).empty());
  EXPECT_EQ(source_.describe_calls, 0);
}

}  // namespace
}  // namespace causeway::replicator
