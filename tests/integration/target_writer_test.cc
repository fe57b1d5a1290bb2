// The TargetWriter on its own, fed by a SourceReader, with a recording delivery listener in place
// of the link: each record lands in the same partition of the mirror topic, in order, with its
// key, value, timestamp and headers (a stage's header edits applied, a rewritten value written),
// every record is reported once, in order, with its target offset, and a record the target
// refuses for good is reported as not delivered with the refusal and the refused record. On a
// transactional link each partition has a producer of its own, and none after it was released.

#include "replicator/source_reader.h"
#include "replicator/target_writer.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

namespace causeway {
namespace {

using namespace std::chrono_literals;
using replicator::OffsetTracker;
using replicator::SourcePartition;
using replicator::SourceReader;
using replicator::TargetWriter;
using testing::startCluster;
using Clock = std::chrono::steady_clock;

constexpr int16_t kProduceApi = 0;

class NoRebalanceWork : public SourceReader::Listener {
public:
  void onAssigned(const std::vector<SourcePartition*>&) override {}
  void onRevoking(const std::vector<SourcePartition*>&, bool) override {}
  void onFatal(const std::string& message) override { fatal = message; }
  void onProblem(const std::string&, const std::string&) override {}
  std::string fatal;
};

class RecordingDeliveries : public replicator::DeliveryListener {
public:
  struct Report {
    int32_t partition = 0;
    int64_t source_offset = 0;
    int64_t target_offset = -1;
    rd_kafka_resp_err_t error = RD_KAFKA_RESP_ERR_NO_ERROR;
    std::string key;
  };
  void onDelivered(OffsetTracker::Entry& entry, int64_t target_offset) override {
    reports.push_back(
        {partitionOf(entry), entry.offset, target_offset, RD_KAFKA_RESP_ERR_NO_ERROR, {}});
  }
  void onNotDelivered(OffsetTracker::Entry& entry, rd_kafka_resp_err_t error,
                      const rd_kafka_message_t& report) override {
    reports.push_back({partitionOf(entry), entry.offset, -1, error,
                       std::string(static_cast<const char*>(report.key), report.key_len)});
  }
  static int32_t partitionOf(const OffsetTracker::Entry& entry) {
    return static_cast<const SourcePartition*>(entry.tracker->context())->partition;
  }
  std::vector<Report> reports;
};

std::string header(const verify::ConsumedRecord& record, const std::string& name) {
  for (const auto& [key, value] : record.headers) {
    if (key == name) {
      return value.value_or("(null)");
    }
  }
  return "(absent)";
}

class TargetWriterTest : public ::testing::Test {
protected:
  void SetUp() override {
    source_ = startCluster("source", 1, {{"orders", 1}});
    target_ = startCluster("target", 1, {{"orders", 1}});
    ASSERT_TRUE(source_ && target_);
    config_ = testing::makeConfig(*source_, *target_, {"orders"});
    reader_ = std::make_unique<SourceReader>(config_.links[0], config_.clusters.at("source"),
                                             rebalances_);
    writer_ = std::make_unique<TargetWriter>(config_.links[0], config_.clusters.at("source"),
                                             config_.clusters.at("target"), deliveries_);
    ASSERT_TRUE(reader_->open().ok());
    ASSERT_TRUE(reader_->subscribe({"orders"}).ok());
    ASSERT_TRUE(
        writer_->open([this](int, const std::string& text) { errors_.push_back(text); }).ok());
    mirror_.topic = writer_->topic("orders", "orders", 1);
    mirror_.partition = 0;
  }

  void TearDown() override {
    if (reader_) {
      reader_->close();
    }
  }

  // Reads `count` records and writes each through the writer; `edit` plays a stage.
  size_t copy(size_t count, const std::function<void(pipeline::Record&)>& edit) {
    size_t written = 0;
    const auto deadline = Clock::now() + 60s;
    while (written < count && Clock::now() < deadline) {
      writer_->poll(0);
      const replicator::SourceRecord* source = reader_->next(50);
      if (source == nullptr) {
        continue;
      }
      OffsetTracker::Entry& entry =
          source->partition->tracker.dispatch(source->view.offset, source->bytes);
      record_.reset(&source->view);
      edit(record_);
      EXPECT_TRUE(writer_->write(record_, *source, mirror_, entry).ok());
      ++written;
    }
    return written;
  }

  bool waitForReports(size_t count) {
    const auto deadline = Clock::now() + 60s;
    while (deliveries_.reports.size() < count && Clock::now() < deadline) {
      writer_->poll(50);
    }
    return deliveries_.reports.size() >= count;
  }

