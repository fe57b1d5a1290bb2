// Avro contracts: real Avro bytes written with Avro C, checked against writer and contract
// schemas, with schema evolution (compatible and not), references and broken payloads.

#include "config/domains.h"
#include "schema/avro_model.h"
#include "schema/avro_json_schema.h"
#include "schema/avro_validator.h"
#include "schema/json_schema.h"
#include "tests/support/avro_support.h"

#include <avro.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <string>

namespace causeway::schema {
namespace {

using config::Compatibility;
using ::testing::HasSubstr;

const std::string kPaymentV1 = R"({
  "type": "record", "name": "Payment", "namespace": "com.acme.payments",
  "fields": [
    {"name": "id", "type": "string"},
    {"name": "amount", "type": "double"},
    {"name": "items", "type": {"type": "array", "items": {
      "type": "record", "name": "Item",
      "fields": [{"name": "sku", "type": "string"}, {"name": "quantity", "type": "int"}]}}},
    {"name": "status", "type": {"type": "enum", "name": "Status",
                                "symbols": ["AUTHORIZED", "SETTLED", "REFUSED"]}},
    {"name": "note", "type": ["null", "string"], "default": null}
  ]})";

// v2 adds a field with a default: data written with v1 reads as v2 (backward compatible).
const std::string kPaymentV2 = R"({
  "type": "record", "name": "Payment", "namespace": "com.acme.payments",
  "fields": [
    {"name": "id", "type": "string"},
    {"name": "amount", "type": "double"},
    {"name": "items", "type": {"type": "array", "items": {
      "type": "record", "name": "Item",
      "fields": [{"name": "sku", "type": "string"}, {"name": "quantity", "type": "long"}]}}},
    {"name": "status", "type": {"type": "enum", "name": "Status",
                                "symbols": ["AUTHORIZED", "SETTLED", "REFUSED"]}},
    {"name": "note", "type": ["null", "string"], "default": null},
    {"name": "currency", "type": "string", "default": "EUR"}
  ]})";

// v3 adds a field without a default: v1 data cannot be read as v3.
const std::string kPaymentV3 = R"({
  "type": "record", "name": "Payment", "namespace": "com.acme.payments",
  "fields": [
    {"name": "id", "type": "string"},
    {"name": "amount", "type": "double"},
    {"name": "merchant", "type": "string"}
  ]})";

ResolvedSchema avro(const std::string& text) {
  return ResolvedSchema{Schema{SchemaType::kAvro, text, {}, {}, {}}, {}};
}

using causeway::testing::writeAvro;

void setString(avro_value_t& record, const char* field, const char* text) {
  avro_value_t child;
  ASSERT_EQ(avro_value_get_by_name(&record, field, &child, nullptr), 0) << field;
  avro_value_set_string(&child, text);
}

// A v1 payment with `items` line items.
std::string paymentV1(int items, const char* note = nullptr) {
  return writeAvro(kPaymentV1, [&](avro_value_t& payment) {
    setString(payment, "id", "pay-0001");
    avro_value_t field;
    avro_value_get_by_name(&payment, "amount", &field, nullptr);
    avro_value_set_double(&field, 42.5);
    avro_value_get_by_name(&payment, "items", &field, nullptr);
    for (int i = 0; i < items; ++i) {
      avro_value_t item;
      avro_value_append(&field, &item, nullptr);
      setString(item, "sku", "SKU-123");
      avro_value_t quantity;
      avro_value_get_by_name(&item, "quantity", &quantity, nullptr);
      avro_value_set_int(&quantity, i + 1);
    }
    avro_value_get_by_name(&payment, "status", &field, nullptr);
    avro_value_set_enum(&field, 1);
    avro_value_get_by_name(&payment, "note", &field, nullptr);
    avro_value_t branch;
    if (note == nullptr) {
      avro_value_set_branch(&field, 0, &branch);
      avro_value_set_null(&branch);
    } else {
      avro_value_set_branch(&field, 1, &branch);
      avro_value_set_string(&branch, note);
    }
  });
}

