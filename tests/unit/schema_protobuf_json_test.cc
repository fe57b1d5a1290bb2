// The Protobuf JSON printer of partner streams (schema/protobuf_json.h) against protobuf's own
// (MessageToJsonString with the .proto's field names): the same JSON value for messages with
// every field kind, and which messages it leaves to protobuf's printer. And the JSON Schema of
// that JSON (schema/protobuf_json_schema.h, the products listing): what streams send fits it.

#include "config/domains.h"
#include "schema/json_schema.h"
#include "schema/proto_source.h"
#include "schema/protobuf_json.h"
#include "schema/protobuf_json_schema.h"
#include "schema/protobuf_validator.h"

#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <memory>

namespace causeway::schema {
namespace {

namespace pb = google::protobuf;

constexpr std::string_view kProto = R"(syntax = "proto3";
package acme;
enum Kind { KIND_UNSPECIFIED = 0; CARD = 1; WIRE = 2; }
message Line { string sku = 1; int32 quantity = 2; bytes blob = 3; }
message Everything {
  int32 i32 = 1; int64 i64 = 2; uint32 u32 = 3; uint64 u64 = 4; sint32 s32 = 5; sint64 s64 = 6;
  fixed32 f32 = 7; fixed64 f64 = 8; sfixed32 sf32 = 9; sfixed64 sf64 = 10;
  float fl = 11; double db = 12; bool flag = 13; string text = 14; bytes data = 15;
  Kind kind = 16; Line line = 17; repeated Line lines = 18; repeated int64 longs = 19;
  repeated double doubles = 20; map<string, Line> by_sku = 21; map<int64, string> by_id = 22;
  map<bool, int32> by_flag = 23; optional int32 maybe = 24; repeated Kind kinds = 25;
  oneof choice { string name = 26; Line other = 27; }
  Everything nested = 28; repeated bytes blobs = 29;
}
message WithTime { int64 id = 1; Stamp at = 2; }
message Stamp { int64 seconds = 1; }
)";

constexpr std::string_view kWellKnown = R"(syntax = "proto3";
package acme;
import "google/protobuf/timestamp.proto";
message Stamped { google.protobuf.Timestamp at = 1; }
)";

class ProtobufJson : public ::testing::Test {
protected:
  void SetUp() override {
    pb::FileDescriptorProto file;
    std::vector<ProtoSyntaxError> errors;
    ASSERT_TRUE(parseProtoText("acme.proto", kProto, file, errors));
    ASSERT_NE(pool_.BuildFile(file), nullptr);
    factory_ = std::make_unique<pb::DynamicMessageFactory>(&pool_);
  }

  std::unique_ptr<pb::Message> message(const std::string& name, const std::string& text) {
    const pb::Descriptor* descriptor = pool_.FindMessageTypeByName(name);
    EXPECT_NE(descriptor, nullptr);
    std::unique_ptr<pb::Message> out(factory_->GetPrototype(descriptor)->New());
    EXPECT_TRUE(pb::TextFormat::ParseFromString(text, out.get())) << text;
    return out;
  }

  // Both printers' JSON of `text`, parsed.
  void expectSameJson(const std::string& text) {
    auto parsed = message("acme.Everything", text);
    std::string ours = "prefix:";
    ProtobufJsonScratch scratch;
    ASSERT_EQ(appendProtobufJson(*parsed, ours, 1u << 20, scratch), ProtobufJsonResult::kOk);
    ASSERT_EQ(ours.substr(0, 7), "prefix:");
    std::string theirs;
    pb::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    ASSERT_TRUE(pb::util::MessageToJsonString(*parsed, &theirs, options).ok());
    EXPECT_EQ(nlohmann::json::parse(ours.substr(7)), nlohmann::json::parse(theirs))
        << "ours:   " << ours.substr(7) << "\ntheirs: " << theirs;
  }

  pb::DescriptorPool pool_;
  std::unique_ptr<pb::DynamicMessageFactory> factory_;
};

