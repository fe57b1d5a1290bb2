#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace causeway::replicator {

enum class LinkState {
  kStarting,  // connecting to the clusters, first topic discovery
  kRunning,   // replicating (possibly with nothing assigned to this worker)
  kStopping,  // draining in-flight records and committing
  kStopped,   // stopped cleanly
  kFailed,    // stopped by a fatal error: see LinkStatus::error
};

const char* toString(LinkState state);

// One source partition assigned to this worker.
struct PartitionStatus {
  std::string source_topic;
  std::string target_topic;
  int32_t partition = 0;
  // Next source offset not yet acknowledged by the target (-1 before the first fetch).
  int64_t next_offset = -1;
  // Source high watermark as last seen by the consumer (-1 if unknown).
  int64_t high_watermark = -1;
  // high_watermark - next_offset, or -1 when either is unknown.
  int64_t lag = -1;
  uint64_t records_replicated = 0;  // acknowledged by the target, since this worker got it
  uint64_t bytes_replicated = 0;    // key + value bytes
  bool paused = false;              // fetching paused (backpressure or target not ready)
};

// A consistent snapshot of one link in this worker process, refreshed a few times a second.
struct LinkStatus {
  std::string name;
  std::string source_cluster;
  std::string target_cluster;
  LinkState state = LinkState::kStarting;
  std::string error;       // why the link failed (kFailed), else empty
  std::string last_error;  // last non-fatal problem (retrying), else empty
  std::vector<std::string> topics;  // source topics currently selected
  std::vector<PartitionStatus> partitions;  // sorted by topic, partition
  uint64_t records_replicated = 0;  // since start of this process
  uint64_t bytes_replicated = 0;
  uint64_t in_flight_records = 0;
  uint64_t in_flight_bytes = 0;
  uint64_t rebalances = 0;
  std::chrono::steady_clock::time_point updated_at{};
};

} // namespace causeway::replicator
