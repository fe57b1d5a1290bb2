// Consumer-group offset sync: a group that read part of a source topic continues on the target
// exactly at its next unread record, and a group with active members on the target is left
// alone.

#include "replicator/worker.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <nlohmann/json.hpp>

#include <csignal>
#include <map>
#include <optional>
#include <set>
#include <thread>

namespace causeway {
namespace {

using namespace std::chrono_literals;
using testing::produceRecords;
using testing::readAll;
using testing::startCluster;
using testing::waitFor;

constexpr int32_t kPartitions = 3;

// A consumer of group `group` subscribed to `topic`: what an application would run.
class GroupConsumer {
public:
  GroupConsumer(const std::string& bootstrap, const std::string& group, const std::string& topic) {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof(err));
    rd_kafka_conf_set(conf, "group.id", group.c_str(), err, sizeof(err));
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err));
    rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", err, sizeof(err));
    rd_kafka_conf_set(conf, "fetch.wait.max.ms", "10", err, sizeof(err));
    rd_kafka_conf_set(conf, "session.timeout.ms", "6000", err, sizeof(err));
    rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    rd_kafka_poll_set_consumer(rk_);
    rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, topic.c_str(), RD_KAFKA_PARTITION_UA);
    rd_kafka_subscribe(rk_, topics);
    rd_kafka_topic_partition_list_destroy(topics);
  }
  ~GroupConsumer() {
    rd_kafka_consumer_close(rk_);
    rd_kafka_destroy(rk_);
  }
  // Reads until `count` records arrived or the deadline passes; returns (partition, value).
  std::vector<std::pair<int32_t, std::string>> read(size_t count, std::chrono::milliseconds timeout) {
    std::vector<std::pair<int32_t, std::string>> out;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (out.size() < count && std::chrono::steady_clock::now() < deadline) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_, 100);
      if (m == nullptr) {
        continue;
      }
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        out.emplace_back(m->partition,
                         std::string(static_cast<const char*>(m->payload), m->len));
      }
      rd_kafka_message_destroy(m);
    }
    return out;
  }
  bool commit() { return rd_kafka_commit(rk_, nullptr, 0) == RD_KAFKA_RESP_ERR_NO_ERROR; }

private:
  rd_kafka_t* rk_ = nullptr;
};

config::Config syncConfig(const embedded::EmbeddedCluster& source,
                          const embedded::EmbeddedCluster& target) {
  auto config = testing::makeConfig(source, target, {"orders"});
  config.links[0].delivery = config::DeliveryMode::kExactlyOnce;
  config.links[0].groups.names = {"billing"};
  config.links[0].groups.sync_interval = 1s;
  return config;
}

// By value: callers pass the temporary vector Worker::statuses() returns.
std::optional<replicator::GroupStatus> billing(
    const std::vector<replicator::LinkStatus>& statuses) {
  for (const auto& g : statuses[0].groups) {
    if (g.group == "billing") {
      return g;
    }
  }
  return std::nullopt;
}

TEST(GroupSync, FailedOverGroupResumesExactlyAtItsNextUnreadRecord) {
  // given: group "billing" read and committed part of the source topic
  auto source = startCluster("source", 3, {{"orders", kPartitions}});
  auto target = startCluster("target", 3);
  ASSERT_TRUE(source && target);
  ASSERT_TRUE(produceRecords(source->bootstrap(), "orders", kPartitions, 200, 0));  // 600
  std::set<std::string> read_on_source;
  {
    GroupConsumer consumer(source->bootstrap(), "billing", "orders");
    for (const auto& [partition, value] : consumer.read(250, 60s)) {
      read_on_source.insert(value);
    }
    ASSERT_EQ(read_on_source.size(), 250u);
    ASSERT_TRUE(consumer.commit());
  }

  // when: the link replicates and syncs the group, and the application fails over to the target
  replicator::Worker worker(syncConfig(*source, *target));
  ASSERT_TRUE(worker.start().ok());
  ASSERT_TRUE(waitFor(
      [&] {
        const auto g = billing(worker.statuses());
        return g && g->synced && g->rpo_records == 0;
      },
      60s, 200ms))
      << (billing(worker.statuses()) ? billing(worker.statuses())->problem : "no group status");
  worker.stop();
  std::vector<std::pair<int32_t, std::string>> read_on_target;
  {
    GroupConsumer consumer(target->bootstrap(), "billing", "orders");
    read_on_target = consumer.read(350, 60s);
    // Nothing more arrives: it would be a record read twice.
    auto extra = consumer.read(1, 2s);
    read_on_target.insert(read_on_target.end(), extra.begin(), extra.end());
  }

  // then: the target consumer reads exactly the 350 records the group had not read yet, and in
  // each partition it starts with the record right after the last one read on the source
  std::set<std::string> unread;
  std::map<int32_t, std::string> first_unread;
  for (const auto& partition : readAll(source->bootstrap(), "orders")) {
    for (const auto& record : partition) {
      if (read_on_source.count(*record.value) == 0) {
        unread.insert(*record.value);
        first_unread.emplace(record.partition, *record.value);
      }
    }
  }
  std::set<std::string> got;
  std::map<int32_t, std::string> first_got;
  size_t reread = 0;
  for (const auto& [partition, value] : read_on_target) {
    reread += read_on_source.count(value);
    got.insert(value);
    first_got.emplace(partition, value);
  }
  EXPECT_EQ(reread, 0u) << "records read again after failover";
  EXPECT_EQ(read_on_target.size(), 350u);
  EXPECT_EQ(got, unread) << "records skipped or read twice after failover";
  EXPECT_EQ(first_got, first_unread);
}

