// JSON contracts: real JSON documents against JSON Schema, one behaviour per keyword family,
// and that violations name the path without quoting the record's values.

#include "schema/json_schema.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace causeway::schema {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kPaymentSchema = R"({
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "Payment",
  "type": "object",
  "required": ["id", "amount", "currency", "card"],
  "additionalProperties": false,
  "properties": {
    "id": {"type": "string", "pattern": "^pay-[0-9]{4}$"},
    "amount": {"type": "number", "exclusiveMinimum": 0, "maximum": 100000},
    "currency": {"enum": ["EUR", "USD", "CHF"]},
    "card": {"$ref": "#/$defs/card"},
    "items": {"type": "array", "minItems": 1, "maxItems": 3,
              "items": {"$ref": "#/$defs/item"}},
    "tags": {"type": "array", "uniqueItems": true, "items": {"type": "string", "maxLength": 4}},
    "channel": {"const": "web"},
    "note": {"type": ["string", "null"], "minLength": 2}
  },
  "$defs": {
    "card": {"type": "object", "required": ["last4"],
             "properties": {"last4": {"type": "string", "minLength": 4, "maxLength": 4}}},
    "item": {"type": "object", "required": ["sku", "quantity"],
             "properties": {"sku": {"type": "string"},
                            "quantity": {"type": "integer", "minimum": 1, "multipleOf": 1}}}
  }
})";

const std::string kValid = R"({"id": "pay-0042", "amount": 12.5, "currency": "EUR",
  "card": {"last4": "4242"}, "items": [{"sku": "A", "quantity": 2}, {"sku": "B", "quantity": 1.0}],
  "tags": ["x", "y"], "channel": "web", "note": "gift"})";

class SchemaJson : public ::testing::Test {
protected:
  void SetUp() override { use(kPaymentSchema); }

  void use(const std::string& schema,
           const std::vector<std::pair<std::string, std::string_view>>& references = {}) {
    auto compiled = JsonSchema::compile(schema, references);
    ASSERT_TRUE(compiled.ok()) << compiled.error().message;
    validator_ = makeJsonValidator(*compiled);
  }

  bool validate(const std::string& document) {
    return validator_->validate(document, MessageIndexes{}, scratch_, violation_);
  }
  std::string described() const { return violation_.describe("value"); }

  ValidatorPtr validator_;
  ValidationScratch scratch_;
  Violation violation_;
};

TEST_F(SchemaJson, AValidDocumentPasses) {
  EXPECT_TRUE(validate(kValid)) << described();
  EXPECT_TRUE(validate(kValid)) << "the scratch parser is reused";
}

TEST_F(SchemaJson, TypeMismatchNamesThePathAndBothTypes) {
  std::string doc = kValid;
  doc.replace(doc.find("12.5"), 4, "\"12.5\"");
  EXPECT_FALSE(validate(doc));
  EXPECT_EQ(described(), "value.amount: expected number, found string");
}

TEST_F(SchemaJson, RequiredAndAdditionalProperties) {
  EXPECT_FALSE(validate(R"({"id": "pay-0001", "amount": 1, "card": {"last4": "1234"}})"));
  EXPECT_EQ(described(), "value.currency: required property is missing");
  EXPECT_FALSE(validate(
      R"({"id": "pay-0001", "amount": 1, "currency": "EUR", "card": {"last4": "1234"}, "cvv": "123"})"));
  EXPECT_EQ(described(), "value: property 5 is not in the schema (additionalProperties is false)");
  EXPECT_FALSE(validate(R"({"id": "pay-0001", "amount": 1, "currency": "EUR", "card": {}})"));
  EXPECT_EQ(described(), "value.card.last4: required property is missing");
}

TEST_F(SchemaJson, EnumConstAndNumbersWithoutQuotingValues) {
  std::string doc = kValid;
  doc.replace(doc.find("\"EUR\""), 5, "\"XAU\"");
  EXPECT_FALSE(validate(doc));
  EXPECT_EQ(described(), "value.currency: not one of the 3 allowed values");
  doc = kValid;
  doc.replace(doc.find("\"web\""), 5, "\"app\"");
  EXPECT_FALSE(validate(doc));
  EXPECT_EQ(described(), "value.channel: not the constant value the schema requires");
  doc = kValid;
  doc.replace(doc.find("12.5"), 4, "0");
  EXPECT_FALSE(validate(doc));
  EXPECT_EQ(described(), "value.amount: not greater than the exclusive minimum 0");
  doc = kValid;
  doc.replace(doc.find("12.5"), 4, "100000.5");
  EXPECT_FALSE(validate(doc));
  EXPECT_EQ(described(), "value.amount: greater than the maximum 100000");
}

