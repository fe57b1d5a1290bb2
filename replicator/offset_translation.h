#pragma once

#include "common/result.h"
#include "config/config.h"
#include "replicator/translation_rules.h"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace causeway::replicator {

// Where a consumer group of the source stands on the target, per partition.
struct PartitionTranslation {
  std::string source_topic;
  std::string target_topic;
  int32_t partition = 0;
  // The group's committed offset on the source (-1: the group has none for this
  // partition).
  int64_t source_offset = -1;
  // The target offset to resume at (see decideResume): the first readable
  // record this link wrote with a source offset >= source_offset (at-least-once
  // links: its FIRST copy); when there is none and every source record below
  // source_offset is accounted for, right after the link's last readable record
  // (foreign records after it are read, perhaps again, never skipped). -1 when
  // source_offset is -1, or when the link has not yet written (or not yet made
  // readable: an open transaction) every record below source_offset.
  int64_t target_offset = -1;
  // Why target_offset is what it is (or why it is -1).
  ResumeReason resume = ResumeReason::kNoCommit;
  // The mirror partition's readable end when translated: its last stable
  // offset, which is the end offset unless a transaction is open there (then
  // target_high is larger).
  int64_t target_end = -1;
  int64_t target_high = -1;
  // Source records at or after source_offset not yet on the target (the RPO if
  // failing over now), from the source's readable end; -1 when unknown.
  int64_t not_yet_replicated = -1;
  // At-least-once link: the target may hold a record twice, so a consumer
  // resuming at target_offset may read again records it already read on the
  // source (never skip one).
  bool rereads_possible = false;
  // How target_offset was found: "runs" (the saved offset runs answered,
  // checked with one read of the target), "runs+search" (the runs bounded a
  // search of the target), "search" (binary search of the whole mirror
  // partition), "first-copy" (at-least-once: the first copies found by reading
  // the mirror partition once, then only what was added). records_read: mirror
  // records read to answer.
  std::string method;
  uint64_t records_read = 0;
};

// How a translation uses the link's saved offset runs (state topic
// causeway.<link>.state).
enum class StateUse {
  kRequired,   // a missing state topic or a corrupt entry is an error (operator
               // commands)
  kIfPresent,  // missing or corrupt state: search the target instead (group
               // sync)
  kIgnored,    // search the target only (`--scan`)
};

// Translates source consumer groups' committed offsets through one link. Keeps
// its clients (an admin client on the source, an assign-only read_committed
// reader on the target) and what it learnt of the mirror partitions between
// calls, so group sync can call it every few seconds. Not thread-safe.
class OffsetTranslator {
public:
  OffsetTranslator(config::LinkConfig link, config::ClusterConfig source,
                   config::ClusterConfig target, StateUse state_use = StateUse::kRequired);
  ~OffsetTranslator();

  // Builds the clients and checks both clusters answer.
  Status open();

  // See translateGroupOffsets.
  Result<std::vector<PartitionTranslation>> translate(const std::string& group,
                                                      std::chrono::milliseconds timeout);

  // Reads what was saved to the link's state topic since the last call
  // (exactly-once links; translate() does it itself). An error only with
  // StateUse::kRequired.
  Status refreshState(std::chrono::steady_clock::time_point deadline);

  // What the target shows of one mirror partition: its ends, the link's last
  // readable record and, from the saved state (as of the last refresh), how far
  // the link accounted for the source. The failover's lag is the source's
  // readable end minus view.nextSource().
  Result<MirrorView> mirrorView(const std::string& target_topic, int32_t partition,
                                std::chrono::steady_clock::time_point deadline);

  bool exactlyOnce() const { return link_.delivery == config::DeliveryMode::kExactlyOnce; }

private:
  struct Clients;
  config::LinkConfig link_;
  config::ClusterConfig source_;
  config::ClusterConfig target_;
  StateUse state_use_;
  std::unique_ptr<Clients> clients_;
};

// Translates a source consumer group's committed offsets through a link from
// what is on the target: the link's records carry their source offset
// (causeway-src header).
//
// Exactly-once links: exact. The source offsets grow with the target offset
// because the link keeps partition order and never writes a record twice. The
// link's saved offset runs answer in O(log runs) plus one read that checks the
// answer on the target; records written since the runs were last saved, or in a
// hole a crashed worker left, are found by a binary search bounded by the runs;
// without runs a partition costs O(log n) single-record reads.
//
// At-least-once links: the FIRST copy of the group's next record (a record may
// be on the target twice), found by reading each mirror partition once and then
// only what was added; consumers may read records again, never skip one
// (rereads_possible).
//
// Every answer is readable by a read_committed consumer of the target: it never
// lies past the mirror partition's last stable offset (docs/failover.md).
//
// Errors (each names what and where): unknown link, unreachable clusters, a
// group with no committed offset on any of the link's partitions; with
// StateUse::kRequired on an exactly-once link also a missing state topic and
// saved runs that do not decode or disagree with the target.
Result<std::vector<PartitionTranslation>>
translateGroupOffsets(const config::Config& config, const std::string& link_name,
                      const std::string& group,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30),
                      StateUse state_use = StateUse::kRequired);

}  // namespace causeway::replicator
