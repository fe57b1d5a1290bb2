// A partner policy on Protobuf records, end to end through the real binary: `causeway run`
// with a link between two embedded clusters whose records are framed for two test registries.
// The producer serializes with protobuf's DynamicMessage; what a partner checks on the target:
// each record carries the ID of the .proto file the policy derives (registered in the
// partner's registry under the link's context), protobuf's own parser reads every record with
// that file and finds the fields as the policy left them (and nothing it does not declare),
// and no protected value is in any byte of the target's records.

#include "schema/protobuf_validator.h"
#include "tests/support/schema_support.h"
#include "tests/support/test_registry.h"
#include "tests/support/test_support.h"

#include <gmock/gmock.h>
#include <google/protobuf/dynamic_message.h>
#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <string>
#include <vector>

namespace causeway {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::confluentFrame;
using testing::confluentId;
using testing::readAll;
using testing::startCluster;
using testing::TestRecord;
using testing::TestRegistry;
using testing::waitFor;
namespace pb = google::protobuf;

const std::string kSubject = "payments.authorized-value";
const std::string kTargetSubject = ":.east:east.payments.authorized-value";
const std::string kMirror = "east.payments.authorized";

const std::string kPayment = R"(syntax = "proto3";
package acme;

message Payment {
  string id = 1;
  int64 amount = 2;
  Card card = 3;
  string email = 4;
  string country = 5;
}

message Card {
  string number = 1;
}
)";

std::string key(int32_t partition, int seq) {
  char text[32];
  std::snprintf(text, sizeof(text), "p%d-%03d", partition, seq);
  return text;
}

std::string cardNumber(int seq) { return "41111111111" + std::to_string(10000 + seq); }
std::string email(int seq) { return "buyer" + std::to_string(seq) + "@example.com"; }

schema::ResolvedSchema proto(const std::string& text) {
  schema::ResolvedSchema r;
  r.schema.type = schema::SchemaType::kProtobuf;
  r.schema.text = text;
  return r;
}

// Payment `seq` of `partition` as a producer's serializer frames it after the ID: message
// indexes [0], then the message. Amount 10 + seq; an email on even numbers only.
std::string payment(const pb::Descriptor& type, pb::DynamicMessageFactory& factory,
                    int32_t partition, int seq) {
  std::unique_ptr<pb::Message> m(factory.GetPrototype(&type)->New());
  const pb::Reflection* r = m->GetReflection();
  r->SetString(m.get(), type.FindFieldByName("id"), key(partition, seq));
  r->SetInt64(m.get(), type.FindFieldByName("amount"), 10 + seq);
  pb::Message* card = r->MutableMessage(m.get(), type.FindFieldByName("card"));
  card->GetReflection()->SetString(card, card->GetDescriptor()->FindFieldByName("number"),
                                   cardNumber(seq));
  if (seq % 2 == 0) {
    r->SetString(m.get(), type.FindFieldByName("email"), email(seq));
  }
  r->SetString(m.get(), type.FindFieldByName("country"), "DE");
  return std::string(1, '\0') + m->SerializeAsString();
}

std::string config(const embedded::EmbeddedCluster& east, const embedded::EmbeddedCluster& west,
                   const TestRegistry& east_sr, const TestRegistry& west_sr) {
  return R"(
registries:
  east-sr: {url: ")" +
         east_sr.url() + R"("}
  west-sr: {url: ")" +
         west_sr.url() + R"(", retries: 0, timeout: 2s}
clusters:
  east: {bootstrap: ")" +
         east.bootstrap() + R"(", embedded_control: ")" + east.controlAddress() +
         R"(", registry: east-sr}
  west: {bootstrap: ")" +
         west.bootstrap() + R"(", embedded_control: ")" + west.controlAddress() +
         R"(", registry: west-sr}
policies:
  acme:
    topics: {allow: ["payments\\..*"]}
    formats: {value: protobuf}
    filter: 'value.amount >= 15 and value.country == "DE"'
    fields:
      - {path: value.card.number, action: mask, keep_last: 4}
      - {path: value.amount, action: redact}
      - {path: value.email, action: drop}
    on_violation: skip
links:
  - name: east-to-acme
    source: east
    target: west
    topics: {include: ["payments\\..*"]}
    naming: {prefix: "east."}
    schemas: {translate_ids: true, context: ".east"}
    policy: acme
    discovery_interval: 1s
    commit_interval: 500ms
    consumer_properties: {"fetch.wait.max.ms": "10", "session.timeout.ms": "6000"}
)";
}

