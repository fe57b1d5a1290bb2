// The JSON Schema a partner's policy implies for what it receives: every action, nested paths,
// array elements, $ref and composition, and paths the schema does not declare.

#include "policies/derived_schema.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace causeway::policies {
namespace {

using Json = nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const char* const kPayment = R"({
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "payments.Authorized",
  "type": "object",
  "required": ["id", "amount", "card", "customer", "internal_notes"],
  "properties": {
    "id": {"type": "string"},
    "amount": {"type": "number", "minimum": 0},
    "card": {"type": "object", "required": ["number"],
             "properties": {"number": {"type": "string", "description": "PAN", "pattern": "^[0-9]+$"},
                            "cvv": {"type": "integer"}}},
    "customer": {"type": "object", "required": ["email", "id"],
                 "properties": {"email": {"type": "string", "format": "email",
                                          "description": "contact"},
                                "id": {"type": "integer"},
                                "iban": {"type": ["string", "null"]}}},
    "internal_notes": {"type": "string"},
    "comment": {"type": "string", "maxLength": 500, "minLength": 80},
    "channel": {"type": "string"},
    "items": {"type": "array", "minItems": 1,
              "items": {"type": "object", "required": ["sku"],
                        "properties": {"sku": {"type": "string"}, "qty": {"type": "integer"}}}},
    "point": {"type": "array", "prefixItems": [{"type": "number"}, {"type": "number"}]}
  }
})";

config::FieldRuleConfig rule(const std::string& path, config::FieldAction action) {
  config::FieldRuleConfig r;
  r.path.text = path;
  r.action = action;
  return r;
}

class DerivedSchemaTest : public ::testing::Test {
protected:
  // Derives kPayment (or `schema`) under policy_ and parses the result.
  Json derive(const char* schema = kPayment) {
    auto derived = deriveJsonSchema(schema, policy_);
    EXPECT_TRUE(derived.ok());
    if (!derived.ok()) {
      return nullptr;
    }
    changed_ = derived->changed;
    problems_ = derived->problems;
    return Json::parse(derived->schema);
  }
  void add(const std::string& path, config::FieldAction action) {
    policy_.fields.push_back(rule(path, action));
  }

  config::PolicyConfig policy_;
  bool changed_ = false;
  std::vector<std::string> problems_;
};

using config::FieldAction;

TEST_F(DerivedSchemaTest, NoFieldRulesLeaveTheSchemaAsItIs) {
  const Json out = derive();
  EXPECT_FALSE(changed_);
  EXPECT_EQ(out, Json::parse(kPayment));
}

TEST_F(DerivedSchemaTest, DropRemovesThePropertyAndItsRequiredEntry) {
  add("value.internal_notes", FieldAction::kDrop);
  add("value.customer.email", FieldAction::kDrop);
  const Json out = derive();
  EXPECT_TRUE(changed_);
  EXPECT_THAT(problems_, IsEmpty());
  EXPECT_FALSE(out["properties"].contains("internal_notes"));
  EXPECT_EQ(out["required"], Json::parse(R"(["id", "amount", "card", "customer"])"));
  EXPECT_FALSE(out["properties"]["customer"]["properties"].contains("email"));
  EXPECT_EQ(out["properties"]["customer"]["required"], Json::parse(R"(["id"])"));
  EXPECT_TRUE(out["properties"]["customer"]["properties"].contains("iban")) << "siblings stay";
}

TEST_F(DerivedSchemaTest, TextActionsMakeAStringAndKeepTheDescription) {
  for (auto action : {FieldAction::kMask, FieldAction::kHash, FieldAction::kEncrypt,
                      FieldAction::kTokenize, FieldAction::kRedact}) {
    policy_.fields = {rule("value.customer.email", action), rule("value.amount", action)};
    const Json out = derive();
    EXPECT_TRUE(changed_);
    EXPECT_EQ(out["properties"]["customer"]["properties"]["email"],
              Json::parse(R"({"type": "string", "description": "contact"})"))
        << "the format and other constraints of the original no longer hold";
    EXPECT_EQ(out["properties"]["amount"], Json::parse(R"({"type": "string"})"));
    EXPECT_EQ(out["required"], Json::parse(kPayment)["required"]) << "still present";
  }
}