TEST(GroupSync, NeverTouchesAGroupWithActiveMembersOnTheTarget) {
  // given: a synced group that is already consuming on the target
  auto source = startCluster("source", 3, {{"orders", kPartitions}});
  auto target = startCluster("target", 3);
  ASSERT_TRUE(source && target);
  ASSERT_TRUE(produceRecords(source->bootstrap(), "orders", kPartitions, 100, 0));
  {
    GroupConsumer consumer(source->bootstrap(), "billing", "orders");
    ASSERT_EQ(consumer.read(150, 60s).size(), 150u);
    ASSERT_TRUE(consumer.commit());
  }
  replicator::Worker worker(syncConfig(*source, *target));
  ASSERT_TRUE(worker.start().ok());
  ASSERT_TRUE(waitFor([&] { auto g = billing(worker.statuses()); return g && g->synced; }, 60s))
      << (billing(worker.statuses()) ? billing(worker.statuses())->problem : "no group status");
  GroupConsumer on_target(target->bootstrap(), "billing", "orders");
  ASSERT_EQ(on_target.read(150, 60s).size(), 150u);  // an active member now

  // when: the group moves on at the source, so the sync would like to move it on the target
  {
    GroupConsumer consumer(source->bootstrap(), "billing", "orders");
    ASSERT_EQ(consumer.read(60, 60s).size(), 60u);
    ASSERT_TRUE(consumer.commit());
  }
  const bool refused = waitFor(
      [&] {
        const auto g = billing(worker.statuses());
        return g && g->problem.find("active members") != std::string::npos;
      },
      30s, 200ms);

  // then: the sync refuses to touch it while it has members, and says why
  const auto statuses = worker.statuses();
  worker.stop();
  ASSERT_TRUE(refused) << (billing(statuses) ? billing(statuses)->problem : "no group status");
  EXPECT_FALSE(billing(statuses)->synced);
}

// Runs `causeway ARGS...` to completion and returns (exit code, output).
std::pair<int, std::string> causeway(std::vector<std::string> args) {
  args.insert(args.begin(), CAUSEWAY_BINARY);
  testing::ChildProcess child(args, testing::writeTempFile("cli.log", ""));
  const auto code = child.wait(120s);
  return {code.value_or(-1), child.log()};
}

