// Policies on Protobuf records: the derived .proto file (protobuf_policy_schema.h) and the
// reader and re-encoder (protobuf_payload.h), through the policy stage as a link runs it. The
// edited records are parsed with protobuf's own parser and the derived file.

#include "config/config_loader.h"
#include "pipeline/record.h"
#include "policies/policy_runtime.h"
#include "policies/policy_stage.h"
#include "policies/protobuf_payload.h"

#include <gmock/gmock.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/text_format.h>
#include <gtest/gtest.h>

#include <string>

namespace causeway::policies {
namespace {

namespace pb = google::protobuf;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr uint32_t kWriterId = 7;

const std::string kPaymentProto = R"(syntax = "proto3";
package acme;

message Payment {
  enum Status { UNKNOWN = 0; OK = 1; DECLINED = 2; }
  string id = 1;
  int64 amount = 2;
  Card card = 3;
  string email = 4;
  optional double score = 5;
  string country = 6;
  repeated string tags = 7;
  repeated int64 codes = 8;
  Status status = 9;
  oneof contact { string phone = 10; }
}

message Card {
  string number = 1;
  int32 cvv = 2;
}

message Refund {
  string id = 1;
  int64 amount = 2;
}
)";

std::string prefix(uint32_t id) {
  return std::string{'\0', static_cast<char>(id >> 24), static_cast<char>(id >> 16),
                     static_cast<char>(id >> 8), static_cast<char>(id)};
}

schema::ResolvedSchema resolved(const std::string& text) {
  schema::ResolvedSchema r;
  r.schema.type = schema::SchemaType::kProtobuf;
  r.schema.text = text;
  return r;
}

class PolicyProtobufTest : public ::testing::Test {
protected:
  void build(const std::string& fields, const std::string& extra = "") {
    const std::string text =
        "registries:\n  sr: {url: \"http://127.0.0.1:1\"}\n"
        "clusters:\n  east: {bootstrap: \"127.0.0.1:1\", registry: sr}\n"
        "  west: {bootstrap: \"127.0.0.1:2\", registry: sr}\n"
        "policies:\n  acme:\n    topics: {allow: [\"payments\\\\..*\"]}\n"
        "    formats: {value: protobuf}\n    on_violation: stop\n" +
        extra + "    fields:\n" + fields +
        "links:\n  - {name: l1, source: east, target: west, topics: {include: "
        "[\"payments\\\\..*\"]}, policy: acme, schemas: {translate_ids: true}}\n";
    config::LoadResult loaded = config::loadConfigString(text, "test.yaml");
    ASSERT_TRUE(loaded.ok()) << (loaded.errors.empty() ? "" : loaded.errors[0].str());
    config_ = *loaded.config;
    std::vector<config::ConfigError> errors;
    runtime_ = PolicyRuntime::create(config_, errors);
    ASSERT_TRUE(runtime_) << (errors.empty() ? "" : errors[0].str());
    shapes_ = std::make_shared<ProtobufShapes>();
    auto stages = makePolicyStages(config_, config_.links[0], *runtime_, nullptr, shapes_);
    ASSERT_TRUE(stages.ok()) << stages.error().message;
    stage_ = std::move((*stages)[0]);
  }

  // The shape a link's schema service hands over when it translates the writer's ID.
  ProtobufShapePtr learn(const std::string& proto) {
    PolicyPtr policy = runtime_->policy("acme");
    auto shape = makeProtobufShape(resolved(proto), policy->rules(), policy->slots().size());
    EXPECT_TRUE(shape.ok()) << shape.error().message;
    shapes_->put("payments.authorized", kWriterId, *shape);
    kept_.push_back(*shape);
    return *shape;
  }

  // A compiled file the test makes messages of: kept until factory_ (which holds prototypes
  // of its types) is gone.
  Result<std::shared_ptr<const schema::ProtoFile>>
  keep(Result<std::shared_ptr<const schema::ProtoFile>> file) {
    if (file.ok()) {
      kept_.push_back(*file);
    }
    return file;
  }

  // A message of `type` in the writer's file, to fill and serialize.
  std::unique_ptr<pb::Message> message(const ProtobufShape& shape, const std::string& type) {
    const pb::Descriptor* d = shape.writer->pool->FindMessageTypeByName(type);
    EXPECT_NE(d, nullptr);
    return std::unique_ptr<pb::Message>(factory_.GetPrototype(d)->New());
  }

