#pragma once

#include "common/result.h"
#include "config/config.h"
#include "kafka/handles.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace causeway::replicator {

// Finds, from what is actually on the target, the last source offset a link wrote into mirror
// partitions: it reads each partition's tail and decodes the causeway-src header of the link's
// own records, scanning further back (in growing windows) past records other writers put there.
// This is how an exactly-once link resumes after a crash without relying on the source group's
// commits or on the broker hiding aborted data.
//
// Many partitions are read at once with one consumer (one fetch carries them all), so a worker
// that is assigned hundreds of partitions finds them all in a few round trips.
//
// Isolation: the link's own records on a non-transactional link are never aborted, so they are
// read uncommitted: another writer's open transaction on the same mirror partition (active-active)
// holds the last stable offset back, and a read_committed reader would stop there and miss
// records of ours above it (a resume too early, duplicates). A transactional link's aborted
// records must not count, so it reads committed (`read_committed`).
//
// Not thread-safe: used by one thread (the link's resume finder).
class TargetTail {
public:
  struct Partition {
    std::string topic;
    int32_t partition = 0;
  };

  TargetTail(const config::ClusterConfig& target, std::string link_name,
             bool read_committed = false);

  Status open();

  // For each partition (in order), the last source offset `link_name` wrote there, nullopt if it
  // holds none of its records; or why that partition could not be read. Each partition answers
  // for itself: one that the target does not answer for before `deadline` (ErrorKind::
  // kUnavailable) or refuses (kPermissionDenied) does not fail the others.
  using Found = Result<std::optional<int64_t>>;
  std::vector<Found> lastSourceOffsets(const std::vector<Partition>& partitions,
                                       std::chrono::steady_clock::time_point deadline);

  // One partition (tests, tools).
  Result<std::optional<int64_t>> lastSourceOffset(const std::string& topic, int32_t partition,
                                                  std::chrono::milliseconds timeout);

private:
  const config::ClusterConfig& target_;
  std::string link_name_;
  bool read_committed_;
  kafka::HandlePtr consumer_;
};

}  // namespace causeway::replicator
