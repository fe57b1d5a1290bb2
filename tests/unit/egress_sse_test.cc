// SSE framing: what egress writes parses back, the way a browser reads it.

#include "egress/sse.h"

#include <gtest/gtest.h>

namespace causeway::egress {
namespace {

std::vector<SseEvent> parseAll(std::string_view text, size_t chunk = 0) {
  std::vector<SseEvent> events;
  SseParser parser([&](const SseEvent& e) { events.push_back(e); });
  if (chunk == 0) {
    parser.feed(text);
  } else {
    for (size_t i = 0; i < text.size(); i += chunk) {
      parser.feed(text.substr(i, chunk));
    }
  }
  return events;
}

TEST(SseFramingTest, SingleLineEvent) {
  std::string out;
  appendSseEvent(out, "", "tok1", R"({"a":1})");
  EXPECT_EQ(out, "id: tok1\ndata: {\"a\":1}\n\n");
}

TEST(SseFramingTest, MultiLineDataBecomesSeveralDataLines) {
  std::string out;
  appendSseEvent(out, "", "", "line one\nline two\r\nline three\rfour");
  EXPECT_EQ(out, "data: line one\ndata: line two\ndata: line three\ndata: four\n\n");
  auto events = parseAll(out);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "line one\nline two\nline three\nfour");
}

TEST(SseFramingTest, EventTypeAndIdAndLeadingSpacesSurvive) {
  std::string out;
  appendSseEvent(out, "error", "tok-9", "  indented");
  auto events = parseAll(out);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, "error");
  EXPECT_EQ(events[0].id, "tok-9");
  EXPECT_EQ(events[0].data, "  indented");
}

TEST(SseFramingTest, LineBreaksInIdOrTypeCannotInjectFields) {
  std::string out;
  appendSseEvent(out, "x\ndata: injected", "a\r\nid: b", "real");
  auto events = parseAll(out);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].data, "real");
  EXPECT_EQ(events[0].id, "aid: b");
}

TEST(SseFramingTest, CommentsAndRetryAreNotEvents) {
  std::string out;
  appendSseRetry(out, 2500);
  appendSseComment(out, "heartbeat\nsecond");
  appendSseEvent(out, "", "1", "x");
  std::vector<SseEvent> events;
  SseParser parser([&](const SseEvent& e) { events.push_back(e); });
  parser.feed(out);
  EXPECT_EQ(events.size(), 1u);
  EXPECT_EQ(parser.comments(), 1u);
  EXPECT_EQ(parser.retry(), 2500);
}

TEST(SseFramingTest, AnIdAloneSetsTheLastEventIdWithoutAnEvent) {
  std::string out;
  appendSseId(out, "start\r\nid: forged");
  EXPECT_EQ(out, "id: startid: forged\n\n");
  std::vector<SseEvent> events;
  SseParser parser([&](const SseEvent& e) { events.push_back(e); });
  parser.feed(out);
  EXPECT_TRUE(events.empty());
  EXPECT_EQ(parser.lastEventId(), "startid: forged");
}

TEST(SseFramingTest, AnyChunkingGivesTheSameEvents) {
  std::string out = "\xEF\xBB\xBF";  // a BOM first
  for (int i = 0; i < 20; ++i) {
    appendSseEvent(out, i % 3 == 0 ? "t" : "", "id" + std::to_string(i),
                   "v" + std::to_string(i) + "\r\nsecond");
    appendSseComment(out, "hb");
  }
  const auto whole = parseAll(out);
  ASSERT_EQ(whole.size(), 20u);
  for (size_t chunk : {1, 2, 3, 7, 64}) {
    const auto parts = parseAll(out, chunk);
    ASSERT_EQ(parts.size(), whole.size()) << chunk;
    for (size_t i = 0; i < parts.size(); ++i) {
      EXPECT_EQ(parts[i].data, whole[i].data);
      EXPECT_EQ(parts[i].id, whole[i].id);
      EXPECT_EQ(parts[i].type, whole[i].type);
    }
  }
  EXPECT_EQ(whole[3].type, "t");
  EXPECT_EQ(whole[4].type, "message");
  EXPECT_EQ(whole[19].data, "v19\nsecond");
}

TEST(SseFramingTest, OverlongLineFailsTheParser) {
  SseParser parser([](const SseEvent&) {}, 16);
  EXPECT_FALSE(parser.feed(std::string(100, 'x')));
  EXPECT_TRUE(parser.failed());
}

} // namespace
} // namespace causeway::egress
