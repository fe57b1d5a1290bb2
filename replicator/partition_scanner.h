#pragma once

#include "common/result.h"
#include "config/config.h"
#include "kafka/handles.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace causeway::replicator {

// Which records a scanner sees, chosen per purpose (docs/failover.md, "What the
// target shows"):
//  - read_committed: what a read_committed consumer of the partition will read.
//  Records of open
//    transactions are hidden and the partition ends, for this scanner, at the
//    last stable offset (LSO): watermarks() reports the LSO as `high`
//    (librdkafka sends the client's isolation level in ListOffsets, and Kafka
//    answers LATEST with the LSO for read_committed) and the fetcher signals
//    the partition's end there. Right for translation, failover and the state
//    topic's runs (on transactional links they are written inside the
//    transaction).
//  - read_uncommitted: every record up to the high watermark, including records
//  of transactions
//    still open (and of aborted ones: aborted records stay in the log). Right
//    for finding a non-transactional link's own records behind another writer's
//    open transaction.
enum class Isolation { kReadCommitted, kReadUncommitted };

const char* toString(Isolation isolation);

// Where a partition starts and ends, both ways of looking at it.
struct PartitionEnds {
  int64_t low = 0;     // log start offset
  int64_t stable = 0;  // last stable offset: read_committed readers stop here
  int64_t high = 0;    // high watermark: read_uncommitted readers stop here
  // Records exist in [stable, high) that read_committed consumers cannot read
  // yet (an open transaction starts at `stable`).
  bool hidden() const { return stable < high; }
};

// Reads a range of one partition with an assign-only consumer (it never joins a
// group or commits): the building block for finding things on a mirror topic by
// its records' headers. Not thread-safe; one scan at a time.
class PartitionScanner {
public:
  // Called for each record in order; return false to stop the scan.
  using Visitor = std::function<bool(const rd_kafka_message_t&)>;

  // The isolation is Causeway's choice for the purpose, never the cluster's
  // `properties`.
  PartitionScanner(const config::ClusterConfig& cluster, std::string purpose,
                   Isolation isolation = Isolation::kReadCommitted);

  Status open();
  Isolation isolation() const { return isolation_; }

  // How many partitions `topic` has, nullopt when it does not exist (never
  // auto-creates it).
  Result<std::optional<int32_t>> partitionCount(const std::string& topic,
                                                std::chrono::steady_clock::time_point deadline);

  // [low, high) of the partition as this scanner sees it now: `high` is the
  // last stable offset under read_committed, the high watermark under
  // read_uncommitted.
  Result<std::pair<int64_t, int64_t>> watermarks(const std::string& topic, int32_t partition,
                                                 std::chrono::steady_clock::time_point deadline);

  // The log start offset, the last stable offset and the high watermark (the
  // one this scanner's isolation does not report comes from a second,
  // metadata-only client made on first use).
  Result<PartitionEnds> ends(const std::string& topic, int32_t partition,
                             std::chrono::steady_clock::time_point deadline);

  // Visits the records with offsets in [start, end), stopping early at the
  // partition's end as this scanner sees it (offsets without a record:
  // transaction markers; under read_committed the last stable offset, past
  // which nothing can be read until the transaction ends). A scan that starts
  // past that end returns at once (within about half a second: one watermark
  // query), never waiting for records it cannot see. An error if the deadline
  // passes first.
  Status scan(const std::string& topic, int32_t partition, int64_t start, int64_t end,
              std::chrono::steady_clock::time_point deadline, const Visitor& visit);

  // Records visited by scan() so far (what a lookup cost).
  uint64_t recordsRead() const { return records_read_; }

private:
  const config::ClusterConfig& cluster_;
  std::string purpose_;
  Isolation isolation_;
  kafka::HandlePtr consumer_;
  kafka::HandlePtr other_ends_;  // ListOffsets with the other isolation level (ends())
  uint64_t records_read_ = 0;
};

// The source offset in `message`'s causeway-src header if `link` wrote it.
std::optional<int64_t> sourceOffsetOf(const rd_kafka_message_t& message, std::string_view link);

}  // namespace causeway::replicator
