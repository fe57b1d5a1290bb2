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

// Long texts are scanned 8 bytes at a time: an escape at every position of a word, next to
// bytes from 0x80 up (whose high bits the word test must not take for an escape), is found.
TEST(JsonString, EveryEscapeIsFoundAtEveryPositionOfALongText) {
  for (const char special : {'"', '\\', '\n', '\x01', '\x1f', '\0'}) {
    for (size_t at = 0; at < 24; ++at) {
      std::string text(24, 'a');
      for (size_t i = 0; i < text.size(); i += 3) {
        text[i] = static_cast<char>(0xc3);  // not valid UTF-8 here, which the escape ignores
      }
      text[at] = special;
      const std::string escaped = literal(text);
      size_t escapes = 0;
      for (size_t i = 0; i < escaped.size(); ++i) {
        escapes += escaped[i] == '\\' ? 1 : 0;
        i += escaped[i] == '\\' ? 1 : 0;
      }
      EXPECT_EQ(escapes, 1u) << "byte " << int(special) << " at " << at << ": " << escaped;
      EXPECT_EQ(escaped.size(), text.size() + 2 + (special == '\x01' || special == '\x1f' ||
                                                         special == '\0'
                                                     ? 5
                                                     : 1));
    }
  }
  for (int c = 0x20; c < 0x100; ++c) {  // bytes that need no escape stay as they are
    if (c == '"' || c == '\\') {
      continue;
    }
    const std::string text(17, static_cast<char>(c));
    EXPECT_EQ(literal(text), "\"" + text + "\"") << c;
  }
}

}  // namespace
}  // namespace causeway
