// The failover mark's encoding: what `causeway failover` writes and every worker reads.

#include "replicator/offset_state.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace causeway::replicator {
namespace {

using ::testing::HasSubstr;

TEST(FailoverMark, RoundTrips) {
  FailoverMark mark;
  mark.at_ms = 1795316536000;
  mark.forced = true;
  mark.left_behind = 12;
  mark.by = "causeway failover on host-1 (pid 42)";
  auto decoded = decodeFailoverMark(encodeFailoverMark(mark));
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->at_ms, mark.at_ms);
  EXPECT_TRUE(decoded->forced);
  EXPECT_EQ(decoded->left_behind, 12);
  EXPECT_EQ(decoded->by, mark.by);
}

TEST(FailoverMark, DescribesWhenWhoAndWhatWasLeftBehind) {
  FailoverMark mark;
  mark.at_ms = 1795316536000;  // 2026-11-22T03:02:16Z
  mark.by = "control API (ipv4:127.0.0.1:5000)";
  EXPECT_EQ(describeFailoverMark(mark),
            "failed over at 2026-11-22T03:02:16Z by control API (ipv4:127.0.0.1:5000)");
  mark.forced = true;
  mark.left_behind = 7;
  EXPECT_THAT(describeFailoverMark(mark), HasSubstr("(forced: 7 record(s) left behind)"));
}

TEST(FailoverMark, FieldsOfAnotherTypeKeepTheMarkAndNeverThrow) {
  // Another version's mark: still a mark (stopping is the safe reading), never an exception.
  auto decoded = decodeFailoverMark(R"({"at_ms":5,"forced":"yes","left_behind":"x","by":{}})");
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(decoded->at_ms, 5);
  EXPECT_FALSE(decoded->forced);
  EXPECT_EQ(decoded->left_behind, 0);
  EXPECT_EQ(decoded->by, "");
}

TEST(FailoverMark, WhatIsNotAMarkIsAnError) {
  for (const char* value : {"", "not json", "[]", "{}", R"({"at_ms":"soon"})", "{\"at_ms\":1"}) {
    auto decoded = decodeFailoverMark(value);
    EXPECT_FALSE(decoded.ok()) << value;
    if (!decoded.ok()) {
      EXPECT_THAT(decoded.error().message, HasSubstr("failover mark")) << value;
    }
  }
}

} // namespace
} // namespace causeway::replicator
