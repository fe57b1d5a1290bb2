// Exact offset translation through an exactly-once link, checked for every source offset.

#include "replicator/offset_runs.h"
#include "replicator/offset_state.h"
#include "replicator/offset_translation.h"
#include "replicator/worker.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <functional>
#include <map>

namespace causeway {
namespace {

using namespace std::chrono_literals;
using testing::produceRecords;
using testing::readAll;
using testing::startCluster;
using testing::waitFor;

// Commits `offset` for `group` on partition 0 of `topic` through an assign-only consumer.
void commitGroupOffset(const std::string& bootstrap, const std::string& group,
                       const std::string& topic, int32_t partition, int64_t offset) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof(err));
  rd_kafka_conf_set(conf, "group.id", group.c_str(), err, sizeof(err));
  rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
  ASSERT_NE(rk, nullptr) << err;
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, topic.c_str(), partition)->offset = offset;
  EXPECT_EQ(rd_kafka_commit(rk, list, 0), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_destroy(list);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
}

// Records that already came from the target (their causeway-origin names it): the link skips
// them, which leaves gaps in the source offsets it writes.
void produceFromTarget(const std::string& bootstrap, const std::string& topic, int count) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof(err));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  ASSERT_NE(rk, nullptr) << err;
  for (int i = 0; i < count; ++i) {
    const std::string value = "skipped-" + std::to_string(i);
    rd_kafka_headers_t* headers = rd_kafka_headers_new(1);
    rd_kafka_header_add(headers, "causeway-origin", -1, "target", 6);
    ASSERT_EQ(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(0),
                                RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END),
              RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  ASSERT_EQ(rd_kafka_flush(rk, 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_destroy(rk);
}

// Overwrites the saved offset runs of orders[0] (as a broken or older worker might have left
// them) with `value`.
void saveState(const std::string& bootstrap, const std::string& value) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof(err));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  ASSERT_NE(rk, nullptr) << err;
  const std::string topic = replicator::stateTopic("test-link");
  const std::string key = replicator::stateKey("orders", 0);
  ASSERT_EQ(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(0),
                              RD_KAFKA_V_KEY(key.data(), key.size()),
                              RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END),
            RD_KAFKA_RESP_ERR_NO_ERROR);
  ASSERT_EQ(rd_kafka_flush(rk, 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_destroy(rk);
}

std::string encodeRuns(std::vector<replicator::OffsetRun> runs) {
  replicator::OffsetRuns out;
  out.assign(std::move(runs));
  return out.encode();
}

class OffsetTranslationTest : public ::testing::Test {
protected:
  void SetUp() override {
    // A target partition where another writer's records sit before and between the link's,
    // so target offsets are shifted against source offsets.
    source_ = startCluster("source", 1, {{"orders", 1}});
    target_ = startCluster("target", 1, {{"orders", 1}});
    ASSERT_TRUE(source_ && target_);
    ASSERT_TRUE(produceRecords(target_->bootstrap(), "orders", 1, 37, 90000));  // foreign
    ASSERT_TRUE(produceRecords(source_->bootstrap(), "orders", 1, 120, 0));
    config_ = testing::makeConfig(*source_, *target_, {"orders"});
    config_.links[0].delivery = config::DeliveryMode::kExactlyOnce;
    replicate(120, 1);
    ASSERT_TRUE(produceRecords(target_->bootstrap(), "orders", 1, 11, 91000));  // foreign
    produceFromTarget(source_->bootstrap(), "orders", 15);                      // skipped
    ASSERT_TRUE(produceRecords(source_->bootstrap(), "orders", 1, 65, 120));
    replicate(200, 2);
  }

  // Runs a worker until the target holds everything; `runs`: the offset runs it must report
  // for orders[0] by then (causeway_partition_offset_runs).
  void replicate(uint64_t total_on_source, int64_t runs) {
    replicator::Worker worker(config_);
    ASSERT_TRUE(worker.start().ok());
    ASSERT_TRUE(waitFor(
        [&] {
          // Foreign records on the target, plus the source's minus the skipped ones.
          const int64_t expected = total_on_source > 120 ? 37 + 11 + 200 - 15 : 37 + 120;
          return testing::totalRecords(target_->bootstrap(), "orders", 1) >= expected;
        },
        60s, 250ms));
    int64_t reported = -1;
    EXPECT_TRUE(waitFor(
        [&] {
          const auto statuses = worker.statuses();
          reported = statuses.empty() || statuses[0].partitions.empty()
                         ? -1
                         : statuses[0].partitions[0].offset_runs;
          return reported == runs;
        },
        10s, 100ms))
        << "offset runs reported: " << reported;
    worker.stop();
  }

  // Translates the group at every source offset (near the edges and the skipped block; a
  // stride between) and checks each answer against the record it must name. `method_for` says
  // how each answer is expected to have been found.
  void checkEveryOffset(replicator::StateUse state_use,
                        const std::function<std::string(int64_t)>& method_for) {
    // The target record each source record became: matched by content.
    std::map<std::string, int64_t> target_offset_of;
    const auto target = readAll(target_->bootstrap(), "orders");
    ASSERT_EQ(target.size(), 1u);
    for (const auto& r : target[0]) {
      target_offset_of[*r.value] = r.offset;
    }
    const auto source_partitions = readAll(source_->bootstrap(), "orders");
    ASSERT_EQ(source_partitions.size(), 1u);
    const auto& source = source_partitions[0];
    ASSERT_EQ(source.size(), 200u);
    const int64_t target_end = testing::totalRecords(target_->bootstrap(), "orders", 1);
    // One translator for the sweep, as group sync keeps one (its state reader is incremental).
    replicator::OffsetTranslator translator(config_.links[0], config_.clusters.at("source"),
                                            config_.clusters.at("target"), state_use);
    ASSERT_TRUE(translator.open().ok());
    for (int64_t committed = 0; committed <= 200; committed += 1) {
      commitGroupOffset(source_->bootstrap(), "billing", "orders", 0, committed);
      auto translated = translator.translate("billing", 30s);
      ASSERT_TRUE(translated.ok()) << translated.error().message;
      ASSERT_EQ(translated->size(), 1u);
      const auto& t = translated->front();
      EXPECT_EQ(t.source_offset, committed);
      // The next record the group would read on the source is source[committed]; on the
      // target the group must resume exactly at its copy, or at the copy of the next
      // replicated record when it was skipped, or at the end once it has read everything.
      int64_t expected = target_end;
      for (size_t next = static_cast<size_t>(committed); next < source.size(); ++next) {
        auto it = target_offset_of.find(*source[next].value);
        if (it != target_offset_of.end()) {
          expected = it->second;
          break;
        }
      }
      ASSERT_EQ(t.target_offset, expected) << "source offset " << committed;
      EXPECT_EQ(t.not_yet_replicated, 0);
      EXPECT_EQ(t.method, method_for(committed)) << "source offset " << committed;
      if (t.method == "runs") {
        EXPECT_EQ(t.records_read, 1u) << "one read checks a saved run's answer";
      }
      if ((committed >= 20 && committed < 48) || (committed >= 52 && committed < 110) ||
          (committed >= 140 && committed < 190)) {
        committed += 6;
      }
    }
  }

  embedded::EmbeddedClusterPtr source_;
  embedded::EmbeddedClusterPtr target_;
  config::Config config_;
};

// Source offsets 0-119 landed at target 37-156; 120-134 were skipped (they came from the
// target); 135-199 landed at 168-232, after 11 foreign records.
TEST_F(OffsetTranslationTest, SavedRunsHoldOneRunPerUnbrokenStretch) {
  replicator::OffsetStateReader reader(config_.clusters.at("target"), "test-link");
  ASSERT_TRUE(reader.open().ok());
  ASSERT_TRUE(reader.refresh(std::chrono::steady_clock::now() + 30s).ok());
  const auto* saved = reader.find("orders", 0);
  ASSERT_NE(saved, nullptr);
  EXPECT_EQ(saved->error, "");
  // Two workers wrote them one after the other; the second continued the first one's runs.
  const std::vector<replicator::OffsetRun> expected = {{0, 37, 120, false}, {135, 168, 65, false}};
  EXPECT_EQ(saved->runs.runs(), expected);
}

TEST_F(OffsetTranslationTest, EverySourceOffsetTranslatesToTheRecordItNames) {
  checkEveryOffset(replicator::StateUse::kRequired, [](int64_t committed) {
    return committed < 200 ? "runs" : "runs+search";  // past the last run: an empty search
  });
}

TEST_F(OffsetTranslationTest, WithoutSavedRunsTheSearchFindsTheSameRecords) {
  checkEveryOffset(replicator::StateUse::kIgnored, [](int64_t) { return std::string("search"); });
}

TEST_F(OffsetTranslationTest, HolesAndStaleRunsAreSearchedExactly) {
  // As a worker that crashed after saving 50 records would leave them, with the next owner's
  // run marked as following a hole; then as runs saved before the second batch was written.
  saveState(target_->bootstrap(), encodeRuns({{0, 37, 50, false}, {135, 168, 65, true}}));
  checkEveryOffset(replicator::StateUse::kRequired, [](int64_t committed) {
    return committed < 50 || (committed >= 135 && committed < 200) ? "runs" : "runs+search";
  });
  saveState(target_->bootstrap(), encodeRuns({{0, 37, 120, false}}));
  checkEveryOffset(replicator::StateUse::kRequired,
                   [](int64_t committed) { return committed < 120 ? "runs" : "runs+search"; });
}

TEST_F(OffsetTranslationTest, CorruptOrMissingStateIsAnErrorUnlessSearching) {
  commitGroupOffset(source_->bootstrap(), "billing", "orders", 0, 60);
  const int64_t expected = 37 + 60;

  saveState(target_->bootstrap(), "not offset runs");
  auto garbage = replicator::translateGroupOffsets(config_, "test-link", "billing", 30s);
  ASSERT_FALSE(garbage.ok());
  EXPECT_NE(garbage.error().message.find("state topic 'causeway.test-link.state'"),
            std::string::npos)
      << garbage.error().message;
  EXPECT_NE(garbage.error().message.find("(key 'orders/0') is corrupt"), std::string::npos)
      << garbage.error().message;
  EXPECT_NE(garbage.error().message.find("--scan"), std::string::npos);

  // Well-formed but wrong by one: the check read against the target catches it.
  saveState(target_->bootstrap(), encodeRuns({{0, 38, 120, false}}));
  auto wrong = replicator::translateGroupOffsets(config_, "test-link", "billing", 30s);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message.find("disagrees with the target"), std::string::npos)
      << wrong.error().message;
  EXPECT_NE(wrong.error().message.find("offset 98"), std::string::npos) << wrong.error().message;
  // Runs that reach past the partition's end (a recreated mirror topic) are refused too.
  saveState(target_->bootstrap(), encodeRuns({{0, 300, 10, false}}));
  auto beyond = replicator::translateGroupOffsets(config_, "test-link", "billing", 30s);
  ASSERT_FALSE(beyond.ok());
  EXPECT_NE(beyond.error().message.find("past the partition's end offset"), std::string::npos)
      << beyond.error().message;
  for (auto use : {replicator::StateUse::kIfPresent, replicator::StateUse::kIgnored}) {
    auto searched = replicator::translateGroupOffsets(config_, "test-link", "billing", 30s, use);
    ASSERT_TRUE(searched.ok()) << searched.error().message;
    EXPECT_EQ(searched->front().target_offset, expected);
    EXPECT_EQ(searched->front().method, "search");
  }

  // The state topic of a link that never ran here does not exist.
  auto renamed = config_;
  renamed.links[0].name = "never-ran";
  auto missing = replicator::translateGroupOffsets(renamed, "never-ran", "billing", 30s);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("state topic 'causeway.never-ran.state'"),
            std::string::npos)
      << missing.error().message;
  EXPECT_NE(missing.error().message.find("does not exist"), std::string::npos);
}

