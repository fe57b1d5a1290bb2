#include "replicator/partition_scanner.h"

#include "kafka/client_factory.h"
#include "replicator/record_headers.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>

namespace causeway::replicator {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

int remainingMs(Clock::time_point deadline) {
  return static_cast<int>(std::max<int64_t>(
      1, std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count()));
}

} // namespace

std::optional<int64_t> sourceOffsetOf(const rd_kafka_message_t& message, std::string_view link) {
  rd_kafka_headers_t* headers = nullptr;
  const void* value = nullptr;
  size_t size = 0;
  if (rd_kafka_message_headers(&message, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR ||
      rd_kafka_header_get_last(headers, kSourceHeader.data(), &value, &size) !=
          RD_KAFKA_RESP_ERR_NO_ERROR ||
      value == nullptr) {
    return std::nullopt;
  }
  return decodeSource(std::string_view(static_cast<const char*>(value), size), link);
}

PartitionScanner::PartitionScanner(const config::ClusterConfig& cluster, std::string purpose)
    : cluster_(cluster), purpose_(std::move(purpose)) {}

Status PartitionScanner::open() {
  static std::atomic<int> instance{0};
  kafka::ClientSpec spec;
  spec.type = RD_KAFKA_CONSUMER;
  spec.cluster = &cluster_;
  spec.client_id = "causeway-" + purpose_;
  spec.defaults = {{"fetch.wait.max.ms", "10"}, {"isolation.level", "read_committed"}};
  // librdkafka wants a group.id even for assign(); this one never joins or commits.
  spec.owned = {{"group.id", "causeway." + purpose_ + "." + std::to_string(::getpid()) + "." +
                                 std::to_string(instance++)},
                {"enable.auto.commit", "false"},
                {"enable.auto.offset.store", "false"},
                // The end of a partition is not always a record: on Kafka a transactionally
                // written partition ends with a commit marker, and read_committed stops at the
                // last stable offset. EOF says "nothing more", so a scan never waits for an
                // offset that no record will carry.
                {"enable.partition.eof", "true"}};
  auto consumer = kafka::makeClient(spec);
  if (!consumer) {
    return consumer.error();
  }
  consumer_ = std::move(*consumer);
  return {};
}

Result<std::optional<int32_t>> PartitionScanner::partitionCount(const std::string& topic,
                                                               Clock::time_point deadline) {
  auto metadata = kafka::fetchAllTopics(consumer_.get(), cluster_,
                                        milliseconds(remainingMs(deadline)));
  if (!metadata) {
    return metadata.error();
  }
  for (int i = 0; i < (*metadata)->topic_cnt; ++i) {
    const auto& t = (*metadata)->topics[i];
    if (topic == t.topic && t.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      return std::optional<int32_t>(t.partition_cnt);
    }
  }
  return std::optional<int32_t>();
}

Result<std::pair<int64_t, int64_t>> PartitionScanner::watermarks(const std::string& topic,
                                                                 int32_t partition,
                                                                 Clock::time_point deadline) {
  int64_t low = 0;
  int64_t high = 0;
  rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
      consumer_.get(), topic.c_str(), partition, &low, &high, remainingMs(deadline));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Error{kafka::describeCluster(cluster_) + " " + topic + "[" + std::to_string(partition) +
                 "]: reading the watermarks failed: " + rd_kafka_err2str(err)};
  }
  return std::pair{low, high};
}

Status PartitionScanner::scan(const std::string& topic, int32_t partition, int64_t start,
                              int64_t end, Clock::time_point deadline, const Visitor& visit) {
  const std::string where =
      kafka::describeCluster(cluster_) + " " + topic + "[" + std::to_string(partition) + "]";
  if (start >= end) {
    return {};
  }
  kafka::PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset = start;
  if (rd_kafka_resp_err_t err = rd_kafka_assign(consumer_.get(), list.get())) {
    return Error{"reading " + where + ": " + rd_kafka_err2str(err)};
  }
  Status status;
  int64_t next = start;
  while (next < end) {
    if (Clock::now() >= deadline) {
      status = Error{"reading " + where + " from offset " + std::to_string(start) +
                     ": timed out at offset " + std::to_string(next)};
      break;
    }
    kafka::MessagePtr message(rd_kafka_consumer_poll(consumer_.get(), 100));
    if (!message) {
      continue;
    }
    if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      if (message->rkt != nullptr && message->partition == partition &&
          std::string_view(rd_kafka_topic_name(message->rkt)) == topic &&
          message->offset >= next) {
        break;  // nothing past `next` to read now
      }
      continue;  // another partition's, or an earlier scan's
    }
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      status = Error{"reading " + where + ": " + rd_kafka_message_errstr(message.get())};
      break;
    }
    if (message->partition != partition ||
        std::string_view(rd_kafka_topic_name(message->rkt)) != topic || message->offset < next) {
      continue;  // left over from an earlier scan
    }
    next = message->offset + 1;
    if (message->offset >= end) {
      break;
    }
    records_read_ += 1;
    if (!visit(*message)) {
      break;
    }
  }
  rd_kafka_assign(consumer_.get(), nullptr);
  return status;
}

} // namespace causeway::replicator
