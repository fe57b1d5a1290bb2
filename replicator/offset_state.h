#pragma once

// The offset runs of an exactly-once link, saved on its target cluster in the log-compacted
// topic causeway.<link>.state: one record per mirror partition, key "<mirror topic>/<partition>",
// value OffsetRuns::encode(). The owning worker saves a partition's runs every commit interval
// (inside its transaction when the link is transactional), on revoke and on stop, and a new
// owner continues from them. Readers keep every partition's latest runs in memory and read
// only what was added since their last refresh.
//
// The runs only make translation cheap; the mirror partitions' causeway-src headers stay the
// truth (see OffsetTranslator, which checks each answer against the target).

#include "common/result.h"
#include "config/config.h"
#include "replicator/offset_runs.h"
#include "replicator/partition_scanner.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace causeway::replicator {

std::string stateTopic(const std::string& link);
std::string stateKey(const std::string& mirror_topic, int32_t partition);

// Reads causeway.<link>.state incrementally. Not thread-safe.
class OffsetStateReader {
public:
  struct Entry {
    OffsetRuns runs;
    std::string error;  // the latest record for this key does not decode: why
    int32_t state_partition = 0;
    int64_t state_offset = -1;  // where the latest record for this key is
  };

  OffsetStateReader(const config::ClusterConfig& target, std::string link);

  Status open();

  // Reads the records added since the last refresh. Errors: the state topic does not exist (the
  // message says so and where), a record whose key is not "<topic>/<partition>", the target not
  // answering before `deadline`. A value that does not decode is not an error here: its key's
  // entry carries the error, so every other partition still translates.
  Status refresh(std::chrono::steady_clock::time_point deadline);

  // The latest saved runs of a mirror partition, or null when none were saved.
  const Entry* find(const std::string& mirror_topic, int32_t partition) const;

  const std::string& topic() const { return topic_; }
  // "state topic 'causeway.L.state' on cluster 'x' (addr)"
  std::string describe() const;

private:
  const config::ClusterConfig& target_;
  std::string link_;
  std::string topic_;
  PartitionScanner scanner_;
  std::vector<int64_t> next_;  // per state-topic partition: the next offset to read
  std::map<std::string, Entry> entries_;
};

} // namespace causeway::replicator
