#include "verify/topic_reader.h"
#include "kafka/handles.h"

#include <librdkafka/rdkafka.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

namespace causeway::verify {
namespace {

using Clock = std::chrono::steady_clock;

int remainingMs(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<int64_t>(0, left.count()));
}

// Closes and destroys a consumer without letting a hung destroy hang the caller. librdkafka 2.0.2's
// rd_kafka_destroy() very rarely never returns: one broker thread keeps a reference and never
// ends (seen once in about 60 runs of a test on a loaded 2-core machine, with the consumer already
// closed). Close and destroy run on their own thread; after 30 s the reader gives up on them and
// leaks the client rather than block a check or a test forever.
class BoundedDestroy {
public:
  explicit BoundedDestroy(rd_kafka_t* consumer) : consumer_(consumer) {}
  BoundedDestroy(const BoundedDestroy&) = delete;
  BoundedDestroy& operator=(const BoundedDestroy&) = delete;
  ~BoundedDestroy() {
    struct Done {
      std::mutex mu;
      std::condition_variable cv;
      bool done = false;
    };
    auto state = std::make_shared<Done>();
    std::thread destroyer([consumer = consumer_, state] {
      rd_kafka_consumer_close(consumer);
      rd_kafka_destroy(consumer);
      std::lock_guard lock(state->mu);
      state->done = true;
      state->cv.notify_all();
    });
    std::unique_lock lock(state->mu);
    if (state->cv.wait_for(lock, std::chrono::seconds(30), [&] { return state->done; })) {
      lock.unlock();
      destroyer.join();
    } else {
      spdlog::warn("a topic reader's consumer did not finish closing in 30 s (librdkafka); "
                   "leaving it behind");
      destroyer.detach();
    }
  }

  rd_kafka_t* consumer() const { return consumer_; }

private:
  rd_kafka_t* consumer_;
};

// librdkafka's assign() needs a consumer group handle even though no group is ever joined (no
// subscribe, no commits). A unique name keeps concurrent readers from meeting in one group.
std::string uniqueGroupId() {
  static std::atomic<uint64_t> counter{0};
  std::random_device device;
  std::ostringstream out;
  out << "causeway.verify." << std::hex << device() << "." << counter.fetch_add(1);
  return out.str();
}

Status setProperty(rd_kafka_conf_t* conf, const std::string& name, const std::string& value) {
  char errstr[512];
  if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), errstr, sizeof(errstr)) !=
      RD_KAFKA_CONF_OK) {
    return Error{"librdkafka property '" + name + "': " + errstr};
  }
  return Status::success();
}

Result<kafka::HandlePtr> makeConsumer(const ReadOptions& options) {
  kafka::ConfPtr conf(rd_kafka_conf_new());
  // Defaults first, so that the caller's properties win.
  const std::map<std::string, std::string> defaults = {
      {"group.id", uniqueGroupId()},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", "true"},
      {"auto.offset.reset", "earliest"},
      // An empty fetch on the mock waits the whole fetch.wait.max.ms even when data arrives.
      {"fetch.wait.max.ms", "10"},
  };
  for (const auto& [name, value] : defaults) {
    if (auto status = setProperty(conf.get(), name, value); !status.ok()) {
      return status.error();
    }
  }
  for (const auto& [name, value] : options.properties) {
    if (auto status = setProperty(conf.get(), name, value); !status.ok()) {
      return status.error();
    }
  }
  if (auto status = setProperty(conf.get(), "bootstrap.servers", options.bootstrap); !status.ok()) {
    return status.error();
  }
  char errstr[512];
  // rd_kafka_new() takes ownership of the configuration only on success.
  kafka::HandlePtr consumer(rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), errstr, sizeof(errstr)));
  if (!consumer) {
    return Error{std::string("cannot create a consumer: ") + errstr};
  }
  conf.release();
  return consumer;
}

