// Data contracts end to end through the real binary, for the forms schema_translation_test.cc
// (JSON Schema values framed with IDs) leaves out: `causeway run` with a link between two
// embedded clusters whose records are framed for two different schema registries (test
// registries whose IDs count from 1 and from 1000).
//
//  - Avro keys and values written with Avro C, each side with its own subject (some keys with
//    their ID in the `__key_schema_id` header): on the target both IDs resolve in the target
//    registry to the source's schema, rule set and metadata included; a truncated value is
//    dead-lettered with a reason saying so.
//  - Protobuf values of the second message of a .proto that imports another (message indexes
//    [1], a reference), framed in the payload and in the `__value_schema_id` header: the ID is
//    rewritten where it is, the message indexes and the payload stay as produced.
//  - Avro values framed with a GUID (0x01) that the target registry knows too pass byte for
//    byte; one whose GUID the source registry does not know is dead-lettered. Their Protobuf
//    keys (message indexes [0]) carry the target registry's ID of the key schema.
//  - The SOURCE registry goes down while records of a schema not yet resolved arrive: they
//    wait, nothing passes them, nothing is dropped or dead-lettered, and everything arrives
//    once, in order, when the registry is back.

#include "replicator/dead_letter_writer.h"
#include "schema/wire_format.h"
#include "tests/support/avro_support.h"
#include "tests/support/schema_support.h"
#include "tests/support/test_registry.h"
#include "tests/support/test_support.h"

#include "money.pb.h"
#include "orders.pb.h"

#include <avro.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace causeway {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::confluentFrame;
using testing::confluentId;
using ::testing::HasSubstr;
using testing::metricSample;
using testing::readAll;
using testing::recordHeader;
using testing::startCluster;
using testing::TestRecord;
using testing::TestRegistry;
using testing::waitFor;
using testing::writeAvro;

const std::string kDlq = "causeway.east-to-west.dlq";
const std::string kPayments = "payments.authorized";
const std::string kPaymentsMirror = "east.payments.authorized";
const std::string kRefunds = "sales.refunds";
const std::string kRefundsMirror = "east.sales.refunds";

const std::string kPaymentKey = R"({"type":"record","name":"PaymentKey",
  "namespace":"com.acme.payments","fields":[{"name":"id","type":"string"}]})";
const std::string kPaymentV1 = R"({"type":"record","name":"Payment",
  "namespace":"com.acme.payments","fields":[{"name":"id","type":"string"},
  {"name":"amount","type":"double"},{"name":"memo","type":"string"}]})";
// v2 adds a currency with a default: v1 records resolve to it (the contract's latest).
const std::string kPaymentV2 = R"({"type":"record","name":"Payment",
  "namespace":"com.acme.payments","fields":[{"name":"id","type":"string"},
  {"name":"amount","type":"double"},{"name":"memo","type":"string"},
  {"name":"currency","type":"string","default":"EUR"}]})";
const std::string kMetadata =
    R"({"properties": {"owner": "team-payments@example.com", "classification": "internal"}})";
const std::string kRuleSet = R"({"domainRules": [{"name": "amountNotNegative",
  "kind": "CONDITION", "mode": "WRITE", "type": "CEL", "expr": "message.amount >= 0.0"}]})";

schema::Schema avro(const std::string& text) {
  return schema::Schema{schema::SchemaType::kAvro, text, {}, {}, {}};
}

