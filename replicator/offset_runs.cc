#include "replicator/offset_runs.h"

#include <algorithm>
#include <limits>

namespace causeway::replicator {
namespace {

constexpr std::string_view kMagic = "CWR";
constexpr uint8_t kVersionRunsOnly = 1;       // read only
constexpr uint8_t kVersionWithAccounted = 2;  // written
constexpr size_t kHeaderSize = 8;             // magic (3) + version (1) + run count (4)
constexpr size_t kRunSize = 25;               // source (8) + target (8) + count (8) + flags (1)
constexpr size_t kTrailerSize = 8;            // version 2: accounted end (8)
constexpr uint8_t kFlagUnknownBefore = 1;

void putU64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((v >> shift) & 0xff));
  }
}

uint64_t getU64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) {
    v = (v << 8) | p[i];
  }
  return v;
}

}  // namespace

bool OffsetRuns::add(int64_t source, int64_t target) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  if (source < 0 || target < 0 || source == kMax || target == kMax) {
    return false;  // a run's end (offset + 1) must stay representable
  }
  if (!runs_.empty()) {
    OffsetRun& last = runs_.back();
    if (source < last.sourceEnd() || target < last.targetEnd()) {
      return false;
    }
    if (source == last.sourceEnd() && target == last.targetEnd()) {
      last.count += 1;  // nothing can hide between two adjacent target offsets
      gap_pending_ = false;
      accounted_end_ = std::max(accounted_end_, source + 1);
      return true;
    }
  }
  runs_.push_back(OffsetRun{source, target, 1, gap_pending_});
  gap_pending_ = false;
  accounted_end_ = std::max(accounted_end_, source + 1);
  if (runs_.size() > kMaxRuns) {
    // Drop a quarter at once so the erase cost is paid rarely.
    runs_.erase(runs_.begin(), runs_.begin() + static_cast<std::ptrdiff_t>(kMaxRuns / 4));
  }
  return true;
}

RunLookup OffsetRuns::lookup(int64_t source_offset) const {
  RunLookup out;
  if (runs_.empty()) {
    return out;  // search the whole partition
  }
  auto after = std::upper_bound(runs_.begin(), runs_.end(), source_offset,
                                [](int64_t s, const OffsetRun& run) { return s < run.source; });
  if (after == runs_.begin()) {
    // Before the first run nothing is known; the first run is the answer if nothing earlier is.
    out.search_low = 0;
    out.search_high = after->target;
    return out;
  }
  const OffsetRun& run = *(after - 1);
  if (source_offset < run.sourceEnd()) {
    out.exact = true;
    out.target = run.target + (source_offset - run.source);
    out.source_there = source_offset;
    return out;
  }
  if (after == runs_.end()) {
    out.search_low = run.targetEnd();  // written after the runs were saved, if at all
    out.search_high = -1;
    return out;
  }
  if (!after->unknown_before) {
    out.exact = true;
    out.target = after->target;
    out.source_there = after->source;
    return out;
  }
  out.search_low = run.targetEnd();
  out.search_high = after->target;
  return out;
}

void OffsetRuns::markAccounted(int64_t next_source_offset) {
  accounted_end_ = std::max(accounted_end_, next_source_offset);
}

void OffsetRuns::clear() {
  runs_.clear();
  accounted_end_ = 0;
  gap_pending_ = false;
}

void OffsetRuns::assign(std::vector<OffsetRun> runs, int64_t accounted_end) {
  runs_ = std::move(runs);
  accounted_end_ = std::max(accounted_end, runs_.empty() ? 0 : runs_.back().sourceEnd());
  gap_pending_ = false;
}

std::string OffsetRuns::encode() const {
  std::string out;
  encodeInto(out);
  return out;
}

void OffsetRuns::encodeInto(std::string& out) const {
  out.clear();
  out.reserve(kHeaderSize + kRunSize * runs_.size() + kTrailerSize);
  out.append(kMagic);
  out.push_back(static_cast<char>(kVersionWithAccounted));
  const auto count = static_cast<uint32_t>(runs_.size());
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((count >> shift) & 0xff));
  }
  for (const OffsetRun& run : runs_) {
    putU64(out, static_cast<uint64_t>(run.source));
    putU64(out, static_cast<uint64_t>(run.target));
    putU64(out, static_cast<uint64_t>(run.count));
    out.push_back(static_cast<char>(run.unknown_before ? kFlagUnknownBefore : 0));
  }
  putU64(out, static_cast<uint64_t>(accounted_end_));
}