TEST_F(OffsetTranslationTest, CommandLineExitsNonZeroOnCorruptStateAndScansOnRequest) {
  commitGroupOffset(source_->bootstrap(), "billing", "orders", 0, 60);
  saveState(target_->bootstrap(), encodeRuns({{0, 40, 120, false}}));
  const auto config_path = testing::writeTempFile("translate.yaml", testing::toYaml(config_));
  auto run = [&](std::vector<std::string> extra) {
    std::vector<std::string> argv = {CAUSEWAY_BINARY, "offsets", "translate", "--config",
                                     config_path,     "--link",  "test-link", "--group",
                                     "billing",       "--json"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    testing::ChildProcess child(argv, testing::writeTempFile("translate.log", ""));
    const auto code = child.wait(60s);
    return std::pair{code.value_or(-1), child.log()};
  };
  auto [corrupt_code, corrupt_out] = run({});
  EXPECT_EQ(corrupt_code, 1) << corrupt_out;
  EXPECT_NE(corrupt_out.find("disagrees with the target"), std::string::npos) << corrupt_out;
  auto [scan_code, scan_out] = run({"--scan"});
  EXPECT_EQ(scan_code, 0) << scan_out;
  EXPECT_NE(scan_out.find("\"target_offset\": 97"), std::string::npos) << scan_out;
  EXPECT_NE(scan_out.find("\"method\": \"search\""), std::string::npos) << scan_out;
}

TEST_F(OffsetTranslationTest, ClearErrorsForBadInput) {
  auto unknown_link = replicator::translateGroupOffsets(config_, "nope", "billing", 10s);
  ASSERT_FALSE(unknown_link.ok());
  EXPECT_NE(unknown_link.error().message.find("unknown link 'nope'"), std::string::npos);

  auto no_commits = replicator::translateGroupOffsets(config_, "test-link", "never-ran", 10s);
  ASSERT_FALSE(no_commits.ok());
  EXPECT_NE(no_commits.error().message.find("has no committed offset"), std::string::npos)
      << no_commits.error().message;
}

}  // namespace
}  // namespace causeway