std::string readProto(const std::string& name) {
  std::ifstream in(std::filesystem::path(CAUSEWAY_SOURCE_DIR) / "tests" / "proto" / name);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void setString(avro_value_t& record, const char* field, const std::string& text) {
  avro_value_t child;
  ASSERT_EQ(avro_value_get_by_name(&record, field, &child, nullptr), 0) << field;
  avro_value_set_string(&child, text.c_str());
}

std::string avroKey(const std::string& id) {
  return writeAvro(kPaymentKey, [&](avro_value_t& key) { setString(key, "id", id); });
}

// A payment written with v1, or with v2 when `currency` is set.
std::string avroPayment(const std::string& id, double amount, const char* currency = nullptr) {
  return writeAvro(currency ? kPaymentV2 : kPaymentV1, [&](avro_value_t& payment) {
    setString(payment, "id", id);
    avro_value_t field;
    avro_value_get_by_name(&payment, "amount", &field, nullptr);
    avro_value_set_double(&field, amount);
    setString(payment, "memo", "card payment " + id);
    if (currency != nullptr) {
      setString(payment, "currency", currency);
    }
  });
}

// A record as produced: key and value bytes (framing included), headers, its partition.
struct Sent {
  int32_t partition = 0;
  std::string key;
  std::string value;
  std::vector<std::pair<std::string, std::string>> headers;
  uint32_t value_id = 0;  // the source ID it names
};

bool produce(const std::string& bootstrap, const std::string& topic,
             const std::vector<Sent>& records) {
  std::vector<std::pair<int32_t, TestRecord>> out;
  for (const Sent& r : records) {
    out.emplace_back(r.partition, TestRecord{r.key, r.value, r.headers, 1700000000000});
  }
  return testing::produceTestRecords(bootstrap, topic, out);
}

std::string config(const embedded::EmbeddedCluster& east, const embedded::EmbeddedCluster& west,
                   const TestRegistry& east_sr, const TestRegistry& west_sr,
                   const std::string& contracts) {
  return R"(
registries:
  east-sr: {url: ")" +
         east_sr.url() + R"(", retries: 0, timeout: 2s}
  west-sr: {url: ")" +
         west_sr.url() + R"(", retries: 0, timeout: 2s}
clusters:
  east: {bootstrap: ")" +
         east.bootstrap() + R"(", embedded_control: ")" + east.controlAddress() +
         R"(", registry: east-sr}
  west: {bootstrap: ")" +
         west.bootstrap() + R"(", embedded_control: ")" + west.controlAddress() +
         R"(", registry: west-sr}
domains:
)" + contracts +
         R"(
links:
  - name: east-to-west
    source: east
    target: west
    topics: {include: ["payments\\..*", "sales\\..*"]}
    naming: {prefix: "east."}
    schemas: {translate_ids: true, context: ".east"}
    dlq: {cluster: source}
    discovery_interval: 1s
    commit_interval: 500ms
    consumer_properties: {"fetch.wait.max.ms": "10", "session.timeout.ms": "6000"}
)";
}

const std::string kPaymentsDomain = R"(
  - name: payments
    topics: ["payments\\..*"]
    contracts:
      - name: authorized
        topics: ["payments\\.authorized"]
        key: {format: avro}
        value: {format: avro}
        on_violation: dlq
)";

// The worker, started with `config_text`; stopped with SIGTERM by stop().
struct Worker {
  explicit Worker(const std::string& config_text)
      : process(testing::runCommand(testing::writeTempFile("formats.yaml", config_text)),
                testing::writeTempFile("worker.log", "")) {}
  void stop() {
    process.signal(SIGTERM);
    EXPECT_EQ(process.wait(60s), 0) << process.log();
  }
  ChildProcess process;
};

bool sameJson(const std::string& a, const std::string& b) {
  return nlohmann::json::parse(a, nullptr, false) == nlohmann::json::parse(b, nullptr, false);
}

