// schema/avro_from_json.h: a datum given as plain JSON is encoded as Avro's binary encoding.
// Avro C, a producer's library, is the reference: it must read the bytes back to the same data;
// and the JSON Causeway shows partners (avro_json.h) must encode back to the same bytes.

#include "schema/avro_from_json.h"
#include "schema/avro_json.h"
#include "schema/avro_model.h"
#include "tests/support/avro_support.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <string>

namespace causeway::schema {
namespace {

using ::testing::HasSubstr;

const char* const kOrder = R"({"type": "record", "name": "Order", "namespace": "shop", "fields": [
  {"name": "id", "type": "string"},
  {"name": "qty", "type": "int"},
  {"name": "total", "type": "long", "default": -7},
  {"name": "price", "type": "double"},
  {"name": "ratio", "type": "float", "default": 0.5},
  {"name": "paid", "type": "boolean", "default": false},
  {"name": "note", "type": ["null", "string"], "default": null},
  {"name": "amount", "type": ["null", "long", "double"], "default": null},
  {"name": "state", "type": {"type": "enum", "name": "State", "symbols": ["NEW", "SHIPPED"]},
   "default": "NEW"},
  {"name": "digest", "type": {"type": "fixed", "name": "Digest", "size": 2}},
  {"name": "blob", "type": "bytes", "default": "\u0001"},
  {"name": "lines", "type": {"type": "array", "items": {"type": "record", "name": "Line",
    "fields": [{"name": "sku", "type": "string"}, {"name": "n", "type": "int"}]}},
   "default": []},
  {"name": "attrs", "type": {"type": "map", "values": "string"}, "default": {}},
  {"name": "parent", "type": ["null", "Order"], "default": null}]})";

class AvroFromJsonTest : public ::testing::Test {
protected:
  void SetUp() override {
    auto model = AvroModel::parse(kOrder);
    ASSERT_TRUE(model) << model.error().message;
    model_ = *model;
    auto shape = AvroJsonShape::make(model_, nullptr);
    ASSERT_TRUE(shape) << shape.error().message;
    shape_ = *shape;
  }

  Result<std::string> encode(const std::string& json) {
    std::string out;
    if (auto encoded = appendAvroFromJson(model_->root(), nlohmann::json::parse(json), out);
        !encoded) {
      return Error{encoded.message()};
    }
    return out;
  }

  std::string shown(const std::string& bytes) {
    std::string json;
    std::string problem;
    EXPECT_TRUE(shape_->append(bytes, json, problem)) << problem;
    return json;
  }

  AvroModelPtr model_;
  std::shared_ptr<const AvroJsonShape> shape_;
};

TEST_F(AvroFromJsonTest, AvroCReadsTheDatumBackAndCausewaysJsonOfItEncodesToTheSameBytes) {
  const std::string sample = R"({"id": "o-1", "qty": 3, "total": 9000000000, "price": 12.25,
    "ratio": 0.25, "paid": true, "note": "gift", "amount": 42, "state": "SHIPPED",
    "digest": "q80=", "blob": "AAEC", "lines": [{"sku": "a", "n": 1}, {"sku": "b", "n": -2}],
    "attrs": {"k": "v"}, "parent": {"id": "o-0", "qty": 1, "price": 1.5, "digest": "AAA=",
    "amount": 2.5}})";
  auto bytes = encode(sample);
  ASSERT_TRUE(bytes) << bytes.error().message;

  const auto avro_c = testing::readAvroJson(kOrder, *bytes);
  ASSERT_TRUE(avro_c.has_value()) << "Avro C cannot read the datum";
  const auto read = nlohmann::json::parse(*avro_c);
  EXPECT_EQ(read["id"], "o-1");
  EXPECT_EQ(read["total"], 9000000000LL);
  EXPECT_EQ(read["note"], nlohmann::json({{"string", "gift"}}));
  EXPECT_EQ(read["amount"], nlohmann::json({{"long", 42}}));  // an integer: the long branch
  EXPECT_EQ(read["state"], "SHIPPED");
  EXPECT_EQ(read["digest"], "\u00ab\u00cd");  // Avro C's JSON: bytes as code points
  EXPECT_EQ(read["lines"][1]["n"], -2);
  EXPECT_EQ(read["parent"]["Order"]["amount"], nlohmann::json({{"double", 2.5}}));
  // Fields the parent leaves out take their defaults (a bytes default is code points).
  EXPECT_EQ(read["parent"]["Order"]["blob"], "\u0001");
  EXPECT_EQ(read["parent"]["Order"]["total"], -7);
  EXPECT_EQ(read["parent"]["Order"]["state"], "NEW");
  EXPECT_EQ(read["parent"]["Order"]["note"], nullptr);

  const std::string json = shown(*bytes);
  EXPECT_THAT(json, HasSubstr(R"("digest":"q80=","blob":"AAEC")"));
  auto again = encode(json);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(*again, *bytes);
}

