// The SourceReader on its own, with a recording listener in place of the link: what it hands out
// (every record once, in partition order, with key, value, headers and timestamp), how holds and
// rewinds keep a partition's order without losing a record, and what it commits for the group.
// The embedded cluster stands in for the source; the link's stages and sinks are not involved.

#include "replicator/source_reader.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace causeway {
namespace {

using namespace std::chrono_literals;
using replicator::SourcePartition;
using replicator::SourceReader;
using testing::startCluster;
using testing::waitFor;
using Clock = std::chrono::steady_clock;

class RecordingListener : public SourceReader::Listener {
public:
  void onAssigned(const std::vector<SourcePartition*>& partitions) override {
    for (SourcePartition* partition : partitions) {
      partition->epoch = ++epoch_;
      assigned.push_back(partition->topic + "/" + std::to_string(partition->partition));
    }
    if (on_assigned) {
      on_assigned(partitions);
    }
  }
  void onRevoking(const std::vector<SourcePartition*>& partitions, bool) override {
    revoked += partitions.size();
  }
  void onFatal(const std::string& message) override { fatal = message; }
  void onProblem(const std::string& kind, const std::string&) override { problems.push_back(kind); }

  std::function<void(const std::vector<SourcePartition*>&)> on_assigned;
  std::vector<std::string> assigned;
  size_t revoked = 0;
  std::string fatal;
  std::vector<std::string> problems;

private:
  uint64_t epoch_ = 0;
};

struct Got {
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;
  std::string value;
  int64_t timestamp = -1;
  pipeline::TimestampType timestamp_type = pipeline::TimestampType::kNone;
  std::map<std::string, std::string> headers;
};

class SourceReaderTest : public ::testing::Test {
protected:
  void start(int32_t partitions, uint64_t per_partition) {
    cluster_ = startCluster("source", 1, {{"orders", partitions}});
    target_ = startCluster("target", 1);
    ASSERT_TRUE(cluster_ && target_);
    config_ = testing::makeConfig(*cluster_, *target_, {"orders"});
    ASSERT_TRUE(
        testing::produceRecords(cluster_->bootstrap(), "orders", partitions, per_partition));
    if (offset_lookup_errors_ > 0) {
      constexpr int16_t kOffsetFetchApi = 9;
      const std::vector<rd_kafka_resp_err_t> errors(offset_lookup_errors_,
                                                    RD_KAFKA_RESP_ERR_NOT_COORDINATOR);
      rd_kafka_mock_push_request_errors_array(cluster_->mock(), kOffsetFetchApi, errors.size(),
                                              errors.data());
    }
    reader_ =
        std::make_unique<SourceReader>(config_.links[0], config_.clusters.at("source"), listener_);
    ASSERT_TRUE(reader_->open().ok());
    if (start_at_end_) {
      reader_->setStartAtEnd({"orders"});
    }
    ASSERT_TRUE(reader_->subscribe({"orders"}).ok());
  }

  void TearDown() override {
    if (reader_) {
      reader_->close();
    }
  }

  // Takes records (dispatching each, as the link does) until `done` or the deadline.
  std::vector<Got> read(const std::function<bool(const std::vector<Got>&)>& done,
                        std::chrono::milliseconds timeout) {
    std::vector<Got> out;
    const auto deadline = Clock::now() + timeout;
    while (!done(out) && Clock::now() < deadline) {
      const replicator::SourceRecord* record = reader_->next(50);
      if (record == nullptr) {
        continue;
      }
      const pipeline::RecordView& view = record->view;
      Got got{view.partition,
              view.offset,
              std::string(view.key.value_or("")),
              std::string(view.value.value_or("")),
              view.timestamp,
              view.timestamp_type,
              {}};
      for (const auto& header : view.headers) {
        got.headers[std::string(header.name)] = std::string(header.value.value_or(""));
      }
      entries_[view.partition].push_back(
          &record->partition->tracker.dispatch(view.offset, record->bytes, view.timestamp));
      out.push_back(std::move(got));
    }
    return out;
  }