TEST(SchemaFormats, AvroKeysAndValuesCarryTargetIdsOfTheSameSchemasWithRuleSetAndMetadata) {
  // given: the source registry holds the key schema under <topic>-key and the value schema,
  // with a rule set and metadata, under <topic>-value; the target registry holds another schema
  auto east = startCluster("east", 1, {{kPayments, 1}});
  auto west = startCluster("west", 1);
  ASSERT_TRUE(east && west);
  TestRegistry east_sr(TestRegistry::Options{1, {}, {}, {}, {}, {}});
  TestRegistry west_sr(TestRegistry::Options{1000, {}, {}, {}, {}, {}});
  east_sr.add("unrelated-value", avro(R"("string")"));
  const uint32_t key_id = east_sr.add(kPayments + "-key", avro(kPaymentKey));
  schema::Schema value_schema = avro(kPaymentV1);
  value_schema.metadata = kMetadata;
  value_schema.rule_set = kRuleSet;
  const uint32_t value_id = east_sr.add(kPayments + "-value", value_schema);
  west_sr.add("other-value", avro(R"("long")"));

  // when: Avro payments with Avro keys arrive, one of them truncated
  Worker worker(config(*east, *west, east_sr, west_sr, kPaymentsDomain));
  std::vector<Sent> sent;
  for (int seq = 0; seq < 12; ++seq) {
    const std::string id = "pay-" + std::to_string(seq);
    Sent r{0,
           confluentFrame(key_id, avroKey(id)),
           confluentFrame(value_id, avroPayment(id, 10.5 + seq)),
           {},
           value_id};
    if (seq % 3 == 1) {  // the key's ID in the __key_schema_id header, the key unframed
      r.key = avroKey(id);
      r.headers.emplace_back(std::string(schema::kKeySchemaIdHeader), confluentFrame(key_id, ""));
    }
    sent.push_back(r);
  }
  Sent& truncated = sent[6];
  truncated.value.resize(truncated.value.size() - 4);  // ends inside the memo string
  const Sent bad = truncated;
  ASSERT_TRUE(produce(east->bootstrap(), kPayments, sent));
  ASSERT_TRUE(waitFor(
      [&] {
        return testing::totalRecords(west->bootstrap(), kPaymentsMirror, 1) >= 11 &&
               testing::totalRecords(east->bootstrap(), kDlq, 1) >= 1;
      },
      60s))
      << worker.process.log();
  worker.stop();

  // then: every other record is on the target, in order, its key and value framed with the
  // target registry's IDs and the producer's bytes after the framing
  const auto mirror = readAll(west->bootstrap(), kPaymentsMirror);
  ASSERT_EQ(mirror.size(), 1u);
  std::vector<Sent> expected;
  for (const Sent& r : sent) {
    if (r.value != bad.value) {
      expected.push_back(r);
    }
  }
  ASSERT_EQ(mirror[0].size(), expected.size());
  uint32_t target_key_id = 0;
  uint32_t target_value_id = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    const std::string key = mirror[0][i].key.value_or("");
    const std::string value = mirror[0][i].value.value_or("");
    const auto key_header = recordHeader(mirror[0][i], schema::kKeySchemaIdHeader);
    ASSERT_GE(value.size(), 5u) << i;
    EXPECT_EQ(value.substr(5), expected[i].value.substr(5)) << "position " << i;
    uint32_t key_target = 0;
    if (expected[i].headers.empty()) {
      EXPECT_FALSE(key_header.has_value()) << "position " << i;
      ASSERT_GE(key.size(), 5u) << i;
      EXPECT_EQ(key.substr(5), expected[i].key.substr(5)) << "position " << i;
      key_target = confluentId(key);
    } else {
      EXPECT_EQ(key, expected[i].key) << "position " << i << ": the key has no prefix";
      ASSERT_TRUE(key_header.has_value()) << "position " << i;
      EXPECT_EQ(key_header->size(), 5u) << "position " << i;
      key_target = confluentId(*key_header);
    }
    if (i == 0) {
      target_key_id = key_target;
      target_value_id = confluentId(value);
    }
    EXPECT_EQ(key_target, target_key_id) << "position " << i;
    EXPECT_EQ(confluentId(value), target_value_id) << "position " << i;
  }
  EXPECT_GE(target_key_id, 1000u);
  EXPECT_GE(target_value_id, 1000u);
  EXPECT_NE(target_key_id, target_value_id);
  // ... both IDs resolve in the target registry (the link's context) to the source's schemas,
  // registered under the mirror topic's key and value subjects, with rule set and metadata
  const auto key_schema = west_sr.schemaById(target_key_id, ".east");
  const auto value_target = west_sr.schemaById(target_value_id, ".east");
  ASSERT_TRUE(key_schema && value_target) << ::testing::PrintToString(west_sr.subjects());
  EXPECT_EQ(key_schema->type, schema::SchemaType::kAvro);
  EXPECT_EQ(key_schema->text, east_sr.schemaById(key_id)->text);
  EXPECT_EQ(value_target->type, schema::SchemaType::kAvro);
  EXPECT_EQ(value_target->text, east_sr.schemaById(value_id)->text);
  EXPECT_TRUE(sameJson(value_target->metadata, kMetadata)) << value_target->metadata;
  EXPECT_TRUE(sameJson(value_target->rule_set, kRuleSet)) << value_target->rule_set;
  const auto key_subject = west_sr.latest(":.east:" + kPaymentsMirror + "-key");
  const auto value_subject = west_sr.latest(":.east:" + kPaymentsMirror + "-value");
  ASSERT_TRUE(key_subject && value_subject) << ::testing::PrintToString(west_sr.subjects());
  EXPECT_EQ(key_subject->id, target_key_id);
  EXPECT_EQ(value_subject->id, target_value_id);
  // ... and the truncated record is in the dead-letter topic as produced, saying why
  const auto dead = readAll(east->bootstrap(), kDlq);
  ASSERT_EQ(dead.size(), 1u);
  ASSERT_EQ(dead[0].size(), 1u);
  EXPECT_EQ(dead[0][0].key, bad.key);
  EXPECT_EQ(dead[0][0].value, bad.value);
  const std::string reason = recordHeader(dead[0][0], replicator::kDlqReasonHeader).value_or("");
  EXPECT_THAT(reason, HasSubstr("invalid-payload"));
  EXPECT_THAT(reason, HasSubstr("value schema id " + std::to_string(value_id)));
  EXPECT_THAT(reason, HasSubstr("truncated"));
  EXPECT_EQ(recordHeader(dead[0][0], replicator::kDlqRuleHeader), "payments.authorized.value");
}