ValidatorPtr compile(const std::string& writer, const std::string* reader,
                     Compatibility compatibility = Compatibility::kBackward) {
  const ResolvedSchema w = avro(writer);
  const ResolvedSchema r = avro(reader ? *reader : writer);
  auto validator = compileAvroValidator(w, reader ? &r : nullptr, compatibility);
  EXPECT_TRUE(validator.ok()) << (validator.ok() ? "" : validator.error().message);
  return validator.ok() ? *validator : nullptr;
}

bool check(const Validator& validator, std::string_view payload, Violation& violation) {
  ValidationScratch scratch;
  return validator.validate(payload, MessageIndexes{}, scratch, violation);
}

TEST(SchemaAvro, RecordWrittenByAvroCPassesItsOwnSchema) {
  auto validator = compile(kPaymentV1, &kPaymentV1);
  ASSERT_NE(validator, nullptr);
  ValidationScratch scratch;
  Violation violation;
  for (int items : {0, 1, 7}) {
    EXPECT_TRUE(validator->validate(paymentV1(items, items ? "gift" : nullptr), MessageIndexes{},
                                    scratch, violation))
        << violation.describe("value");
  }
}

TEST(SchemaAvro, TruncatedPayloadNamesTheFieldItStoppedIn) {
  auto validator = compile(kPaymentV1, nullptr);
  const std::string payload = paymentV1(3);
  Violation violation;
  // Cut inside the amount (bytes 9..16: the id is 1 + 8 bytes).
  EXPECT_FALSE(check(*validator, payload.substr(0, 12), violation));
  EXPECT_EQ(violation.describe("value"), "value.amount: truncated: a double needs 8 bytes, 3 left");
  // Cut inside the third item's sku.
  const size_t cut = payload.size() - 6;
  EXPECT_FALSE(check(*validator, payload.substr(0, cut), violation));
  EXPECT_EQ(violation.path, "items[2].sku") << violation.message;
  EXPECT_THAT(violation.message, HasSubstr("truncated"));
}

TEST(SchemaAvro, TrailingBytesAreRefused) {
  auto validator = compile(kPaymentV1, nullptr);
  Violation violation;
  EXPECT_FALSE(check(*validator, paymentV1(1) + "xyz", violation));
  EXPECT_EQ(violation.path, "");
  EXPECT_THAT(violation.message, HasSubstr("3 bytes after the end"));
}

TEST(SchemaAvro, BadEnumAndUnionIndexesNameTheirFields) {
  auto validator = compile(kPaymentV1, nullptr);
  std::string payload = paymentV1(0);
  // Layout: id (1 + 8), amount (8), items (1: empty), status (1), note (1: branch 0).
  ASSERT_EQ(payload.size(), 20u);
  Violation violation;
  std::string bad_enum = payload;
  bad_enum[18] = 0x0a;  // zig-zag 5
  EXPECT_FALSE(check(*validator, bad_enum, violation));
  EXPECT_EQ(violation.describe("value"), "value.status: enum index 5 outside the 3 symbols");
  std::string bad_union = payload;
  bad_union[19] = 0x06;  // branch 3
  EXPECT_FALSE(check(*validator, bad_union, violation));
  EXPECT_EQ(violation.describe("value"), "value.note: union branch 3 outside the 2 branches");
}

TEST(SchemaAvro, HugeLengthsAreRefusedWithoutAllocating) {
  auto validator =
      compile(R"({"type":"record","name":"R","fields":[{"name":"s","type":"string"}]})", nullptr);
  // A string of 2^42 bytes announced in a 7-byte record.
  const std::string payload("\x80\x80\x80\x80\x80\x80\x02", 7);
  Violation violation;
  EXPECT_FALSE(check(*validator, payload, violation));
  EXPECT_EQ(violation.path, "s");
  EXPECT_THAT(violation.message,
              HasSubstr("truncated: a string needs 4398046511104 bytes, 0 left"));
  // An array block of a billion items in a few bytes.
  auto array = compile(R"({"type":"array","items":"long"})", nullptr);
  EXPECT_FALSE(check(*array, std::string("\x80\xa8\xd6\xb9\x07", 5), violation));
  EXPECT_THAT(violation.message, HasSubstr("items in 0 remaining bytes"));
}