  pipeline::Verdict run(const std::string& value, std::string& out) {
    pipeline::RecordView view;
    view.topic = "payments.authorized";
    view.value = std::string_view(value);
    pipeline::Record record;
    record.reset(&view);
    pipeline::Verdict verdict = stage_->process(record);
    out = record.value() ? std::string(*record.value()) : "<null>";
    return verdict;
  }

  config::Config config_;
  std::unique_ptr<PolicyRuntime> runtime_;
  std::shared_ptr<ProtobufShapes> shapes_;
  pipeline::StagePtr stage_;
  // Descriptor pools outlive the factory that made messages of their types (declared before
  // it: destroyed after it).
  std::vector<std::shared_ptr<const void>> kept_;
  pb::DynamicMessageFactory factory_;
};

const std::string kRules = "      - {path: value.card.number, action: mask, keep_last: 4}\n"
                           "      - {path: value.card.cvv, action: redact}\n"
                           "      - {path: value.amount, action: redact}\n"
                           "      - {path: value.email, action: drop}\n"
                           "      - {path: value.score, action: redact}\n"
                           "      - {path: \"value.tags[0]\", action: redact}\n";

// A Payment as a producer's serializer writes it: the prefix, message indexes [0], the message.
std::string payment(const ProtobufShape& shape, pb::Message& m, const std::string& country) {
  const pb::Reflection* r = m.GetReflection();
  const pb::Descriptor* d = m.GetDescriptor();
  r->SetString(&m, d->FindFieldByName("id"), "p-1");
  r->SetInt64(&m, d->FindFieldByName("amount"), 1250);
  pb::Message* card = r->MutableMessage(&m, d->FindFieldByName("card"));
  card->GetReflection()->SetString(card, card->GetDescriptor()->FindFieldByName("number"),
                                   "4111111111111111");
  card->GetReflection()->SetInt32(card, card->GetDescriptor()->FindFieldByName("cvv"), 123);
  r->SetString(&m, d->FindFieldByName("email"), "ann@example.com");
  r->SetDouble(&m, d->FindFieldByName("score"), 0.75);
  r->SetString(&m, d->FindFieldByName("country"), country);
  r->AddString(&m, d->FindFieldByName("tags"), "secret-tag");
  r->AddString(&m, d->FindFieldByName("tags"), "b");
  r->AddInt64(&m, d->FindFieldByName("codes"), 5);
  r->AddInt64(&m, d->FindFieldByName("codes"), -6);
  r->SetEnumValue(&m, d->FindFieldByName("status"), 1);
  r->SetString(&m, d->FindFieldByName("phone"), "+49 30 1234");
  (void)shape;
  return prefix(kWriterId) + std::string(1, '\0') + m.SerializeAsString();
}

TEST_F(PolicyProtobufTest, TheDerivedFileSaysWhatEachRuleDoesAndKeepsTheRest) {
  build(kRules);
  ProtobufShapePtr shape = learn(kPaymentProto);
  ASSERT_TRUE(shape->derived.problems.empty()) << shape->derived.problems[0];
  ASSERT_TRUE(shape->derived.changed);
  auto derived = keep(schema::compileProto(resolved(shape->derived.schema)));
  ASSERT_TRUE(derived.ok()) << derived.error().message << "\n" << shape->derived.schema;
  const pb::Descriptor* p = (*derived)->file->message_type(0);
  ASSERT_EQ(p->full_name(), "acme.Payment");
  EXPECT_EQ(p->FindFieldByName("amount")->type(), pb::FieldDescriptor::TYPE_STRING);
  EXPECT_EQ(p->FindFieldByName("email"), nullptr);
  EXPECT_TRUE(p->IsReservedNumber(4));
  EXPECT_TRUE(p->IsReservedName("email"));
  const pb::FieldDescriptor* score = p->FindFieldByName("score");
  EXPECT_EQ(score->type(), pb::FieldDescriptor::TYPE_STRING);
  EXPECT_TRUE(score->has_presence());  // still proto3 optional
  EXPECT_EQ(p->FindFieldByName("tags")->type(), pb::FieldDescriptor::TYPE_STRING);
  EXPECT_EQ(p->FindFieldByName("status")->enum_type()->full_name(), "acme.Payment.Status");
  EXPECT_EQ(p->FindFieldByName("phone")->containing_oneof()->name(), "contact");
  const pb::Descriptor* card = (*derived)->file->FindMessageTypeByName("Card");
  EXPECT_EQ(card->FindFieldByName("cvv")->type(), pb::FieldDescriptor::TYPE_STRING);
  EXPECT_EQ(card->FindFieldByName("number")->type(), pb::FieldDescriptor::TYPE_STRING);
}

TEST_F(PolicyProtobufTest, RecordsAreReEncodedForTheDerivedFileAndParseWithIt) {
  build(kRules, "    filter: 'value.country == \"DE\" and value.status == \"OK\"'\n");
  ProtobufShapePtr shape = learn(kPaymentProto);
  auto m = message(*shape, "acme.Payment");
  const std::string source = payment(*shape, *m, "DE");
  std::string out;
  pipeline::Verdict verdict = run(source, out);
  ASSERT_EQ(verdict.outcome, pipeline::Outcome::kPass) << verdict.detail;
  ASSERT_EQ(out.substr(0, 6), prefix(kWriterId) + std::string(1, '\0'));
  auto derived = keep(schema::compileProto(resolved(shape->derived.schema)));
  ASSERT_TRUE(derived.ok()) << derived.error().message;
  const pb::Descriptor* d = (*derived)->file->message_type(0);
  std::unique_ptr<pb::Message> edited(factory_.GetPrototype(d)->New());
  ASSERT_TRUE(edited->ParseFromString(out.substr(6)));
  const pb::Reflection* r = edited->GetReflection();
  EXPECT_TRUE(r->GetUnknownFields(*edited).empty());  // nothing the derived file does not say
  EXPECT_EQ(r->GetString(*edited, d->FindFieldByName("id")), "p-1");
  EXPECT_EQ(r->GetString(*edited, d->FindFieldByName("amount")), "[REDACTED]");
  EXPECT_EQ(r->GetString(*edited, d->FindFieldByName("score")), "[REDACTED]");
  EXPECT_EQ(r->GetString(*edited, d->FindFieldByName("country")), "DE");
  EXPECT_EQ(r->GetRepeatedString(*edited, d->FindFieldByName("tags"), 0), "[REDACTED]");
  EXPECT_EQ(r->GetRepeatedString(*edited, d->FindFieldByName("tags"), 1), "b");
  EXPECT_EQ(r->GetRepeatedInt64(*edited, d->FindFieldByName("codes"), 1), -6);
  EXPECT_EQ(r->GetEnumValue(*edited, d->FindFieldByName("status")), 1);
  EXPECT_EQ(r->GetString(*edited, d->FindFieldByName("phone")), "+49 30 1234");
  const pb::Message& card = r->GetMessage(*edited, d->FindFieldByName("card"));
  const pb::Descriptor* cd = card.GetDescriptor();
  EXPECT_EQ(card.GetReflection()->GetString(card, cd->FindFieldByName("number")),
            "************1111");
  EXPECT_EQ(card.GetReflection()->GetString(card, cd->FindFieldByName("cvv")), "[REDACTED]");
  EXPECT_EQ(out.find("4111111111111111"), std::string::npos);
  EXPECT_EQ(out.find("ann@example.com"), std::string::npos);
  EXPECT_EQ(out.find("secret-tag"), std::string::npos);

  // The filter reads fields of the writer's message (an enum by its symbol).
  auto at = message(*shape, "acme.Payment");
  EXPECT_EQ(run(payment(*shape, *at, "AT"), out).outcome, pipeline::Outcome::kDrop);
}

TEST_F(PolicyProtobufTest, SetWritesTheConstantsTypeAndEditsEveryOccurrence) {
  build("      - {path: value.amount, action: set, value: 2.5}\n"
        "      - {path: value.country, action: set, value: EU}\n"
        "      - {path: value.tags, action: mask, keep_last: 1}\n");
  ProtobufShapePtr shape = learn(kPaymentProto);
  ASSERT_TRUE(shape->derived.problems.empty()) << shape->derived.problems[0];
  auto m = message(*shape, "acme.Payment");
  std::string out;
  ASSERT_EQ(run(payment(*shape, *m, "DE"), out).outcome, pipeline::Outcome::kPass);
  auto derived = keep(schema::compileProto(resolved(shape->derived.schema)));
  ASSERT_TRUE(derived.ok()) << derived.error().message;
  const pb::Descriptor* d = (*derived)->file->message_type(0);
  EXPECT_EQ(d->FindFieldByName("amount")->type(), pb::FieldDescriptor::TYPE_DOUBLE);
  std::unique_ptr<pb::Message> edited(factory_.GetPrototype(d)->New());
  ASSERT_TRUE(edited->ParseFromString(out.substr(6)));
  const pb::Reflection* r = edited->GetReflection();
  EXPECT_EQ(r->GetDouble(*edited, d->FindFieldByName("amount")), 2.5);
  EXPECT_EQ(r->GetString(*edited, d->FindFieldByName("country")), "EU");
  EXPECT_EQ(r->GetRepeatedString(*edited, d->FindFieldByName("tags"), 0), "*********g");
  EXPECT_EQ(r->GetRepeatedString(*edited, d->FindFieldByName("tags"), 1), "b");
}

TEST_F(PolicyProtobufTest, SetAddsAFieldTheMessageDoesNotHold) {
  // proto3 does not write a field that holds its default: a payment from nowhere has no
  // country on the wire, and its card no cvv.
  build("      - {path: value.country, action: set, value: EU}\n"
        "      - {path: value.card.cvv, action: set, value: 7}\n"
        "      - {path: value.score, action: set, value: high}\n");
  ProtobufShapePtr shape = learn(kPaymentProto);
  ASSERT_TRUE(shape->derived.problems.empty()) << shape->derived.problems[0];
  auto m = message(*shape, "acme.Payment");
  const pb::Descriptor* d = m->GetDescriptor();
  m->GetReflection()->SetString(m.get(), d->FindFieldByName("id"), "p-2");
  pb::Message* card = m->GetReflection()->MutableMessage(m.get(), d->FindFieldByName("card"));
  card->GetReflection()->SetString(card, card->GetDescriptor()->FindFieldByName("number"), "4111");
  m->GetReflection()->SetString(m.get(), d->FindFieldByName("email"), "x@example.com");
  std::string out;
  pipeline::Verdict verdict =
      run(prefix(kWriterId) + std::string(1, '\0') + m->SerializeAsString(), out);
  ASSERT_EQ(verdict.outcome, pipeline::Outcome::kPass) << verdict.detail;
  auto derived = keep(schema::compileProto(resolved(shape->derived.schema)));
  ASSERT_TRUE(derived.ok()) << derived.error().message;
  const pb::Descriptor* p = (*derived)->file->message_type(0);
  std::unique_ptr<pb::Message> edited(factory_.GetPrototype(p)->New());
  ASSERT_TRUE(edited->ParseFromString(out.substr(6)));
  const pb::Reflection* r = edited->GetReflection();
  EXPECT_TRUE(r->GetUnknownFields(*edited).empty());
  EXPECT_EQ(r->GetString(*edited, p->FindFieldByName("country")), "EU");
  EXPECT_EQ(r->GetString(*edited, p->FindFieldByName("email")), "x@example.com");
  const pb::Message& got = r->GetMessage(*edited, p->FindFieldByName("card"));
  const pb::FieldDescriptor* cvv = got.GetDescriptor()->FindFieldByName("cvv");
  EXPECT_EQ(cvv->type(), pb::FieldDescriptor::TYPE_INT32);  // 7 fits: the type stays
  EXPECT_EQ(got.GetReflection()->GetInt32(got, cvv), 7);
  EXPECT_EQ(r->GetString(*edited, p->FindFieldByName("score")), "high");  // added, a string
  EXPECT_EQ(got.GetReflection()->GetString(got, got.GetDescriptor()->FindFieldByName("number")),
            "4111");
}

TEST_F(PolicyProtobufTest, WhatTheDerivedFileCannotDescribeIsAViolation) {
  // Card is also the backup's: retyping its cvv would change that one's too.
  const std::string shared = R"(syntax = "proto3";
message Payment { Card card = 1; Card backup = 2; }
message Card { int32 cvv = 1; }
)";
  build("      - {path: value.card.cvv, action: redact}\n");
  ProtobufShapePtr shape = learn(shared);
  ASSERT_EQ(shape->derived.problems.size(), 1u);
  EXPECT_THAT(shape->derived.problems[0], HasSubstr("message Card is used in more than one place"));
  std::string out;
  const std::string record = prefix(kWriterId) + std::string(1, '\0') + "\x0a\x02\x08\x07";
  pipeline::Verdict verdict = run(record, out);
  EXPECT_EQ(verdict.outcome, pipeline::Outcome::kStop);
  EXPECT_THAT(verdict.detail, HasSubstr("the policy's Protobuf schema"));
}

