#include "common/histogram.h"

#include <gtest/gtest.h>

namespace causeway {
namespace {

TEST(MillisHistogram, BucketUpperBoundsAreInclusive) {
  MillisHistogram h;
  h.record(1);    // le 1
  h.record(2);    // le 2
  h.record(3);    // le 5
  h.record(50);   // le 50
  h.record(51);   // le 100
  EXPECT_EQ(h.counts()[0], 1u);
  EXPECT_EQ(h.counts()[1], 1u);
  EXPECT_EQ(h.counts()[2], 1u);
  EXPECT_EQ(h.counts()[5], 1u);
  EXPECT_EQ(h.counts()[6], 1u);
  EXPECT_EQ(h.count(), 5u);
  EXPECT_EQ(h.sumMs(), 107);
}

TEST(MillisHistogram, ValuesPastTheLastBoundGoToInfinity) {
  MillisHistogram h;
  h.record(300001);
  EXPECT_EQ(h.counts()[MillisHistogram::kBoundsMs.size()], 1u);
}

TEST(MillisHistogram, NegativeDelaysFromClockSkewCountAsZero) {
  MillisHistogram h;
  h.record(-25);
  EXPECT_EQ(h.counts()[0], 1u);
  EXPECT_EQ(h.sumMs(), 0);
}

} // namespace
} // namespace causeway