ConsumedRecord toRecord(const rd_kafka_message_t& message) {
  ConsumedRecord record;
  record.partition = message.partition;
  record.offset = message.offset;
  if (message.key != nullptr) {
    record.key.emplace(static_cast<const char*>(message.key), message.key_len);
  }
  if (message.payload != nullptr) {
    record.value.emplace(static_cast<const char*>(message.payload), message.len);
  }
  rd_kafka_headers_t* headers = nullptr;  // owned by the message
  if (rd_kafka_message_headers(&message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR &&
      headers != nullptr) {
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    for (size_t i = 0;
         rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
         ++i) {
      std::optional<std::string> header_value;
      if (value != nullptr) {
        header_value.emplace(static_cast<const char*>(value), size);
      }
      record.headers.emplace_back(name, std::move(header_value));
    }
  }
  rd_kafka_timestamp_type_t type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
  record.timestamp = rd_kafka_message_timestamp(&message, &type);
  record.timestamp_type = static_cast<int>(type);
  return record;
}

// Per partition: where reading stops (the high watermark as of the start) and where it is.
struct PartitionProgress {
  int64_t low = 0;
  int64_t high = 0;
  bool done = false;
};

Result<std::vector<std::vector<ConsumedRecord>>>
readAssigned(rd_kafka_t* consumer, const std::string& topic, Clock::time_point deadline,
             std::vector<PartitionProgress>& progress) {
  std::vector<std::vector<ConsumedRecord>> partitions(progress.size());
  size_t remaining = 0;
  kafka::PartitionListPtr assignment(
      rd_kafka_topic_partition_list_new(static_cast<int>(progress.size())));
  for (size_t p = 0; p < progress.size(); ++p) {
    if (progress[p].done) {
      continue;
    }
    ++remaining;
    rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), static_cast<int32_t>(p))
        ->offset = progress[p].low;
    partitions[p].reserve(static_cast<size_t>(progress[p].high - progress[p].low));
  }
  if (remaining == 0) {
    return partitions;
  }
  if (auto err = rd_kafka_assign(consumer, assignment.get()); err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Error{"topic '" + topic + "': assign failed: " + rd_kafka_err2str(err)};
  }

  std::string last_error;
  while (remaining > 0) {
    const int wait = std::min(100, remainingMs(deadline));
    if (wait <= 0) {
      std::ostringstream out;
      out << "topic '" << topic << "': read did not finish in time; unfinished partitions:";
      for (size_t p = 0; p < progress.size(); ++p) {
        if (!progress[p].done) {
          out << " " << p << " (at " << partitions[p].size() << " of "
              << progress[p].high - progress[p].low << " records)";
        }
      }
      if (!last_error.empty()) {
        out << "; last error: " << last_error;
      }
      // Messages are freed as they arrive; the assignment is cleared before the consumer goes.
      rd_kafka_assign(consumer, nullptr);
      return Error{out.str()};
    }
    kafka::MessagePtr message(rd_kafka_consumer_poll(consumer, wait));
    if (!message) {
      continue;
    }
    const int32_t p = message->partition;
    const bool known_partition = message->rkt != nullptr && p >= 0 &&
                                 static_cast<size_t>(p) < progress.size() &&
                                 topic == rd_kafka_topic_name(message->rkt);
    if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      // The EOF offset is the partition's end: if it reached the watermark we are done even when
      // the last offsets held no data records (transaction markers on real Kafka).
      if (known_partition && !progress[p].done && message->offset >= progress[p].high) {
        progress[p].done = true;
        --remaining;
      }
      continue;
    }
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      last_error = rd_kafka_message_errstr(message.get());
      if (message->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
          message->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
          message->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED) {
        rd_kafka_assign(consumer, nullptr);
        return Error{"topic '" + topic + "': " + last_error};
      }
      continue;  // transient (broker down, leader moved): librdkafka retries
    }
    if (!known_partition || progress[p].done || message->offset >= progress[p].high) {
      continue;  // appended after the watermarks were taken: not part of this read
    }
    partitions[p].push_back(toRecord(*message));
    if (message->offset + 1 >= progress[p].high) {
      progress[p].done = true;
      --remaining;
    }
  }
  rd_kafka_assign(consumer, nullptr);
  return partitions;
}

}  // namespace

Result<std::vector<std::vector<ConsumedRecord>>> readTopic(const ReadOptions& options,
                                                           const std::string& topic) {
  const auto deadline = Clock::now() + options.timeout;
  auto consumer = makeConsumer(options);
  if (!consumer.ok()) {
    return Error{"reading topic '" + topic + "' from " + options.bootstrap + ": " +
                 consumer.error().message};
  }
  const BoundedDestroy destroy(consumer->release());
  rd_kafka_t* rk = destroy.consumer();

  // all_topics=1: a metadata request naming a single topic auto-creates it on the mock.
  int32_t partition_count = -1;
  std::string metadata_error;
  while (partition_count < 0) {
    const rd_kafka_metadata_t* raw = nullptr;
    const auto err = rd_kafka_metadata(rk, 1, nullptr, &raw, std::max(1, remainingMs(deadline)));
    kafka::MetadataPtr metadata(raw);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      metadata_error = rd_kafka_err2str(err);
    } else {
      for (int i = 0; i < metadata->topic_cnt; ++i) {
        const auto& t = metadata->topics[i];
        if (topic == t.topic) {
          if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            metadata_error = rd_kafka_err2str(t.err);
            break;
          }
          for (int j = 0; j < t.partition_cnt; ++j) {
            partition_count = std::max(partition_count, t.partitions[j].id + 1);
          }
          partition_count = std::max(partition_count, 0);
          break;
        }
      }
      if (partition_count < 0 && metadata_error.empty()) {
        return Error{"topic '" + topic + "' does not exist on " + options.bootstrap};
      }
    }
    if (partition_count < 0) {
      if (remainingMs(deadline) <= 0) {
        return Error{"topic '" + topic + "' on " + options.bootstrap +
                     ": no metadata in time: " + metadata_error};
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(100, remainingMs(deadline))));
    }
  }

  std::vector<PartitionProgress> progress(static_cast<size_t>(partition_count));
  for (int32_t p = 0; p < partition_count; ++p) {
    int64_t low = 0;
    int64_t high = 0;
    auto err = RD_KAFKA_RESP_ERR_NO_ERROR;
    do {
      err = rd_kafka_query_watermark_offsets(rk, topic.c_str(), p, &low, &high,
                                             std::max(1, std::min(5000, remainingMs(deadline))));
    } while (err != RD_KAFKA_RESP_ERR_NO_ERROR && remainingMs(deadline) > 0);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Error{"topic '" + topic + "' partition " + std::to_string(p) + " on " +
                   options.bootstrap + ": no watermarks in time: " + rd_kafka_err2str(err)};
    }
    progress[p] = PartitionProgress{low, high, low >= high};
  }

  return readAssigned(rk, topic, deadline, progress);
}

}  // namespace causeway::verify
