#include "replicator/record_headers.h"

#include <gtest/gtest.h>

namespace causeway::replicator {
namespace {

TEST(RecordHeaders, OriginStartsWithTheSourceCluster) {
  EXPECT_EQ(extendOrigin(std::nullopt, "east"), "east");
  EXPECT_EQ(extendOrigin(std::string_view(""), "east"), "east");
}

TEST(RecordHeaders, OriginAppendsEachHop) {
  EXPECT_EQ(extendOrigin(std::string_view("east"), "west"), "east,west");
  EXPECT_EQ(extendOrigin(std::string_view("east,west"), "south"), "east,west,south");
}

TEST(RecordHeaders, OriginContainsMatchesWholeNamesOnly) {
  EXPECT_TRUE(originContains("east,west", "east"));
  EXPECT_TRUE(originContains("east,west", "west"));
  EXPECT_FALSE(originContains("east,west", "eas"));
  EXPECT_FALSE(originContains("east-2,west", "east"));
  EXPECT_FALSE(originContains("", "east"));
}

TEST(RecordHeaders, SourceRoundTrips) {
  for (int64_t offset : {int64_t{0}, int64_t{1}, int64_t{255}, int64_t{256},
                         int64_t{1} << 40, INT64_MAX}) {
    EXPECT_EQ(decodeSource(encodeSource("east-to-west", offset), "east-to-west"), offset);
  }
}

TEST(RecordHeaders, SourceOfAnotherLinkIsNotOurs) {
  EXPECT_FALSE(decodeSource(encodeSource("a-to-b", 5), "b-to-a").has_value());
  EXPECT_FALSE(decodeSource(encodeSource("a", 5), "ab").has_value());
}

TEST(RecordHeaders, MalformedSourceIsRejected) {
  EXPECT_FALSE(decodeSource("", "l").has_value());
  EXPECT_FALSE(decodeSource("1234567l", "l").has_value());  // too short for offset + link
  EXPECT_FALSE(decodeSource(std::string(8, '\xff') + "l", "l").has_value());  // negative
}

} // namespace
} // namespace causeway::replicator
