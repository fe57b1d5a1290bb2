#pragma once

#include "common/result.h"
#include "config/config.h"

#include <chrono>
#include <memory>
#include <cstdint>
#include <string>
#include <vector>

namespace causeway::replicator {

// Where a consumer group of the source stands on the target, per partition.
struct PartitionTranslation {
  std::string source_topic;
  std::string target_topic;
  int32_t partition = 0;
  // The group's committed offset on the source (-1: the group has none for this partition).
  int64_t source_offset = -1;
  // The exact target offset to resume at: the target offset of the first record this link
  // wrote with a source offset >= source_offset, or the target's end offset when the link has
  // written everything below source_offset and nothing past it yet (then the next record it
  // writes is the right one). -1 when source_offset is -1, or when the link has not yet written
  // every record below source_offset (no target offset is right yet).
  int64_t target_offset = -1;
  // The mirror partition's end offset when translated.
  int64_t target_end = -1;
  // Source records at or after source_offset not yet on the target (the RPO if failing over
  // now), from the source high watermark; -1 when unknown.
  int64_t not_yet_replicated = -1;
  // How target_offset was found: "runs" (the saved offset runs answered, checked with one read
  // of the target), "runs+search" (the runs bounded a search of the target), "search" (binary
  // search of the whole mirror partition). records_read: mirror records read to answer.
  std::string method;
  uint64_t records_read = 0;
};

// How a translation uses the link's saved offset runs (state topic causeway.<link>.state).
enum class StateUse {
  kRequired,   // a missing state topic or a corrupt entry is an error (operator commands)
  kIfPresent,  // missing or corrupt state: search the target instead (group sync)
  kIgnored,    // search the target only (`--scan`)
};

// Translates source consumer groups' committed offsets through one exactly-once link. Keeps its
// clients (an admin client on the source, an assign-only reader on the target) between calls,
// so group sync can call it every few seconds. Not thread-safe.
class OffsetTranslator {
public:
  OffsetTranslator(config::LinkConfig link, config::ClusterConfig source,
                   config::ClusterConfig target, StateUse state_use = StateUse::kRequired);
  ~OffsetTranslator();

  // Builds the clients and checks both clusters answer. Fails for a link that is not
  // exactly_once.
  Status open();

  // See translateGroupOffsets.
  Result<std::vector<PartitionTranslation>> translate(const std::string& group,
                                                      std::chrono::milliseconds timeout);

private:
  struct Clients;
  config::LinkConfig link_;
  config::ClusterConfig source_;
  config::ClusterConfig target_;
  StateUse state_use_;
  std::unique_ptr<Clients> clients_;
};

// Translates a source consumer group's committed offsets through a link, exactly, from what is
// on the target: the link's records carry their source offset (causeway-src header), which
// grows with the target offset because the link keeps partition order and, in exactly-once
// mode, never writes a record twice. The link's saved offset runs answer in O(log runs) plus
// one read that checks the answer on the target; records written since the runs were last
// saved, or in a hole a crashed worker left, are found by a binary search bounded by the runs;
// without runs a partition costs O(log n) single-record reads.
//
// Errors (each names what and where): unknown link, a link that is not exactly_once (its
// duplicates would make a translation ambiguous), unreachable clusters, a group with no
// committed offset on any of the link's partitions; with StateUse::kRequired also a missing
// state topic and saved runs that do not decode or disagree with the target.
Result<std::vector<PartitionTranslation>> translateGroupOffsets(
    const config::Config& config, const std::string& link_name, const std::string& group,
    std::chrono::milliseconds timeout = std::chrono::seconds(30),
    StateUse state_use = StateUse::kRequired);

} // namespace causeway::replicator