TEST_F(ProtobufJson, EveryFieldKindPrintsAsProtobufsPrinterDoes) {
  expectSameJson("");
  expectSameJson("i32: -7 i64: -9007199254740993 u32: 4294967295 u64: 18446744073709551615 "
                 "s32: -2147483648 s64: -9223372036854775808 f32: 7 f64: 8 sf32: -9 sf64: -10");
  expectSameJson("fl: 0.1 db: 1e+300 flag: true text: 'caf\\303\\251 \"q\" \\\\ \\n\\001' "
                 "data: '\\000\\377ab' kind: WIRE");
  expectSameJson("fl: nan db: -inf doubles: [inf, -0.0, 2.5e-308, nan] longs: [1, -2, 0]");
  // A float's shortest text is another double than protobuf's 9 digits ("1.23456776").
  for (const char* fl : {"1.2345678", "3.4028235e38", "1e-45", "1.17549435e-38", "1.1754942e-38",
                         "16777217", "0.3", "-2.5e-7"}) {
    expectSameJson(std::string("fl: ") + fl);
  }
  expectSameJson("line {sku: 'a' quantity: 2 blob: 'xyz'} lines {} lines {sku: 'b'} "
                 "kinds: [CARD, KIND_UNSPECIFIED, 7] kind: 42");
  expectSameJson("by_sku {key: 'k1' value {quantity: 1}} by_sku {key: '' value {}} "
                 "by_id {key: -5 value: 'minus'} by_id {key: 9 value: ''} "
                 "by_flag {key: true value: 1} by_flag {key: false value: 0}");
  expectSameJson("maybe: 0 name: ''");
  expectSameJson("other {sku: 'o'} nested {nested {i64: 1 blobs: ['', 'a', 'ab', 'abc']}}");
}

TEST_F(ProtobufJson, StopsAtItsLimitAndAtProtobufsDepth) {
  auto parsed = message("acme.Everything", "text: '" + std::string(200, 'x') + "'");
  std::string out;
  ProtobufJsonScratch scratch;
  EXPECT_EQ(appendProtobufJson(*parsed, out, 100, scratch), ProtobufJsonResult::kTooLarge);
  out.clear();
  EXPECT_EQ(appendProtobufJson(*parsed, out, 300, scratch), ProtobufJsonResult::kOk);
  // protobuf's printer refuses messages nested more than 64 deep: so does this one.
  auto nested = [&](size_t depth) {
    std::string text = "i32: 1";
    for (size_t i = 0; i < depth; ++i) {
      text = "nested {" + text + "}";
    }
    return message("acme.Everything", text);
  };
  out.clear();
  EXPECT_EQ(appendProtobufJson(*nested(64), out, 1u << 20, scratch), ProtobufJsonResult::kOk);
  std::string theirs;
  pb::util::JsonPrintOptions options;
  EXPECT_TRUE(pb::util::MessageToJsonString(*nested(64), &theirs, options).ok());
  out.clear();
  EXPECT_EQ(appendProtobufJson(*nested(65), out, 1u << 20, scratch), ProtobufJsonResult::kTooDeep);
  EXPECT_FALSE(pb::util::MessageToJsonString(*nested(65), &theirs, options).ok());
}

TEST_F(ProtobufJson, WellKnownTypesAreLeftToProtobufsPrinter) {
  EXPECT_TRUE(protobufJsonCovers(*pool_.FindMessageTypeByName("acme.Everything")));
  EXPECT_TRUE(protobufJsonCovers(*pool_.FindMessageTypeByName("acme.WithTime")));
  pb::DescriptorPool pool(pb::DescriptorPool::generated_pool());
  pb::FileDescriptorProto file;
  std::vector<ProtoSyntaxError> errors;
  ASSERT_TRUE(parseProtoText("stamped.proto", kWellKnown, file, errors));
  const pb::FileDescriptor* built = pool.BuildFile(file);
  ASSERT_NE(built, nullptr);
  EXPECT_FALSE(protobufJsonCovers(*built->FindMessageTypeByName("Stamped")));
  // A closed (proto2) enum keeps unknown numbers among the unknown fields, which protobuf's
  // printer shows; groups print in protobuf's own way: both stay with protobuf's printer.
  pb::FileDescriptorProto proto2;
  ASSERT_TRUE(parseProtoText("p2.proto",
                             "syntax = \"proto2\";\npackage p2;\nenum K { A = 0; B = 1; }\n"
                             "message WithEnum { optional K k = 1; }\n"
                             "message WithGroup { optional group G = 5 { optional int32 x = 1; } }\n"
                             "message Plain { optional int32 x = 1; }\n",
                             proto2, errors));
  const pb::FileDescriptor* p2 = pool.BuildFile(proto2);
  ASSERT_NE(p2, nullptr);
  EXPECT_FALSE(protobufJsonCovers(*p2->FindMessageTypeByName("WithEnum")));
  EXPECT_FALSE(protobufJsonCovers(*p2->FindMessageTypeByName("WithGroup")));
  EXPECT_TRUE(protobufJsonCovers(*p2->FindMessageTypeByName("Plain")));
}

