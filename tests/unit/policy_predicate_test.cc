#include "policies/predicate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace causeway::policies {
namespace {

using ::testing::HasSubstr;

// Compiles `text` and evaluates it with the fields named in `fields` (path text -> value);
// every other path is missing.
bool eval(const std::string& text, const std::map<std::string, FieldValue>& fields = {}) {
  SchemalessTypes types;
  FieldSlots slots;
  PredicateError error;
  std::optional<Predicate> predicate = Predicate::compile(text, types, slots, error);
  EXPECT_TRUE(predicate.has_value()) << text << ": " << error.offset << ": " << error.message;
  if (!predicate) {
    return false;
  }
  std::vector<FieldValue> values(slots.size());
  for (size_t i = 0; i < slots.size(); ++i) {
    auto it = fields.find(slots.path(static_cast<uint16_t>(i)).text());
    if (it != fields.end()) {
      values[i] = it->second;
    }
  }
  return predicate->evaluate(values);
}

PredicateError compileError(const std::string& text, const FieldTypes& types) {
  FieldSlots slots;
  PredicateError error;
  std::optional<Predicate> predicate = Predicate::compile(text, types, slots, error);
  EXPECT_FALSE(predicate.has_value()) << text << " compiled";
  return error;
}

PredicateError compileError(const std::string& text) {
  return compileError(text, SchemalessTypes());
}

FieldValue num(double n) { return FieldValue::ofNumber(n, "n"); }
FieldValue str(std::string_view s) { return FieldValue::ofString(s); }

TEST(PolicyPredicate, IssueExampleFilter) {
  const std::string filter =
      R"(value.country in ["DE", "AT"] and value.amount >= 100 and not exists(headers.test))";
  EXPECT_TRUE(eval(filter, {{"value.country", str("DE")}, {"value.amount", num(100)}}));
  EXPECT_FALSE(eval(filter, {{"value.country", str("FR")}, {"value.amount", num(500)}}));
  EXPECT_FALSE(eval(filter, {{"value.country", str("AT")}, {"value.amount", num(99.5)}}));
  EXPECT_FALSE(
      eval(filter,
           {{"value.country", str("AT")}, {"value.amount", num(500)}, {"headers.test", str("")}}));
}

TEST(PolicyPredicate, AndBindsTighterThanOrAndNotTighterThanAnd) {
  // a or b and c == a or (b and c)
  EXPECT_TRUE(eval("true or false and false"));
  EXPECT_FALSE(eval("(true or false) and false"));
  // not a and b == (not a) and b
  EXPECT_FALSE(eval("not true and true"));
  EXPECT_TRUE(eval("not (true and false)"));
  EXPECT_TRUE(eval("not not true"));
  // not binds looser than a comparison: not value.x == 1 == not (value.x == 1)
  EXPECT_TRUE(eval("not value.x == 1", {{"value.x", num(2)}}));
}

TEST(PolicyPredicate, ComparisonsOfNumbersAndStrings) {
  const std::map<std::string, FieldValue> f = {{"value.n", num(5)}, {"value.s", str("b")}};
  EXPECT_TRUE(eval("value.n == 5", f));
  EXPECT_TRUE(eval("value.n != 4", f));
  EXPECT_TRUE(eval("value.n < 5.5 and value.n <= 5 and value.n > -1 and value.n >= 5e0", f));
  EXPECT_TRUE(eval(R"(value.s > "a" and value.s < "c" and value.s == 'b')", f));
  // Different types are never equal and have no order.
  EXPECT_FALSE(eval(R"(value.n == "5")", f));
  EXPECT_TRUE(eval(R"(value.n != "5")", f));
  EXPECT_FALSE(eval(R"(value.n < "9")", f));
  EXPECT_FALSE(eval(R"(value.n >= "0")", f));
}

TEST(PolicyPredicate, MissingFieldsCompareLikeNull) {
  EXPECT_TRUE(eval("value.nope == null"));
  EXPECT_FALSE(eval("value.nope != null"));
  EXPECT_FALSE(eval(R"(value.nope == "DE")"));
  EXPECT_TRUE(eval(R"(value.nope != "DE")"));  // != is exactly not ==
  EXPECT_FALSE(eval("value.nope < 1"));
  EXPECT_FALSE(eval("value.nope >= 1"));
  EXPECT_FALSE(eval(R"(value.nope in ["DE"])"));
  EXPECT_TRUE(eval(R"(value.nope in ["DE", null])"));
  EXPECT_FALSE(eval(R"(value.nope matches ".*")"));
  EXPECT_FALSE(eval("value.nope"));  // a bare field is a condition only when it is true
  EXPECT_FALSE(eval("exists(value.nope)"));
}

TEST(PolicyPredicate, NullIsPresentButEqualsNull) {
  const std::map<std::string, FieldValue> f = {{"value.n", FieldValue::null()}};
  EXPECT_TRUE(eval("exists(value.n)", f));
  EXPECT_TRUE(eval("value.n == null", f));
  EXPECT_FALSE(eval("value.n > 0", f));
  EXPECT_FALSE(eval("value.n < 0", f));
}

TEST(PolicyPredicate, BooleansAndBareFields) {
  EXPECT_TRUE(eval("value.active", {{"value.active", FieldValue::ofBool(true)}}));
  EXPECT_FALSE(eval("value.active", {{"value.active", FieldValue::ofBool(false)}}));
  EXPECT_FALSE(eval("value.active", {{"value.active", str("true")}}));
  EXPECT_TRUE(eval("value.active == false", {{"value.active", FieldValue::ofBool(false)}}));
}

TEST(PolicyPredicate, InAndMatches) {
  const std::map<std::string, FieldValue> f = {{"value.sku", str("AB-123")}, {"value.n", num(3)}};
  EXPECT_TRUE(eval("value.n in [1, 2, 3]", f));
  EXPECT_FALSE(eval("value.n in []", f));
  EXPECT_TRUE(eval(R"(value.sku matches "^AB-[0-9]+$")", f));
  EXPECT_TRUE(eval(R"(value.sku matches "B-1")", f));  // a search: anchor with ^ and $
  EXPECT_FALSE(eval(R"(value.sku matches "^B")", f));
  EXPECT_FALSE(eval(R"(value.n matches "3")", f));  // a number is not text
}

TEST(PolicyPredicate, NestedPathsIndexesAndQuotedNames) {
  const std::map<std::string, FieldValue> f = {
      {"value.customer.address.country", str("DE")},
      {"value.items[0].sku", str("X")},
      {"value[\"first name\"]", str("Ann")},
      {"headers.content-type", str("application/json")},
      {"value.in", num(1)},
  };
  EXPECT_TRUE(eval(R"(value.customer.address.country == "DE")", f));
  EXPECT_TRUE(eval(R"(value.items[0].sku == "X" and value.items[1].sku == null)", f));
  EXPECT_TRUE(eval(R"(value["first name"] == "Ann")", f));
  EXPECT_TRUE(eval(R"(headers["content-type"] == "application/json")", f));
  EXPECT_TRUE(eval(R"(headers.content-type == "application/json")", f));
  EXPECT_TRUE(eval("value.in == 1", f));  // keywords are names after a dot
}

TEST(PolicyPredicate, RecordFields) {
  const std::map<std::string, FieldValue> f = {
      {"timestamp", num(1700000000000)}, {"topic", str("orders.eu")}, {"key", str("k1")}};
  EXPECT_TRUE(eval(R"(timestamp >= 1.6e12 and topic matches "^orders\\." and key == "k1")", f));
}

TEST(PolicyPredicate, StringEscapes) {
  EXPECT_TRUE(eval(R"(value.s == "a\"b\\c\u00e9\n")", {{"value.s", str("a\"b\\c\xc3\xa9\n")}}));
  EXPECT_TRUE(eval(R"(value.s == '\ud83d\ude00')", {{"value.s", str("\xf0\x9f\x98\x80")}}));
}