  // Delays the source's next start-offset answer (ListOffsets, for auto.offset.reset) by 2 s,
  // holds the partition at assignment as an exactly-once link does while it looks up the resume
  // position, and polls until the partition is assigned and its start-offset query reached the
  // broker. Call right after start(). Returns the partition, or null (with a test failure).
  SourcePartition* assignWithTheStartOffsetAnsweredLate() {
    constexpr int16_t kListOffsetsApi = 2;
    listener_.on_assigned = [](const std::vector<SourcePartition*>& partitions) {
      for (SourcePartition* partition : partitions) {
        partition->waiting_for_position = true;
      }
    };
    EXPECT_EQ(rd_kafka_mock_broker_push_request_error_rtts(cluster_->mock(), 1, kListOffsetsApi, 1,
                                                           RD_KAFKA_RESP_ERR_NO_ERROR, 2000),
              RD_KAFKA_RESP_ERR_NO_ERROR);
    auto start_offset_asked = [&] {
      size_t left = 1;
      EXPECT_EQ(rd_kafka_mock_broker_error_stack_cnt(cluster_->mock(), 1, kListOffsetsApi, &left),
                RD_KAFKA_RESP_ERR_NO_ERROR);
      return left == 0;
    };
    const auto deadline = Clock::now() + 60s;
    while (!start_offset_asked() || reader_->find("orders", 0) == nullptr) {
      const auto got = read(atLeast(1), 50ms);
      EXPECT_TRUE(got.empty()) << "offset " << got.front().offset << " came during the hold";
      if (!listener_.fatal.empty() || !got.empty() || Clock::now() >= deadline) {
        ADD_FAILURE() << "no start-offset query within 60 s; fatal: " << listener_.fatal;
        return nullptr;
      }
    }
    return reader_->find("orders", 0);
  }

  // Holds `partition` when it is assigned, as a link holds one whose mirror is not ready; `held`
  // is set to it then.
  void holdAtAssignment(int32_t partition, SourcePartition*& held) {
    listener_.on_assigned = [partition, &held](const std::vector<SourcePartition*>& partitions) {
      for (SourcePartition* assigned : partitions) {
        if (assigned->partition == partition) {
          assigned->waiting_for_target = true;
          held = assigned;
        }
      }
    };
  }

  static std::function<bool(const std::vector<Got>&)> atLeast(size_t n) {
    return [n](const std::vector<Got>& got) { return got.size() >= n; };
  }

  // The group's committed offset of a partition as the cluster answers it (-1001: none).
  int64_t committed(int32_t partition) {
    char error[256];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", cluster_->bootstrap().c_str(), error,
                      sizeof(error));
    const std::string group = "causeway." + config_.links[0].name;
    rd_kafka_conf_set(conf, "group.id", group.c_str(), error, sizeof(error));
    rd_kafka_t* consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof(error));
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, "orders", partition);
    int64_t offset = -1001;
    if (rd_kafka_committed(consumer, list, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      offset = list->elems[0].offset;
    }
    rd_kafka_topic_partition_list_destroy(list);
    rd_kafka_destroy(consumer);
    return offset;
  }

  embedded::EmbeddedClusterPtr cluster_;
  embedded::EmbeddedClusterPtr target_;
  config::Config config_;
  RecordingListener listener_;
  bool start_at_end_ = false;  // `start: latest` for the topic
  // The group coordinator answers this many committed-offset lookups with NOT_COORDINATOR.
  size_t offset_lookup_errors_ = 0;
  std::unique_ptr<SourceReader> reader_;
  std::map<int32_t, std::vector<replicator::OffsetTracker::Entry*>> entries_;
};

TEST_F(SourceReaderTest, HandsOutEveryRecordOnceInPartitionOrderWithHeadersAndTimestamp) {
  start(2, 40);
  const auto got = read(atLeast(80), 60s);
  ASSERT_EQ(got.size(), 80u) << "fatal: " << listener_.fatal;
  EXPECT_EQ(listener_.assigned.size(), 2u);
  std::map<int32_t, int64_t> next;
  for (const Got& record : got) {
    const int64_t offset = next[record.partition]++;
    ASSERT_EQ(record.offset, offset) << "partition " << record.partition;
    const auto sent =
        testing::makeRecord("orders", record.partition, static_cast<uint64_t>(offset));
    EXPECT_EQ(record.key, sent.key);
    EXPECT_EQ(record.value, sent.value);
    EXPECT_EQ(record.timestamp, sent.timestamp);
    EXPECT_EQ(record.timestamp_type, pipeline::TimestampType::kCreateTime);
    for (const auto& [name, value] : sent.headers) {
      const auto header = record.headers.find(name);
      ASSERT_NE(header, record.headers.end()) << name;
      EXPECT_EQ(header->second, value) << name;
    }
  }
  EXPECT_EQ(next[0], 40);
  EXPECT_EQ(next[1], 40);
}

TEST_F(SourceReaderTest, AHeldPartitionFetchesNothingUntilReleasedThenStartsAtItsFirstRecord) {
  // given: the listener holds partition 1 when it is assigned (its mirror is not ready)
  SourcePartition* held = nullptr;
  holdAtAssignment(1, held);
  start(2, 30);

  // when: partition 0 is read completely, and the reader is polled a while longer
  auto first = read(atLeast(30), 60s);
  const auto more = read(atLeast(1), 1500ms);
  first.insert(first.end(), more.begin(), more.end());

  // then: nothing of partition 1 came while it was held
  ASSERT_NE(held, nullptr);
  for (const Got& record : first) {
    EXPECT_EQ(record.partition, 0) << "offset " << record.offset;
  }
  EXPECT_EQ(first.size(), 30u);

  // when: the hold ends
  held->waiting_for_target = false;
  reader_->updateFetching();
  const auto rest = read(atLeast(30), 30s);

  // then: partition 1 arrives from its first record, in order
  ASSERT_EQ(rest.size(), 30u);
  for (size_t i = 0; i < rest.size(); ++i) {
    EXPECT_EQ(rest[i].partition, 1);
    EXPECT_EQ(rest[i].offset, static_cast<int64_t>(i));
  }
}

