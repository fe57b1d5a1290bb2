#include "policies/json_payload.h"
#include "policies/predicate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>

#include <string>
#include <vector>

namespace causeway::policies {
namespace {

// A reader for the given value paths (slot = position in the list).
JsonReader readerFor(const std::vector<std::string>& paths) {
  std::vector<ReaderPath> out;
  for (size_t i = 0; i < paths.size(); ++i) {
    PredicateError error;
    auto path = parseFieldPath(paths[i], error);
    EXPECT_TRUE(path) << paths[i];
    out.push_back({static_cast<uint16_t>(i), path->segments});
  }
  return JsonReader(out);
}

std::string problemOf(std::string_view json) {
  JsonReader reader({});
  std::string problem;
  EXPECT_FALSE(reader.read(json, problem)) << json;
  return problem;
}

// The occurrence of slot `slot` (the last one), as kind:text.
std::string found(const JsonReader& reader, uint16_t slot) {
  std::string out = "missing";
  for (const FieldOccurrence& o : reader.occurrences()) {
    if (o.slot == slot) {
      out = std::string(kindName(o.value.kind)) + ":" + std::string(o.value.text);
    }
  }
  return out;
}

TEST(PolicyJson, FindsNestedPathsIndexesAndEscapedNames) {
  JsonReader reader =
      readerFor({"value.customer.address.country", "value.items[1].sku", "value.card",
                 "value.amount", "value.ok", "value.none", "value.nope", "value[\"first name\"]"});
  const std::string json = R"({"customer": {"address": {"country": "D\u0045"}},
    "items": [{"sku": "a"}, {"sku": "b\"c"}], "c\u0061rd": {"number": "4111"},
    "amount": -12.50e1, "ok": true, "none": null, "first name": "Ann"})";
  std::string problem;
  ASSERT_TRUE(reader.read(json, problem)) << problem;
  EXPECT_EQ(found(reader, 0), "a string:DE");
  EXPECT_EQ(found(reader, 1), "a string:b\"c");
  EXPECT_EQ(found(reader, 2), R"(an object:{"number": "4111"})");
  EXPECT_EQ(found(reader, 3), "a number:-12.50e1");
  EXPECT_EQ(found(reader, 4), "a boolean:true");
  EXPECT_EQ(found(reader, 5), "null:");
  EXPECT_EQ(found(reader, 6), "missing");
  EXPECT_EQ(found(reader, 7), "a string:Ann");
  for (const FieldOccurrence& o : reader.occurrences()) {
    if (o.slot == 3) {
      EXPECT_DOUBLE_EQ(o.value.number, -125.0);
    }
  }
}

TEST(PolicyJson, DuplicateMembersAreEveryOneFound) {
  JsonReader reader = readerFor({"value.a"});
  std::string problem;
  ASSERT_TRUE(reader.read(R"({"a": 1, "b": 2, "a": 3})", problem));
  ASSERT_EQ(reader.occurrences().size(), 2u);
  EXPECT_EQ(found(reader, 0), "a number:3");  // predicates see the last
}

TEST(PolicyJson, StrictnessRefusesWhatPartnersMightReadDifferently) {
  EXPECT_THAT(problemOf(""), ::testing::HasSubstr("empty payload"));
  EXPECT_THAT(problemOf(R"({"a": 1,})"), ::testing::HasSubstr("byte 8: expected a member name"));
  EXPECT_THAT(problemOf(R"([1, 2,])"), ::testing::HasSubstr("expected a value"));
  EXPECT_THAT(problemOf("{\"a\": \"x\xff\"}"), ::testing::HasSubstr("invalid UTF-8"));
  EXPECT_THAT(problemOf("{\"a\": \"\xed\xa0\x80\"}"), ::testing::HasSubstr("invalid UTF-8"));
  EXPECT_THAT(problemOf("{\"a\": \"x\ny\"}"), ::testing::HasSubstr("control character"));
  EXPECT_THAT(problemOf(R"({"a": "\ud800"})"), ::testing::HasSubstr("surrogate"));
  EXPECT_THAT(problemOf(R"({"a": "\x41"})"), ::testing::HasSubstr("invalid escape"));
  EXPECT_THAT(problemOf(R"({"a": 01})"), ::testing::HasSubstr("leading zero"));
  EXPECT_THAT(problemOf(R"({"a": NaN})"), ::testing::HasSubstr("expected a value"));
  EXPECT_THAT(problemOf(R"({"a": 1} x)"), ::testing::HasSubstr("after the JSON value"));
  EXPECT_THAT(problemOf(R"({"a": 1 // c
  })"),
              ::testing::HasSubstr("expected ',' or '}'"));
  EXPECT_THAT(problemOf(std::string(300, '[') + std::string(300, ']')),
              ::testing::HasSubstr("nested deeper than 256"));
  EXPECT_THAT(problemOf(R"({"a": tru})"), ::testing::HasSubstr("expected a value"));
  EXPECT_THAT(problemOf(R"({"a": "x)"), ::testing::HasSubstr("unterminated string"));
  EXPECT_TRUE(isValidJson(R"(  {"a": [1, -0.5e-3, "\u00e9\ud83d\ude00", true, null, {}]}  )"));
  EXPECT_TRUE(isValidJson("\"\xf0\x9f\x98\x80\""));
  EXPECT_TRUE(isValidJson("42"));
}

