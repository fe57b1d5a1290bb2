// Data contracts end to end through the real binary: `causeway run` with a link between two
// embedded clusters whose records are framed for two different schema registries (two test
// registries, IDs counting from 1 and from 1000). What a user checks on the target: every record
// carries the ID its schema has in the target registry, the payload after the framing is the
// producer's, each partition keeps its order, and the target registry holds the schema under
// the link's context. A record breaking the contract is in the dead-letter topic with its reason
// and rule, and counted on /metrics. While the target registry is down, records with a schema
// not yet translated wait: nothing after them overtakes them, nothing is dropped or
// dead-lettered, and once the registry is back every record arrives, in order, once.

#include "replicator/dead_letter_writer.h"
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
using testing::controlAddress;
using ::testing::HasSubstr;
using testing::httpGetBody;
using testing::metricSample;
using testing::metricsPort;
using testing::readAll;
using testing::recordHeader;
using testing::startCluster;
using testing::TestRecord;
using testing::TestRegistry;
using testing::waitFor;

const std::string kSubject = "payments.authorized-value";
// Where the link registers the schemas: its context, and the mirror topic's subject.
const std::string kTargetSubject = ":.east:east.payments.authorized-value";
const std::string kMirror = "east.payments.authorized";
const std::string kDlq = "causeway.east-to-west.dlq";

const std::string kPaymentV1 = R"({"type":"object","properties":{
  "id":{"type":"string","minLength":1},"amount":{"type":"number","minimum":0}},
  "required":["id","amount"]})";
// v2 adds an optional currency: the contract's schema (the subject's latest) once registered.
const std::string kPaymentV2 = R"({"type":"object","properties":{
  "id":{"type":"string","minLength":1},"amount":{"type":"number","minimum":0},
  "currency":{"type":"string","enum":["EUR","USD"]}},
  "required":["id","amount"]})";

schema::Schema json(const std::string& text) {
  return schema::Schema{schema::SchemaType::kJson, text, {}, {}, {}};
}

// A payment on `partition`, number `seq`, framed with schema `id` (v2 records carry currency).
struct Sent {
  int32_t partition;
  std::string key;
  std::string payload;
  uint32_t source_id;
};