TEST_F(DerivedSchemaTest, ANullableFieldStaysNullable) {
  add("value.customer.iban", FieldAction::kEncrypt);
  const Json out = derive();
  EXPECT_EQ(out["properties"]["customer"]["properties"]["iban"],
            Json::parse(R"({"type": ["string", "null"]})"));
}

TEST_F(DerivedSchemaTest, TruncateCapsTheLength) {
  config::FieldRuleConfig truncate = rule("value.comment", FieldAction::kTruncate);
  truncate.max = 64;
  policy_.fields.push_back(truncate);
  truncate.path.text = "value.channel";
  policy_.fields.push_back(truncate);
  const Json out = derive();
  EXPECT_EQ(out["properties"]["comment"],
            Json::parse(R"({"type": "string", "maxLength": 64, "minLength": 64})"));
  EXPECT_EQ(out["properties"]["channel"], Json::parse(R"({"type": "string", "maxLength": 64})"));
}

TEST_F(DerivedSchemaTest, SetMakesAConstantAndARequiredProperty) {
  config::FieldRuleConfig set = rule("value.channel", FieldAction::kSet);
  set.value = "partner";
  policy_.fields.push_back(set);
  set.path.text = "value.card.cvv";
  set.value = "0";
  set.value_kind = config::ConstantKind::kNumber;
  policy_.fields.push_back(set);
  const Json out = derive();
  EXPECT_EQ(out["properties"]["channel"], Json::parse(R"({"const": "partner"})"));
  EXPECT_EQ(out["properties"]["card"]["properties"]["cvv"], Json::parse(R"({"const": 0})"));
  EXPECT_THAT(out["required"], ::testing::Contains(Json("channel")));
  EXPECT_EQ(out["properties"]["card"]["required"], Json::parse(R"(["number", "cvv"])"));
}

TEST_F(DerivedSchemaTest, RulesApplyInOrder) {
  config::FieldRuleConfig truncate = rule("value.card.number", FieldAction::kTruncate);
  truncate.max = 6;
  policy_.fields.push_back(truncate);
  add("value.card.number", FieldAction::kHash);
  const Json out = derive();
  EXPECT_EQ(out["properties"]["card"]["properties"]["number"],
            Json::parse(R"({"type": "string", "description": "PAN"})"));
}

TEST_F(DerivedSchemaTest, OneItemsSchemaForEveryElementIsWidened) {
  add("value.items[0].sku", FieldAction::kMask);
  add("value.items[0].qty", FieldAction::kDrop);
  const Json out = derive();
  EXPECT_THAT(problems_, IsEmpty());
  const Json& item = out["properties"]["items"]["items"];
  EXPECT_EQ(item["properties"]["sku"],
            Json::parse(R"({"anyOf": [{"type": "string"}, {"type": "string"}]})"));
  EXPECT_TRUE(item["properties"].contains("qty")) << "the other elements still have it";
  EXPECT_EQ(item["required"], Json::parse(R"(["sku"])"));
}

TEST_F(DerivedSchemaTest, APositionalElementChangesAlone) {
  add("value.point[1]", FieldAction::kRedact);
  const Json out = derive();
  EXPECT_EQ(out["properties"]["point"]["prefixItems"],
            Json::parse(R"([{"type": "number"}, {"type": "string"}])"));
}

TEST_F(DerivedSchemaTest, DroppingAnElementLowersMinItems) {
  add("value.items[0]", FieldAction::kDrop);
  const Json out = derive();
  EXPECT_EQ(out["properties"]["items"]["minItems"], 0);
  policy_.fields = {rule("value.point[0]", FieldAction::kDrop)};
  derive();
  EXPECT_THAT(problems_, ElementsAre(HasSubstr("value.point[0] (drop): dropping a positional")));
}

TEST_F(DerivedSchemaTest, PathsMissingFromTheSchemaAreReportedNotFatal) {
  add("value.customer.emial", FieldAction::kMask);
  add("value.shipping.city", FieldAction::kDrop);
  add("value.id[3]", FieldAction::kHash);
  add("value.internal_notes", FieldAction::kDrop);
  const Json out = derive();
  EXPECT_TRUE(changed_) << "the rules that apply still do";
  EXPECT_FALSE(out["properties"].contains("internal_notes"));
  EXPECT_THAT(problems_,
              ElementsAre("value.customer.emial (mask): no property 'emial' at value.customer in "
                          "the schema",
                          "value.shipping.city (drop): no property 'shipping' at value in the "
                          "schema",
                          "value.id[3] (hash): no array element 3 at value.id in the schema"));
}