TEST(SchemaAvro, StringsMustBeUtf8) {
  auto validator = compile(R"("string")", nullptr);
  Violation violation;
  EXPECT_FALSE(check(*validator, std::string("\x04\xff\xfe", 3), violation));
  EXPECT_EQ(violation.message, "a string that is not UTF-8");
  EXPECT_TRUE(check(*validator, std::string("\x06\xc3\xa9t", 4), violation));
}

TEST(SchemaAvro, CompatibleEvolutionResolvesBothWays) {
  // v1 data read with v2: the new field has a default, int items promote to long.
  EXPECT_NE(compile(kPaymentV1, &kPaymentV2, Compatibility::kBackward), nullptr);
  // v2 data read with v1: v1 ignores the new field... but long does not read as int.
  const ResolvedSchema v2 = avro(kPaymentV2);
  auto forward = compileAvroValidator(avro(kPaymentV1), &v2, Compatibility::kForward);
  ASSERT_FALSE(forward.ok());
  EXPECT_THAT(forward.error().message, HasSubstr("items[].quantity"));
  EXPECT_THAT(forward.error().message, HasSubstr("long cannot be read as int"));
}

TEST(SchemaAvro, IncompatibleEvolutionIsRefusedWithTheField) {
  const ResolvedSchema reader = avro(kPaymentV3);
  auto backward = compileAvroValidator(avro(kPaymentV1), &reader, Compatibility::kBackward);
  ASSERT_FALSE(backward.ok());
  EXPECT_THAT(backward.error().message, HasSubstr("the contract's schema cannot read it"));
  EXPECT_THAT(backward.error().message,
              HasSubstr("merchant: the reader's field is not in the writer's schema and has no "
                        "default"));
  // With compatibility none anything the writer wrote is decoded with its own schema.
  EXPECT_TRUE(compileAvroValidator(avro(kPaymentV1), &reader, Compatibility::kNone).ok());
  const ResolvedSchema renamed = avro(R"({"type":"record","name":"Refund","fields":[]})");
  auto other = compileAvroValidator(avro(kPaymentV1), &renamed, Compatibility::kBackward);
  ASSERT_FALSE(other.ok());
  EXPECT_THAT(other.error().message, HasSubstr("cannot be read as record Refund"));
}

TEST(SchemaAvro, ReferencedNamedTypesAreInlinedForAvroC) {
  const std::string money =
      R"({"type":"record","name":"Money","namespace":"com.acme","fields":[
           {"name":"units","type":"long"},{"name":"currency","type":"string"}]})";
  const std::string order =
      R"({"type":"record","name":"Order","namespace":"com.acme","fields":[
           {"name":"total","type":"Money"},{"name":"fee","type":"com.acme.Money"}]})";
  ResolvedSchema writer = avro(order);
  writer.references.emplace_back("com.acme.Money", Schema{SchemaType::kAvro, money, {}, {}, {}});
  auto model = parseAvro(writer);
  ASSERT_TRUE(model.ok()) << model.error().message;
  EXPECT_EQ((*model)->canonical(),
            R"({"name":"com.acme.Order","type":"record","fields":[{"name":"total","type":)"
            R"({"name":"com.acme.Money","type":"record","fields":[{"name":"units","type":"long"},)"
            R"({"name":"currency","type":"string"}]}},{"name":"fee","type":"com.acme.Money"}]})");
  auto validator = compileAvroValidator(writer, &writer, Compatibility::kBackward);
  ASSERT_TRUE(validator.ok()) << validator.error().message;
  const std::string payload = writeAvro((*model)->canonical(), [](avro_value_t& order) {
    for (const char* name : {"total", "fee"}) {
      avro_value_t money;
      avro_value_get_by_name(&order, name, &money, nullptr);
      avro_value_t field;
      avro_value_get_by_name(&money, "units", &field, nullptr);
      avro_value_set_long(&field, 1999);
      setString(money, "currency", "EUR");
    }
  });
  Violation violation;
  EXPECT_TRUE(check(**validator, payload, violation)) << violation.describe("value");
  // Without the reference the name is unknown.
  auto missing = compileAvroValidator(avro(order), nullptr, Compatibility::kNone);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error().message, HasSubstr("unknown type 'Money'"));
}

