#pragma once

#include "verify/topic_reader.h"

#include <cstdint>
#include <string>
#include <vector>

namespace causeway::verify {

// How one target partition compares with its source partition.
struct PartitionCheck {
  int32_t partition = 0;
  uint64_t source_records = 0;
  uint64_t target_records = 0;
  uint64_t missing = 0;      // source records never found on the target
  uint64_t duplicates = 0;   // target records that repeat a source record already seen
  uint64_t unexpected = 0;   // target records matching no source record (or differing in a field)
  uint64_t out_of_order = 0; // first copies that appear before an earlier source record's first copy
  bool identical = false;    // same records, same order, no duplicates: a perfect mirror
};

struct MirrorCheck {
  std::string source_topic;
  std::string target_topic;
  std::vector<PartitionCheck> partitions;
  bool partition_count_matches = false;

  uint64_t sourceRecords() const;
  uint64_t targetRecords() const;
  uint64_t missing() const;
  uint64_t duplicates() const;
  uint64_t unexpected() const;
  uint64_t outOfOrder() const;
  // Every partition identical (implies nothing missing, duplicated or reordered).
  bool identical() const;
  // Nothing missing, nothing unexpected, per-partition order of first copies kept; duplicates
  // allowed (the at-least-once guarantee).
  bool atLeastOnce() const;
  // One line per partition plus a total, for test failures and the demo summary.
  std::string describe() const;
};

// Whether `target` is a faithful copy of `source`: key, value, timestamp, timestamp type and
// headers equal, ignoring headers named "causeway-*" on the target only.
bool sameRecord(const ConsumedRecord& source, const ConsumedRecord& target);

// Compares source and target partition by partition. Records are equal when key, value,
// timestamp, timestamp type and headers are equal; headers whose name starts with "causeway-"
// (provenance and bookkeeping added by the replicator) are ignored on the target side.
MirrorCheck checkMirror(const std::string& source_topic,
                        const std::vector<std::vector<ConsumedRecord>>& source,
                        const std::string& target_topic,
                        const std::vector<std::vector<ConsumedRecord>>& target);

} // namespace causeway::verify