TEST_F(PolicyProtobufTest, ARecordOfAnotherMessageOrNotProtobufIsAViolation) {
  build(kRules);
  ProtobufShapePtr shape = learn(kPaymentProto);
  auto refund = message(*shape, "acme.Refund");
  refund->GetReflection()->SetString(refund.get(), refund->GetDescriptor()->FindFieldByName("id"),
                                     "r-1");
  // Message indexes [2]: count 1, index 2 (zig-zag varints).
  const std::string of_refund =
      prefix(kWriterId) + std::string("\x02\x04", 2) + refund->SerializeAsString();
  std::string out;
  pipeline::Verdict verdict = run(of_refund, out);
  EXPECT_EQ(verdict.outcome, pipeline::Outcome::kStop);
  EXPECT_THAT(verdict.detail, HasSubstr("records of message acme.Refund cannot be edited"));

  // Truncated: the card's length says more bytes than there are.
  const std::string truncated = prefix(kWriterId) + std::string(1, '\0') + "\x1a\x09\x0a\x01";
  verdict = run(truncated, out);
  EXPECT_EQ(verdict.outcome, pipeline::Outcome::kStop);
  EXPECT_THAT(verdict.detail, HasSubstr("truncated Protobuf message"));

  // A group (an unknown field 12) holding a field number 0, which no parser accepts.
  const std::string group =
      prefix(kWriterId) + std::string(1, '\0') + std::string("\x63\x00\x00\x64", 4);
  verdict = run(group, out);
  EXPECT_EQ(verdict.outcome, pipeline::Outcome::kStop);
  EXPECT_THAT(verdict.detail, HasSubstr("invalid Protobuf field number 0"));

  // Not framed: no schema ID to read it with.
  verdict = run("{\"id\": 1}", out);
  EXPECT_EQ(verdict.outcome, pipeline::Outcome::kStop);
  EXPECT_THAT(verdict.detail, HasSubstr("does not start with a schema ID"));
}

