#pragma once

#include "common/result.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace causeway::verify {

// One record as a consumer sees it (owned copies; for checking, not for the hot path).
struct ConsumedRecord {
  int32_t partition = 0;
  int64_t offset = 0;
  std::optional<std::string> key;    // nullopt = null key
  std::optional<std::string> value;  // nullopt = null value (tombstone)
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;  // in order
  int64_t timestamp = -1;
  int timestamp_type = 0;  // rd_kafka_timestamp_type_t: 0 none, 1 create time, 2 log append
};

struct ReadOptions {
  std::string bootstrap;
  std::map<std::string, std::string> properties;  // librdkafka passthrough
  std::chrono::milliseconds timeout{30000};        // for the whole read
};

// Reads every partition of `topic` from its low to its high watermark (as of the call) without a
// consumer group (assign, not subscribe). Result: one vector per partition, index = partition.
// An error if the topic does not exist or the read does not finish in time.
Result<std::vector<std::vector<ConsumedRecord>>> readTopic(const ReadOptions& options,
                                                           const std::string& topic);

} // namespace causeway::verify
