#include "common/log.h"

#include <gtest/gtest.h>

namespace causeway {
namespace {

TEST(JsonLog, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(jsonLogLine("2026-01-01T00:00:00.000Z", "warn", 7, "topic \"a\\b\"\nnext\x01"),
            "{\"ts\":\"2026-01-01T00:00:00.000Z\",\"level\":\"warn\",\"thread\":7,"
            "\"msg\":\"topic \\\"a\\\\b\\\"\\nnext\\u0001\"}\n");
}

} // namespace
} // namespace causeway