TEST_F(PolicyProtobufTest, AOneofLeftEmptyGoesWithItsLastField) {
  // contact holds only phone; score's `optional` is a oneof of its own.
  build("      - {path: value.phone, action: drop}\n"
        "      - {path: value.score, action: drop}\n");
  ProtobufShapePtr shape = learn(kPaymentProto);
  ASSERT_TRUE(shape->derived.problems.empty()) << shape->derived.problems[0];
  auto derived = keep(schema::compileProto(resolved(shape->derived.schema)));
  ASSERT_TRUE(derived.ok()) << derived.error().message << "\n" << shape->derived.schema;
  const pb::Descriptor* p = (*derived)->file->message_type(0);
  EXPECT_EQ(p->oneof_decl_count(), 0) << shape->derived.schema;
  EXPECT_EQ(p->FindFieldByName("phone"), nullptr);
  EXPECT_EQ(p->FindFieldByName("score"), nullptr);
  EXPECT_TRUE(p->IsReservedNumber(10));
  EXPECT_TRUE(p->IsReservedNumber(5));
}

TEST_F(PolicyProtobufTest, ADroppedMapTakesItsEntryTypeAlong) {
  const std::string maps = R"(syntax = "proto3";
message Payment {
  map<string, string> attributes = 1;
  message Inner { map<string, int64> counts = 1; string keep = 2; }
  Inner inner = 2;
  map<int32, string> labels = 3;
}
)";
  build("      - {path: value.attributes, action: drop}\n"
        "      - {path: value.inner.counts, action: drop}\n");
  ProtobufShapePtr shape = learn(maps);
  ASSERT_TRUE(shape->derived.problems.empty()) << shape->derived.problems[0];
  EXPECT_THAT(shape->derived.schema, Not(HasSubstr("map_entry"))) << shape->derived.schema;
  auto derived = keep(schema::compileProto(resolved(shape->derived.schema)));
  ASSERT_TRUE(derived.ok()) << derived.error().message << "\n" << shape->derived.schema;
  const pb::Descriptor* p = (*derived)->file->message_type(0);
  EXPECT_EQ(p->FindFieldByName("attributes"), nullptr);
  EXPECT_TRUE(p->FindFieldByName("labels")->is_map());
  EXPECT_EQ(p->FindNestedTypeByName("Inner")->FindFieldByName("counts"), nullptr);
  EXPECT_NE(p->FindNestedTypeByName("Inner")->FindFieldByName("keep"), nullptr);

  // Every entry of the map is left out of a record.
  auto m = message(*shape, "Payment");
  const pb::Reflection* r = m->GetReflection();
  const pb::FieldDescriptor* attributes = m->GetDescriptor()->FindFieldByName("attributes");
  for (const char* k : {"a", "b"}) {
    pb::Message* entry = r->AddMessage(m.get(), attributes);
    entry->GetReflection()->SetString(entry, entry->GetDescriptor()->FindFieldByName("key"), k);
    entry->GetReflection()->SetString(entry, entry->GetDescriptor()->FindFieldByName("value"),
                                      "secret-attribute");
  }
  std::string out;
  ASSERT_EQ(run(prefix(kWriterId) + std::string(1, '\0') + m->SerializeAsString(), out).outcome,
            pipeline::Outcome::kPass);
  EXPECT_EQ(out, prefix(kWriterId) + std::string(1, '\0'));
}