TEST(SchemaAvro, RecursiveSchemasAndMaps) {
  const std::string list = R"({"type":"record","name":"Node","fields":[
      {"name":"attrs","type":{"type":"map","values":"int"}},
      {"name":"next","type":["null","Node"]}]})";
  auto validator = compile(list, &list);
  const std::string payload = writeAvro(list, [](avro_value_t& node) {
    avro_value_t attrs, entry, next, branch;
    avro_value_get_by_name(&node, "attrs", &attrs, nullptr);
    avro_value_add(&attrs, "a", &entry, nullptr, nullptr);
    avro_value_set_int(&entry, 1);
    avro_value_get_by_name(&node, "next", &next, nullptr);
    avro_value_set_branch(&next, 1, &branch);
    avro_value_get_by_name(&branch, "attrs", &attrs, nullptr);
    avro_value_add(&attrs, "b", &entry, nullptr, nullptr);
    avro_value_set_int(&entry, 2);
    avro_value_get_by_name(&branch, "next", &next, nullptr);
    avro_value_set_branch(&next, 0, &branch);
  });
  Violation violation;
  ASSERT_TRUE(check(*validator, payload, violation)) << violation.describe("value");
  EXPECT_FALSE(check(*validator, payload.substr(0, payload.size() - 3), violation));
  EXPECT_EQ(violation.path, "next.attrs[0]") << violation.message;
}

// A record that holds itself on every path has no finite datum. Accepted, an array of them
// would walk as items of no bytes (65,536 in a handful of bytes), each a datum no decoder ends.
TEST(SchemaAvro, ARecordThatCanOnlyHoldItselfIsRefused) {
  for (const char* schema : {
           R"({"type":"record","name":"Loop","fields":[{"name":"self","type":"Loop"}]})",
           R"({"type":"record","name":"A","fields":[{"name":"n","type":"null"},
               {"name":"b","type":{"type":"record","name":"B","fields":[
                 {"name":"a","type":["A"]}]}}]})",
           R"({"type":"array","items":{"type":"record","name":"L","fields":[
               {"name":"x","type":"long"},{"name":"next","type":"L"}]}})"}) {
    auto model = AvroModel::parse(schema);
    ASSERT_FALSE(model.ok()) << schema;
    EXPECT_THAT(model.error().message, HasSubstr("holds itself on every path")) << schema;
  }
  // A way out (a null branch, an array, a map) makes it finite.
  for (const char* schema : {
           R"({"type":"record","name":"L","fields":[{"name":"next","type":["null","L"]}]})",
           R"({"type":"record","name":"T","fields":[{"name":"kids","type":{"type":"array",
               "items":"T"}}]})",
           R"({"type":"record","name":"M","fields":[{"name":"m","type":{"type":"map",
               "values":"M"}}]})"}) {
    EXPECT_TRUE(AvroModel::parse(schema).ok()) << schema;
  }
}

TEST(SchemaAvro, SchemasThatDoNotParseAreReported) {
  auto bad =
      compileAvroValidator(avro(R"({"type":"record","fields":[]})"), nullptr, Compatibility::kNone);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error().message, HasSubstr("without a \"name\""));
  EXPECT_FALSE(compileAvroValidator(avro("not json"), nullptr, Compatibility::kNone).ok());
  EXPECT_FALSE(
      compileAvroValidator(avro(R"(["int",["long"]])"), nullptr, Compatibility::kNone).ok());
}

