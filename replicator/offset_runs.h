#pragma once

// Source -> target offset runs of one mirror partition: the compact, exact map
// behind offset translation. Pure logic, no Kafka.
//
// A run is a stretch of records the link wrote where source and target offsets
// both advance by one per record: source [source, source + count) landed at
// target [target, target + count). A new run starts only when that stops being
// true: source records not written (filtered, compacted away, transaction
// markers, loop-skipped) or foreign records interleaved on the target. A
// partition replicated without gaps is ONE run, whatever its length.
//
// Between two runs the link wrote nothing, unless the later run is marked
// `unknown_before`: then records of the link may exist in that target range
// without being listed (a worker crashed before saving its runs, and the next
// owner started a new run). Lookups that land in such a hole, or past the last
// run, return a bounded target range to search instead of an answer, so a
// translation is always exact: the runs only make it cheap.

#include "common/result.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace causeway::replicator {

struct OffsetRun {
  int64_t source = 0;
  int64_t target = 0;
  int64_t count = 0;
  bool unknown_before = false;

  int64_t sourceEnd() const { return source + count; }
  int64_t targetEnd() const { return target + count; }
  bool operator==(const OffsetRun&) const = default;
};

// Where a consumer at source offset S resumes on the target.
struct RunLookup {
  // exact: `target` is the offset of the first record the link wrote with
  // source offset >= S, and `source_there` that record's source offset (for a
  // one-read verification). search: no answer from the runs; the answer lies in
  // target [search_low, search_high] and is found by reading the records in
  // that range (search_high: the answer if none there matches; -1 stands for
  // the partition's end offset).
  bool exact = false;
  int64_t target = -1;
  int64_t source_there = -1;
  int64_t search_low = 0;
  int64_t search_high = -1;
};

class OffsetRuns {
public:
  // At most this many runs are kept; the oldest are dropped first (their range
  // then becomes a search range: slower, still exact).
  static constexpr size_t kMaxRuns = 2048;

  // Records that the link wrote source offset `source` at target offset
  // `target`. Both must be larger than in every earlier call; returns false
  // (and changes nothing) otherwise. Moves the accounted end to at least source
  // + 1.
  bool add(int64_t source, int64_t target);

  // The accounted end: every source offset below it is either in a run or known
  // to have no copy on the target for a reason the link decided or the source
  // imposed (a record dropped or dead-lettered by a stage, loop-skipped in
  // active-active, or no record at all: a transaction marker, an aborted
  // record, a compacted gap). The data plane calls markAccounted() with the
  // next source offset once everything below it is delivered (added) or
  // skipped; it never moves back (a smaller value is ignored). Translation uses
  // it at a partition's end: a group whose position is accounted for has
  // nothing left to wait for even when no record of the link carries that
  // position (docs/failover.md, "Translation").
  void markAccounted(int64_t next_source_offset);
  int64_t accountedEnd() const { return accounted_end_; }

  // The next add() starts a new run marked unknown_before (a new owner resuming
  // after records it has not seen).
  void markUnknownGap() { gap_pending_ = true; }

  RunLookup lookup(int64_t source_offset) const;

  const std::vector<OffsetRun>& runs() const { return runs_; }
  bool empty() const { return runs_.empty(); }
  // Forgets the runs and the accounted end.
  void clear();
  // Replaces the runs (decoded state); the runs must be valid (see decode()).
  // The accounted end becomes max(accounted_end, the last run's end).
  void assign(std::vector<OffsetRun> runs, int64_t accounted_end = 0);

  // Last (source, target) added, or -1s.
  int64_t lastSource() const { return runs_.empty() ? -1 : runs_.back().sourceEnd() - 1; }
  int64_t lastTarget() const { return runs_.empty() ? -1 : runs_.back().targetEnd() - 1; }

  // Compact binary form for the state topic (all integers big-endian):
  //   version 2 (written): "CWR" 2 | u32 run count | per run: source i64,
  //   target i64, count i64,
  //                        flags u8 | accounted end i64
  //   version 1 (read):    "CWR" 1 | u32 run count | runs; its accounted end is
  //   the last run's end
  std::string encode() const;
  void encodeInto(std::string& out) const;
  // Checks everything: magic and version, exact length, runs in increasing
  // order, counts >= 1, offsets >= 0, no overlap, an accounted end not below
  // the last run's end. The error says what is wrong and where.
  static Result<OffsetRuns> decode(std::string_view bytes);

  bool operator==(const OffsetRuns& other) const {
    return runs_ == other.runs_ && accounted_end_ == other.accounted_end_;
  }

private:
  std::vector<OffsetRun> runs_;
  int64_t accounted_end_ = 0;
  bool gap_pending_ = false;
};

}  // namespace causeway::replicator