TEST(FailoverCommand, PlansTranslatesAndMovesTheGroup) {
  // given: a running exactly-once worker and a group that read 120 of 300 records on the source
  auto source = startCluster("source", 3, {{"orders", kPartitions}});
  auto target = startCluster("target", 3);
  ASSERT_TRUE(source && target);
  ASSERT_TRUE(produceRecords(source->bootstrap(), "orders", kPartitions, 100, 0));
  std::set<std::string> read_on_source;
  {
    GroupConsumer consumer(source->bootstrap(), "billing", "orders");
    for (const auto& [partition, value] : consumer.read(120, 60s)) {
      read_on_source.insert(value);
    }
    ASSERT_TRUE(consumer.commit());
  }
  const auto config_path =
      testing::writeTempFile("failover.yaml", testing::toYaml(syncConfig(*source, *target)));
  testing::ChildProcess worker(testing::runCommand(config_path),
                               testing::writeTempFile("failover-worker.log", ""));
  ASSERT_TRUE(waitFor([&] { return testing::totalRecords(target->bootstrap(), "orders",
                                                         kPartitions) >= 300; },
                      60s, 250ms))
      << worker.log();

  // when: the operator translates, plans, and fails over
  auto [translate_code, translate_out] = causeway({"offsets", "translate", "--config",
                                                   config_path, "--link", "test-link",
                                                   "--group", "billing", "--json"});
  auto [dry_code, dry_out] = causeway({"failover", "--config", config_path, "--link",
                                       "test-link", "--dry-run"});
  auto [code, out] =
      causeway({"failover", "--config", config_path, "--link", "test-link"});
  // the failover mark stops the running worker's link (discovery_interval is 1 s here)
  const bool link_stopped = waitFor(
      [&] {
        const auto log = worker.log();
        return log.find("was failed over at") != std::string::npos &&
               log.find("link 'test-link': stopped") != std::string::npos;
      },
      30s, 100ms);
  worker.signal(SIGTERM);
  ASSERT_TRUE(worker.wait(60s).has_value());
  EXPECT_TRUE(link_stopped) << worker.log();

  // then: translation is exact (nothing else writes to the target here, so offsets match),
  // the dry run changes nothing, the failover reports success, and the group continues on the
  // target with exactly the 180 records it had not read
  ASSERT_EQ(translate_code, 0) << translate_out;
  const auto json = nlohmann::json::parse(translate_out.substr(translate_out.find('{')));
  ASSERT_EQ(json["partitions"].size(), static_cast<size_t>(kPartitions)) << translate_out;
  for (const auto& p : json["partitions"]) {
    EXPECT_EQ(p["target_offset"], p["source_offset"]) << translate_out;
    if (p["source_offset"] >= 0) {  // -1: the group never committed on this partition
      EXPECT_EQ(p["not_yet_replicated"], 0) << translate_out;
    }
  }
  EXPECT_EQ(dry_code, 0) << dry_out;
  EXPECT_NE(dry_out.find("dry run"), std::string::npos) << dry_out;
  EXPECT_NE(dry_out.find("RPO if failed over now: 0 record(s)"), std::string::npos) << dry_out;
  ASSERT_EQ(code, 0) << out;
  EXPECT_NE(out.find("FAILOVER DONE"), std::string::npos) << out;
  GroupConsumer on_target(target->bootstrap(), "billing", "orders");
  auto got = on_target.read(180, 60s);
  auto extra = on_target.read(1, 2s);
  size_t reread = 0;
  for (const auto& [partition, value] : got) {
    reread += read_on_source.count(value);
  }
  EXPECT_EQ(got.size(), 180u);
  EXPECT_EQ(extra.size(), 0u);
  EXPECT_EQ(reread, 0u);

  // and: while the mark is there a worker does not start the link, so what the old source
  // gets now stays out of the promoted target; --undo lets the link run again
  ASSERT_TRUE(produceRecords(source->bootstrap(), "orders", kPartitions, 20, 100));
  testing::ChildProcess refused(testing::runCommand(config_path),
                                testing::writeTempFile("failover-refused.log", ""));
  const auto refused_code = refused.wait(60s);
  ASSERT_TRUE(refused_code.has_value()) << refused.log();
  EXPECT_EQ(*refused_code, 1) << refused.log();
  EXPECT_NE(refused.log().find("was failed over at"), std::string::npos) << refused.log();
  EXPECT_EQ(testing::totalRecords(target->bootstrap(), "orders", kPartitions), 300);
  auto [undo_code, undo_out] =
      causeway({"failover", "--config", config_path, "--link", "test-link", "--undo"});
  ASSERT_EQ(undo_code, 0) << undo_out;
  testing::ChildProcess resumed(testing::runCommand(config_path),
                                testing::writeTempFile("failover-resumed.log", ""));
  EXPECT_TRUE(waitFor([&] { return testing::totalRecords(target->bootstrap(), "orders",
                                                         kPartitions) >= 360; },
                      60s, 250ms))
      << resumed.log();
  resumed.signal(SIGTERM);
  ASSERT_TRUE(resumed.wait(60s).has_value());
}

TEST(FailoverCommand, BadInputGetsAClearMessageAndExitCode1) {
  auto source = startCluster("source", 1, {{"orders", 1}});
  auto target = startCluster("target", 1);
  ASSERT_TRUE(source && target);
  const auto config_path =
      testing::writeTempFile("bad.yaml", testing::toYaml(syncConfig(*source, *target)));
  auto [unknown_code, unknown_out] = causeway({"offsets", "translate", "--config", config_path,
                                               "--link", "nope", "--group", "billing"});
  EXPECT_EQ(unknown_code, 1);
  EXPECT_NE(unknown_out.find("unknown link 'nope'"), std::string::npos) << unknown_out;
  auto [group_code, group_out] = causeway({"offsets", "translate", "--config", config_path,
                                           "--link", "test-link", "--group", "never-committed"});
  EXPECT_EQ(group_code, 1);
  EXPECT_NE(group_out.find("has no committed offset"), std::string::npos) << group_out;
  auto [failover_code, failover_out] =
      causeway({"failover", "--config", config_path, "--link", "nope"});
  EXPECT_EQ(failover_code, 1);
  EXPECT_NE(failover_out.find("unknown link 'nope'"), std::string::npos) << failover_out;
}

} // namespace
} // namespace causeway
