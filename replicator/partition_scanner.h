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

// Reads a range of one partition with an assign-only consumer (it never joins a group or
// commits): the building block for finding things on a mirror topic by its records' headers.
// Not thread-safe; one scan at a time.
class PartitionScanner {
public:
  // Called for each record in order; return false to stop the scan.
  using Visitor = std::function<bool(const rd_kafka_message_t&)>;

  PartitionScanner(const config::ClusterConfig& cluster, std::string purpose);

  Status open();

  // How many partitions `topic` has, nullopt when it does not exist (never auto-creates it).
  Result<std::optional<int32_t>> partitionCount(const std::string& topic,
                                                std::chrono::steady_clock::time_point deadline);

  // [low, high) of the partition, as the cluster reports it now.
  Result<std::pair<int64_t, int64_t>> watermarks(const std::string& topic, int32_t partition,
                                                 std::chrono::steady_clock::time_point deadline);

  // Visits the records with offsets in [start, end), stopping early at the partition's end
  // (offsets without a record: transaction markers, the last stable offset). An error if the
  // deadline passes first.
  Status scan(const std::string& topic, int32_t partition, int64_t start, int64_t end,
              std::chrono::steady_clock::time_point deadline, const Visitor& visit);

  // Records visited by scan() so far (what a lookup cost).
  uint64_t recordsRead() const { return records_read_; }

private:
  const config::ClusterConfig& cluster_;
  std::string purpose_;
  kafka::HandlePtr consumer_;
  uint64_t records_read_ = 0;
};

// The source offset in `message`'s causeway-src header if `link` wrote it.
std::optional<int64_t> sourceOffsetOf(const rd_kafka_message_t& message, std::string_view link);

} // namespace causeway::replicator
