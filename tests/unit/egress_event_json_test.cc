// The JSON partners receive per event, and ?from= parsing.

#include "egress/event_json.h"
#include "egress/product_reader.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace causeway::egress {
namespace {

nlohmann::json encode(const pipeline::RecordView& view, std::vector<std::string> headers = {}) {
  pipeline::Record record;
  record.reset(&view);
  EventJsonEncoder encoder;
  std::string out;
  encoder.encode(record, headers, out);
  EXPECT_EQ(out.find('\n'), std::string::npos) << "one SSE line";
  return nlohmann::json::parse(out);
}

pipeline::RecordView view(std::optional<std::string_view> key,
                          std::optional<std::string_view> value) {
  pipeline::RecordView v;
  v.topic = "payments.authorized";
  v.partition = 2;
  v.offset = 41;
  v.timestamp = 1700000000123;
  v.key = key;
  v.value = value;
  return v;
}

TEST(EventJsonTest, JsonValuesPassAsJson) {
  auto json = encode(view("card-42", "{\n  \"amount\": 12.5,\n  \"currency\": \"EUR\"\n}"));
  EXPECT_EQ(json["topic"], "payments.authorized");
  EXPECT_EQ(json["partition"], 2);
  EXPECT_EQ(json["offset"], 41);
  EXPECT_EQ(json["timestamp"], 1700000000123);
  EXPECT_EQ(json["key"], "card-42");
  EXPECT_EQ(json["value"]["amount"], 12.5);
  EXPECT_EQ(json["value"]["currency"], "EUR");
}

TEST(EventJsonTest, TextAndBinaryAndNulls) {
  auto text = encode(view(std::nullopt, "plain \"text\"\n"));
  EXPECT_TRUE(text["key"].is_null());
  EXPECT_EQ(text["value"], "plain \"text\"\n");
  auto binary = encode(view(std::string_view("\xff\x01", 2), std::string_view("\x00\x80", 2)));
  EXPECT_EQ(binary["key_base64"], "/wE=");
  EXPECT_EQ(binary["value_base64"], "AIA=");
  auto tombstone = encode(view("k", std::nullopt));
  EXPECT_TRUE(tombstone["value"].is_null());
}

TEST(EventJsonTest, OnlySelectedHeaders) {
  auto v = view("k", "1");
  v.headers = {{"trace-id", "abc"},
               {"secret", "nope"},
               {"bin", std::string_view("\xff", 1)},
               {"nothing", std::nullopt}};
  auto json = encode(v, {"trace-id", "bin", "nothing"});
  EXPECT_EQ(json["headers"]["trace-id"], "abc");
  EXPECT_FALSE(json["headers"].contains("secret"));
  EXPECT_TRUE(json["headers"]["nothing"].is_null());
  EXPECT_EQ(json["headers_base64"]["bin"], "/w==");
  EXPECT_FALSE(encode(v).contains("headers"));
}

TEST(FromParamTest, EarliestLatestAndRfc3339) {
  EXPECT_TRUE(std::holds_alternative<StartEarliest>(*parseFrom("earliest")));
  EXPECT_TRUE(std::holds_alternative<StartLatest>(*parseFrom("latest")));
  EXPECT_EQ(parseRfc3339("2023-11-14T22:13:20Z"), 1700000000000);
  EXPECT_EQ(parseRfc3339("2023-11-14T23:13:20.250+01:00"), 1700000000250);
  EXPECT_EQ(parseRfc3339("2024-02-29T00:00:00Z"), 1709164800000);
  EXPECT_FALSE(parseRfc3339("2023-02-29T00:00:00Z"));
  EXPECT_FALSE(parseRfc3339("2023-11-14 22:13:20"));
  EXPECT_FALSE(parseRfc3339("2023-11-14T22:13:20"));
  EXPECT_FALSE(parseFrom("yesterday"));
}

} // namespace
} // namespace causeway::egress