  embedded::EmbeddedClusterPtr source_;
  embedded::EmbeddedClusterPtr target_;
  config::Config config_;
  NoRebalanceWork rebalances_;
  RecordingDeliveries deliveries_;
  std::vector<std::string> errors_;
  std::unique_ptr<SourceReader> reader_;
  std::unique_ptr<TargetWriter> writer_;
  replicator::MirrorPartition mirror_;
  pipeline::Record record_;
};

TEST_F(TargetWriterTest, WritesEachRecordToItsMirrorPartitionInOrderWithTheStagesEdits) {
  // given: 30 source records; a stage rewrites the value of offset 7 and edits headers of
  // offset 8
  ASSERT_TRUE(testing::produceRecords(source_->bootstrap(), "orders", 1, 30));
  const size_t written = copy(30, [](pipeline::Record& record) {
    if (record.source().offset == 7) {
      record.rewriteValue() = "rewritten";
    }
    if (record.source().offset == 8) {
      record.removeHeader("origin-app");
      record.addHeader("stage", std::string_view("seen"));
    }
  });
  ASSERT_EQ(written, 30u) << rebalances_.fatal;

  // then: every record is reported delivered once, in order, at the same offset on the target
  ASSERT_TRUE(waitForReports(30));
  ASSERT_EQ(deliveries_.reports.size(), 30u);
  for (size_t i = 0; i < 30; ++i) {
    EXPECT_EQ(deliveries_.reports[i].source_offset, static_cast<int64_t>(i));
    EXPECT_EQ(deliveries_.reports[i].target_offset, static_cast<int64_t>(i));
    EXPECT_EQ(deliveries_.reports[i].error, RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  // ... and the mirror holds the source records with the stages' edits
  const auto mirror = testing::readAll(target_->bootstrap(), "orders");
  ASSERT_EQ(mirror.size(), 1u);
  ASSERT_EQ(mirror[0].size(), 30u);
  for (size_t i = 0; i < 30; ++i) {
    const auto sent = testing::makeRecord("orders", 0, i);
    const verify::ConsumedRecord& got = mirror[0][i];
    EXPECT_EQ(got.key, sent.key);
    EXPECT_EQ(got.value, i == 7 ? "rewritten" : sent.value) << i;
    EXPECT_EQ(got.timestamp, sent.timestamp) << i;
    EXPECT_EQ(header(got, "seq"), std::to_string(i));
    EXPECT_EQ(header(got, "origin-app"), i == 8 ? "(absent)" : "test") << i;
    EXPECT_EQ(header(got, "stage"), i == 8 ? "seen" : "(absent)") << i;
  }
  EXPECT_TRUE(errors_.empty()) << errors_.front();
}

TEST_F(TargetWriterTest, ARecordTheTargetRefusesIsReportedNotDeliveredWithTheRefusal) {
  // given: the target refuses the next produce request for good (MESSAGE_TOO_LARGE)
  ASSERT_TRUE(testing::produceRecords(source_->bootstrap(), "orders", 1, 1));
  rd_kafka_mock_push_request_errors(target_->mock(), kProduceApi, 1,
                                    RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);

  // when: the record is written
  ASSERT_EQ(copy(1, [](pipeline::Record&) {}), 1u);

  // then: it is reported not delivered, with the refusal and the refused record
  ASSERT_TRUE(waitForReports(1));
  EXPECT_EQ(deliveries_.reports[0].error, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
  EXPECT_TRUE(replicator::isRecordRejection(deliveries_.reports[0].error));
  EXPECT_EQ(deliveries_.reports[0].key, testing::makeRecord("orders", 0, 0).key);
  EXPECT_EQ(testing::totalRecords(target_->bootstrap(), "orders", 1), 0);
}

// Transactional links: each source partition is written through a producer of its own, whose
// transactional.id names the partition, and nothing is written for a partition once it was
// released. (That the next owner's init_transactions fences the old producer is Kafka's part: the
// embedded clusters do not fence, see EmbeddedClusterLimits.)
TEST(TargetWriterOwnership, EachPartitionHasItsOwnTransactionalIdAndNothingIsWrittenAfterRelease) {
  // given: a transactional exactly-once link over two partitions
  auto source = startCluster("source", 1, {{"orders", 2}});
  auto target = startCluster("target", 1, {{"orders", 2}, {"causeway.test-link.state", 1}});
  ASSERT_TRUE(source && target);
  auto config = testing::makeConfig(*source, *target, {"orders"});
  config.links[0].delivery = config::DeliveryMode::kExactlyOnce;
  config.links[0].transactional = true;
  ASSERT_TRUE(testing::produceRecords(source->bootstrap(), "orders", 2, 10));
  NoRebalanceWork rebalances;
  RecordingDeliveries deliveries;
  std::vector<std::string> errors;
  SourceReader reader(config.links[0], config.clusters.at("source"), rebalances);
  TargetWriter writer(config.links[0], config.clusters.at("source"), config.clusters.at("target"),
                      deliveries);
  ASSERT_TRUE(reader.open().ok());
  ASSERT_TRUE(reader.subscribe({"orders"}).ok());
  ASSERT_TRUE(writer.open([&](int, const std::string& text) { errors.push_back(text); }).ok());
  ASSERT_TRUE(writer.openState("causeway.test-link.state").ok());
  replicator::MirrorPartition mirrors[2];
  for (int32_t p = 0; p < 2; ++p) {
    mirrors[p].topic = writer.topic("orders", "orders", 2);
    mirrors[p].partition = p;
  }

  // when: the worker takes both partitions over
  for (int32_t p = 0; p < 2; ++p) {
    auto slot = writer.fence("orders", p, "orders");
    ASSERT_TRUE(slot.ok()) << slot.error().message;
    EXPECT_EQ((*slot)->transactional_id, replicator::transactionalId("test-link", "orders", p));
    writer.adopt(mirrors[p], std::move(*slot));
  }
  ASSERT_EQ(writer.ownedPartitions(), 2u);
  // then: each partition has a producer of its own
  ASSERT_NE(mirrors[0].slot, nullptr);
  ASSERT_NE(mirrors[1].slot, nullptr);
  EXPECT_NE(mirrors[0].slot->producer.get(), mirrors[1].slot->producer.get());

  // Reads `count` records and writes each in its partition's transaction; returns how many.
  pipeline::Record record;
  auto writeRecords = [&](size_t count) {
    size_t written = 0;
    const auto until = Clock::now() + 60s;
    while (written < count && Clock::now() < until) {
      writer.poll(0);
      const replicator::SourceRecord* consumed = reader.next(50);
      if (consumed == nullptr) {
        continue;
      }
      auto& mirror = mirrors[consumed->view.partition];
      if (writer.beginTransactionIfNeeded(mirror) != TargetWriter::Begin::kOpen) {
        break;
      }
      OffsetTracker::Entry& entry =
          consumed->partition->tracker.dispatch(consumed->view.offset, consumed->bytes);
      record.reset(&consumed->view);
      if (!writer.write(record, *consumed, mirror, entry).ok()) {
        break;
      }
      ++written;
    }
    return written;
  };

  // when: every record is written (each partition in its own transaction) and committed
  ASSERT_EQ(writeRecords(20), 20u) << rebalances.fatal;
  const auto deadline = Clock::now() + 60s;
  EXPECT_TRUE(writer.inTransaction());
  ASSERT_TRUE(writer.commitTransaction().ok());
  EXPECT_FALSE(writer.inTransaction());
  while (deliveries.reports.size() < 20 && Clock::now() < deadline) {
    writer.poll(50);
  }
  EXPECT_EQ(deliveries.reports.size(), 20u);
  EXPECT_EQ(testing::totalRecords(target->bootstrap(), "orders", 2), 20);

  // when: partition 0 is given up while a record of its open transaction is on its way (the
  // target answers after 3 s), as on a lost assignment
  ASSERT_TRUE(testing::produceRecords(source->bootstrap(), "orders", 2, 1, 10));
  rd_kafka_mock_broker_set_rtt(target->mock(), 1, 3000);
  ASSERT_EQ(writeRecords(2), 2u) << rebalances.fatal;
  const auto more_deadline = Clock::now() + 60s;
  writer.release(mirrors[0], 5s);

  // then: its record is withdrawn (reported as such while the partition is released, not as a
  // refusal), and the link is not told anything
  const auto withdrawn = std::find_if(deliveries.reports.begin(), deliveries.reports.end(),
                                      [](const RecordingDeliveries::Report& r) {
                                        return r.partition == 0 && r.source_offset == 10;
                                      });
  ASSERT_NE(withdrawn, deliveries.reports.end());
  EXPECT_TRUE(withdrawn->error == RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
              withdrawn->error == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT)
      << rd_kafka_err2name(withdrawn->error);
  EXPECT_TRUE(errors.empty()) << errors.front();
  rd_kafka_mock_broker_set_rtt(target->mock(), 1, 0);

  // then: nothing can be written for it any more (the link is told, as a fatal error), while
  // partition 1 goes on
  EXPECT_EQ(mirrors[0].slot, nullptr);
  EXPECT_EQ(writer.ownedPartitions(), 1u);
  EXPECT_EQ(writer.beginTransactionIfNeeded(mirrors[0]), TargetWriter::Begin::kFailed);
  ASSERT_FALSE(errors.empty());
  EXPECT_NE(errors.back().find("does not own"), std::string::npos) << errors.back();
  EXPECT_EQ(writer.beginTransactionIfNeeded(mirrors[1]), TargetWriter::Begin::kOpen);
  ASSERT_TRUE(writer.commitTransaction().ok());
  while (deliveries.reports.size() < 22 && Clock::now() < more_deadline) {
    writer.poll(50);
  }
  EXPECT_EQ(deliveries.reports.size(), 22u);
  // Partition 1's record landed; partition 0's was withdrawn before it was sent (its producer
  // was still adding the partition to the transaction) or, sent, is hidden on Kafka by the abort,
  // which the embedded clusters do not do.
  const int64_t total = testing::totalRecords(target->bootstrap(), "orders", 2);
  EXPECT_GE(total, 21);
  EXPECT_LE(total, 22);
  reader.close();
}

}  // namespace
}  // namespace causeway
