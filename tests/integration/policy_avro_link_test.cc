// A partner policy on Avro records, end to end through the real binary: `causeway run` with a
// link between two embedded clusters whose records are framed for two test registries. The
// producer writes with Avro C; what a partner checks on the target: each record carries the ID
// of the schema the policy derives (registered in the partner's registry under the link's
// context), Avro C reads every record with that schema and finds the fields as the policy left
// them, and no protected value is in any byte of the target's records.

#include "tests/support/avro_support.h"
#include "tests/support/schema_support.h"
#include "tests/support/test_registry.h"
#include "tests/support/test_support.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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
using json = nlohmann::json;

const std::string kSubject = "payments.authorized-value";
const std::string kTargetSubject = ":.east:east.payments.authorized-value";
const std::string kMirror = "east.payments.authorized";

const std::string kPayment = R"({"type": "record", "name": "Payment", "namespace": "acme",
  "fields": [
    {"name": "id", "type": "string"},
    {"name": "amount", "type": "long"},
    {"name": "card", "type": {"type": "record", "name": "Card",
      "fields": [{"name": "number", "type": "string"}]}},
    {"name": "email", "type": ["null", "string"], "default": null},
    {"name": "country", "type": "string"}]})";

std::string key(int32_t partition, int seq) {
  char text[32];
  std::snprintf(text, sizeof(text), "p%d-%03d", partition, seq);
  return text;
}

std::string cardNumber(int seq) { return "41111111111" + std::to_string(10000 + seq); }
std::string email(int seq) { return "buyer" + std::to_string(seq) + "@example.com"; }

// Payment `seq` of `partition`: amount 10 + seq; an email on even numbers, null on odd ones.
std::string payment(int32_t partition, int seq) {
  return testing::writeAvro(kPayment, [&](avro_value_t& record) {
    avro_value_t field;
    avro_value_get_by_name(&record, "id", &field, nullptr);
    avro_value_set_string(&field, key(partition, seq).c_str());
    avro_value_get_by_name(&record, "amount", &field, nullptr);
    avro_value_set_long(&field, 10 + seq);
    avro_value_t card;
    avro_value_get_by_name(&record, "card", &card, nullptr);
    avro_value_get_by_name(&card, "number", &field, nullptr);
    avro_value_set_string(&field, cardNumber(seq).c_str());
    avro_value_get_by_name(&record, "email", &field, nullptr);
    avro_value_t branch;
    if (seq % 2 == 0) {
      avro_value_set_branch(&field, 1, &branch);
      avro_value_set_string(&branch, email(seq).c_str());
    } else {
      avro_value_set_branch(&field, 0, &branch);
      avro_value_set_null(&branch);
    }
    avro_value_get_by_name(&record, "country", &field, nullptr);
    avro_value_set_string(&field, "DE");
  });
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
    formats: {value: avro}
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

TEST(PolicyAvroLink, APartnerReadsTheEditedAvroRecordsWithTheDerivedSchemaInItsRegistry) {
  // given: the producer's Avro schema in the source registry, and a policy that lets through
  // payments of at least 15 from DE, masks the card number, redacts the amount (a long) and
  // drops the email
  auto east = startCluster("east", 1, {{"payments.authorized", 2}});
  auto west = startCluster("west", 1);
  ASSERT_TRUE(east && west);
  TestRegistry east_sr(TestRegistry::Options{1, {}, {}, {}, {}, {}});
  TestRegistry west_sr(TestRegistry::Options{1000, {}, {}, {}, {}, {}});
  const uint32_t writer_id =
      east_sr.add(kSubject, schema::Schema{schema::SchemaType::kAvro, kPayment, {}, {}, {}});
  const auto config_path =
      testing::writeTempFile("policy-avro.yaml", config(*east, *west, east_sr, west_sr));

  // when: the worker runs and 10 payments per partition arrive (amounts 10 to 19)
  ChildProcess worker(testing::runCommand(config_path), testing::writeTempFile("worker.log", ""));
  std::vector<std::pair<int32_t, TestRecord>> sent;
  for (int seq = 0; seq < 10; ++seq) {
    for (int32_t partition : {0, 1}) {
      sent.emplace_back(partition, TestRecord{key(partition, seq),
                                              confluentFrame(writer_id, payment(partition, seq)),
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

  // then: every record carries one target registry ID, which names an Avro schema under the
  // mirror topic's subject: amount a string, email gone, the rest as the producer wrote it
  const auto mirror = readAll(west->bootstrap(), kMirror);
  ASSERT_EQ(mirror.size(), 2u);
  ASSERT_FALSE(mirror[0].empty());
  const std::string first = mirror[0][0].value.value_or("");
  ASSERT_GE(first.size(), 5u);
  const uint32_t target_id = confluentId(first);
  EXPECT_GE(target_id, 1000u);
  const auto derived = west_sr.schemaById(target_id, ".east");
  ASSERT_TRUE(derived.has_value());
  EXPECT_EQ(derived->type, schema::SchemaType::kAvro);
  const json derived_json = json::parse(derived->text);
  ASSERT_EQ(derived_json["fields"].size(), 4u) << derived->text;
  EXPECT_EQ(derived_json["fields"][1]["name"], "amount");
  EXPECT_EQ(derived_json["fields"][1]["type"], "string");
  EXPECT_EQ(derived_json["fields"][3]["name"], "country");
  const auto registered = west_sr.latest(kTargetSubject);
  ASSERT_TRUE(registered.has_value()) << ::testing::PrintToString(west_sr.subjects());
  EXPECT_EQ(registered->id, target_id);

  // ... and Avro C, given that schema, reads payments 5 to 9 of each partition, in order, as
  // the policy left them; no card number or email is in any byte
  for (int32_t p = 0; p < 2; ++p) {
    ASSERT_EQ(mirror[static_cast<size_t>(p)].size(), 5u) << "partition " << p;
    for (int seq = 5; seq < 10; ++seq) {
      const verify::ConsumedRecord& got = mirror[static_cast<size_t>(p)][seq - 5];
      EXPECT_EQ(got.key, key(p, seq));
      const std::string value = got.value.value_or("");
      ASSERT_GE(value.size(), 5u);
      EXPECT_EQ(confluentId(value), target_id);
      const auto read = testing::readAvroJson(derived->text, std::string_view(value).substr(5));
      ASSERT_TRUE(read.has_value()) << key(p, seq);
      const std::string number = cardNumber(seq);
      EXPECT_EQ(json::parse(*read), json({{"id", key(p, seq)},
                                          {"amount", "[REDACTED]"},
                                          {"card",
                                           {{"number", std::string(number.size() - 4, '*') +
                                                           number.substr(number.size() - 4)}}},
                                          {"country", "DE"}}))
          << *read;
      EXPECT_EQ(value.find(number), std::string::npos);
      EXPECT_EQ(value.find(email(seq)), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace causeway