TEST_F(PolicyProtobufTest, GroupsAreRefusedNotPassedThrough) {
  build("      - {path: value.grp, action: drop}\n"
        "      - {path: value.g2.secret, action: redact}\n");
  ProtobufShapePtr shape = learn(R"(syntax = "proto2";
message R {
  optional string id = 1;
  optional group Grp = 2 { optional string secret = 1; }
  optional group G2 = 3 { optional string secret = 1; }
})");
  ASSERT_EQ(shape->derived.problems.size(), 2u);
  EXPECT_THAT(shape->derived.problems[0], HasSubstr("R.grp is a proto2 group"));
  auto m = message(*shape, "R");
  ASSERT_TRUE(pb::TextFormat::ParseFromString(
      "id: 'a' Grp { secret: 'TOPSECRET' } G2 { secret: 'SECRET2' }", m.get()));
  std::string out;
  const pipeline::Verdict verdict =
      run(prefix(kWriterId) + std::string(1, '\0') + m->SerializeAsString(), out);
  EXPECT_EQ(verdict.outcome, pipeline::Outcome::kStop);
  EXPECT_THAT(verdict.detail, HasSubstr("is a proto2 group, which policies do not read"));
}

TEST_F(PolicyProtobufTest, IndexesCountAcrossASingularMessageWrittenTwice) {
  // Parsers merge the two copies of card: tags are [a, SECRET, c].
  build("      - {path: \"value.card.tags[1]\", action: redact}\n");
  ProtobufShapePtr shape = learn(R"(syntax = "proto3";
message R { Card card = 1; }
message Card { repeated string tags = 1; }
)");
  auto first = message(*shape, "R");
  auto second = message(*shape, "R");
  ASSERT_TRUE(pb::TextFormat::ParseFromString("card { tags: 'a' }", first.get()));
  ASSERT_TRUE(pb::TextFormat::ParseFromString("card { tags: 'SECRET' tags: 'c' }", second.get()));
  std::string out;
  ASSERT_EQ(run(prefix(kWriterId) + std::string(1, '\0') + first->SerializeAsString() +
                    second->SerializeAsString(),
                out)
                .outcome,
            pipeline::Outcome::kPass);
  EXPECT_EQ(out.find("SECRET"), std::string::npos);
  auto parsed = message(*shape, "R");
  ASSERT_TRUE(parsed->ParseFromString(out.substr(6)));
  EXPECT_EQ(parsed->ShortDebugString(), R"(card { tags: "a" tags: "[REDACTED]" tags: "c" })");
}