TEST(SchemaFormats, ProtobufMessageIndexesAndHeaderIdsKeepTheirBytesWithTargetIds) {
  // given: the source registry holds orders.proto (Order, then Refund) as the contract's
  // subject, with money.proto as a reference
  auto east = startCluster("east", 1, {{kRefunds, 1}});
  auto west = startCluster("west", 1);
  ASSERT_TRUE(east && west);
  TestRegistry east_sr(TestRegistry::Options{1, {}, {}, {}, {}, {}});
  TestRegistry west_sr(TestRegistry::Options{1000, {}, {}, {}, {}, {}});
  east_sr.add("unrelated-value", avro(R"("string")"));
  const std::string money_text = readProto("money.proto");
  const std::string orders_text = readProto("orders.proto");
  ASSERT_FALSE(money_text.empty() || orders_text.empty());
  east_sr.add("money", schema::Schema{schema::SchemaType::kProtobuf, money_text, {}, {}, {}});
  const uint32_t orders_id = east_sr.add(
      kRefunds + "-value",
      schema::Schema{
          schema::SchemaType::kProtobuf, orders_text, {{"money.proto", "money", 1}}, {}, {}});
  west_sr.add("other-value", avro(R"("long")"));

  // when: refunds (message indexes [1]: the bytes 0x02 0x02) arrive framed in the value or in
  // the __value_schema_id header, one order (indexes [0]: the single byte 0x00), and one
  // record naming a message the file does not have ([2])
  Worker worker(config(*east, *west, east_sr, west_sr, R"(
  - name: sales
    topics: ["sales\\..*"]
    contracts:
      - name: refunds
        topics: ["sales\\.refunds"]
        key: {format: string}
        value: {format: protobuf}
        on_violation: dlq
)"));
  const std::string refund_indexes("\x02\x02", 2);
  const std::string header_name(schema::kValueSchemaIdHeader);
  std::vector<Sent> sent;
  for (int seq = 0; seq < 10; ++seq) {
    test::Refund refund;
    refund.set_order_id("order-" + std::to_string(seq));
    refund.mutable_amount()->set_units(5 + seq);
    refund.mutable_amount()->set_currency("EUR");
    refund.set_reason("damaged");
    const std::string bytes = refund.SerializeAsString();
    Sent r{0, "refund-" + std::to_string(seq), "", {}, orders_id};
    if (seq % 2 == 0) {
      r.value = confluentFrame(orders_id, refund_indexes + bytes);
    } else {
      r.value = bytes;
      r.headers.emplace_back(header_name, confluentFrame(orders_id, refund_indexes));
    }
    sent.push_back(r);
  }
  test::Order order;
  order.set_id("order-10");
  order.mutable_total()->set_units(120);
  order.set_status(test::Order::STATUS_PLACED);
  sent.push_back(Sent{0,
                      "order-10",
                      confluentFrame(orders_id, std::string(1, '\0') + order.SerializeAsString()),
                      {},
                      orders_id});
  Sent bad{0,
           "refund-99",
           confluentFrame(orders_id, std::string("\x02\x04", 2) + "\x0a\x01x"),
           {},
           orders_id};
  sent.insert(sent.begin() + 5, bad);
  ASSERT_TRUE(produce(east->bootstrap(), kRefunds, sent));
  ASSERT_TRUE(waitFor(
      [&] {
        return testing::totalRecords(west->bootstrap(), kRefundsMirror, 1) >= 11 &&
               testing::totalRecords(east->bootstrap(), kDlq, 1) >= 1;
      },
      60s))
      << worker.process.log();
  worker.stop();

  // then: the target has every other record in order; the ID is the target registry's where
  // the producer put it (prefix or header), the message indexes and payload are as produced
  const auto mirror = readAll(west->bootstrap(), kRefundsMirror);
  ASSERT_EQ(mirror.size(), 1u);
  std::vector<Sent> expected;
  for (const Sent& r : sent) {
    if (r.key != bad.key) {
      expected.push_back(r);
    }
  }
  ASSERT_EQ(mirror[0].size(), expected.size());
  std::optional<uint32_t> target_id;
  for (size_t i = 0; i < expected.size(); ++i) {
    const auto& got = mirror[0][i];
    ASSERT_EQ(got.key, expected[i].key) << "position " << i;
    const std::string value = got.value.value_or("");
    const auto header = recordHeader(got, header_name);
    uint32_t id = 0;
    if (expected[i].headers.empty()) {
      EXPECT_FALSE(header.has_value()) << expected[i].key;
      ASSERT_GE(value.size(), 5u);
      EXPECT_EQ(value.substr(5), expected[i].value.substr(5)) << expected[i].key;
      id = confluentId(value);
    } else {
      EXPECT_EQ(value, expected[i].value) << expected[i].key << ": the payload has no prefix";
      ASSERT_TRUE(header.has_value()) << expected[i].key;
      ASSERT_EQ(header->size(), 7u) << expected[i].key;
      EXPECT_EQ(header->substr(5), refund_indexes) << expected[i].key;
      id = confluentId(*header);
    }
    if (!target_id) {
      target_id = id;
    }
    EXPECT_EQ(id, *target_id) << expected[i].key;
  }
  ASSERT_TRUE(target_id.has_value());
  EXPECT_GE(*target_id, 1000u);
  // ... the ID resolves in the target registry to orders.proto, whose reference was
  // registered there too (in the link's context)
  const auto target_schema = west_sr.schemaById(*target_id, ".east");
  ASSERT_TRUE(target_schema.has_value()) << ::testing::PrintToString(west_sr.subjects());
  EXPECT_EQ(target_schema->type, schema::SchemaType::kProtobuf);
  EXPECT_EQ(target_schema->text, orders_text);
  ASSERT_EQ(target_schema->references.size(), 1u);
  EXPECT_EQ(target_schema->references[0].name, "money.proto");
  const auto money = west_sr.latest(target_schema->references[0].subject);
  ASSERT_TRUE(money.has_value()) << target_schema->references[0].subject;
  EXPECT_EQ(money->schema.text, money_text);
  EXPECT_EQ(money->version, target_schema->references[0].version);
  const auto subject = west_sr.latest(":.east:" + kRefundsMirror + "-value");
  ASSERT_TRUE(subject.has_value()) << ::testing::PrintToString(west_sr.subjects());
  EXPECT_EQ(subject->id, *target_id);
  // ... and the record naming no message of the file is dead-lettered, saying so
  const auto dead = readAll(east->bootstrap(), kDlq);
  ASSERT_EQ(dead.size(), 1u);
  ASSERT_EQ(dead[0].size(), 1u);
  EXPECT_EQ(dead[0][0].key, bad.key);
  EXPECT_EQ(dead[0][0].value, bad.value);
  const std::string reason = recordHeader(dead[0][0], replicator::kDlqReasonHeader).value_or("");
  EXPECT_THAT(reason, HasSubstr("invalid-payload"));
  EXPECT_THAT(reason, HasSubstr("value schema id " + std::to_string(orders_id)));
  EXPECT_EQ(recordHeader(dead[0][0], replicator::kDlqRuleHeader), "sales.refunds.value");
}

TEST(SchemaFormats, GuidFramedValuesPassUnchangedAndProtobufKeysCarryTargetIds) {
  // given: east's registry holds the payment schema (Avro values) and a Protobuf key schema;
  // west's holds the payment schema under the same GUID, as a registry that imported it does
  auto east = startCluster("east", 1, {{kPayments, 1}});
  auto west = startCluster("west", 1);
  ASSERT_TRUE(east && west);
  TestRegistry east_sr(TestRegistry::Options{1, {}, {}, {}, {}, {}});
  TestRegistry west_sr(TestRegistry::Options{1000, {}, {}, {}, {}, {}});
  const uint32_t value_id = east_sr.add(kPayments + "-value", avro(kPaymentV1));
  const std::string key_proto =
      "syntax = \"proto3\";\npackage acme;\nmessage PaymentKey { string id = 1; }\n";
  const uint32_t key_id = east_sr.add(
      kPayments + "-key", schema::Schema{schema::SchemaType::kProtobuf, key_proto, {}, {}, {}});
  const std::optional<schema::Guid> guid = east_sr.guidOf(value_id);
  ASSERT_TRUE(guid.has_value());
  west_sr.setGuid(west_sr.add("imported-value", avro(kPaymentV1)), *guid);

  // when: six payments (GUID-framed values, Protobuf keys) and one whose value names a GUID
  // the source registry does not have
  Worker worker(config(*east, *west, east_sr, west_sr, R"(
  - name: payments
    topics: ["payments\\..*"]
    contracts:
      - name: authorized
        topics: ["payments\\.authorized"]
        key: {format: protobuf}
        value: {format: avro}
        on_violation: dlq
)"));
  auto guidFramed = [](const schema::Guid& g, const std::string& payload) {
    std::string out;
    schema::appendPrefix(out, schema::SchemaRef::ofGuid(g), schema::MessageIndexes{});
    return out + payload;
  };
  auto protobufKey = [&](const std::string& id) {
    // indexes [0] (one zero byte), then field 1 (string) = id
    return confluentFrame(key_id, std::string("\0\x0a", 2) + static_cast<char>(id.size()) + id);
  };
  std::vector<Sent> sent;
  for (int seq = 0; seq < 6; ++seq) {
    const std::string id = "pay-" + std::to_string(seq);
    sent.push_back(Sent{0, protobufKey(id), guidFramed(*guid, avroPayment(id, 10.0 + seq)), {}, 0});
  }
  schema::Guid unknown = *guid;
  unknown[0] ^= 0xff;
  const Sent bad{0, protobufKey("pay-99"), guidFramed(unknown, avroPayment("pay-99", 1.0)), {}, 0};
  sent.insert(sent.begin() + 3, bad);
  ASSERT_TRUE(produce(east->bootstrap(), kPayments, sent));
  ASSERT_TRUE(waitFor(
      [&] {
        return testing::totalRecords(west->bootstrap(), kPaymentsMirror, 1) >= 6 &&
               testing::totalRecords(east->bootstrap(), kDlq, 1) >= 1;
      },
      60s))
      << worker.process.log();
  worker.stop();

  // then: the target has the six in order, values byte for byte as produced (the GUID is
  // global), keys with the target registry's ID of the key schema and the rest as produced
  const auto mirror = readAll(west->bootstrap(), kPaymentsMirror);
  ASSERT_EQ(mirror.size(), 1u);
  std::vector<Sent> expected = sent;
  expected.erase(expected.begin() + 3);
  ASSERT_EQ(mirror[0].size(), expected.size());
  std::optional<uint32_t> target_key_id;
  for (size_t i = 0; i < expected.size(); ++i) {
    const auto& got = mirror[0][i];
    EXPECT_EQ(got.value.value_or(""), expected[i].value) << "position " << i;
    const std::string key = got.key.value_or("");
    ASSERT_GE(key.size(), 5u);
    EXPECT_EQ(key.substr(5), expected[i].key.substr(5)) << "position " << i;
    const uint32_t id = confluentId(key);
    EXPECT_EQ(target_key_id.value_or(id), id);
    target_key_id = id;
  }
  ASSERT_TRUE(target_key_id.has_value());
  EXPECT_GE(*target_key_id, 1000u);
  const auto key_schema = west_sr.schemaById(*target_key_id, ".east");
  ASSERT_TRUE(key_schema.has_value()) << ::testing::PrintToString(west_sr.subjects());
  EXPECT_EQ(key_schema->type, schema::SchemaType::kProtobuf);
  EXPECT_EQ(key_schema->text, key_proto);
  // ... and the record whose GUID the source registry does not know is dead-lettered
  const auto dead = readAll(east->bootstrap(), kDlq);
  ASSERT_EQ(dead.size(), 1u);
  ASSERT_EQ(dead[0].size(), 1u);
  EXPECT_EQ(dead[0][0].value, bad.value);
  const std::string reason = recordHeader(dead[0][0], replicator::kDlqReasonHeader).value_or("");
  EXPECT_THAT(reason, HasSubstr("value schema guid " + schema::guidText(unknown))) << reason;
}

TEST(SchemaFormats, SourceRegistryOutageHoldsRecordsUntilItIsBackAndLosesNothing) {
  // given: the source registry holds v1 and v2 of the value subject (v2 is the contract)
  auto east = startCluster("east", 1, {{kPayments, 2}});
  auto west = startCluster("west", 1);
  ASSERT_TRUE(east && west);
  TestRegistry east_sr(TestRegistry::Options{1, {}, {}, {}, {}, {}});
  TestRegistry west_sr(TestRegistry::Options{1000, {}, {}, {}, {}, {}});
  const uint32_t key_id = east_sr.add(kPayments + "-key", avro(kPaymentKey));
  const uint32_t v1 = east_sr.add(kPayments + "-value", avro(kPaymentV1));
  const uint32_t v2 = east_sr.add(kPayments + "-value", avro(kPaymentV2));
  west_sr.add("other-value", avro(R"("long")"));
  Worker worker(config(*east, *west, east_sr, west_sr, kPaymentsDomain));
  auto payment = [&](int32_t partition, int seq, uint32_t id) {
    const std::string name = "p" + std::to_string(partition) + "-" + std::to_string(seq);
    return Sent{
        partition,
        confluentFrame(key_id, avroKey(name)),
        confluentFrame(id, id == v2 ? avroPayment(name, seq, "USD") : avroPayment(name, seq)),
        {},
        id};
  };
  // ... payments framed with v1 have crossed
  std::vector<Sent> before;
  for (int seq = 0; seq < 5; ++seq) {
    for (int32_t partition : {0, 1}) {
      before.push_back(payment(partition, seq, v1));
    }
  }
  ASSERT_TRUE(produce(east->bootstrap(), kPayments, before));
  ASSERT_TRUE(waitFor(
      [&] { return testing::totalRecords(west->bootstrap(), kPaymentsMirror, 2) >= 10; }, 60s))
      << worker.process.log();

  // when: the source registry goes down, and payments framed with v2 (never seen) arrive on
  // both partitions, each partition ending with one framed with v1 (resolved already)
  east_sr.setDown(true);
  const size_t attempts_before = east_sr.requests().size();
  std::vector<Sent> during;
  for (int seq = 5; seq < 10; ++seq) {
    for (int32_t partition : {0, 1}) {
      during.push_back(payment(partition, seq, v2));
    }
  }
  for (int32_t partition : {0, 1}) {
    during.push_back(payment(partition, 10, v1));
  }
  ASSERT_TRUE(produce(east->bootstrap(), kPayments, during));
  // then: the link asks the source registry again and again, and the metrics say it waits
  int port = 0;
  ASSERT_TRUE(waitFor([&] { return (port = testing::metricsPort(worker.process)) != 0; }, 10s))
      << worker.process.log();
  std::string metrics;
  const std::string waiting =
      R"(causeway_schema_topics_waiting{link="east-to-west",reason="registry-unavailable"})";
  ASSERT_TRUE(waitFor(
      [&] {
        metrics = testing::httpGetBody(port, "/metrics");
        return east_sr.requests().size() >= attempts_before + 3 &&
               metricSample(metrics, waiting) == 1;
      },
      30s))
      << metrics << worker.process.log() << ::testing::PrintToString(east_sr.requests());
  // ... nothing passed the first v2 record of either partition, nothing was dead-lettered
  EXPECT_EQ(testing::totalRecords(west->bootstrap(), kPaymentsMirror, 2), 10);
  EXPECT_LE(testing::totalRecords(east->bootstrap(), kDlq, 1), 0);

  // ... and once the registry is back every record arrives
  east_sr.setDown(false);
  ASSERT_TRUE(waitFor(
      [&] { return testing::totalRecords(west->bootstrap(), kPaymentsMirror, 2) >= 22; }, 60s))
      << worker.process.log();
  ASSERT_TRUE(waitFor(
      [&] {
        metrics = testing::httpGetBody(port, "/metrics");
        return metricSample(metrics, waiting) == 0;
      },
      20s))
      << metrics;
  worker.stop();
  // ... each partition holds every record once, in source order, with the target's IDs
  std::vector<std::vector<Sent>> expected(2);
  for (const auto* batch : {&before, &during}) {
    for (const Sent& r : *batch) {
      expected[static_cast<size_t>(r.partition)].push_back(r);
    }
  }
  const auto mirror = readAll(west->bootstrap(), kPaymentsMirror);
  ASSERT_EQ(mirror.size(), 2u);
  std::map<uint32_t, uint32_t> ids;  // source value ID -> target value ID
  for (size_t p = 0; p < 2; ++p) {
    ASSERT_EQ(mirror[p].size(), expected[p].size()) << "partition " << p;
    for (size_t i = 0; i < mirror[p].size(); ++i) {
      const std::string key = mirror[p][i].key.value_or("");
      const std::string value = mirror[p][i].value.value_or("");
      ASSERT_GE(key.size(), 5u);
      ASSERT_GE(value.size(), 5u);
      ASSERT_EQ(key.substr(5), expected[p][i].key.substr(5)) << "partition " << p << " at " << i;
      EXPECT_EQ(value.substr(5), expected[p][i].value.substr(5)) << "partition " << p;
      auto [it, fresh] = ids.emplace(expected[p][i].value_id, confluentId(value));
      EXPECT_EQ(it->second, confluentId(value)) << "another target ID for the same schema";
    }
  }
  ASSERT_EQ(ids.size(), 2u);
  for (const auto& [source_id, target_id] : ids) {
    const auto target_schema = west_sr.schemaById(target_id, ".east");
    ASSERT_TRUE(target_schema.has_value()) << source_id << " -> " << target_id;
    EXPECT_EQ(target_schema->text, east_sr.schemaById(source_id)->text);
  }
  EXPECT_LE(testing::totalRecords(east->bootstrap(), kDlq, 1), 0);
}

}  // namespace
}  // namespace causeway
