#pragma once

#include "common/result.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

typedef struct rd_kafka_s rd_kafka_t;
typedef struct rd_kafka_message_s rd_kafka_message_t;

namespace causeway::demo {

struct SampleTopic {
  std::string name;
  int32_t partitions = 1;
  // Share of the records that go to this topic (relative to the other topics' weights).
  double weight = 1;
};

// The demo's sample data: orders, payments and customer profile updates.
std::vector<SampleTopic> defaultSampleTopics();

struct SampleProducerOptions {
  std::string bootstrap;
  std::map<std::string, std::string> properties;  // librdkafka passthrough, over the defaults
  std::vector<SampleTopic> topics = defaultSampleTopics();
  uint64_t records = 20000;  // stop after this many records
  double rate = 5000;        // records per second; 0 = as fast as possible
  uint64_t seed = 42;        // same seed, same keys, values and headers
  // The embedded cluster keeps only 5 MiB per partition: never let a partition get more than this
  // many bytes (key + value + headers) ahead of `consumed` (how far a reader, the replicator, has
  // got in that partition, as a source offset; -1 when unknown). No limit without `consumed`.
  uint64_t max_bytes_ahead_per_partition = 4u << 20;
  std::function<int64_t(const std::string& topic, int32_t partition)> consumed;
};

// Produces realistic sample records into a source cluster: JSON values, keys that keep one
// customer's or order's records in one partition (the Java client's murmur2 partitioner),
// headers (trace-id, source-app, schema, and "tenant" with an empty value), tombstones on
// `customers`, and explicit CreateTime timestamps. Idempotent producer, acks=all.
//
// Lifecycle: create() -> run() on one thread (blocks until every record is acknowledged, failed,
// or `stop` is set) -> the counters from any thread -> destroy. Destroy it before the cluster.
class SampleProducer {
public:
  static Result<std::unique_ptr<SampleProducer>> create(SampleProducerOptions options);
  ~SampleProducer();

  SampleProducer(const SampleProducer&) = delete;
  SampleProducer& operator=(const SampleProducer&) = delete;

  // Produces options.records records at options.rate and waits for their acknowledgements
  // (up to `flush_timeout` after the last one). Returns an error if any record failed, if the
  // flush timed out, or if stopped early (`stop` set): then unsent records are purged.
  Status run(const std::atomic<bool>& stop,
             std::chrono::milliseconds flush_timeout = std::chrono::seconds(60));

  uint64_t produced() const { return produced_.load(); }  // handed to librdkafka
  uint64_t acked() const { return acked_.load(); }        // acknowledged by the brokers
  uint64_t failed() const { return failed_.load(); }
  uint64_t ackedBytes() const { return acked_bytes_.load(); }  // key + value bytes
  // Acknowledged records per topic, index = partition.
  std::map<std::string, std::vector<uint64_t>> ackedPerPartition() const;
  // The first delivery error, if any.
  std::string firstError() const;

private:
  struct PartitionLedger;  // bytes produced per partition, for the ahead limit

  explicit SampleProducer(SampleProducerOptions options);
  static void onDelivery(rd_kafka_t* rk, const rd_kafka_message_t* message, void* opaque);
  bool waitUntilBehindLimit(size_t topic, int32_t partition, uint64_t next_size,
                            const std::atomic<bool>& stop);

  SampleProducerOptions options_;
  std::unique_ptr<rd_kafka_t, void (*)(rd_kafka_t*)> producer_;
  std::vector<std::vector<PartitionLedger>> ledgers_;  // [topic][partition]

  std::atomic<uint64_t> produced_{0};
  std::atomic<uint64_t> acked_{0};
  std::atomic<uint64_t> failed_{0};
  std::atomic<uint64_t> acked_bytes_{0};
  mutable std::mutex mutex_;  // guards acked_per_partition_ and first_error_
  std::map<std::string, std::vector<uint64_t>> acked_per_partition_;
  std::string first_error_;
};

} // namespace causeway::demo