TEST_F(DerivedSchemaTest, OtherSidesHeadersAndRecordFieldsAreNotThisSchemasConcern) {
  add("key.id", FieldAction::kHash);
  add("headers.authorization", FieldAction::kDrop);
  add("timestamp", FieldAction::kSet);
  derive();
  EXPECT_FALSE(changed_);
  EXPECT_THAT(problems_, IsEmpty());
}

TEST_F(DerivedSchemaTest, KeySchemasFollowKeyRules) {
  add("key.id", FieldAction::kHash);
  auto derived = deriveJsonSchema(R"({"type":"object","properties":{"id":{"type":"integer"}}})",
                                  policy_, PathRoot::kKey);
  ASSERT_TRUE(derived.ok());
  EXPECT_EQ(Json::parse(derived->schema)["properties"]["id"], Json::parse(R"({"type":"string"})"));
}

TEST_F(DerivedSchemaTest, LocalRefsAreInlinedWhereTheyChange) {
  const char* schema = R"({
    "$defs": {"party": {"type": "object", "required": ["email"],
                        "properties": {"email": {"type": "string"}, "name": {"type": "string"}}}},
    "type": "object",
    "properties": {"payer": {"$ref": "#/$defs/party"}, "payee": {"$ref": "#/$defs/party"},
                   "other": {"$ref": "other.json#/party"}}
  })";
  add("value.payer.email", FieldAction::kDrop);
  add("value.other.email", FieldAction::kDrop);
  const Json out = derive(schema);
  EXPECT_FALSE(out["properties"]["payer"].contains("$ref"));
  EXPECT_FALSE(out["properties"]["payer"]["properties"].contains("email"));
  EXPECT_EQ(out["properties"]["payer"]["required"], Json::array());
  EXPECT_EQ(out["properties"]["payee"], Json::parse(R"({"$ref": "#/$defs/party"})"))
      << "other uses keep the definition";
  EXPECT_TRUE(out["$defs"]["party"]["properties"].contains("email"));
  EXPECT_THAT(problems_, ElementsAre(HasSubstr("other.json#/party\" to another document")));
}

TEST_F(DerivedSchemaTest, CompositionBranchesDeclaringThePropertyChange) {
  const char* schema = R"({"oneOf": [
    {"type": "object", "properties": {"method": {"const": "card"}, "pan": {"type": "string"}}},
    {"type": "object", "properties": {"method": {"const": "sepa"}, "iban": {"type": "string"}}}]})";
  add("value.pan", FieldAction::kMask);
  add("value.iban", FieldAction::kDrop);
  const Json out = derive(schema);
  EXPECT_THAT(problems_, IsEmpty());
  EXPECT_EQ(out["oneOf"][0]["properties"]["pan"], Json::parse(R"({"type": "string"})"));
  EXPECT_FALSE(out["oneOf"][1]["properties"].contains("iban"));
}

TEST_F(DerivedSchemaTest, ShadowModeChangesNothing) {
  add("value.internal_notes", FieldAction::kDrop);
  policy_.mode = config::PolicyMode::kShadow;
  const Json out = derive();
  EXPECT_FALSE(changed_);
  EXPECT_TRUE(out["properties"].contains("internal_notes"));
}

TEST_F(DerivedSchemaTest, CyclicAndBrokenRefsDoNotCrash) {
  add("value.a.b", FieldAction::kMask);
  derive(R"({"properties": {"a": {"$ref": "#/properties/a"}}})");
  EXPECT_THAT(problems_, ElementsAre(HasSubstr("value.a.b (mask)")));
  derive(R"({"properties": {"a": {"$ref": "#/nowhere"}}})");
  EXPECT_THAT(problems_, ElementsAre(HasSubstr("names nothing")));
  derive(R"({"properties": {"a": {"$ref": "#~9"}}})");
  EXPECT_EQ(problems_.size(), 1u);
  EXPECT_FALSE(deriveJsonSchema("not json", policy_).ok());
  EXPECT_FALSE(deriveJsonSchema("[1]", policy_).ok());
  EXPECT_TRUE(deriveJsonSchema("true", policy_).ok());
}

}  // namespace
}  // namespace causeway::policies
