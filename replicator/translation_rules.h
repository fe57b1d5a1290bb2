#pragma once

// The decisions behind offset translation and failover lag, apart from reading
// the clusters: pure functions over what was read, so every rule is unit-tested
// (docs/failover.md, "Translation"). No Kafka.

#include "replicator/offset_runs.h"

#include <cstdint>
#include <optional>
#include <string>

namespace causeway::replicator {

// What a translation knows about one mirror partition, read under
// read_committed: what a read_committed consumer of the target can read now.
struct MirrorView {
  int64_t low = 0;     // log start offset
  int64_t stable = 0;  // last stable offset: records at or past it are not readable yet
  int64_t high = 0;    // high watermark (> stable while a transaction is open there)
  // The link's last record readable on the target (-1: none) and its source
  // offset. At-least- once links: the largest source offset readable there (a
  // re-sent record can come after a larger one).
  int64_t last_target = -1;
  int64_t last_source = -1;
  // From the saved state: every source offset below it is on the target or
  // known to have been skipped (OffsetRuns::accountedEnd); -1 when unknown (no
  // saved state, or an at-least-once link).
  int64_t accounted_end = -1;

  // The first source offset not yet accounted for on the target: the link has
  // written, or decided not to write, everything below it.
  int64_t nextSource() const;
};

enum class ResumeReason {
  kCopy,                 // the first record of the link at or after the group's position
  kAfterLastRecord,      // no such record: right after the link's last record
  kPartitionStart,       // no record of the link at all, everything accounted for:
                         // the start
  kNotYetReplicated,     // the link has not written every record below the position
                         // yet
  kHiddenByTransaction,  // ... and records past the last stable offset may be
                         // those: wait
  kNoCommit,             // the group has no committed offset for the partition
};

const char* toString(ResumeReason reason);

struct ResumeDecision {
  int64_t target_offset = -1;  // -1: no target offset is right (yet)
  ResumeReason reason = ResumeReason::kNotYetReplicated;
};

// Where a consumer group at `source_offset` resumes on the mirror partition.
// `first_at_or_after`: the target offset of the first readable record of the
// link with a source offset >= source_offset (exactly-once: the runs or the
// search; at-least-once: the FIRST copy in target order), or nullopt when there
// is none below the last stable offset.
//
// Rules (each pinned by tests/unit/translation_rules_test.cc):
//  - a copy exists: resume there (it is below the last stable offset by
//  construction);
//  - otherwise, when every source record below the position is accounted for
//  (on the target or
//    known to be skipped: a filtered record, a loop-skipped one, a transaction
//    marker), resume right after the link's last record, so foreign records
//    written after it are read (again, perhaps) rather than skipped; with no
//    record of the link at all, at the partition's start;
//  - otherwise the position is not replicated yet: no answer (and, when records
//  are hidden past
//    the last stable offset, the reason says so). An answer never lies past the
//    last stable offset, so a group is never placed beyond records it cannot
//    see yet.
ResumeDecision decideResume(int64_t source_offset, std::optional<int64_t> first_at_or_after,
                            const MirrorView& view);

// Source records at or past `source_offset` that the target does not have yet
// (the RPO of failing over now), given the source partition's readable end;
// `source_offset` -1: the whole lag of the partition.
int64_t notYetReplicated(int64_t source_offset, int64_t source_end, const MirrorView& view);

// At-least-once links may write a source record more than once (a restart
// re-sends what was not committed), so the source offsets on a mirror partition
// are not increasing: a re-sent stretch starts lower than what came before. The
// FIRST copy of every record is what a group must resume at to skip nothing:
// the first record, in target order, whose source offset is at or past the
// position. Those first copies are exactly the records that raise the largest
// source offset seen so far, and they increase in both offsets, so they fit
// OffsetRuns.
//
// Fed with the link's records of one mirror partition in target order
// (observe()), it answers firstAtOrAfter() in O(log runs). Not thread-safe.
// Pure: the scanning is the caller's.
class FirstCopies {
public:
  void observe(int64_t target_offset, int64_t source_offset);

  // The target offset of the first copy of the first source record >=
  // source_offset; nullopt when no record at or past it was observed. When the
  // oldest runs were dropped (more than OffsetRuns::kMaxRuns re-sends), an
  // offset before the kept runs answers `low`: reading more again, never
  // skipping.
  std::optional<int64_t> firstAtOrAfter(int64_t source_offset, int64_t low) const;

  int64_t lastTarget() const { return last_target_; }
  int64_t maxSource() const { return max_source_; }
  size_t runCount() const { return first_copies_.runs().size(); }
  void clear();

private:
  OffsetRuns first_copies_;
  int64_t first_target_ = -1;  // the first record observed
  int64_t last_target_ = -1;
  int64_t max_source_ = -1;
};

}  // namespace causeway::replicator