Result<OffsetRuns> OffsetRuns::decode(std::string_view bytes) {
  if (bytes.substr(0, kMagic.size()) != kMagic) {
    return Error{"not an offset-runs value (expected the 'CWR' magic, got " +
                 std::to_string(bytes.size()) + " byte(s) without it)"};
  }
  if (bytes.size() < kHeaderSize) {
    return Error{"offset-runs value truncated: " + std::to_string(bytes.size()) +
                 " byte(s), the header alone has " + std::to_string(kHeaderSize)};
  }
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const uint8_t version = p[3];
  if (version != kVersionRunsOnly && version != kVersionWithAccounted) {
    return Error{"offset-runs version " + std::to_string(version) + " is not supported (this " +
                 "build reads versions " + std::to_string(kVersionRunsOnly) + " and " +
                 std::to_string(kVersionWithAccounted) + ")"};
  }
  const size_t trailer = version == kVersionWithAccounted ? kTrailerSize : 0;
  const uint32_t count =
      (uint32_t{p[4]} << 24) | (uint32_t{p[5]} << 16) | (uint32_t{p[6]} << 8) | uint32_t{p[7]};
  if (bytes.size() < kHeaderSize + trailer ||
      (bytes.size() - kHeaderSize - trailer) / kRunSize != count ||
      (bytes.size() - kHeaderSize - trailer) % kRunSize != 0) {
    return Error{"offset-runs value (version " + std::to_string(version) + ") announces " +
                 std::to_string(count) + " run(s) but has " + std::to_string(bytes.size()) +
                 " bytes (expected " +
                 std::to_string(kHeaderSize + kRunSize * uint64_t{count} + trailer) + ")"};
  }
  std::vector<OffsetRun> runs;
  runs.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    const unsigned char* r = p + kHeaderSize + kRunSize * i;
    OffsetRun run;
    run.source = static_cast<int64_t>(getU64(r));
    run.target = static_cast<int64_t>(getU64(r + 8));
    run.count = static_cast<int64_t>(getU64(r + 16));
    const uint8_t flags = r[24];
    auto where = [i] { return "offset-runs run " + std::to_string(i) + ": "; };
    if (run.source < 0 || run.target < 0 || run.count < 1) {
      return Error{where() + "negative offset or empty run (source " + std::to_string(run.source) +
                   ", target " + std::to_string(run.target) + ", count " +
                   std::to_string(run.count) + ")"};
    }
    constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
    if (run.count > kMax - run.source || run.count > kMax - run.target) {
      return Error{where() + "count " + std::to_string(run.count) + " overflows the offsets"};
    }
    if ((flags & ~kFlagUnknownBefore) != 0) {
      return Error{where() + "unknown flags " + std::to_string(flags)};
    }
    run.unknown_before = (flags & kFlagUnknownBefore) != 0;
    if (!runs.empty() &&
        (run.source < runs.back().sourceEnd() || run.target < runs.back().targetEnd())) {
      return Error{where() + "overlaps or goes back from the run before it (source " +
                   std::to_string(run.source) + " after " +
                   std::to_string(runs.back().sourceEnd() - 1) + ", target " +
                   std::to_string(run.target) + " after " +
                   std::to_string(runs.back().targetEnd() - 1) + ")"};
    }
    runs.push_back(run);
  }
  const int64_t runs_end = runs.empty() ? 0 : runs.back().sourceEnd();
  int64_t accounted = runs_end;  // version 1: nothing known past the runs
  if (trailer != 0) {
    accounted = static_cast<int64_t>(getU64(p + bytes.size() - kTrailerSize));
    if (accounted < runs_end) {
      return Error{"offset-runs accounted end " + std::to_string(accounted) +
                   " is below the end of the last run (" + std::to_string(runs_end) + ")"};
    }
  }
  if (runs.size() > kMaxRuns) {
    // Written by a build with a larger cap: keep the newest, as add() would.
    runs.erase(runs.begin(), runs.end() - static_cast<std::ptrdiff_t>(kMaxRuns));
  }
  OffsetRuns out;
  out.assign(std::move(runs), accounted);
  return out;
}

}  // namespace causeway::replicator
