#pragma once

#include "common/result.h"
#include "config/config.h"
#include "replicator/partition_scanner.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace causeway::replicator {

// Finds, from what is actually on the target, the last source offset a link wrote into a mirror
// partition: it reads the partition's tail and decodes the causeway-src header of the link's own
// records, scanning further back (in growing windows) past records other writers put there.
// This is how an exactly-once link resumes after a crash without relying on the source group's
// commits or on the broker hiding aborted data.
//
// Not thread-safe: used by the link's data-plane thread during rebalances.
class TargetTail {
public:
  TargetTail(const config::ClusterConfig& target, std::string link_name);

  Status open() { return scanner_.open(); }

  // The last source offset `link_name` wrote to topic/partition, nullopt if the partition holds
  // none of its records. An error if the target does not answer within `timeout`.
  Result<std::optional<int64_t>> lastSourceOffset(const std::string& topic, int32_t partition,
                                                  std::chrono::milliseconds timeout);

private:
  std::string link_name_;
  PartitionScanner scanner_;
};

} // namespace causeway::replicator
