#include "replicator/target_tail.h"

#include "kafka/client_factory.h"
#include "replicator/record_headers.h"

#include <unistd.h>

#include <algorithm>

namespace causeway::replicator {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int64_t kFirstWindow = 256;

} // namespace

TargetTail::TargetTail(const config::ClusterConfig& target, std::string link_name)
    : target_(target), link_name_(std::move(link_name)) {}

Status TargetTail::open() {
  kafka::ClientSpec spec;
  spec.type = RD_KAFKA_CONSUMER;
  spec.cluster = &target_;
  spec.client_id = "causeway-" + link_name_ + "-tail";
  spec.defaults = {{"fetch.wait.max.ms", "10"}, {"isolation.level", "read_committed"}};
  // librdkafka wants a group.id even for assign(); this one never joins or commits.
  spec.owned = {{"group.id", "causeway." + link_name_ + ".tail." + std::to_string(::getpid())},
                {"enable.auto.commit", "false"},
                {"enable.auto.offset.store", "false"},
                {"enable.partition.eof", "false"}};
  auto consumer = kafka::makeClient(spec);
  if (!consumer) {
    return consumer.error();
  }
  consumer_ = std::move(*consumer);
  return {};
}

Result<std::optional<int64_t>> TargetTail::lastSourceOffset(const std::string& topic,
                                                            int32_t partition,
                                                            milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  auto remaining = [&] {
    return static_cast<int>(std::max<int64_t>(
        1, std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count()));
  };
  const std::string where = kafka::describeCluster(target_) + " " + topic + "[" +
                            std::to_string(partition) + "]";
  int64_t low = 0;
  int64_t high = 0;
  rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
      consumer_.get(), topic.c_str(), partition, &low, &high, remaining());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Error{"reading the end of " + where + ": " + rd_kafka_err2str(err)};
  }
  int64_t end = high;  // exclusive
  int64_t window = kFirstWindow;
  std::optional<int64_t> result;
  while (end > low && !result) {
    const int64_t start = std::max(low, end - window);
    kafka::PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset = start;
    if ((err = rd_kafka_assign(consumer_.get(), list.get())) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Error{"reading " + where + ": " + rd_kafka_err2str(err)};
    }
    int64_t next = start;
    while (next < end) {
      if (Clock::now() >= deadline) {
        rd_kafka_assign(consumer_.get(), nullptr);
        return Error{"reading " + where + " from offset " + std::to_string(start) +
                     ": timed out at offset " + std::to_string(next)};
      }
      kafka::MessagePtr message(rd_kafka_consumer_poll(consumer_.get(), 100));
      if (!message) {
        continue;
      }
      if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
          break;
        }
        rd_kafka_assign(consumer_.get(), nullptr);
        return Error{"reading " + where + ": " + rd_kafka_message_errstr(message.get())};
      }
      if (message->partition != partition || std::string_view(rd_kafka_topic_name(message->rkt)) != topic) {
        continue;  // left over from a previous scan
      }
      next = message->offset + 1;
      if (message->offset >= end) {
        break;  // written after we looked: not part of the tail we are scanning
      }
      rd_kafka_headers_t* headers = nullptr;
      const void* value = nullptr;
      size_t size = 0;
      if (rd_kafka_message_headers(message.get(), &headers) == RD_KAFKA_RESP_ERR_NO_ERROR &&
          rd_kafka_header_get_last(headers, kSourceHeader.data(), &value, &size) ==
              RD_KAFKA_RESP_ERR_NO_ERROR &&
          value != nullptr) {
        if (auto source = decodeSource(
                std::string_view(static_cast<const char*>(value), size), link_name_)) {
          result = std::max(result.value_or(-1), *source);
        }
      }
    }
    end = start;
    window *= 4;
  }
  rd_kafka_assign(consumer_.get(), nullptr);
  return result;
}

} // namespace causeway::replicator