// What partners read (schema/avro_json.h): the record's data as plain JSON, unions unwrapped.
std::string asJson(const Validator& validator, std::string_view payload) {
  ValidationScratch scratch;
  Violation violation;
  EXPECT_TRUE(validator.validate(payload, MessageIndexes{}, scratch, violation))
      << violation.describe("value");
  std::string out;
  EXPECT_TRUE(validator.toJson(payload, MessageIndexes{}, scratch, out, violation))
      << violation.describe("value");
  return out;
}

TEST(SchemaAvro, DatumsDecodeToPlainJson) {
  auto validator = compile(kPaymentV1, &kPaymentV1);
  ASSERT_NE(validator, nullptr);
  EXPECT_EQ(asJson(*validator, paymentV1(2, "say \"hi\"")),
            R"({"id":"pay-0001","amount":42.5,"items":[{"sku":"SKU-123","quantity":1},)"
            R"({"sku":"SKU-123","quantity":2}],"status":"SETTLED","note":"say \"hi\""})");
  EXPECT_EQ(asJson(*validator, paymentV1(0)),
            R"({"id":"pay-0001","amount":42.5,"items":[],"status":"SETTLED","note":null})");
}

TEST(SchemaAvro, BytesFixedMapsAndSpecialNumbersHaveAJsonForm) {
  const std::string schema = R"({"type": "record", "name": "Blob", "fields": [
    {"name": "raw", "type": "bytes"},
    {"name": "digest", "type": {"type": "fixed", "name": "Digest", "size": 3}},
    {"name": "counts", "type": {"type": "map", "values": "long"}},
    {"name": "ratio", "type": "float"},
    {"name": "score", "type": "double"},
    {"name": "flag", "type": "boolean"}]})";
  auto validator = compile(schema, nullptr);
  ASSERT_NE(validator, nullptr);
  const std::string bytes = writeAvro(schema, [](avro_value_t& blob) {
    avro_value_t field;
    avro_value_get_by_name(&blob, "raw", &field, nullptr);
    avro_value_set_bytes(&field, const_cast<char*>("\x00\xff\x10"), 3);
    avro_value_get_by_name(&blob, "digest", &field, nullptr);
    avro_value_set_fixed(&field, const_cast<char*>("abc"), 3);
    avro_value_get_by_name(&blob, "counts", &field, nullptr);
    avro_value_t entry;
    avro_value_add(&field, "minus", &entry, nullptr, nullptr);
    avro_value_set_long(&entry, -9007199254740993);
    avro_value_get_by_name(&blob, "ratio", &field, nullptr);
    avro_value_set_float(&field, std::numeric_limits<float>::quiet_NaN());
    avro_value_get_by_name(&blob, "score", &field, nullptr);
    avro_value_set_double(&field, -std::numeric_limits<double>::infinity());
    avro_value_get_by_name(&blob, "flag", &field, nullptr);
    avro_value_set_boolean(&field, 1);
  });
  EXPECT_EQ(asJson(*validator, bytes),
            R"({"raw":"AP8Q","digest":"YWJj","counts":{"minus":-9007199254740993},)"
            R"("ratio":"NaN","score":"-Infinity","flag":true})");
}