TEST_F(SchemaJson, ArraysItemsAndIntegers) {
  std::string doc = kValid;
  doc.replace(doc.find("\"quantity\": 1.0"), 15, "\"quantity\": 1.5");
  EXPECT_FALSE(validate(doc));
  EXPECT_EQ(described(), "value.items[1].quantity: expected integer, found number");
  doc = kValid;
  doc.replace(doc.find("[\"x\", \"y\"]"), 10, "[\"x\", \"x\"]");
  EXPECT_FALSE(validate(doc));
  EXPECT_EQ(described(), "value.tags: items 0 and 1 are equal (uniqueItems)");
  doc = kValid;
  doc.replace(doc.find("[\"x\", \"y\"]"), 10, "[\"x\", \"toolong\"]");
  EXPECT_FALSE(validate(doc));
  EXPECT_EQ(described(), "value.tags[1]: longer than 4 characters");
  doc = kValid;
  doc.replace(doc.find("\"items\": ["), 10, "\"items\": [{\"sku\": \"C\", \"quantity\": 1}, ");
  doc.replace(doc.find("\"items\": ["), 10, "\"items\": [{\"sku\": \"D\", \"quantity\": 1}, ");
  EXPECT_FALSE(validate(doc));
  EXPECT_EQ(described(), "value.items: has 4 items, at most 3 allowed");
}

TEST_F(SchemaJson, PatternAndLengthCountCharactersNotBytes) {
  std::string doc = kValid;
  doc.replace(doc.find("pay-0042"), 8, "secret-4242");
  EXPECT_FALSE(validate(doc));
  EXPECT_EQ(described(), "value.id: does not match the pattern \"^pay-[0-9]{4}$\"");
  EXPECT_THAT(described(), Not(HasSubstr("secret")));
  doc = kValid;
  doc.replace(doc.find("\"4242\""), 6, "\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\"");
  EXPECT_TRUE(validate(doc)) << "four two-byte characters are four characters: " << described();
  doc = kValid;
  doc.replace(doc.find("\"gift\""), 6, "\"g\"");
  EXPECT_FALSE(validate(doc));
  EXPECT_EQ(described(), "value.note: shorter than 2 characters");
  doc = kValid;
  doc.replace(doc.find("\"gift\""), 6, "null");
  EXPECT_TRUE(validate(doc)) << described();
}

TEST_F(SchemaJson, NotJsonIsAViolation) {
  EXPECT_FALSE(validate("{\"id\": "));
  EXPECT_THAT(described(), HasSubstr("value: not valid JSON"));
  EXPECT_FALSE(validate(std::string("{\"id\": \"\xff\"}")));
  EXPECT_THAT(described(), HasSubstr("not valid JSON"));
}

TEST_F(SchemaJson, CombinatorsAndConditionals) {
  use(R"({
    "type": "object",
    "properties": {
      "method": {"enum": ["card", "iban"]},
      "amount": {"anyOf": [{"type": "integer"}, {"type": "string", "pattern": "^[0-9]+$"}]},
      "ref": {"oneOf": [{"type": "string", "maxLength": 3}, {"type": "string", "minLength": 2}]},
      "flag": {"not": {"const": true}}
    },
    "if": {"properties": {"method": {"const": "iban"}}},
    "then": {"required": ["iban"]},
    "else": {"required": ["card"]}
  })");
  EXPECT_TRUE(validate(R"({"method": "card", "card": 1, "amount": 5})")) << described();
  EXPECT_FALSE(validate(R"({"method": "iban", "card": 1})"));
  EXPECT_EQ(described(), "value.iban: required property is missing");
  EXPECT_FALSE(validate(R"({"card": 1, "amount": 5.5})"));
  EXPECT_EQ(described(), "value.amount: matches none of the 2 anyOf alternatives");
  EXPECT_FALSE(validate(R"({"card": 1, "ref": "abc"})"));
  EXPECT_EQ(described(), "value.ref: matches 2 of the 2 oneOf alternatives, exactly one required");
  EXPECT_FALSE(validate(R"({"card": 1, "flag": true})"));
  EXPECT_EQ(described(), "value.flag: matches the schema under \"not\"");
}