TEST_F(SourceReaderTest, AResumeLibrdkafkaDroppedIsMadeAgainAndThePartitionIsReadFromItsStart) {
  // given: partition 1 held from its assignment (its mirror is not ready), paused once librdkafka
  // answered for it, while partition 0 is read completely (updateFetching() runs as in the link)
  SourcePartition* held = nullptr;
  holdAtAssignment(1, held);
  start(2, 30);
  std::vector<Got> first;
  const auto deadline = Clock::now() + 60s;
  while ((first.size() < 30 || held == nullptr || !held->fetch_paused) && Clock::now() < deadline) {
    reader_->updateFetching();
    const auto got = read(atLeast(1), 100ms);
    first.insert(first.end(), got.begin(), got.end());
  }
  ASSERT_NE(held, nullptr);
  ASSERT_TRUE(held->fetch_paused) << "partition 1 was never paused";
  ASSERT_EQ(first.size(), 30u);
  for (const Got& record : first) {
    EXPECT_EQ(record.partition, 0) << "offset " << record.offset;
  }

  // when: the hold ends and the reader resumes partition 1, but librdkafka keeps it paused, as
  // when it drops a resume that raced with its own work on the partition (here paused again
  // behind the reader's back: the same state, made on purpose)
  held->waiting_for_target = false;
  reader_->updateFetching();
  ASSERT_FALSE(held->fetch_paused);
  auto list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, "orders", 1);
  ASSERT_EQ(rd_kafka_pause_partitions(reader_->client(), list), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_topic_partition_list_destroy(list);
  std::vector<Got> rest;
  const auto until = Clock::now() + 60s;
  while (rest.size() < 30 && Clock::now() < until) {
    reader_->updateFetching();
    const auto got = read(atLeast(1), 100ms);
    rest.insert(rest.end(), got.begin(), got.end());
  }

  // then: the partition, silent after its resume, is resumed again and read from its first record,
  // each record once, and the problem is shown
  ASSERT_EQ(rest.size(), 30u) << "fatal: " << listener_.fatal;
  for (size_t i = 0; i < rest.size(); ++i) {
    EXPECT_EQ(rest[i].partition, 1);
    EXPECT_EQ(rest[i].offset, static_cast<int64_t>(i));
  }
  EXPECT_NE(std::find(listener_.problems.begin(), listener_.problems.end(), "fetch:unanswered"),
            listener_.problems.end());
}

TEST_F(SourceReaderTest, PartitionsWhoseOffsetLookupLibrdkafkaGaveUpAreAssignedAgainAndReadWhole) {
  // given: the group coordinator answers the first two committed-offset lookups with
  // NOT_COORDINATOR, as one that moves in a broker restart does; librdkafka 2.0.2 does not ask
  // again, and leaves the partitions assigned but never started
  offset_lookup_errors_ = 2;
  start(2, 30);

  // when: the reader runs as in the link (updateFetching() every 100 ms)
  std::vector<Got> got;
  const auto deadline = Clock::now() + 60s;
  while (got.size() < 60 && Clock::now() < deadline) {
    reader_->updateFetching();
    const auto more = read(atLeast(1), 100ms);
    got.insert(got.end(), more.begin(), more.end());
  }

  // then: both partitions are read from their first record, each record once and in order, and
  // the restart is shown
  ASSERT_EQ(got.size(), 60u) << "fatal: " << listener_.fatal;
  std::map<int32_t, int64_t> next;
  for (const Got& record : got) {
    EXPECT_EQ(record.offset, next[record.partition]++) << "partition " << record.partition;
  }
  EXPECT_NE(std::find(listener_.problems.begin(), listener_.problems.end(), "start:offset-lookup"),
            listener_.problems.end());
  EXPECT_TRUE(listener_.fatal.empty()) << listener_.fatal;
}

