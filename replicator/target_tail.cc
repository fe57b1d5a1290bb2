#include "replicator/target_tail.h"

#include "kafka/client_factory.h"
#include "kafka/error_kind.h"
#include "replicator/partition_scanner.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <map>

namespace causeway::replicator {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr int64_t kFirstWindow = 256;

int remainingMs(Clock::time_point deadline) {
  return static_cast<int>(std::max<int64_t>(
      1, std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count()));
}

// What one round knows about one partition.
struct Scan {
  int64_t low = 0;
  int64_t window_start = 0;  // this round reads [window_start, window_end)
  int64_t window_end = 0;
  int64_t window = kFirstWindow;
  bool done = false;  // this round reached window_end (or the partition's end), or it failed
  std::optional<int64_t> last;
  std::optional<Error> error;  // why the partition could not be read
};

// How long one partition's watermark query may take at most.
constexpr milliseconds kWatermarkLimit{10000};

}  // namespace

TargetTail::TargetTail(const config::ClusterConfig& target, std::string link_name,
                       bool read_committed)
    : target_(target), link_name_(std::move(link_name)), read_committed_(read_committed) {}

Status TargetTail::open() {
  static std::atomic<int> instance{0};
  kafka::ClientSpec spec;
  spec.type = RD_KAFKA_CONSUMER;
  spec.cluster = &target_;
  spec.client_id = "causeway-" + link_name_ + "-tail";
  spec.defaults = {{"fetch.wait.max.ms", "10"}};
  // librdkafka wants a group.id even for assign(); this one never joins or commits.
  spec.owned = {{"group.id", "causeway." + link_name_ + "-tail." + std::to_string(::getpid()) +
                                 "." + std::to_string(instance++)},
                {"enable.auto.commit", "false"},
                {"enable.auto.offset.store", "false"},
                {"isolation.level", read_committed_ ? "read_committed" : "read_uncommitted"},
                {"auto.offset.reset", "earliest"},
                // The end of a partition is not always a record (transaction markers): EOF says
                // "nothing more", so a scan never waits for an offset no record will carry.
                {"enable.partition.eof", "true"}};
  auto consumer = kafka::makeClient(spec);
  if (!consumer) {
    return consumer.error();
  }
  consumer_ = std::move(*consumer);
  return {};
}

Result<std::optional<int64_t>>
TargetTail::lastSourceOffset(const std::string& topic, int32_t partition, milliseconds timeout) {
  return lastSourceOffsets({Partition{topic, partition}}, Clock::now() + timeout)[0];
}

