#include "replicator/partition_scanner.h"

#include "kafka/client_factory.h"
#include "kafka/error_kind.h"
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

// How long a scan waits without any record or end-of-partition event before it checks whether it
// asked for offsets past what it can see.
constexpr milliseconds kIdleCheck{500};

const char* isolationLevel(Isolation isolation) {
  return isolation == Isolation::kReadCommitted ? "read_committed" : "read_uncommitted";
}

}  // namespace

const char* toString(Isolation isolation) { return isolationLevel(isolation); }

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

PartitionScanner::PartitionScanner(const config::ClusterConfig& cluster, std::string purpose,
                                   Isolation isolation)
    : cluster_(cluster), purpose_(std::move(purpose)), isolation_(isolation) {}

Status PartitionScanner::open() {
  static std::atomic<int> instance{0};
  kafka::ClientSpec spec;
  spec.type = RD_KAFKA_CONSUMER;
  spec.cluster = &cluster_;
  spec.client_id = "causeway-" + purpose_;
  spec.defaults = {{"fetch.wait.max.ms", "10"}};
  // librdkafka wants a group.id even for assign(); this one never joins or commits.
  spec.owned = {{"group.id", "causeway." + purpose_ + "." + std::to_string(::getpid()) + "." +
                                 std::to_string(instance++)},
                // What the scan is for decides what it must see, not the cluster's properties.
                {"isolation.level", isolationLevel(isolation_)},
                {"enable.auto.commit", "false"},
                {"enable.auto.offset.store", "false"},
                // The end of a partition is not always a record: on Kafka a transactionally written
                // partition ends with a commit marker, and read_committed stops at the last stable
                // offset. EOF says "nothing more", so a scan never waits for an offset that no
                // record will carry.
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
  auto metadata =
      kafka::fetchAllTopics(consumer_.get(), cluster_, milliseconds(remainingMs(deadline)));
  if (!metadata) {
    return metadata.error();
  }
  for (int i = 0; i < (*metadata)->topic_cnt; ++i) {
    const auto& t = (*metadata)->topics[i];
    if (topic != t.topic) {
      continue;
    }
    if (t.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      return std::optional<int32_t>(t.partition_cnt);
    }
    if (t.err != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
      // Listed but not readable now (a topic still being created has no leader yet): not the
      // same as missing.
      return Error{kafka::describeCluster(cluster_) + " topic '" + topic +
                       "': " + rd_kafka_err2str(t.err),
                   kafka::readErrorKind(t.err)};
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
    kafka::refreshMetadataAfterFailedQuery(consumer_.get(), cluster_, err,
                                           milliseconds(remainingMs(deadline)));
    return Error{kafka::describeCluster(cluster_) + " " + topic + "[" + std::to_string(partition) +
                     "]: reading the watermarks failed: " + rd_kafka_err2str(err),
                 kafka::watermarkQueryErrorKind(err)};
  }
  return std::pair{low, high};
}

Result<PartitionEnds> PartitionScanner::ends(const std::string& topic, int32_t partition,
                                             Clock::time_point deadline) {
  auto own = watermarks(topic, partition, deadline);
  if (!own) {
    return own.error();
  }
  if (!other_ends_) {
    kafka::ClientSpec spec;
    spec.type = RD_KAFKA_CONSUMER;  // never assigned: ListOffsets only
    spec.cluster = &cluster_;
    spec.client_id = "causeway-" + purpose_ + "-ends";
    spec.owned = {{"isolation.level", isolationLevel(isolation_ == Isolation::kReadCommitted
                                                         ? Isolation::kReadUncommitted
                                                         : Isolation::kReadCommitted)}};
    auto client = kafka::makeClient(spec);
    if (!client) {
      return client.error();
    }
    other_ends_ = std::move(*client);
  }
  int64_t low = 0;
  int64_t other = 0;
  rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
      other_ends_.get(), topic.c_str(), partition, &low, &other, remainingMs(deadline));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Error{kafka::describeCluster(cluster_) + " " + topic + "[" + std::to_string(partition) +
                     "]: reading the watermarks failed: " + rd_kafka_err2str(err),
                 kafka::watermarkQueryErrorKind(err)};
  }
  PartitionEnds out;
  out.low = own->first;
  if (isolation_ == Isolation::kReadCommitted) {
    out.stable = own->second;
    out.high = other;
  } else {
    out.stable = other;
    out.high = own->second;
  }
  // Two requests, two moments: a transaction that ended in between must not make the stable end
  // pass the high watermark.
  out.high = std::max(out.high, out.stable);
  return out;
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
    return Error{"reading " + where + ": " + rd_kafka_err2str(err), kafka::readErrorKind(err)};
  }
  Status status;
  int64_t next = start;
  auto idle_since = Clock::now();
  while (next < end) {
    if (Clock::now() >= deadline) {
      status = Error{"reading " + where + " from offset " + std::to_string(start) +
                         ": timed out at offset " + std::to_string(next),
                     ErrorKind::kUnavailable};
      break;
    }
    kafka::MessagePtr message(rd_kafka_consumer_poll(consumer_.get(), 100));
    if (!message) {
      if (Clock::now() - idle_since >= kIdleCheck) {
        // librdkafka signals the end only when the fetch position equals it: a scan that starts
        // past the last stable offset (inside an open transaction) would never hear of it and wait
        // until its deadline.
        idle_since = Clock::now();
        int64_t low = 0;
        int64_t visible_end = 0;
        if (rd_kafka_query_watermark_offsets(consumer_.get(), topic.c_str(), partition, &low,
                                             &visible_end,
                                             remainingMs(deadline)) == RD_KAFKA_RESP_ERR_NO_ERROR &&
            next >= visible_end) {
          break;  // nothing at or past `next` can be read now
        }
      }
      continue;
    }
    idle_since = Clock::now();
    if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      if (message->rkt != nullptr && message->partition == partition &&
          std::string_view(rd_kafka_topic_name(message->rkt)) == topic && message->offset >= next) {
        break;  // nothing past `next` to read now
      }
      continue;  // another partition's, or an earlier scan's
    }
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      status = Error{"reading " + where + ": " + rd_kafka_message_errstr(message.get()),
                     kafka::readErrorKind(message->err)};
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

}  // namespace causeway::replicator