TEST(SchemaAvro, ManyItemsOfNoBytesAreRefused) {
  // 100000 nulls take four bytes in Avro; Avro C would allocate each, JSON would spell each.
  auto validator = compile(R"({"type": "array", "items": "null"})", nullptr);
  ASSERT_NE(validator, nullptr);
  Violation violation;
  EXPECT_FALSE(check(*validator, std::string("\xc0\x9a\x0c\x00", 4), violation));
  EXPECT_THAT(violation.message, HasSubstr("items that take no bytes"));
  // The budget is per datum, not per array: 2 x 40000 nested nulls are refused too.
  auto nested = compile(R"({"type": "array", "items": {"type": "array", "items": "null"}})",
                        nullptr);
  ASSERT_NE(nested, nullptr);
  // outer block of 2 items, each an inner block of 40000 nulls
  const std::string inner("\x80\xf1\x04\x00", 4);
  EXPECT_FALSE(check(*nested, "\x04" + inner + inner + std::string(1, '\0'), violation));
  EXPECT_THAT(violation.message, HasSubstr("items that take no bytes"));
  EXPECT_TRUE(check(*nested, "\x02" + inner + std::string(1, '\0'), violation))
      << violation.message;
}

TEST(SchemaAvro, JsonHasTheContractsShape) {
  // v1 data read as v2 (the contract): the new field's default, quantities promoted to long.
  auto validator = compile(kPaymentV1, &kPaymentV2);
  ASSERT_NE(validator, nullptr);
  EXPECT_EQ(asJson(*validator, paymentV1(1)),
            R"({"id":"pay-0001","amount":42.5,"items":[{"sku":"SKU-123","quantity":1}],)"
            R"("status":"SETTLED","note":null,"currency":"EUR"})");
  // A field the contract renamed (its alias is the writer's name) has the contract's name; a
  // field only the writer has is left out, so a policy on the contract's fields sees them all.
  const std::string writer = R"({"type": "record", "name": "Person", "fields": [
    {"name": "social_security", "type": "string"},
    {"name": "internal", "type": {"type": "map", "values": "string"}},
    {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "NEW"]}},
    {"name": "age", "type": "int"}]})";
  const std::string contract = R"({"type": "record", "name": "Person", "fields": [
    {"name": "age", "type": ["null", "double"]},
    {"name": "ssn", "type": "string", "aliases": ["social_security"]},
    {"name": "kind", "type": {"type": "enum", "name": "Kind", "symbols": ["A", "OTHER"],
                              "default": "OTHER"}},
    {"name": "blob", "type": "bytes", "default": "\u00ff\u0001"},
    {"name": "tags", "type": {"type": "array", "items": "string"}, "default": ["x"]}]})";
  auto renamed = compile(writer, &contract);
  ASSERT_NE(renamed, nullptr);
  const std::string bytes = writeAvro(writer, [](avro_value_t& person) {
    setString(person, "social_security", "123-45-6789");
    avro_value_t field;
    avro_value_get_by_name(&person, "internal", &field, nullptr);
    avro_value_t entry;
    avro_value_add(&field, "secret", &entry, nullptr, nullptr);
    avro_value_set_string(&entry, "hidden");
    avro_value_get_by_name(&person, "kind", &field, nullptr);
    avro_value_set_enum(&field, 1);
    avro_value_get_by_name(&person, "age", &field, nullptr);
    avro_value_set_int(&field, 41);
  });
  EXPECT_EQ(asJson(*renamed, bytes),
            R"({"ssn":"123-45-6789","kind":"OTHER","age":41,"blob":"/wE=","tags":["x"]})");
}

TEST(SchemaAvro, UnionBranchesAreReadAsTheSameTypeBeforeAPromotion) {
  // bytes that are not UTF-8 in a ["string", "bytes"] union: the bytes branch, base64.
  auto validator = compile(R"(["string", "bytes"])", nullptr);
  ASSERT_NE(validator, nullptr);
  EXPECT_EQ(asJson(*validator, std::string("\x02\x02\xff", 3)), R"("/w==")");
  // A string read through a contract union that also has bytes stays a string.
  const std::string contract = R"(["null", "bytes", "string"])";
  auto widened = compile(R"(["null", "string"])", &contract);
  ASSERT_NE(widened, nullptr);
  EXPECT_EQ(asJson(*widened, std::string("\x02\x04hi", 4)), R"("hi")");
}