struct Applied {
  std::string out;
  std::string problem;
};

// Applies edits built by `make` (given the occurrences) to `json`.
Applied
edit(const std::vector<std::string>& paths, const std::string& json,
     const std::function<void(const JsonReader&, std::vector<FieldEdit>&, std::string&)>& make) {
  JsonReader reader = readerFor(paths);
  Applied applied;
  EXPECT_TRUE(reader.read(json, applied.problem)) << applied.problem;
  std::vector<FieldEdit> edits;
  std::string arena;
  make(reader, edits, arena);
  if (!reader.write(edits, arena, applied.out, applied.problem)) {
    applied.out = "<failed>";
  }
  EXPECT_TRUE(applied.out == "<failed>" || isValidJson(applied.out)) << applied.out;
  return applied;
}

// Removes every occurrence of the given slots.
std::string removeSlots(const std::vector<std::string>& paths, const std::string& json,
                        const std::vector<uint16_t>& slots) {
  return edit(paths, json,
              [&](const JsonReader& reader, auto& edits, auto&) {
                for (const FieldOccurrence& o : reader.occurrences()) {
                  if (std::find(slots.begin(), slots.end(), o.slot) != slots.end()) {
                    FieldEdit e;
                    e.kind = FieldEdit::Kind::kRemove;
                    e.handle = o.handle;
                    edits.push_back(e);
                  }
                }
              })
      .out;
}

TEST(PolicyJson, RemovingMembersKeepsValidJsonInEveryCombination) {
  const std::vector<std::string> paths = {"value.a", "value.b", "value.c"};
  const std::string json = R"({"a": 1, "b": 2, "c": 3})";
  EXPECT_EQ(removeSlots(paths, json, {0}), R"({"b": 2, "c": 3})");
  EXPECT_EQ(removeSlots(paths, json, {1}), R"({"a": 1, "c": 3})");
  EXPECT_EQ(removeSlots(paths, json, {2}), R"({"a": 1, "b": 2})");
  EXPECT_EQ(removeSlots(paths, json, {0, 1}), R"({"c": 3})");
  EXPECT_EQ(removeSlots(paths, json, {1, 2}), R"({"a": 1})");
  EXPECT_EQ(removeSlots(paths, json, {0, 2}), R"({"b": 2})");
  EXPECT_EQ(removeSlots(paths, json, {0, 1, 2}), R"({})");
  EXPECT_EQ(removeSlots({"value.a"}, R"({"a": 1, "b": 2, "a": 3})", {0}), R"({"b": 2})");
  EXPECT_EQ(removeSlots({"value.x[1]"}, R"({"x": [1, 2, 3]})", {0}), R"({"x": [1, 3]})");
  // Pretty-printed documents stay pretty.
  EXPECT_EQ(removeSlots(paths, "{\n  \"a\": 1,\n  \"b\": 2\n}", {1}), "{\n  \"a\": 1\n}");
  EXPECT_EQ(removeSlots(paths, "{\n  \"a\": 1,\n  \"b\": 2\n}", {0}), "{\n  \"b\": 2\n}");
}