std::vector<TargetTail::Found>
TargetTail::lastSourceOffsets(const std::vector<Partition>& partitions,
                              Clock::time_point deadline) {
  std::vector<Scan> scans(partitions.size());
  auto where = [&](size_t i) {
    return kafka::describeCluster(target_) + " " + partitions[i].topic + "[" +
           std::to_string(partitions[i].partition) + "]";
  };
  rd_kafka_resp_err_t refresh_err = RD_KAFKA_RESP_ERR_NO_ERROR;
  for (size_t i = 0; i < partitions.size(); ++i) {
    int64_t low = 0;
    int64_t high = 0;
    const auto& p = partitions[i];
    Scan& scan = scans[i];
    // Each query gets at most kWatermarkLimit, so a partition without a leader leaves time for
    // the others.
    const int limit_ms = std::min<int>(remainingMs(deadline), kWatermarkLimit.count());
    if (rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
            consumer_.get(), p.topic.c_str(), p.partition, &low, &high, limit_ms)) {
      scan.error = Error{where(i) + ": reading the watermarks failed: " + rd_kafka_err2str(err),
                         kafka::watermarkQueryErrorKind(err)};
      scan.done = true;
      if (scan.error->kind == ErrorKind::kUnavailable) {
        refresh_err = err;
      }
      continue;
    }
    scan.low = low;
    scan.window_end = high;
    scan.window_start = std::max(low, high - scan.window);
    scan.done = scan.window_start >= scan.window_end;  // empty
  }
  if (refresh_err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    // So that the next ask sees a leader that came back (once per call, not per partition).
    kafka::refreshMetadataAfterFailedQuery(
        consumer_.get(), target_, refresh_err,
        milliseconds(std::min<int>(remainingMs(deadline), kWatermarkLimit.count())));
  }
  std::map<std::pair<std::string, int32_t>, size_t> index;
  for (size_t i = 0; i < partitions.size(); ++i) {
    index[{partitions[i].topic, partitions[i].partition}] = i;
  }

  // Rounds: every partition not done reads its window; a partition whose window held none of
  // the link's records and does not start at the log start goes back a four times larger window.
  // A partition that fails is done with its error; the others go on.
  while (true) {
    kafka::PartitionListPtr list(
        rd_kafka_topic_partition_list_new(static_cast<int>(std::max<size_t>(1, scans.size()))));
    size_t pending = 0;
    for (size_t i = 0; i < scans.size(); ++i) {
      if (!scans[i].done) {
        rd_kafka_topic_partition_list_add(list.get(), partitions[i].topic.c_str(),
                                          partitions[i].partition)
            ->offset = scans[i].window_start;
        pending += 1;
      }
    }
    if (pending == 0) {
      break;
    }
    if (rd_kafka_resp_err_t err = rd_kafka_assign(consumer_.get(), list.get())) {
      for (Scan& scan : scans) {
        if (!scan.done) {
          scan.error = Error{"reading the tails of the mirror partitions on " +
                             kafka::describeCluster(target_) + ": " + rd_kafka_err2str(err)};
          scan.done = true;
        }
      }
      break;
    }
    std::vector<int64_t> next(scans.size());
    for (size_t i = 0; i < scans.size(); ++i) {
      next[i] = scans[i].window_start;
    }
    while (pending > 0) {
      if (Clock::now() >= deadline) {
        for (size_t i = 0; i < scans.size(); ++i) {
          if (!scans[i].done) {
            scans[i].error =
                Error{where(i) + ": reading the tail timed out", ErrorKind::kUnavailable};
            scans[i].done = true;
          }
        }
        pending = 0;
        break;
      }
      kafka::MessagePtr message(rd_kafka_consumer_poll(consumer_.get(), 100));
      if (!message || message->rkt == nullptr) {
        continue;
      }
      auto it = index.find({rd_kafka_topic_name(message->rkt), message->partition});
      if (it == index.end()) {
        continue;
      }
      const size_t i = it->second;
      Scan& scan = scans[i];
      if (scan.done) {
        continue;
      }
      if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        if (message->offset >= next[i]) {
          scan.done = true;  // nothing past `next` to read now
          pending -= 1;
        }
        continue;
      }
      if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        scan.error = Error{where(i) + ": " + rd_kafka_message_errstr(message.get()),
                           kafka::readErrorKind(message->err)};
        scan.done = true;
        pending -= 1;
        continue;
      }
      if (message->offset < next[i]) {
        continue;  // left over from an earlier round
      }
      next[i] = message->offset + 1;
      if (message->offset < scan.window_end) {
        if (auto source = sourceOffsetOf(*message, link_name_)) {
          scan.last = std::max(scan.last.value_or(-1), *source);
        }
      }
      if (next[i] >= scan.window_end) {
        scan.done = true;
        pending -= 1;
      }
    }
    rd_kafka_assign(consumer_.get(), nullptr);
    // The next round: further back where nothing of ours was found yet.
    for (Scan& scan : scans) {
      if (!scan.error && !scan.last && scan.window_start > scan.low) {
        scan.window *= 4;
        scan.window_end = scan.window_start;
        scan.window_start = std::max(scan.low, scan.window_end - scan.window);
        scan.done = false;
      }
    }
  }
  std::vector<Found> result;
  result.reserve(scans.size());
  for (Scan& scan : scans) {
    if (scan.error) {
      result.emplace_back(std::move(*scan.error));
    } else {
      result.emplace_back(scan.last);
    }
  }
  return result;
}

}  // namespace causeway::replicator