TEST(SchemaAvro, WithoutBackwardCompatibilityTheWritersShapeIsUsed) {
  // The contract lacks BLUE and has no default; with compatibility none it was never checked
  // to read the writer's schema, so the writer's shape is what partners get.
  const std::string writer =
      R"({"type": "enum", "name": "C", "symbols": ["RED", "BLUE"]})";
  const std::string contract = R"({"type": "enum", "name": "C", "symbols": ["RED"]})";
  auto validator = compile(writer, &contract, Compatibility::kNone);
  ASSERT_NE(validator, nullptr);
  EXPECT_EQ(asJson(*validator, std::string("\x02", 1)), R"("BLUE")");
}

TEST(SchemaAvro, TheJsonSchemaOfItsJsonFormDescribesWhatStreamsSend) {
  const std::string schema = R"({"type": "record", "name": "Tree", "namespace": "t", "fields": [
    {"name": "label", "type": ["null", "string"]},
    {"name": "weight", "type": "float"},
    {"name": "digest", "type": {"type": "fixed", "name": "D", "size": 4}},
    {"name": "kind", "type": {"type": "enum", "name": "K", "symbols": ["LEAF", "NODE"]}},
    {"name": "attributes", "type": {"type": "map", "values": "long"}},
    {"name": "children", "type": {"type": "array", "items": "Tree"}}]})";
  auto model = AvroModel::parse(schema);
  ASSERT_TRUE(model.ok()) << model.error().message;
  const std::string json_schema = avroJsonSchema(**model);
  auto compiled = JsonSchema::compile(json_schema);
  ASSERT_TRUE(compiled.ok()) << compiled.error().message << "\n" << json_schema;
  auto json_validator = makeJsonValidator(*compiled);
  auto avro_validator = compile(schema, nullptr);
  ASSERT_NE(avro_validator, nullptr);
  // A tree of two levels as Avro C writes it, then as streams send it.
  const std::string bytes = writeAvro(schema, [](avro_value_t& tree) {
    avro_value_t field, branch, child, entry;
    avro_value_get_by_name(&tree, "label", &field, nullptr);
    avro_value_set_branch(&field, 1, &branch);
    avro_value_set_string(&branch, "root");
    avro_value_get_by_name(&tree, "weight", &field, nullptr);
    avro_value_set_float(&field, std::numeric_limits<float>::infinity());
    avro_value_get_by_name(&tree, "digest", &field, nullptr);
    avro_value_set_fixed(&field, const_cast<char*>("abcd"), 4);
    avro_value_get_by_name(&tree, "kind", &field, nullptr);
    avro_value_set_enum(&field, 1);
    avro_value_get_by_name(&tree, "attributes", &field, nullptr);
    avro_value_add(&field, "depth", &entry, nullptr, nullptr);
    avro_value_set_long(&entry, 2);
    avro_value_get_by_name(&tree, "children", &field, nullptr);
    avro_value_append(&field, &child, nullptr);
    avro_value_get_by_name(&child, "label", &entry, nullptr);
    avro_value_set_branch(&entry, 0, &branch);
    avro_value_set_null(&branch);
    avro_value_get_by_name(&child, "digest", &entry, nullptr);
    avro_value_set_fixed(&entry, const_cast<char*>("efgh"), 4);
  });
  const std::string json = asJson(*avro_validator, bytes);
  ValidationScratch scratch;
  Violation violation;
  EXPECT_TRUE(json_validator->validate(json, MessageIndexes{}, scratch, violation))
      << violation.describe("value") << "\n" << json << "\n" << json_schema;
  // ... and it is not a schema that takes anything.
  const std::string wrong = R"({"label": 7, "weight": 1, "digest": "YWJjZA==", "kind": "LEAF",
                                "attributes": {}, "children": []})";
  EXPECT_FALSE(json_validator->validate(wrong, MessageIndexes{}, scratch, violation));
  EXPECT_THAT(violation.describe("value"), HasSubstr("label"));
}

}  // namespace
}  // namespace causeway::schema
