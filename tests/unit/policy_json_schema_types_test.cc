// What a contract's JSON Schema says about the fields a policy names (policies/
// json_schema_types.h): a path the schema proves no record holds is refused with a hint, a path
// it leaves open is kAny, types follow `type` through $refs and compositions.

#include "policies/json_schema_types.h"
#include "policies/predicate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace causeway::policies {
namespace {

using ::testing::HasSubstr;

constexpr const char* kSchema = R"({
  "type": "object", "additionalProperties": false,
  "properties": {
    "id": {"type": "string"},
    "amount": {"type": "number"},
    "tags": {"type": "array", "items": {"type": "string"}},
    "pair": {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "boolean"}]},
    "customer": {"$ref": "#/$defs/Customer"},
    "billing": {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/Customer"}]},
    "extra": {"type": "object"},
    "attributes": {"type": "object", "additionalProperties": {"type": "integer"}},
    "elsewhere": {"$ref": "other.json#/x"}
  },
  "$defs": {
    "Customer": {"type": "object", "additionalProperties": false,
                 "properties": {"email": {"type": "string"}, "age": {"type": "integer"}}}
  }
})";

class JsonSchemaTypesTest : public ::testing::Test {
protected:
  void SetUp() override {
    auto made = JsonSchemaTypes::make(kSchema, PathRoot::kValue, "the contract schema");
    ASSERT_TRUE(made.ok()) << made.error().message;
    types_ = std::move(*made);
  }

  std::optional<FieldType> typeOf(const std::string& text, std::string* problem = nullptr) {
    PredicateError error;
    auto path = parseFieldPath(text, error);
    EXPECT_TRUE(path.has_value()) << text << ": " << error.message;
    std::string found;
    auto type = types_->typeOf(*path, found);
    if (problem != nullptr) {
      *problem = found;
    }
    return type;
  }

  std::unique_ptr<JsonSchemaTypes> types_;
};

TEST_F(JsonSchemaTypesTest, DeclaredFieldsHaveTheirTypes) {
  EXPECT_EQ(typeOf("value.id"), FieldType::kString);
  EXPECT_EQ(typeOf("value.amount"), FieldType::kNumber);
  EXPECT_EQ(typeOf("value.tags"), FieldType::kArray);
  EXPECT_EQ(typeOf("value.tags[3]"), FieldType::kString);
  EXPECT_EQ(typeOf("value.pair[1]"), FieldType::kBool);
  EXPECT_EQ(typeOf("value.customer"), FieldType::kObject);
  EXPECT_EQ(typeOf("value.customer.age"), FieldType::kNumber);   // through a $ref
  EXPECT_EQ(typeOf("value.billing.email"), FieldType::kString);  // through anyOf and a $ref
  EXPECT_EQ(typeOf("value.billing"), FieldType::kAny);           // null or an object
  EXPECT_EQ(typeOf("value.attributes.anything"), FieldType::kNumber);  // a map's values
  // The record's own fields and the other side are not this schema's concern.
  EXPECT_EQ(typeOf("timestamp"), FieldType::kNumber);
  EXPECT_EQ(typeOf("key.x"), FieldType::kAny);
}

TEST_F(JsonSchemaTypesTest, WhatTheSchemaLeavesOpenIsAny) {
  EXPECT_EQ(typeOf("value.extra.deep.field"), FieldType::kAny);  // no additionalProperties
  EXPECT_EQ(typeOf("value.elsewhere.x"), FieldType::kAny);       // another document
  EXPECT_EQ(typeOf("value.pair[5]"), FieldType::kAny);           // past the prefix, no items
}

TEST_F(JsonSchemaTypesTest, FieldsNoRecordCanHoldAreRefusedWithAHint) {
  std::string problem;
  EXPECT_FALSE(typeOf("value.customer.emial", &problem).has_value());
  EXPECT_EQ(problem, "no field 'emial' at value.customer in the contract schema; did you mean "
                     "'email'?");
  EXPECT_FALSE(typeOf("value.zzzzzz", &problem).has_value());
  EXPECT_EQ(problem, "no field 'zzzzzz' at value in the contract schema");
  EXPECT_FALSE(typeOf("value.billing.phone", &problem).has_value());
  EXPECT_THAT(problem, HasSubstr("no field 'phone' at value.billing"));
  EXPECT_FALSE(typeOf("value.amount.cents", &problem).has_value());
  EXPECT_EQ(problem, "value.amount is not an object in the contract schema, so it has no field "
                     "'cents'");
  EXPECT_FALSE(typeOf("value.id[0]", &problem).has_value());
  EXPECT_THAT(problem, HasSubstr("value.id is not an array"));
}

// Branches that refer back to the root would double at every level: a bounded walk, open.
TEST(JsonSchemaTypes, SelfReferringBranchesAreBounded) {
  auto types = JsonSchemaTypes::make(
      R"({"anyOf": [{"$ref": "#"}, {"$ref": "#"}, {"$ref": "#/anyOf/0"}]})", PathRoot::kValue,
      "x");
  ASSERT_TRUE(types.ok());
  PredicateError error;
  std::string problem;
  EXPECT_EQ((*types)->typeOf(*parseFieldPath("value.a.b.c.d.e.f", error), problem),
            FieldType::kAny);
}

TEST(JsonSchemaTypes, ATextThatIsNotASchemaIsAnError) {
  EXPECT_FALSE(JsonSchemaTypes::make("[1]", PathRoot::kValue, "x").ok());
  EXPECT_FALSE(JsonSchemaTypes::make("{", PathRoot::kValue, "x").ok());
  auto anything = JsonSchemaTypes::make("true", PathRoot::kValue, "x");
  ASSERT_TRUE(anything.ok());
  PredicateError error;
  std::string problem;
  EXPECT_EQ((*anything)->typeOf(*parseFieldPath("value.a.b[2]", error), problem), FieldType::kAny);
}

}  // namespace
}  // namespace causeway::policies