TEST(PolicyJson, ReplacingAndInsertingValues) {
  auto replaced = edit({"value.a.b", "value.n"}, R"({"a": {"b": "x"}, "n": 12})",
                       [](const JsonReader& reader, auto& edits, std::string& arena) {
                         for (const FieldOccurrence& o : reader.occurrences()) {
                           FieldEdit e;
                           e.handle = o.handle;
                           e.value_kind = ValueKind::kString;
                           e.text_begin = static_cast<uint32_t>(arena.size());
                           arena += o.slot == 0 ? "q\"uo\\te\n" : "**";
                           e.text_size = static_cast<uint32_t>(arena.size() - e.text_begin);
                           edits.push_back(e);
                         }
                       });
  EXPECT_EQ(replaced.out, R"({"a": {"b": "q\"uo\\te\n"}, "n": "**"})");

  auto insert = [](const std::string& json) {
    return edit({"value.o", "value.o.drop"}, json,
                [](const JsonReader& reader, auto& edits, std::string& arena) {
                  for (const FieldOccurrence& o : reader.occurrences()) {
                    FieldEdit e;
                    e.handle = o.handle;
                    if (o.slot == 0) {
                      e.kind = FieldEdit::Kind::kInsert;
                      e.name = "new";
                      e.value_kind = ValueKind::kNumber;
                      e.text_begin = static_cast<uint32_t>(arena.size());
                      arena += "7";
                      e.text_size = 1;
                    } else {
                      e.kind = FieldEdit::Kind::kRemove;
                    }
                    edits.push_back(e);
                  }
                })
        .out;
  };
  EXPECT_EQ(insert(R"({"o": {}})"), R"({"o": {"new":7}})");
  EXPECT_EQ(insert(R"({"o": {"x": 1}})"), R"({"o": {"x": 1,"new":7}})");
  EXPECT_EQ(insert(R"({"o": {"drop": 1}})"), R"({"o": {"new":7}})");
  EXPECT_EQ(insert(R"({"o": {"x": 1, "drop": 2}})"), R"({"o": {"x": 1,"new":7}})");
}

TEST(PolicyJson, NoEditsGiveTheSameBytes) {
  const std::string json = "{ \"a\" : [ 1.10 , 2e5 ] ,\"b\":\"\\u00e9\" }";
  EXPECT_EQ(removeSlots({"value.a"}, json, {}), json);
}

// Confluent's JSON Schema serializer writes 0x00 and a 4-byte schema ID (or 0x01 and a 16-byte
// GUID) before the JSON: the JSON after it is read and edited, the prefix kept byte for byte.
TEST(PolicyJson, ASchemaRegistryPrefixIsKeptAndTheJsonAfterItEdited) {
  const std::string id_prefix("\x00\x00\x00\x01\x07", 5);
  const std::string guid_prefix = std::string(1, '\x01') + std::string(16, '\x7b');
  for (const std::string& prefix : {id_prefix, guid_prefix}) {
    JsonReader reader = readerFor({"value.card", "value.id"});
    std::string problem;
    const std::string payload = prefix + R"({"id": "a-1", "card": "4111"})";
    ASSERT_TRUE(reader.read(payload, problem)) << problem;
    EXPECT_EQ(found(reader, 1), "a string:a-1");
    std::vector<FieldEdit> edits;
    for (const FieldOccurrence& o : reader.occurrences()) {
      if (o.slot == 0) {
        FieldEdit e;
        e.handle = o.handle;
        e.text_size = 2;
        edits.push_back(e);
      }
    }
    std::string out;
    ASSERT_TRUE(reader.write(edits, "**", out, problem)) << problem;
    EXPECT_EQ(out, prefix + R"({"id": "a-1", "card": "**"})");
  }
  EXPECT_EQ(problemOf(std::string("\x00\x00\x01", 3)),
            "invalid JSON at byte 0: truncated schema ID prefix (0x00 and 4 bytes)");
  EXPECT_EQ(problemOf(std::string(5, '\x00')),
            "invalid JSON at byte 5: nothing after the schema prefix");
  EXPECT_EQ(problemOf(std::string("\x01\x02", 2)),
            "invalid JSON at byte 0: truncated schema GUID prefix (0x01 and 16 bytes)");
  // only at the start: anywhere else a control byte is invalid JSON
  EXPECT_THAT(problemOf(std::string(" \x00\x00\x00\x00\x01{}", 7)), ::testing::HasSubstr("byte 1"));
}

}  // namespace
}  // namespace causeway::policies