constexpr std::string_view kListed = R"(syntax = "proto3";
package shop;
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";
enum State { NEW = 0; PAID = 1; }
message Order {
  int64 id = 1; uint32 items = 2; double total = 3; bytes digest = 4; State state = 5;
  repeated Order parts = 6; map<int32, string> notes = 7; google.protobuf.Timestamp at = 8;
  google.protobuf.Int64Value limit = 9; bool gift = 10;
  message Line { string sku = 1; }
  repeated Line lines = 11;
}
)";

// The JSON of a message as a partner stream sends it, through the validator (which picks the
// printer).
std::string streamJson(const ProtoFile& file, const std::string& text) {
  pb::DynamicMessageFactory factory(file.pool.get());
  std::unique_ptr<pb::Message> message(
      factory.GetPrototype(file.file->message_type(0))->New());
  EXPECT_TRUE(pb::TextFormat::ParseFromString(text, message.get())) << text;
  std::string bytes;
  EXPECT_TRUE(message->SerializeToString(&bytes));
  const ResolvedSchema schema{Schema{SchemaType::kProtobuf, std::string(kListed), {}, {}, {}}, {}};
  auto validator = compileProtobufValidator(schema, &schema, config::Compatibility::kBackward);
  EXPECT_TRUE(validator.ok());
  MessageIndexes first;
  first.size = 1;
  ValidationScratch scratch;
  Violation violation;
  std::string json;
  EXPECT_TRUE((*validator)->validate(bytes, first, scratch, violation)) << violation.message;
  EXPECT_TRUE((*validator)->toJson(bytes, first, scratch, json, violation)) << violation.message;
  return json;
}

TEST(ProtobufJsonSchema, WhatStreamsSendFitsIt) {
  auto file = compileProto(
      ResolvedSchema{Schema{SchemaType::kProtobuf, std::string(kListed), {}, {}, {}}, {}});
  ASSERT_TRUE(file.ok()) << file.error().message;
  const std::string json_schema = protobufJsonSchema(*(*file)->file);
  auto compiled = JsonSchema::compile(json_schema);
  ASSERT_TRUE(compiled.ok()) << compiled.error().message << "\n" << json_schema;
  auto json_validator = makeJsonValidator(*compiled);
  ValidationScratch scratch;
  Violation violation;
  for (const std::string text :
       {"", "id: -9007199254740993 items: 4294967295 total: inf digest: '\\377' state: PAID "
            "gift: true",
        "parts {id: 1 parts {state: PAID notes {key: -3 value: 'x'}}} lines {sku: 'a'} "
        "at {seconds: 1700000000 nanos: 5} limit {value: 7} state: 9"}) {
    const std::string json = streamJson(**file, text);
    EXPECT_TRUE(json_validator->validate(json, MessageIndexes{}, scratch, violation))
        << violation.describe("value") << "\n" << json << "\n" << json_schema;
  }
  // ... and it is not a schema that takes anything.
  for (const char* wrong : {R"({"id": 5})", R"({"state": "SHIPPED"})", R"({"other": 1})",
                            R"({"notes": {"k": "v"}})", R"({"at": 5})",
                            R"({"parts": [{"items": -1}]})"}) {
    EXPECT_FALSE(json_validator->validate(wrong, MessageIndexes{}, scratch, violation)) << wrong;
  }
}

TEST(ProtobufJsonSchema, SeveralTopLevelMessagesAreAnyOfThem) {
  auto file = compileProto(ResolvedSchema{
      Schema{SchemaType::kProtobuf,
             "syntax = \"proto2\";\npackage p;\nenum E { A = 1; }\n"
             "message X { optional E e = 1; }\nmessage Y { optional string s = 1; }\n",
             {}, {}, {}},
      {}});
  ASSERT_TRUE(file.ok()) << file.error().message;
  const auto schema = nlohmann::json::parse(protobufJsonSchema(*(*file)->file));
  ASSERT_EQ(schema["anyOf"].size(), 2u) << schema.dump();
  EXPECT_EQ(schema["anyOf"][0]["$ref"], "#/$defs/p.X");
  // Even a closed (proto2) enum: protobuf's printer shows a number it does not name as the
  // number (kept among the unknown fields).
  EXPECT_EQ(schema["$defs"]["p.X"]["properties"]["e"]["anyOf"][0],
            nlohmann::json::parse(R"({"enum":["A"]})"));
  EXPECT_EQ(schema["$defs"]["p.X"]["properties"]["e"]["anyOf"][1]["type"], "integer");
}

}  // namespace
}  // namespace causeway::schema