TEST_F(SchemaJson, PatternPropertiesTupleItemsAndRecursiveRefs) {
  use(R"({
    "type": "object",
    "properties": {
      "point": {"type": "array", "items": [{"type": "number"}, {"type": "number"}],
                "additionalItems": false},
      "tree": {"$ref": "#/definitions/node"}
    },
    "patternProperties": {"^x-": {"type": "string"}},
    "additionalProperties": false,
    "definitions": {
      "node": {"type": "object", "properties": {
        "value": {"type": "integer"},
        "children": {"type": "array", "items": {"$ref": "#/definitions/node"}}}}
    }
  })");
  EXPECT_TRUE(validate(R"({"point": [1, 2.5], "x-trace": "abc",
                          "tree": {"value": 1, "children": [{"value": 2, "children": []}]}})"))
      << described();
  EXPECT_FALSE(validate(R"({"point": [1, 2, 3]})"));
  EXPECT_EQ(described(), "value.point: has 3 items, at most 2 allowed");
  EXPECT_FALSE(validate(R"({"x-trace": 5})"));
  EXPECT_EQ(described(), "value.<property 1>: expected string, found integer");
  EXPECT_FALSE(validate(R"({"tree": {"children": [{"children": [{"value": "deep"}]}]}})"));
  EXPECT_EQ(described(),
            "value.tree.children[0].children[0].value: expected integer, found string");
}

TEST_F(SchemaJson, RefsIntoReferencedDocuments) {
  const std::string address = R"({"definitions": {"street": {"type": "string", "minLength": 3}}})";
  use(R"({"type": "object", "properties": {"street": {"$ref": "address.json#/definitions/street"}}})",
      {{"address.json", address}});
  EXPECT_TRUE(validate(R"({"street": "Main"})")) << described();
  EXPECT_FALSE(validate(R"({"street": "M"})"));
  EXPECT_EQ(described(), "value.street: shorter than 3 characters");
}

TEST(SchemaJsonCompile, UnsupportedAndBrokenSchemasAreRefusedWithTheReason) {
  auto lookaround = JsonSchema::compile(R"js({"pattern": "^(?!admin)"})js");
  ASSERT_FALSE(lookaround.ok());
  EXPECT_THAT(lookaround.error().message, HasSubstr("no lookaround or backreferences"));
  auto unevaluated =
      JsonSchema::compile(R"({"properties": {"a": {"unevaluatedProperties": false}}})");
  ASSERT_FALSE(unevaluated.ok());
  EXPECT_THAT(unevaluated.error().message, HasSubstr("#/properties/a"));
  EXPECT_THAT(unevaluated.error().message, HasSubstr("\"unevaluatedProperties\" is not supported"));
  auto remote = JsonSchema::compile(R"({"$ref": "https://example.com/s.json"})");
  ASSERT_FALSE(remote.ok());
  EXPECT_THAT(remote.error().message, HasSubstr("not one of the schema's references"));
  EXPECT_FALSE(JsonSchema::compile(R"({"$ref": "#/definitions/missing"})").ok());
  EXPECT_FALSE(JsonSchema::compile(R"({"type": "decimal"})").ok());
  EXPECT_FALSE(JsonSchema::compile(R"({"minLength": -1})").ok());
  EXPECT_FALSE(JsonSchema::compile("not json").ok());
  EXPECT_TRUE(JsonSchema::compile("true").ok());
}

TEST(SchemaJsonCompile, SelfReferenceEndsWithADepthViolation) {
  auto schema = JsonSchema::compile(R"({"$ref": "#"})");
  ASSERT_TRUE(schema.ok()) << schema.error().message;
  auto validator = makeJsonValidator(*schema);
  ValidationScratch scratch;
  Violation violation;
  EXPECT_FALSE(validator->validate("{}", MessageIndexes{}, scratch, violation));
  EXPECT_THAT(violation.message, HasSubstr("levels deep"));
}

}  // namespace
}  // namespace causeway::schema
