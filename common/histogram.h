#pragma once

#include <algorithm>
#include <array>
#include <cstdint>

namespace causeway {

// A fixed-bucket histogram of durations in milliseconds, for latencies and ages. Recording is a
// branch-light bucket search and three increments: cheap enough for once per record. Not
// thread-safe: one writer (a link's data-plane thread); readers get copies in status snapshots.
class MillisHistogram {
public:
  // Upper bounds (inclusive) of the finite buckets, in milliseconds; one more bucket is +Inf.
  static constexpr std::array<int64_t, 16> kBoundsMs = {1,    2,    5,    10,    25,    50,
                                                        100,  250,  500,  1000,  2500,  5000,
                                                        10000, 30000, 60000, 300000};
  static constexpr size_t kBuckets = kBoundsMs.size() + 1;

  void record(int64_t ms) {
    if (ms < 0) {
      ms = 0;  // clocks of different hosts disagree a little: count it as "no delay"
    }
    const auto it = std::lower_bound(kBoundsMs.begin(), kBoundsMs.end(), ms);
    counts_[static_cast<size_t>(it - kBoundsMs.begin())] += 1;
    count_ += 1;
    sum_ms_ += ms;
  }

  // Per-bucket (not cumulative) counts; index kBoundsMs.size() is the +Inf bucket.
  const std::array<uint64_t, kBuckets>& counts() const { return counts_; }
  uint64_t count() const { return count_; }
  int64_t sumMs() const { return sum_ms_; }

private:
  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  int64_t sum_ms_ = 0;
};

} // namespace causeway
