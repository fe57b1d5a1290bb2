#pragma once

// The offset runs of an exactly-once link, saved on its target cluster in the
// log-compacted topic causeway.<link>.state: one record per mirror partition,
// key "<mirror topic>/<partition>", value OffsetRuns::encode(). The owning
// worker saves a partition's runs every commit interval (inside its transaction
// when the link is transactional), on revoke and on stop, and a new owner
// continues from them. Readers keep every partition's latest runs in memory and
// read only what was added since their last refresh.
//
// The runs only make translation cheap; the mirror partitions' causeway-src
// headers stay the truth (see OffsetTranslator, which checks each answer
// against the target).

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

// The failover mark, kept in the same topic under the key "!failover" (no topic
// name holds a
// '!'). A failover writes it once the consumer groups have moved; every worker
// of the link stops replicating when it sees it (within discovery_interval) and
// the link does not start while it is there, so the old source cannot leak into
// the promoted target. Clearing it (a tombstone, `causeway failover --undo`)
// lets the link run again.
struct FailoverMark {
  int64_t at_ms = 0;        // wall clock of the failover
  bool forced = false;      // failed over without draining
  int64_t left_behind = 0;  // records not replicated (forced)
  std::string by;           // who failed over ("causeway failover on host", "control API ...")
};
inline constexpr std::string_view kFailoverMarkKey = "!failover";
std::string encodeFailoverMark(const FailoverMark& mark);
Result<FailoverMark> decodeFailoverMark(std::string_view value);
// "failed over at 2026-11-22T03:10:00Z by X (forced: 12 record(s) left behind)"
std::string describeFailoverMark(const FailoverMark& mark);
// Writes the mark of `link` to its state topic on `target` and waits until the
// cluster has it; nullopt clears it. An error when the state topic does not
// exist or the write fails.
Status writeFailoverMark(const config::ClusterConfig& target, const std::string& link,
                         const std::optional<FailoverMark>& mark,
                         std::chrono::milliseconds timeout);

// Reads causeway.<link>.state incrementally. Not thread-safe.
class OffsetStateReader {
public:
  struct Entry {
    OffsetRuns runs;
    std::string error;  // the latest record for this key does not decode: why
    int32_t state_partition = 0;
    int64_t state_offset = -1;  // where the latest record for this key is
  };

  // `isolation`: read_committed (the default) for the runs, which transactional
  // links save inside their transactions; read_uncommitted for a reader that
  // only wants the failover mark, which is written outside any transaction and
  // must not wait behind a worker's open one.
  OffsetStateReader(const config::ClusterConfig& target, std::string link,
                    Isolation isolation = Isolation::kReadCommitted);

  Status open();

  // Reads the records added since the last refresh. Errors: the state topic
  // does not exist (the message says so and where), the target not answering
  // before `deadline`. A value that does not decode is not an error here: its
  // key's entry carries the error, so every other partition still translates. A
  // record whose key is not "<topic>/<partition>" (not Causeway's) is skipped;
  // ignored() says which was the last.
  Status refresh(std::chrono::steady_clock::time_point deadline);

  // The latest saved runs of a mirror partition, or null when none were saved.
  const Entry* find(const std::string& mirror_topic, int32_t partition) const;

  // The failover mark as of the last refresh (an unreadable mark counts as
  // set).
  const std::optional<FailoverMark>& failoverMark() const { return failover_mark_; }

  const std::string& topic() const { return topic_; }
  const std::string& ignored() const { return ignored_; }
  // "state topic 'causeway.L.state' on cluster 'x' (addr)"
  std::string describe() const;

private:
  const config::ClusterConfig& target_;
  std::string link_;
  std::string topic_;
  PartitionScanner scanner_;
  std::vector<int64_t> next_;  // per state-topic partition: the next offset to read
  std::map<std::string, Entry> entries_;
  std::optional<FailoverMark> failover_mark_;
  std::string ignored_;
};

}  // namespace causeway::replicator