// proto3 does not write a field without presence that holds its default; every proto3 reader
// sees the default, and so do predicates and rules.
TEST_F(PolicyProtobufTest, Proto3DefaultsAreReadAsEveryProto3ReaderSeesThem) {
  build("      - {path: value.id, action: mask, keep_last: 1}\n",
        "    filter: 'value.status == \"UNKNOWN\" and value.amount == 0 and value.country == \"\""
        " and exists(value.amount) and not exists(value.score) and not exists(value.phone)"
        " and not exists(value.card.cvv)'\n");
  ProtobufShapePtr shape = learn(kPaymentProto);
  auto m = message(*shape, "acme.Payment");
  m->GetReflection()->SetString(m.get(), m->GetDescriptor()->FindFieldByName("id"), "p-3");
  const std::string bare = prefix(kWriterId) + std::string(1, '\0') + m->SerializeAsString();
  std::string out;
  pipeline::Verdict verdict = run(bare, out);
  EXPECT_EQ(verdict.outcome, pipeline::Outcome::kPass) << verdict.detail;
  EXPECT_EQ(out, prefix(kWriterId) + std::string(1, '\0') + std::string("\x0a\x03**3", 5))
      << "a rule that changes no schema adds no default";
  // Written defaults read the same; a written amount does not pass the filter.
  EXPECT_EQ(run(bare + std::string("\x10\x00\x48\x00", 4), out).outcome, pipeline::Outcome::kPass);
  EXPECT_EQ(run(bare + std::string("\x10\x07", 2), out).outcome, pipeline::Outcome::kDrop);
  // A card on the wire without a cvv: the cvv holds its default.
  EXPECT_EQ(run(bare + std::string("\x1a\x03\x0a\x01x", 5), out).outcome,
            pipeline::Outcome::kDrop);
}

