// A client's ?filter= as a stage (egress/filter_stages.h): the policies' predicate language on
// the record after the partner's stages, only ever dropping, with errors that say where.

#include "egress/filter_stages.h"
#include "pipeline/record.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace causeway::egress {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// A record the filter sees: owns its bytes.
struct Event {
  std::string topic = "payments.authorized";
  int32_t partition = 0;
  std::optional<std::string> key = std::string("card-42");
  std::optional<std::string> value =
      std::string(R"({"country":"DE","amount":120,"pad":"[REDACTED]"})");
  std::vector<std::pair<std::string, std::optional<std::string>>> headers = {{"seq", "7"}};
};

class EgressFilterTest : public ::testing::Test {
protected:
  pipeline::StagePtr make(std::string_view text) {
    auto made = predicateFilterFactory()(text, product_);
    EXPECT_TRUE(made) << made.error().message;
    return made ? std::move(*made) : nullptr;
  }

  std::string refusal(std::string_view text) {
    auto made = predicateFilterFactory()(text, product_);
    EXPECT_FALSE(made) << text;
    return made ? std::string() : made.error().message;
  }

  pipeline::Verdict run(pipeline::Stage& stage, const Event& e) {
    view_ = pipeline::RecordView{};
    view_.topic = e.topic;
    view_.partition = e.partition;
    view_.offset = 3;
    view_.timestamp = 1700000000000;
    if (e.key) {
      view_.key = std::string_view(*e.key);
    }
    if (e.value) {
      view_.value = std::string_view(*e.value);
    }
    for (const auto& [name, v] : e.headers) {
      view_.headers.push_back(
          {name, v ? std::optional<std::string_view>(*v) : std::optional<std::string_view>()});
    }
    record_.reset(&view_);
    return stage.process(record_);
  }

  bool passes(pipeline::Stage& stage, const Event& e) {
    return run(stage, e).outcome == pipeline::Outcome::kPass;
  }

  config::ProductConfig product_;
  pipeline::RecordView view_;
  pipeline::Record record_;
};

TEST_F(EgressFilterTest, PassesWhatMatchesAndDropsTheRest) {
  auto stage = make(R"(value.country in ["DE", "AT"] and value.amount >= 100)");
  ASSERT_NE(stage, nullptr);
  Event match;
  EXPECT_TRUE(passes(*stage, match));
  Event small = match;
  small.value = R"({"country":"DE","amount":99})";
  const pipeline::Verdict verdict = run(*stage, small);
  EXPECT_EQ(verdict.outcome, pipeline::Outcome::kDrop);
  Event elsewhere = match;
  elsewhere.value = R"({"country":"FR","amount":500})";
  EXPECT_FALSE(passes(*stage, elsewhere));
}

TEST_F(EgressFilterTest, SeesTheRecordsOwnFieldsKeyAndHeaders) {
  auto stage = make(R"(partition != 1 and key == "card-42" and headers.seq == "7" and )"
                    R"(topic == "payments.authorized" and timestamp > 0)");
  ASSERT_NE(stage, nullptr);
  Event e;
  EXPECT_TRUE(passes(*stage, e));
  e.partition = 1;
  EXPECT_FALSE(passes(*stage, e));
  e.partition = 0;
  e.headers = {};
  EXPECT_FALSE(passes(*stage, e)) << "a missing header compares like null";
}

TEST_F(EgressFilterTest, SeesThePolicysOutputNotTheSourceRecord) {
  // The record as the partner's policy left it: a redacted field matches its replacement only.
  auto redacted = make(R"(value.pad == "[REDACTED]")");
  ASSERT_NE(redacted, nullptr);
  EXPECT_TRUE(passes(*redacted, Event{}));
}

TEST_F(EgressFilterTest, NeverRewritesTheRecord) {
  auto stage = make("value.amount > 1");
  ASSERT_NE(stage, nullptr);
  Event e;
  e.value = R"({ "amount" : 1.50e1 , "x":[1,2] })";
  ASSERT_TRUE(passes(*stage, e));
  EXPECT_EQ(record_.value(), std::optional<std::string_view>(*e.value));
  EXPECT_EQ(record_.key(), std::optional<std::string_view>(*e.key));
}