TEST_F(SourceReaderTest, ARetryRewindsThePartitionToTheRecordThatWaits) {
  // given: 10 records of a partition were taken; the 11th must wait (a stage said retry later)
  start(1, 40);
  const auto first = read(atLeast(10), 60s);
  ASSERT_EQ(first.size(), 10u);
  SourcePartition* partition = reader_->find("orders", 0);
  ASSERT_NE(partition, nullptr);
  // (what Link::retryLater does: hold, rewind, pause)
  partition->retry_at = Clock::now() + 300ms;
  ASSERT_TRUE(reader_->rewind(*partition, 10).ok());
  reader_->updateFetching();

  // when: the retry time passes (what was fetched meanwhile is discarded)
  const auto during = read(atLeast(1), 200ms);
  EXPECT_TRUE(during.empty()) << "offset " << during.front().offset << " came during the hold";
  ASSERT_TRUE(waitFor([&] { return Clock::now() >= partition->retry_at; }, 5s, 20ms));
  reader_->updateFetching();
  const auto rest = read(atLeast(30), 30s);

  // then: the partition goes on at the record that waited, each record once
  ASSERT_EQ(rest.size(), 30u);
  for (size_t i = 0; i < rest.size(); ++i) {
    EXPECT_EQ(rest[i].offset, static_cast<int64_t>(10 + i));
  }
}

TEST_F(SourceReaderTest, AResumePositionSetWhileTheStartOffsetIsLookedUpIsKept) {
  // given: a partition without a committed offset whose start offset (auto.offset.reset, earliest)
  // is answered 2 s late, held at assignment as an exactly-once link holds it
  start(1, 20);  // (the consumer joins the group at its first poll)
  SourcePartition* partition = assignWithTheStartOffsetAnsweredLate();
  ASSERT_NE(partition, nullptr);

  // when: the position is found (the target holds records 0-19 already) before the answer comes
  ASSERT_TRUE(reader_->rewind(*partition, 20).ok());
  partition->waiting_for_position = false;
  reader_->updateFetching();

  // then: the late answer does not move the partition back (librdkafka 2.0.2 queries the start
  // offset again 500 ms after an outdated answer and fetches from there)
  const auto early = read(atLeast(1), 4s);
  EXPECT_TRUE(early.empty()) << "offset " << early.front().offset << " was handed out again";
  ASSERT_TRUE(testing::produceRecords(cluster_->bootstrap(), "orders", 1, 20, 20));
  const auto rest = read(atLeast(20), 30s);
  ASSERT_EQ(rest.size(), 20u);
  for (size_t i = 0; i < rest.size(); ++i) {
    EXPECT_EQ(rest[i].offset, static_cast<int64_t>(20 + i));
  }
}

TEST_F(SourceReaderTest, AResumePositionIsKeptWhenTheLinkStartsAtTheEnd) {
  // given: `start: latest`, a partition without a committed offset whose end offset is answered
  // 2 s late; the resume position (20, the end then) is set while the answer is on its way, and
  // the partition stays held 4 s after it (a retry) while 10 more records arrive
  start_at_end_ = true;
  start(1, 20);
  SourcePartition* partition = assignWithTheStartOffsetAnsweredLate();
  ASSERT_NE(partition, nullptr);
  partition->retry_at = Clock::now() + 4s;
  ASSERT_TRUE(reader_->rewind(*partition, 20).ok());
  partition->waiting_for_position = false;
  reader_->updateFetching();
  ASSERT_TRUE(testing::produceRecords(cluster_->bootstrap(), "orders", 1, 10, 20));

  // when: the hold ends (librdkafka asked for the end again meanwhile: 30)
  ASSERT_TRUE(read(atLeast(1), 1s).empty());
  ASSERT_TRUE(waitFor([&] { return Clock::now() >= partition->retry_at; }, 10s, 20ms));
  reader_->updateFetching();
  const auto got = read(atLeast(10), 30s);

  // then: the partition goes on at the resume position, not at the end librdkafka found later
  ASSERT_EQ(got.size(), 10u);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].offset, static_cast<int64_t>(20 + i));
  }
}

TEST_F(SourceReaderTest, CommitsEachPartitionsCommitPointForTheGroup) {
  // given: 30 records taken, the first 20 acknowledged by the target
  start(1, 30);
  const auto got = read(atLeast(30), 60s);
  ASSERT_EQ(got.size(), 30u);
  SourcePartition* partition = reader_->find("orders", 0);
  ASSERT_NE(partition, nullptr);
  for (size_t i = 0; i < 20; ++i) {
    partition->tracker.ack(*entries_[0][i]);
  }

  // when: the reader commits
  reader_->commit(/*sync=*/true);

  // then: the group's offset is the first record not acknowledged
  EXPECT_EQ(committed(0), 20);
  EXPECT_EQ(partition->committed, 20);

  // when: the rest is acknowledged and the reader commits again
  for (size_t i = 20; i < 30; ++i) {
    partition->tracker.ack(*entries_[0][i]);
  }
  reader_->commit(/*sync=*/true);
  EXPECT_EQ(committed(0), 30);
  EXPECT_TRUE(listener_.fatal.empty()) << listener_.fatal;
}

}  // namespace
}  // namespace causeway
