#include "common/json_string.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace causeway {
namespace {

std::string literal(std::string_view text) {
  std::string out = "x=";
  appendJsonString(out, text);
  return out.substr(2);
}

TEST(JsonString, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(literal(""), "\"\"");
  EXPECT_EQ(literal("plain"), "\"plain\"");
  EXPECT_EQ(literal("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(literal("l1\nl2\r\t"), "\"l1\\nl2\\r\\t\"");
  EXPECT_EQ(literal(std::string_view("\0\x01\x1f", 3)), "\"\\u0000\\u0001\\u001f\"");
  EXPECT_EQ(literal("caf\xc3\xa9 \xe2\x82\xac"), "\"caf\xc3\xa9 \xe2\x82\xac\"");  // UTF-8 as is
}

TEST(JsonString, EveryByteRoundTripsThroughAJsonParser) {
  std::string all;
  for (int c = 1; c < 0x80; ++c) {
    all += static_cast<char>(c);
  }
  all += "\xc3\xa9";
  const auto parsed = nlohmann::json::parse(literal(all));
  EXPECT_EQ(parsed.get<std::string>(), all);
}

}  // namespace
}  // namespace causeway