TEST_F(EgressFilterTest, UnreadableValueIsDroppedNeverPassed) {
  auto stage = make("value.amount > 1");
  ASSERT_NE(stage, nullptr);
  Event text;
  text.value = "not json";
  EXPECT_EQ(run(*stage, text).outcome, pipeline::Outcome::kDrop);
  Event tombstone;
  tombstone.value.reset();
  EXPECT_FALSE(passes(*stage, tombstone));
  // A filter that names no value field does not read the value at all.
  auto by_key = make(R"(key == "card-42")");
  ASSERT_NE(by_key, nullptr);
  EXPECT_TRUE(passes(*by_key, text));
}

TEST_F(EgressFilterTest, SyntaxErrorNamesColumnAndProblem) {
  const std::string message = refusal("value.amount >= ");
  EXPECT_THAT(message, StartsWith("filter: column 17: ")) << message;
  EXPECT_THAT(message, HasSubstr("the end")) << message;
  EXPECT_THAT(refusal("value.amount >= 1 and vaule.x == 2"), StartsWith("filter: column 23: "));
  EXPECT_THAT(refusal(R"(value.country == "DE)"), StartsWith("filter: column 18: "));
  EXPECT_THAT(refusal("value.country == 1 and value.country == 1 or"), HasSubstr("column 45"));
  EXPECT_THAT(refusal(""), HasSubstr("empty"));
  // The example of docs/egress.md.
  EXPECT_EQ(refusal("value.seq >="), "filter: column 13: expected a field, a literal, 'not', "
                                     "'exists' or '(', found the end");
}

TEST_F(EgressFilterTest, MatchesIsRefusedButAFieldNamedMatchesIsNot) {
  const std::string message = refusal(R"(value.name matches "a+")");
  EXPECT_THAT(message, StartsWith("filter: column 12: 'matches' is not available")) << message;
  EXPECT_NE(make(R"(value.matches == 2)"), nullptr);
  EXPECT_EQ(checkClientFilter(R"(value.matches == "matches")"), "");
}

TEST_F(EgressFilterTest, LengthIsBounded) {
  std::string longest = "value.x == \"" + std::string(kMaxClientFilterBytes - 13, 'a') + "\"";
  ASSERT_EQ(longest.size(), kMaxClientFilterBytes);
  EXPECT_NE(make(longest), nullptr);
  const std::string message = refusal(longest + " ");
  EXPECT_THAT(message, HasSubstr("1025 bytes")) << message;
  EXPECT_THAT(message, HasSubstr("at most 1024")) << message;
}

TEST_F(EgressFilterTest, TypeErrorsAreCaughtAtOpen) {
  EXPECT_THAT(refusal("partition == \"one\""), HasSubstr("column 1")) << "a number field";
}

// A filter naming key fields reads the key as JSON (a key decoded from Avro or Protobuf by the
// product's contract arrives as its JSON text); a key that is not JSON is dropped, never passed.
TEST_F(EgressFilterTest, KeyFieldsAreReadFromAJsonKey) {
  auto stage = make(R"(key.customer.id == 42 and key["region"] in ["eu", "us"])");
  ASSERT_NE(stage, nullptr);
  Event json_key;
  json_key.key = R"({"customer":{"id":42},"region":"eu"})";
  EXPECT_TRUE(passes(*stage, json_key));
  json_key.key = R"({"customer":{"id":7},"region":"eu"})";
  EXPECT_FALSE(passes(*stage, json_key));
  Event text_key;  // "card-42": not JSON
  EXPECT_EQ(run(*stage, text_key).outcome, pipeline::Outcome::kDrop);
  // Without key fields the key stays text, JSON or not.
  auto by_text = make(R"(key == "{\"customer\":{\"id\":42},\"region\":\"eu\"}")");
  ASSERT_NE(by_text, nullptr);
  json_key.key = R"({"customer":{"id":42},"region":"eu"})";
  EXPECT_TRUE(passes(*by_text, json_key));
  // A member named key is not the key.
  EXPECT_NE(make(R"(value.key.x == 1 and key == "card-42")"), nullptr);
  EXPECT_TRUE(passes(*make(R"(value.key.x == 1 or key == "card-42")"), text_key));
}

}  // namespace
}  // namespace causeway::egress