TEST_F(AvroFromJsonTest, FloatsTakeTheNamesOfNotANumberAndTheInfinities) {
  auto bytes = encode(R"({"id": "x", "qty": 0, "price": "-Infinity", "ratio": "NaN",
    "digest": "AAA=", "amount": "Infinity"})");
  ASSERT_TRUE(bytes) << bytes.error().message;
  const std::string json = shown(*bytes);
  EXPECT_THAT(json, HasSubstr(R"("price":"-Infinity","ratio":"NaN")"));
  EXPECT_THAT(json, HasSubstr(R"("amount":"Infinity")"));
}

TEST_F(AvroFromJsonTest, AValueThatDoesNotFitIsNamedByItsPath) {
  struct Case {
    const char* json;
    const char* error;
  };
  const Case cases[] = {
      {R"({"id": "x", "qty": 2147483648, "price": 1, "digest": "AAA="})",
       "qty: expected an int (a 32-bit integer), not 2147483648"},
      {R"({"id": "x", "qty": 1, "price": 1, "digest": "AAAA"})",
       "digest: a fixed shop.Digest holds 2 bytes, and \"AAAA\" decodes to 3"},
      {R"({"id": "x", "qty": 1, "price": 1, "digest": "AAA=", "blob": "**"})",
       "blob: expected bytes (a standard base64 string), not \"**\""},
      {R"({"id": "x", "qty": 1, "price": 1, "digest": "AAA=", "state": "LOST"})",
       "state: expected a symbol of enum shop.State (NEW, SHIPPED), not \"LOST\""},
      {R"({"id": "x", "qty": 1, "price": 1, "digest": "AAA=", "lines": [{"sku": "a"}]})",
       "lines[0].n: missing, and the field has no default"},
      {R"({"id": "x", "qty": 1, "price": 1, "digest": "AAA=", "attrs": {"k": 1}})",
       "attrs[\"k\"]: expected a string, not 1"},
      {R"({"id": "x", "qty": 1, "price": 1, "digest": "AAA=", "colour": "red"})",
       "record shop.Order has no field \"colour\""},
      {R"({"id": "x", "qty": 1, "price": 1, "digest": "AAA=", "note": 5})",
       "note: no branch of the union [null, string] takes 5"},
      {R"({"id": "x", "qty": 1, "price": 1, "digest": "AAA=", "parent": {"id": 1}})",
       "parent.id: expected a string, not 1"},
      {R"([1])", "the value: expected an object (record shop.Order), not [1]"},
  };
  for (const Case& c : cases) {
    auto bytes = encode(c.json);
    ASSERT_FALSE(bytes) << c.json;
    EXPECT_THAT(bytes.error().message, HasSubstr(c.error)) << c.json;
  }
}

TEST_F(AvroFromJsonTest, ValuesNestedBeyondTheLimitAreRefused) {
  std::string json = R"({"id": "x", "qty": 1, "price": 1, "digest": "AAA="})";
  for (int i = 0; i < 300; ++i) {
    json = R"({"id": "x", "qty": 1, "price": 1, "digest": "AAA=", "parent": )" + json + "}";
  }
  auto bytes = encode(json);
  ASSERT_FALSE(bytes);
  EXPECT_THAT(bytes.error().message, HasSubstr("nested deeper than 256 levels"));
}

}  // namespace
}  // namespace causeway::schema