Sent payment(int32_t partition, int seq, uint32_t id, bool v2) {
  char key[32];
  std::snprintf(key, sizeof(key), "p%d-%03d", partition, seq);
  std::string payload = std::string(R"({"id":")") + key + R"(","amount":)" +
                        std::to_string(10 + seq) + (v2 ? R"(,"currency":"EUR"})" : "}");
  return Sent{partition, key, payload, id};
}

bool produce(const std::string& bootstrap, const std::vector<Sent>& records) {
  std::vector<std::pair<int32_t, TestRecord>> out;
  for (const Sent& r : records) {
    out.emplace_back(r.partition,
                     TestRecord{r.key, confluentFrame(r.source_id, r.payload), {}, 1700000000000});
  }
  return testing::produceTestRecords(bootstrap, "payments.authorized", out);
}

// Runs the binary with `args` and answers what it printed.
std::string run(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {CAUSEWAY_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildProcess child(argv, testing::writeTempFile("ctl.log", ""));
  EXPECT_EQ(child.wait(30s), 0) << child.log();
  return child.log();
}

// The link `east-to-west`, with the partner policy `policy` (a name, defined in `policies`) when
// given.
std::string config(const embedded::EmbeddedCluster& east, const embedded::EmbeddedCluster& west,
                   const TestRegistry& east_sr, const TestRegistry& west_sr,
                   const std::string& policy = "", const std::string& policies = "") {
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
domains:
  - name: payments
    topics: ["payments\\..*"]
    contracts:
      - name: authorized
        topics: ["payments\\.authorized"]
        key: {format: string}
        value: {format: json}
        on_violation: dlq
links:
  - name: east-to-west
    source: east
    target: west
    topics: {include: ["payments\\..*"]}
    naming: {prefix: "east."}
    schemas: {translate_ids: true, context: ".east"}
    dlq: {cluster: source}
    discovery_interval: 1s
    commit_interval: 500ms
    consumer_properties: {"fetch.wait.max.ms": "10", "session.timeout.ms": "6000"}
)" + (policy.empty() ? "" : "    policy: " + policy + "\n" + policies);
}

TEST(SchemaTranslation, TargetRecordsCarryTargetIdsViolationsAreDeadLetteredOutagesLoseNothing) {
  // given: two clusters, each with its registry; the source registry holds v1 and v2 of the
  // contract's subject, the target registry other schemas (so IDs cannot match by chance)
  auto east = startCluster("east", 1, {{"payments.authorized", 2}});
  auto west = startCluster("west", 1);
  ASSERT_TRUE(east && west);
  TestRegistry east_sr(TestRegistry::Options{1, {}, {}, {}, {}, {}});
  TestRegistry west_sr(TestRegistry::Options{1000, {}, {}, {}, {}, {}});
  const uint32_t v1 = east_sr.add(kSubject, json(kPaymentV1));
  const uint32_t v2 = east_sr.add(kSubject, json(kPaymentV2));
  west_sr.add("other-value", json(R"({"type":"string"})"));
  const auto config_path =
      testing::writeTempFile("schemas.yaml", config(*east, *west, east_sr, west_sr));

  // when: the worker runs and payments framed with v1 arrive, one breaking the contract
  auto argv = testing::runCommand(config_path);
  argv.insert(argv.end(), {"--control-listen", "127.0.0.1:0"});
  ChildProcess worker(argv, testing::writeTempFile("worker.log", ""));
  std::vector<Sent> before;
  for (int seq = 0; seq < 10; ++seq) {
    for (int32_t partition : {0, 1}) {
      before.push_back(payment(partition, seq, v1, false));
    }
  }
  Sent bad = payment(0, 10, v1, false);
  bad.payload = R"({"id":"p0-010","amount":"secret-amount"})";
  before.push_back(bad);
  before.push_back(payment(0, 11, v1, false));
  ASSERT_TRUE(produce(east->bootstrap(), before));
  ASSERT_TRUE(waitFor(
      [&] {
        return testing::totalRecords(west->bootstrap(), kMirror, 2) >= 21 &&
               testing::totalRecords(east->bootstrap(), kDlq, 1) >= 1;
      },
      60s))
      << worker.log();

  // ... then the target registry goes down, and payments framed with v2 (not translated yet)
  // arrive on both partitions, each followed by one framed with v1 (translated already: it must
  // not overtake them)
  west_sr.setDown(true);
  const size_t attempts_before = west_sr.requests().size();
  std::vector<Sent> during;
  for (int seq = 12; seq < 22; ++seq) {
    for (int32_t partition : {0, 1}) {
      during.push_back(payment(partition, seq, v2, true));
    }
  }
  for (int32_t partition : {0, 1}) {
    during.push_back(payment(partition, 22, v1, false));
  }
  ASSERT_TRUE(produce(east->bootstrap(), during));
  // the link tried the target registry again and again (backoff), and the metrics say it waits
  int port = 0;
  ASSERT_TRUE(waitFor([&] { return (port = metricsPort(worker)) != 0; }, 10s)) << worker.log();
  std::string metrics;
  ASSERT_TRUE(waitFor(
      [&] {
        metrics = httpGetBody(port, "/metrics");
        return west_sr.requests().size() >= attempts_before + 3 &&
               metricSample(metrics, R"(causeway_schema_topics_waiting{link="east-to-west",)"
                                     R"(reason="registry-unavailable"})") == 1;
      },
      30s))
      << metrics << worker.log() << ::testing::PrintToString(west_sr.requests())
      << ::testing::PrintToString(east_sr.requests());
  // ... and nothing passed the first v2 record of either partition
  EXPECT_EQ(testing::totalRecords(west->bootstrap(), kMirror, 2), 21);
  EXPECT_EQ(testing::totalRecords(east->bootstrap(), kDlq, 1), 1);

  // ... until the registry is back
  west_sr.setDown(false);
  ASSERT_TRUE(
      waitFor([&] { return testing::totalRecords(west->bootstrap(), kMirror, 2) >= 43; }, 60s))
      << worker.log();
  ASSERT_TRUE(waitFor(
      [&] {
        metrics = httpGetBody(port, "/metrics");
        return metricSample(metrics, R"(causeway_schema_topics_waiting{link="east-to-west",)"
                                     R"(reason="registry-unavailable"})") == 0;
      },
      20s))
      << metrics;
  // ... and `causeway ctl status` shows what the contract kept off the target
  const std::string control = controlAddress(worker);
  ASSERT_FALSE(control.empty()) << worker.log();
  const std::string status = run({"ctl", "--address", control, "status", "east-to-west"});
  worker.signal(SIGTERM);
  ASSERT_EQ(worker.wait(60s), 0) << worker.log();
  EXPECT_THAT(status, HasSubstr("dead_lettered by contract (invalid-payload, rule "
                                "payments.authorized.value): 1 record(s)"));

  // then: the target registry holds both schemas under the link's context, unchanged
  const auto registered = west_sr.latest(kTargetSubject);
  ASSERT_TRUE(registered.has_value()) << ::testing::PrintToString(west_sr.subjects());
  EXPECT_EQ(registered->version, 2);
  // ... each partition has exactly the records that kept the contract, in source order, each
  // with the target registry's ID of its schema and the producer's payload after the framing
  std::vector<std::vector<Sent>> expected(2);
  for (const auto* batch : {&before, &during}) {
    for (const Sent& sent : *batch) {
      if (sent.payload != bad.payload) {
        expected[static_cast<size_t>(sent.partition)].push_back(sent);
      }
    }
  }
  const auto mirror = readAll(west->bootstrap(), kMirror);
  ASSERT_EQ(mirror.size(), 2u);
  std::map<uint32_t, uint32_t> ids;  // source ID -> target ID
  for (size_t p = 0; p < 2; ++p) {
    ASSERT_EQ(mirror[p].size(), expected[p].size()) << "partition " << p;
    for (size_t i = 0; i < mirror[p].size(); ++i) {
      const verify::ConsumedRecord& got = mirror[p][i];
      const Sent& sent = expected[p][i];
      ASSERT_EQ(got.key, sent.key) << "partition " << p << " position " << i;
      const std::string value = got.value.value_or("");
      ASSERT_GE(value.size(), 5u);
      EXPECT_EQ(value.substr(5), sent.payload) << sent.key;
      const uint32_t target_id = confluentId(value);
      EXPECT_GE(target_id, 1000u) << sent.key;
      auto [it, fresh] = ids.emplace(sent.source_id, target_id);
      EXPECT_EQ(it->second, target_id) << sent.key << ": another target ID for the same schema";
    }
  }
  ASSERT_EQ(ids.size(), 2u);
  for (const auto& [source_id, target_id] : ids) {
    EXPECT_NE(source_id, target_id);
    const auto source_schema = east_sr.schemaById(source_id);
    const auto target_schema = west_sr.schemaById(target_id, ".east");
    ASSERT_TRUE(source_schema && target_schema) << source_id << " -> " << target_id;
    EXPECT_EQ(target_schema->text, source_schema->text);
    EXPECT_EQ(target_schema->type, schema::SchemaType::kJson);
  }
  // ... the record breaking the contract is in the dead-letter topic as it was produced, with
  // the reason, the rule and the failing path, but not the value
  const auto dead = readAll(east->bootstrap(), kDlq);
  ASSERT_EQ(dead.size(), 1u);
  ASSERT_EQ(dead[0].size(), 1u);
  EXPECT_EQ(dead[0][0].key, bad.key);
  EXPECT_EQ(dead[0][0].value, confluentFrame(v1, bad.payload));
  const std::string reason =
      recordHeader(dead[0][0], replicator::kDlqReasonHeader).value_or("(no reason header)");
  EXPECT_THAT(reason, HasSubstr("invalid-payload"));
  EXPECT_THAT(reason, HasSubstr("value.amount"));
  EXPECT_EQ(recordHeader(dead[0][0], replicator::kDlqRuleHeader), "payments.authorized.value");
  // ... and /metrics counted it by link, domain, topic, rule and reason
  EXPECT_EQ(metricSample(metrics, R"(causeway_schema_violations_total{link="east-to-west",)"
                                  R"(domain="payments",topic="payments.authorized",)"
                                  R"(rule="payments.authorized.value",reason="invalid-payload"})"),
            1)
      << metrics;
  EXPECT_THAT(metrics + worker.log() + reason, ::testing::Not(HasSubstr("secret-amount")));
}

// A partner policy on a link whose records are framed for the registry (Confluent's JSON Schema
// serializer): the policy reads the JSON after the prefix, and the partner receives the edited
// JSON behind the ID of the schema the policy derives from the producer's, registered in the
// target registry (a redacted number is a string there), so a validating deserializer reads it.
TEST(SchemaTranslation, APolicyOnTheLinkEditsTheJsonBehindTheIdOfItsDerivedSchema) {
  // given: the contract's subject in the source registry, and a policy that lets through
  // payments of at least 15, masks their id but its last 3 characters and redacts the amount
  auto east = startCluster("east", 1, {{"payments.authorized", 2}});
  auto west = startCluster("west", 1);
  ASSERT_TRUE(east && west);
  TestRegistry east_sr(TestRegistry::Options{1, {}, {}, {}, {}, {}});
  TestRegistry west_sr(TestRegistry::Options{1000, {}, {}, {}, {}, {}});
  const uint32_t v1 = east_sr.add(kSubject, json(kPaymentV1));
  const auto config_path = testing::writeTempFile(
      "policy-schemas.yaml", config(*east, *west, east_sr, west_sr, "acme",
                                    "policies:\n"
                                    "  acme:\n"
                                    "    topics: {allow: [\"payments\\\\..*\"]}\n"
                                    "    filter: 'value.amount >= 15'\n"
                                    "    fields: [{path: value.id, action: mask, keep_last: 3},\n"
                                    "             {path: value.amount, action: redact}]\n"));

  // when: the worker runs and 10 framed payments per partition arrive (amounts 10 to 19)
  ChildProcess worker(testing::runCommand(config_path), testing::writeTempFile("worker.log", ""));
  std::vector<Sent> sent;
  for (int seq = 0; seq < 10; ++seq) {
    for (int32_t partition : {0, 1}) {
      sent.push_back(payment(partition, seq, v1, false));
    }
  }
  ASSERT_TRUE(produce(east->bootstrap(), sent));
  ASSERT_TRUE(
      waitFor([&] { return testing::totalRecords(west->bootstrap(), kMirror, 2) >= 10; }, 60s))
      << worker.log();
  worker.signal(SIGTERM);
  ASSERT_EQ(worker.wait(60s), 0) << worker.log();

  // then: each partition holds payments 5 to 9, in order, each framed with one target registry
  // ID, the id masked and the amount redacted
  const auto mirror = readAll(west->bootstrap(), kMirror);
  ASSERT_EQ(mirror.size(), 2u);
  std::optional<uint32_t> target_id;
  for (int32_t p = 0; p < 2; ++p) {
    ASSERT_EQ(mirror[static_cast<size_t>(p)].size(), 5u) << "partition " << p;
    for (int seq = 5; seq < 10; ++seq) {
      const verify::ConsumedRecord& got = mirror[static_cast<size_t>(p)][seq - 5];
      const Sent expected = payment(p, seq, v1, false);
      EXPECT_EQ(got.key, expected.key);
      const std::string value = got.value.value_or("");
      ASSERT_GE(value.size(), 5u) << expected.key;
      EXPECT_EQ(value.substr(5),
                R"({"id":"***)" + expected.key.substr(3) + R"(","amount":"[REDACTED]"})");
      EXPECT_GE(confluentId(value), 1000u) << expected.key;
      if (!target_id) {
        target_id = confluentId(value);
      }
      EXPECT_EQ(confluentId(value), *target_id) << expected.key;
    }
  }
  // ... and that ID is the derived schema, under the mirror topic's subject: both fields are
  // strings, the rest of the producer's schema is kept
  const auto target_schema = west_sr.schemaById(*target_id, ".east");
  ASSERT_TRUE(target_schema.has_value());
  EXPECT_EQ(target_schema->type, schema::SchemaType::kJson);
  const auto derived = nlohmann::json::parse(target_schema->text);
  EXPECT_EQ(derived["properties"]["id"], nlohmann::json::parse(R"({"type":"string"})"));
  EXPECT_EQ(derived["properties"]["amount"], nlohmann::json::parse(R"({"type":"string"})"));
  EXPECT_EQ(derived["required"], nlohmann::json::parse(R"(["id","amount"])"));
  const auto registered = west_sr.latest(kTargetSubject);
  ASSERT_TRUE(registered.has_value()) << ::testing::PrintToString(west_sr.subjects());
  EXPECT_EQ(registered->id, *target_id);
}

}  // namespace
}  // namespace causeway
