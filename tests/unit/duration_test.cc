#include "common/duration.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>

namespace causeway {
namespace {

using std::chrono::milliseconds;

TEST(ParseDurationTest, AcceptsEachUnit) {
  EXPECT_EQ(parseDuration("250ms"), milliseconds(250));
  EXPECT_EQ(parseDuration("5s"), milliseconds(5000));
  EXPECT_EQ(parseDuration("2m"), milliseconds(120000));
  EXPECT_EQ(parseDuration("1h"), milliseconds(3600000));
}

TEST(ParseDurationTest, BareIntegerMeansMilliseconds) {
  EXPECT_EQ(parseDuration("1500"), milliseconds(1500));
  EXPECT_EQ(parseDuration("0"), milliseconds(0));
}

TEST(ParseDurationTest, RejectsEmptyText) {
  EXPECT_EQ(parseDuration(""), std::nullopt);
}

TEST(ParseDurationTest, RejectsNegativeValues) {
  EXPECT_EQ(parseDuration("-1s"), std::nullopt);
  EXPECT_EQ(parseDuration("-5"), std::nullopt);
}

TEST(ParseDurationTest, RejectsFractionsAndSigns) {
  EXPECT_EQ(parseDuration("1.5s"), std::nullopt);
  EXPECT_EQ(parseDuration("+5s"), std::nullopt);
}

TEST(ParseDurationTest, RejectsUnknownUnitsAndMissingNumbers) {
  EXPECT_EQ(parseDuration("5d"), std::nullopt);
  EXPECT_EQ(parseDuration("5sec"), std::nullopt);
  EXPECT_EQ(parseDuration("5S"), std::nullopt);
  EXPECT_EQ(parseDuration("s"), std::nullopt);
  EXPECT_EQ(parseDuration("ms"), std::nullopt);
}

TEST(ParseDurationTest, RejectsSurroundingOrInnerSpaces) {
  EXPECT_EQ(parseDuration(" 5s"), std::nullopt);
  EXPECT_EQ(parseDuration("5 s"), std::nullopt);
  EXPECT_EQ(parseDuration("5s "), std::nullopt);
}

TEST(ParseDurationTest, RejectsOverflowInsteadOfWrapping) {
  const std::string max = std::to_string(std::numeric_limits<int64_t>::max());
  EXPECT_EQ(parseDuration(max + "h"), std::nullopt);
  EXPECT_EQ(parseDuration(max + "0"), std::nullopt);  // does not fit in int64_t at all
  EXPECT_EQ(parseDuration(max), milliseconds(std::numeric_limits<int64_t>::max()));
}

TEST(FormatDurationTest, UsesTheLargestExactUnit) {
  EXPECT_EQ(formatDuration(milliseconds(250)), "250ms");
  EXPECT_EQ(formatDuration(milliseconds(5000)), "5s");
  EXPECT_EQ(formatDuration(milliseconds(120000)), "2m");
  EXPECT_EQ(formatDuration(milliseconds(7200000)), "2h");
  EXPECT_EQ(formatDuration(milliseconds(90000)), "90s");
}

TEST(FormatDurationTest, ZeroIsMilliseconds) {
  EXPECT_EQ(formatDuration(milliseconds(0)), "0ms");
}

TEST(FormatDurationTest, OutputParsesBackToTheSameDuration) {
  for (int64_t ms : {0, 1, 999, 1000, 1500, 59999, 60000, 61000, 3600000, 3601000, 86400000}) {
    const auto text = formatDuration(milliseconds(ms));
    EXPECT_EQ(parseDuration(text), milliseconds(ms)) << text;
  }
}

} // namespace
} // namespace causeway