TEST(PolicyPredicate, ParseErrorsPointAtTheOffendingToken) {
  struct Case {
    std::string text;
    size_t offset;
    std::string message;
  };
  const std::vector<Case> cases = {
      {R"(value.a == "x)", 11, "unterminated string"},
      {"value.a = 1", 8, "use '=='"},
      {"value.a == 1 &&", 13, "use 'and'"},
      {"value.a ==", 10, "expected a field, a literal"},
      {"value.a == 1 value.b", 13, "expected 'and', 'or' or the end, found 'value'"},
      {"value.a == 1 AND value.b", 13, "keywords are lower case"},
      {"vlaue.a == 1", 0, "did you mean 'value'?"},
      {"(value.a == 1", 13, "expected ')'"},
      {"value.a == 1)", 12, "found ')'"},
      {"value.items[x] == 1", 12, "expected an array index"},
      {"value.items[1.5] == 1", 12, "whole number"},
      {"value. == 1", 7, "expected a field name after '.'"},
      {"timestamp.x == 1", 9, "timestamp has no fields"},
      {"headers == 1", 0, "name the header"},
      {"value.a in 1", 11, "expected a list"},
      {"value.a in [1 2]", 14, "expected ',' or ']'"},
      {"value.a in [value.b]", 12, "literals only"},
      {"exists value.a", 7, "expected '('"},
      {"exists(1)", 7, "exists() takes a field path"},
      {"value.a matches 1", 16, "expected a regex in quotes"},
      {R"(value.a matches "(")", 16, "invalid regex"},
      {"", 0, "empty"},
      {"value.a == 01x", 11, "malformed number"},
      {"value.a not in [1]", 8, "write 'not x in [...]'"},
      {"value.a == 1 # c", 13, "unexpected character '#'"},
  };
  for (const Case& c : cases) {
    const PredicateError error = compileError(c.text);
    EXPECT_EQ(error.offset, c.offset) << c.text << ": " << error.message;
    EXPECT_THAT(error.message, HasSubstr(c.message)) << c.text;
  }
}

TEST(PolicyPredicate, TypeErrorsPointAtTheOffendingOperand) {
  struct Case {
    std::string text;
    size_t offset;
    std::string message;
  };
  const std::vector<Case> cases = {
      {R"(timestamp == "yesterday")", 13, "cannot compare timestamp (a number) with the string"},
      {R"(topic > 5)", 8, "cannot compare topic (a string) with the number 5"},
      {"value.a < null", 10, "null has no order"},
      {"value.a >= true", 11, "booleans have no order"},
      {"1", 0, "expected a condition, found the number 1"},
      {"timestamp", 0, "timestamp (a number) is not a condition"},
      {R"(timestamp in [1, "x"])", 17, "cannot compare timestamp"},
      {R"(value.a in [1, "x"])", 15, "the list mixes a number and a string values"},
      {R"(partition matches "1")", 0, "is not text"},
      {R"("a" matches "a")", 0, "takes a field on its left"},
      {"key.id == 1", 0, "the key is read as a plain string"},
  };
  for (const Case& c : cases) {
    const PredicateError error = compileError(c.text);
    EXPECT_EQ(error.offset, c.offset) << c.text << ": " << error.message;
    EXPECT_THAT(error.message, HasSubstr(c.message)) << c.text;
  }
}

// A schema that knows two fields, as the schema subsystem's types will.
class TwoFieldSchema : public FieldTypes {
public:
  std::optional<FieldType> typeOf(const FieldPath& path, std::string& problem) const override {
    if (path.root != PathRoot::kValue || path.segments.empty()) {
      return FieldTypes::typeOf(path, problem);
    }
    const std::string text = path.text();
    if (text == "value.amount") {
      return FieldType::kNumber;
    }
    if (text == "value.items") {
      return FieldType::kArray;
    }
    problem = "no such field in the value schema";
    return std::nullopt;
  }
};

TEST(PolicyPredicate, SchemaTypesAreChecked) {
  TwoFieldSchema schema;
  PredicateError error = compileError(R"(value.amount == "100")", schema);
  EXPECT_EQ(error.offset, 16u);
  EXPECT_THAT(error.message, HasSubstr("value.amount (a number)"));
  error = compileError("value.amount > 1 and value.cuntry == 1", schema);
  EXPECT_EQ(error.offset, 21u);
  EXPECT_THAT(error.message, HasSubstr("value.cuntry: no such field"));
  error = compileError("value.items == 1", schema);
  EXPECT_THAT(error.message, HasSubstr("cannot be compared"));
}

TEST(PolicyPredicate, DeepNestingIsAnErrorNotACrash) {
  const std::string deep = std::string(200, '(') + "true" + std::string(200, ')');
  EXPECT_THAT(compileError(deep).message, HasSubstr("nests deeper"));
  std::string nots;
  for (int i = 0; i < 200; ++i) {
    nots += "not ";
  }
  EXPECT_THAT(compileError(nots + "true").message, HasSubstr("nests deeper"));
}

TEST(PolicyPredicate, SlotsAreSharedAndOnlyCommittedOnSuccess) {
  SchemalessTypes types;
  FieldSlots slots;
  PredicateError error;
  ASSERT_TRUE(
      Predicate::compile("value.a == 1 or value.a == 2 or value.b == 3", types, slots, error));
  EXPECT_EQ(slots.size(), 2u);
  EXPECT_FALSE(Predicate::compile("value.c == 1 and", types, slots, error));
  EXPECT_EQ(slots.size(), 2u);
}

TEST(PolicyPredicate, FieldPathsParseOnTheirOwn) {
  PredicateError error;
  auto path = parseFieldPath("value.customer.items[2][\"first name\"]", error);
  ASSERT_TRUE(path);
  EXPECT_EQ(path->text(), "value.customer.items[2][\"first name\"]");
  EXPECT_FALSE(parseFieldPath("value.card.number x", error));
  EXPECT_EQ(error.offset, 18u);
  EXPECT_FALSE(parseFieldPath("vaule.x", error));
  EXPECT_THAT(error.message, HasSubstr("did you mean 'value'?"));
}

}  // namespace
}  // namespace causeway::policies