TEST(PolicyProtobufLink, APartnerParsesTheEditedRecordsWithTheDerivedFileInItsRegistry) {
  // given: the producer's .proto file in the source registry, and a policy that lets through
  // payments of at least 15 from DE, masks the card number, redacts the amount (an int64) and
  // drops the email
  auto east = startCluster("east", 1, {{"payments.authorized", 2}});
  auto west = startCluster("west", 1);
  ASSERT_TRUE(east && west);
  TestRegistry east_sr(TestRegistry::Options{1, {}, {}, {}, {}, {}});
  TestRegistry west_sr(TestRegistry::Options{1000, {}, {}, {}, {}, {}});
  const uint32_t writer_id =
      east_sr.add(kSubject, schema::Schema{schema::SchemaType::kProtobuf, kPayment, {}, {}, {}});
  auto writer = schema::compileProto(proto(kPayment));
  ASSERT_TRUE(writer.ok()) << writer.error().message;
  pb::DynamicMessageFactory factory;  // after `writer`: destroyed before its pool
  const std::string config_path =
      testing::writeTempFile("policy-protobuf.yaml", config(*east, *west, east_sr, west_sr));

  // when: the worker runs and 10 payments per partition arrive (amounts 10 to 19)
  ChildProcess worker(testing::runCommand(config_path), testing::writeTempFile("worker.log", ""));
  std::vector<std::pair<int32_t, TestRecord>> sent;
  for (int seq = 0; seq < 10; ++seq) {
    for (int32_t partition : {0, 1}) {
      sent.emplace_back(
          partition, TestRecord{key(partition, seq),
                                confluentFrame(writer_id, payment(*(*writer)->file->message_type(0),
                                                                  factory, partition, seq)),
                                {},
                                1700000000000});
    }
  }
  ASSERT_TRUE(testing::produceTestRecords(east->bootstrap(), "payments.authorized", sent));
  ASSERT_TRUE(
      waitFor([&] { return testing::totalRecords(west->bootstrap(), kMirror, 2) >= 10; }, 60s))
      << worker.log();
  worker.signal(SIGTERM);
  ASSERT_EQ(worker.wait(60s), 0) << worker.log();

  // then: every record carries one target registry ID, which names a .proto file under the
  // mirror topic's subject: amount a string, email gone and reserved, the rest as written
  const auto mirror = readAll(west->bootstrap(), kMirror);
  ASSERT_EQ(mirror.size(), 2u);
  ASSERT_FALSE(mirror[0].empty());
  const std::string first = mirror[0][0].value.value_or("");
  ASSERT_GE(first.size(), 6u);
  const uint32_t target_id = confluentId(first);
  EXPECT_GE(target_id, 1000u);
  const auto derived = west_sr.schemaById(target_id, ".east");
  ASSERT_TRUE(derived.has_value());
  EXPECT_EQ(derived->type, schema::SchemaType::kProtobuf);
  auto derived_file = schema::compileProto(proto(derived->text));
  ASSERT_TRUE(derived_file.ok()) << derived_file.error().message << "\n" << derived->text;
  const pb::Descriptor* type = (*derived_file)->file->message_type(0);
  // Its own factory, destroyed before the derived file's pool (the factory's prototypes
  // refer to the pool's descriptors).
  pb::DynamicMessageFactory derived_factory;
  ASSERT_EQ(type->full_name(), "acme.Payment") << derived->text;
  EXPECT_EQ(type->FindFieldByName("amount")->type(), pb::FieldDescriptor::TYPE_STRING);
  EXPECT_EQ(type->FindFieldByName("email"), nullptr);
  EXPECT_TRUE(type->IsReservedNumber(4));
  const auto registered = west_sr.latest(kTargetSubject);
  ASSERT_TRUE(registered.has_value()) << ::testing::PrintToString(west_sr.subjects());
  EXPECT_EQ(registered->id, target_id);

  // ... and protobuf's parser, given that file, reads payments 5 to 9 of each partition, in
  // order, as the policy left them; no card number or email is in any byte
  for (int32_t p = 0; p < 2; ++p) {
    ASSERT_EQ(mirror[static_cast<size_t>(p)].size(), 5u) << "partition " << p;
    for (int seq = 5; seq < 10; ++seq) {
      const verify::ConsumedRecord& got = mirror[static_cast<size_t>(p)][seq - 5];
      EXPECT_EQ(got.key, key(p, seq));
      const std::string value = got.value.value_or("");
      ASSERT_GE(value.size(), 6u);
      EXPECT_EQ(confluentId(value), target_id);
      EXPECT_EQ(value[5], '\0');  // message indexes [0]
      std::unique_ptr<pb::Message> m(derived_factory.GetPrototype(type)->New());
      ASSERT_TRUE(m->ParseFromString(value.substr(6))) << key(p, seq);
      const pb::Reflection* r = m->GetReflection();
      EXPECT_TRUE(r->GetUnknownFields(*m).empty()) << key(p, seq);
      EXPECT_EQ(r->GetString(*m, type->FindFieldByName("id")), key(p, seq));
      EXPECT_EQ(r->GetString(*m, type->FindFieldByName("amount")), "[REDACTED]");
      EXPECT_EQ(r->GetString(*m, type->FindFieldByName("country")), "DE");
      const pb::Message& card = r->GetMessage(*m, type->FindFieldByName("card"));
      const std::string number = cardNumber(seq);
      EXPECT_EQ(
          card.GetReflection()->GetString(card, card.GetDescriptor()->FindFieldByName("number")),
          std::string(number.size() - 4, '*') + number.substr(number.size() - 4));
      EXPECT_EQ(value.find(number), std::string::npos);
      EXPECT_EQ(value.find(email(seq)), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace causeway