TEST_F(PolicyProtobufTest, ADefaultDoesNotHideAValueAnotherCopyOfTheMessageHolds) {
  // Parsers merge the copies of card: its cvv is 5 whichever copy holds it.
  build("      - {path: value.id, action: mask, keep_last: 1}\n",
        "    filter: 'value.card.cvv == 5'\n");
  learn(kPaymentProto);
  const std::string head = prefix(kWriterId) + std::string(1, '\0');
  const std::string with_cvv("\x1a\x02\x10\x05", 4);
  const std::string without("\x1a\x03\x0a\x01x", 5);
  std::string out;
  EXPECT_EQ(run(head + with_cvv + without, out).outcome, pipeline::Outcome::kPass);
  EXPECT_EQ(run(head + without + with_cvv, out).outcome, pipeline::Outcome::kPass);
  EXPECT_EQ(run(head + without, out).outcome, pipeline::Outcome::kDrop);
}

TEST_F(PolicyProtobufTest, RulesApplyToADefaultAsToTheSameValueWritten) {
  build("      - {path: value.amount, action: redact}\n"
        "      - {path: value.country, action: set, value: EU}\n"
        "      - {path: value.card.cvv, action: redact}\n");
  ProtobufShapePtr shape = learn(kPaymentProto);
  ASSERT_TRUE(shape->derived.problems.empty()) << shape->derived.problems[0];
  auto derived = keep(schema::compileProto(resolved(shape->derived.schema)));
  ASSERT_TRUE(derived.ok()) << derived.error().message;
  const pb::Descriptor* d = (*derived)->file->message_type(0);
  // Card is the last field on the wire: the defaults of card.cvv and of the payment's own
  // fields are all added at the end of the record, card's inside card.
  const std::string card("\x1a\x06\x0a\x04"
                         "4111",
                         8);
  const std::string head = prefix(kWriterId) + std::string(1, '\0');
  std::string bare;
  std::string written;
  ASSERT_EQ(run(head + card, bare).outcome, pipeline::Outcome::kPass);
  ASSERT_EQ(run(head + std::string("\x10\x00", 2) +
                    std::string("\x1a\x08\x0a\x04"
                                "4111"
                                "\x10\x00",
                                10),
                written)
                .outcome,
            pipeline::Outcome::kPass);
  for (const std::string* out : {&bare, &written}) {
    std::unique_ptr<pb::Message> edited(factory_.GetPrototype(d)->New());
    ASSERT_TRUE(edited->ParseFromString(out->substr(6)));
    EXPECT_EQ(edited->ShortDebugString(),
              R"(amount: "[REDACTED]" card { number: "4111" cvv: "[REDACTED]" } country: "EU")");
    EXPECT_TRUE(edited->GetReflection()->GetUnknownFields(*edited).empty());
  }
}

TEST_F(PolicyProtobufTest, AMessageAnExtensionUsesCannotChange) {
  build("      - {path: value.in.x, action: redact}\n");
  ProtobufShapePtr shape = learn(R"(syntax = "proto2";
message R {
  message In { optional int32 x = 1; }
  optional In in = 1;
  extensions 100 to max;
}
extend R { optional R.In backup = 100; }
)");
  ASSERT_EQ(shape->derived.problems.size(), 1u);
  EXPECT_THAT(shape->derived.problems[0], HasSubstr("message R.In is used in more than one place"));
}

TEST_F(PolicyProtobufTest, APackedRunIsReadByIndexAndOnlyDroppedWhole) {
  build("      - {path: value.id, action: mask, keep_last: 1}\n",
        "    filter: 'value.codes[1] == -6'\n");
  ProtobufShapePtr shape = learn(kPaymentProto);
  auto m = message(*shape, "acme.Payment");
  std::string out;
  EXPECT_EQ(run(payment(*shape, *m, "DE"), out).outcome, pipeline::Outcome::kPass);
  m->GetReflection()->SetRepeatedInt64(m.get(), m->GetDescriptor()->FindFieldByName("codes"), 1, 7);
  EXPECT_EQ(run(payment(*shape, *m, "DE"), out).outcome, pipeline::Outcome::kDrop);  // filtered

  build("      - {path: \"value.codes[0]\", action: drop}\n");
  learn(kPaymentProto);
  auto n = message(*shape, "acme.Payment");
  pipeline::Verdict verdict = run(payment(*shape, *n, "DE"), out);
  EXPECT_EQ(verdict.outcome, pipeline::Outcome::kStop);
  EXPECT_THAT(verdict.detail, HasSubstr("one element of a packed run"));
}

