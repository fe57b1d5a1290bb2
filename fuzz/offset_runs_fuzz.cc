// libFuzzer target for OffsetRuns::decode, which reads the offset runs back
// from the state topic (outside input: any bytes may be there). Any bytes give
// runs or an error with a message, never a crash. Accepted version-2 values
// must encode back to the very same bytes; accepted version-1 values (written
// by older builds) must decode again, from their re-encoding, to the same runs
// with the runs' end as accounted end. The accounted end is never below the
// runs' end, and lookups around every run and at offsets taken from the input
// must keep the RunLookup contract: an exact answer is a listed record at or
// after the asked offset, a search range is not inverted.

#include "replicator/offset_runs.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace {

using causeway::replicator::OffsetRun;
using causeway::replicator::OffsetRuns;
using causeway::replicator::RunLookup;

// How many runs get their neighbourhood looked up: enough to reach every
// branch, few enough to keep an input of thousands of runs fast.
constexpr size_t kRunsProbed = 64;

void checkLookup(const OffsetRuns& runs, int64_t source_offset) {
  const RunLookup got = runs.lookup(source_offset);
  const std::vector<OffsetRun>& list = runs.runs();
  if (!got.exact) {
    if (got.search_low < 0 || (got.search_high != -1 && got.search_low > got.search_high)) {
      std::abort();
    }
    return;
  }
  // Exact: a record of one of the runs, the same distance into it on both
  // sides, and never before the asked source offset.
  auto holder = std::partition_point(list.begin(), list.end(), [&](const OffsetRun& run) {
    return run.targetEnd() <= got.target;
  });
  if (holder == list.end() || got.target < holder->target ||
      got.source_there - holder->source != got.target - holder->target ||
      got.source_there < source_offset) {
    std::abort();
  }
}

void checkLookupsAround(const OffsetRuns& runs, int64_t source) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  checkLookup(runs, source);
  if (source > kMin) {
    checkLookup(runs, source - 1);
  }
  if (source < kMax) {
    checkLookup(runs, source + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto decoded = OffsetRuns::decode(bytes);
  if (!decoded.ok()) {
    if (decoded.error().message.empty()) {
      std::abort();
    }
    return 0;
  }
  const OffsetRuns& runs = *decoded;
  const int64_t runs_end = runs.empty() ? 0 : runs.runs().back().sourceEnd();
  if (runs.accountedEnd() < runs_end) {
    std::abort();
  }
  if (size > 3 && data[3] == 1) {
    if (runs.accountedEnd() != runs_end) {
      std::abort();
    }
    auto again = OffsetRuns::decode(runs.encode());
    if (!again.ok() || !(*again == runs)) {
      std::abort();
    }
  } else if (runs.encode() != bytes) {
    std::abort();
  }
  // Around the edges of the first and last runs (every lookup branch: before,
  // inside, between, past) ...
  const std::vector<OffsetRun>& list = runs.runs();
  for (size_t i = 0; i < list.size(); ++i) {
    if (i >= kRunsProbed && i + kRunsProbed < list.size()) {
      continue;
    }
    checkLookupsAround(runs, list[i].source);
    checkLookupsAround(runs, list[i].sourceEnd() - 1);
    checkLookupsAround(runs, list[i].sourceEnd());
  }
  // ... and at offsets the input itself names: every 8-byte window at a 4-byte
  // step (the run fields and the bytes between them).
  for (size_t at = 0; at + 8 <= size && at < 1024; at += 4) {
    uint64_t v = 0;
    for (size_t k = 0; k < 8; ++k) {
      v = (v << 8) | data[at + k];
    }
    checkLookup(runs, static_cast<int64_t>(v));
  }
  checkLookup(runs, 0);
  checkLookup(runs, -1);
  return 0;
}
