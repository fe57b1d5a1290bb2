#pragma once

// Helpers shared by the files that implement Link (link*.cc). Not for use outside Link.

#include "common/wall_clock.h"
#include "kafka/handles.h"
#include "pipeline/record.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>

namespace causeway::replicator::link_internal {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

inline constexpr milliseconds kStatusInterval{250};
inline constexpr milliseconds kRevokeFlushLimit{10000};
inline constexpr size_t kMaxRecordsPerPoll = 2000;
// Exactly-once partitions whose resume position the target did not give in time are asked about
// again after kPositionRetryFirst, doubling up to kPositionRetryMax; the status says so with a
// last_error that starts with kPositionRetryNote.
inline constexpr milliseconds kPositionRetryFirst{1000};
inline constexpr milliseconds kPositionRetryMax{30000};
inline constexpr const char* kPositionRetryNote =
    "exactly-once partitions wait for the target to say where they resume;";

// Index into TimestampedHistograms, or -1 for records without a usable timestamp.
inline int timestampIndex(rd_kafka_timestamp_type_t type) {
  switch (type) {
  case RD_KAFKA_TIMESTAMP_CREATE_TIME:
    return 0;
  case RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME:
    return 1;
  default:
    return -1;
  }
}

inline int timestampIndex(pipeline::TimestampType type) {
  switch (type) {
  case pipeline::TimestampType::kCreateTime:
    return 0;
  case pipeline::TimestampType::kLogAppendTime:
    return 1;
  case pipeline::TimestampType::kNone:
    break;
  }
  return -1;
}

}  // namespace causeway::replicator::link_internal