TEST_F(PolicyProtobufTest, SetKeepsANumericFieldsTypeWhenTheConstantFits) {
  build("      - {path: value.score, action: set, value: 3}\n"
        "      - {path: value.amount, action: set, value: 5}\n"
        "      - {path: value.status, action: set, value: DECLINED}\n"
        "      - {path: value.card.cvv, action: set, value: 5000000000}\n");
  ProtobufShapePtr shape = learn(kPaymentProto);
  ASSERT_TRUE(shape->derived.problems.empty()) << shape->derived.problems[0];
  auto derived = keep(schema::compileProto(resolved(shape->derived.schema)));
  ASSERT_TRUE(derived.ok()) << derived.error().message;
  const pb::Descriptor* d = (*derived)->file->message_type(0);
  EXPECT_EQ(d->FindFieldByName("score")->type(), pb::FieldDescriptor::TYPE_DOUBLE);
  EXPECT_EQ(d->FindFieldByName("amount")->type(), pb::FieldDescriptor::TYPE_INT64);
  EXPECT_EQ(d->FindFieldByName("status")->type(), pb::FieldDescriptor::TYPE_ENUM);
  // 5000000000 does not fit an int32.
  EXPECT_EQ(d->FindFieldByName("card")->message_type()->FindFieldByName("cvv")->type(),
            pb::FieldDescriptor::TYPE_INT64);
  auto m = message(*shape, "acme.Payment");
  std::string out;
  ASSERT_EQ(run(payment(*shape, *m, "DE"), out).outcome, pipeline::Outcome::kPass);
  std::unique_ptr<pb::Message> edited(factory_.GetPrototype(d)->New());
  ASSERT_TRUE(edited->ParseFromString(out.substr(6)));
  const pb::Reflection* r = edited->GetReflection();
  EXPECT_EQ(r->GetDouble(*edited, d->FindFieldByName("score")), 3.0);
  EXPECT_EQ(r->GetInt64(*edited, d->FindFieldByName("amount")), 5);
  EXPECT_EQ(r->GetEnumValue(*edited, d->FindFieldByName("status")), 2);
}

TEST_F(PolicyProtobufTest, AMessageFromASchemaReferenceCannotChange) {
  build("      - {path: value.card.cvv, action: redact}\n"
        "      - {path: value.card.number, action: mask}\n");
  PolicyPtr policy = runtime_->policy("acme");
  schema::ResolvedSchema writer = resolved(R"(syntax = "proto3";
import "card.proto";
message Payment { acme.Card card = 1; }
)");
  writer.references.push_back(
      {"card.proto",
       schema::Schema{schema::SchemaType::kProtobuf,
                      "syntax = \"proto3\";\npackage acme;\nmessage Card { string number = 1; "
                      "int32 cvv = 2; }\n",
                      {},
                      {},
                      {}}});
  auto shape = makeProtobufShape(writer, policy->rules(), policy->slots().size());
  ASSERT_TRUE(shape.ok()) << shape.error().message;
  // The mask keeps a string a string; the redaction would change the other subject's Card.
  ASSERT_EQ((*shape)->derived.problems.size(), 1u);
  EXPECT_THAT((*shape)->derived.problems[0],
              HasSubstr("value.card.cvv: message acme.Card comes from a schema reference"));
}

TEST_F(PolicyProtobufTest, RepeatedNumbersAndSetToNullAreProblems) {
  build("      - {path: value.codes, action: redact}\n");
  ProtobufShapePtr shape = learn(kPaymentProto);
  ASSERT_EQ(shape->derived.problems.size(), 1u);
  EXPECT_THAT(shape->derived.problems[0],
              HasSubstr("the elements of repeated field acme.Payment.codes (int64) cannot change"));
  build("      - {path: value.score, action: set, value: null}\n");
  shape = learn(kPaymentProto);
  ASSERT_EQ(shape->derived.problems.size(), 1u);
  EXPECT_THAT(shape->derived.problems[0], HasSubstr("Protobuf fields hold no null"));
}

}  // namespace
}  // namespace causeway::policies
