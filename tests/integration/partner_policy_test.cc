// Partner policies through the real binary: `causeway run` with a link that names a policy
// replicates into the partner's cluster exactly what the policy lets out. The test reads every
// byte the partner receives (masked card numbers, HMAC-SHA256 e-mail addresses computed here with
// OpenSSL, IBANs the partner decrypts with `causeway decrypt` and its key, dropped fields, only
// the allowed headers), checks that a denied topic never reaches the partner, that an unreadable
// record lands in the dead-letter topic on the domain's own cluster with its reason, and that
// the counters show on /metrics and in the audit log.

#include "replicator/dead_letter_writer.h"
#include "tests/support/test_support.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <librdkafka/rdkafka.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>

namespace causeway {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using ::testing::HasSubstr;
using testing::readAll;
using testing::startCluster;
using testing::TestRecord;
using testing::waitFor;

constexpr char kHmacSecret[] = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
constexpr char kAeadKeys[] =
    "acme-2026-01:5f1c9a2e7b3d4068a1c2e3f40516273849a0b1c2d3e4f5061728394a5b6c7d8e\n";

std::string hmacHex(std::string_view key, std::string_view text) {
  unsigned char out[32];
  size_t out_len = 0;
  EXPECT_NE(EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(),
                      reinterpret_cast<const unsigned char*>(text.data()), text.size(), out,
                      sizeof(out), &out_len),
            nullptr);
  std::string hex;
  char digits[3];
  for (size_t i = 0; i < out_len; ++i) {
    std::snprintf(digits, sizeof(digits), "%02x", out[i]);
    hex += digits;
  }
  return hex;
}

TestRecord payment(const std::string& id, const std::string& country, int amount,
                   const std::string& card, const std::string& email, const std::string& iban) {
  TestRecord r;
  r.key = id;
  r.value = nlohmann::json{{"id", id},
                           {"country", country},
                           {"amount", amount},
                           {"card", {{"number", card}, {"brand", "visa"}}},
                           {"customer", {{"email", email}, {"iban", iban}}},
                           {"internal_notes", "vip, call before shipping"}}
                .dump();
  r.headers = {{"traceparent", "00-" + id + "-01"}, {"x-internal-route", "pci-zone-3"}};
  r.timestamp = 1700000000000;
  return r;
}

std::optional<std::string> header(const verify::ConsumedRecord& record, const std::string& name) {
  for (const auto& [key, value] : record.headers) {
    if (key == name) {
      return value.value_or("");
    }
  }
  return std::nullopt;
}

std::set<std::string> topicNames(const std::string& bootstrap) {
  char err[256];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof(err));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  std::set<std::string> names;
  const rd_kafka_metadata_t* metadata = nullptr;
  if (rk != nullptr && rd_kafka_metadata(rk, 1, nullptr, &metadata, 10000) == 0) {
    for (int i = 0; i < metadata->topic_cnt; ++i) {
      names.insert(metadata->topics[i].topic);
    }
    rd_kafka_metadata_destroy(metadata);
  }
  if (rk != nullptr) {
    rd_kafka_destroy(rk);
  }
  return names;
}

// What the partner does with an encrypted field: `causeway decrypt --key-file` on its text.
std::string decrypt(const std::string& key_file, const std::string& envelope) {
  const auto in = testing::writeTempFile("envelope.txt", envelope + "\n");
  const auto out = testing::writeTempFile("plain.txt", "");
  const std::string command = "timeout 30 " + std::string(CAUSEWAY_BINARY) +
                              " decrypt --key-file '" + key_file + "' < '" + in + "' > '" + out +
                              "' 2>&1";
  EXPECT_EQ(std::system(command.c_str()), 0);
  std::ifstream file(out);
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  while (!text.empty() && text.back() == '\n') {
    text.pop_back();
  }
  return text;
}

int metricsPort(const ChildProcess& worker) {
  static const std::regex pattern(R"(metrics on http://127\.0\.0\.1:(\d+)/metrics)");
  std::smatch match;
  const std::string log = worker.log();
  return std::regex_search(log, match, pattern) ? std::stoi(match[1]) : 0;
}

// The audit log's counts summed over its windows (one JSON line per link, policy and window).
std::map<std::string, int64_t> auditTotals(const std::vector<std::string>& lines) {
  std::map<std::string, int64_t> totals;
  for (const std::string& line : lines) {
    const auto entry = nlohmann::json::parse(line, nullptr, false);
    if (entry.is_discarded()) {
      continue;
    }
    for (const char* key : {"records", "passed", "filtered", "dead_lettered", "not_allowed"}) {
      totals[key] += entry.value(key, int64_t{0});
    }
  }
  return totals;
}

std::vector<std::string> fileLines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream file(path);
  std::string line;
  while (std::getline(file, line)) {
    lines.push_back(line);
  }
  return lines;
}

// The audit topic's records (values), keyed by policy.
std::vector<std::string> topicLines(const std::string& bootstrap, const std::string& topic,
                                    const std::string& policy) {
  std::vector<std::string> lines;
  for (const auto& partition : testing::readAll(bootstrap, topic)) {
    for (const auto& record : partition) {
      EXPECT_EQ(record.key, policy);
      lines.push_back(record.value.value_or(""));
    }
  }
  return lines;
}

std::string httpGet(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(10, 0);
  auto res = client.Get(path);
  return res ? res->body : "";
}

// examples/partner-sharing.yaml's policy, with the given keys, audit log and mode.
std::string policyYaml(const embedded::EmbeddedCluster& east, const embedded::EmbeddedCluster& acme,
                       const std::string& hmac_file, const std::string& aead_file,
                       const std::string& audit_file, const std::string& mode) {
  return R"(
clusters:
  east: {bootstrap: ")" +
         east.bootstrap() + R"(", embedded_control: ")" + east.controlAddress() + R"("}
  acme: {bootstrap: ")" +
         acme.bootstrap() + R"(", embedded_control: ")" + acme.controlAddress() + R"("}
policies:
  partner-acme:
    topics: {allow: ["payments\\.authorized"]}
    filter: 'value.country in ["DE", "AT"] and value.amount >= 100'
    fields:
      - {path: value.card.number, action: mask, keep_last: 4}
      - {path: value.customer.email, action: hash, secret_file: )" +
         hmac_file + R"(}
      - {path: value.customer.iban, action: encrypt, key_file: )" +
         aead_file + R"(}
      - {path: value.internal_notes, action: drop}
    headers: {allow: ["traceparent"]}
    on_violation: dlq
    mode: )" +
         mode +
         R"(
    audit: {file: )" +
         audit_file + R"(, topic: causeway.audit, cluster: east, interval: 1s}
links:
  - name: east-to-acme
    source: east
    target: acme
    topics: {include: ["payments\\..*"]}
    naming: {prefix: "east."}
    delivery: exactly_once
    policy: partner-acme
    dlq: {cluster: source}
)";
}

TEST(PartnerPolicy, ThePartnerReceivesOnlyWhatThePolicyAllowsAndViolationsStayHome) {
  // given: a payments domain with an allowed and a denied topic, and a partner cluster
  auto east = startCluster("east", 1, {{"payments.authorized", 2}, {"payments.internal", 1}});
  auto acme = startCluster("acme", 1);
  ASSERT_TRUE(east && acme);
  const auto hmac_file = testing::writeTempFile("acme.hmac", std::string(kHmacSecret) + "\n");
  const auto aead_file = testing::writeTempFile("acme.aead", kAeadKeys);
  const auto audit_file = testing::writeTempFile("acme-audit.jsonl", "");
  const std::string yaml = policyYaml(*east, *acme, hmac_file, aead_file, audit_file, "enforce");
  const auto config_path = testing::writeTempFile("partner.yaml", yaml);
  std::string check_output;
  {
    const auto out = testing::writeTempFile("check.out", "");
    const int rc = std::system(("timeout 60 " + std::string(CAUSEWAY_BINARY) + " check-config '" +
                                config_path + "' > '" + out + "' 2>&1")
                                   .c_str());
    std::ifstream file(out);
    check_output.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
    ASSERT_EQ(WEXITSTATUS(rc), 0) << check_output;
  }

  // when: the worker runs and the domain produces payments, a record that is not JSON, and
  // records on a topic the policy does not allow
  ChildProcess worker(testing::runCommand(config_path), testing::writeTempFile("worker.log", ""));
  const std::vector<std::pair<int32_t, TestRecord>> records = {
      {0,
       payment("p1", "DE", 250, "4111111111111111", "anna@example.com", "DE89370400440532013000")},
      {0, payment("p2", "FR", 900, "4000000000000002", "marc@example.fr",
                  "FR7630006000011234567890189")},
      {1, payment("p3", "AT", 50, "5500000000000004", "eva@example.at", "AT611904300234573201")},
      {1, payment("p5", "AT", 120, "5500000000000004", "anna@example.com", "AT483200000012345864")},
      // between two records for the partner: the exactly-once link keeps target and dead-letter
      // queue in source order around it
      {1, {"p4", "card 4111111111111111 declined", {{"traceparent", "00-p4-01"}}, 1700000000000}},
      {1, payment("p6", "DE", 100, "4000000000000010", "jan@example.de", "DE02120300000000202051")},
  };
  ASSERT_TRUE(testing::produceTestRecords(east->bootstrap(), "payments.authorized", records));
  ASSERT_TRUE(testing::produceRecords(east->bootstrap(), "payments.internal", 1, 20));
  const std::string dlq_topic = "causeway.east-to-acme.dlq";
  ASSERT_TRUE(waitFor(
      [&] {
        // (high watermarks: -1 while a topic does not exist yet)
        return testing::totalRecords(acme->bootstrap(), "east.payments.authorized", 2) >= 3 &&
               testing::totalRecords(east->bootstrap(), dlq_topic, 1) >= 1;
      },
      60s))
      << worker.log();
  int port = 0;
  ASSERT_TRUE(waitFor([&] { return (port = metricsPort(worker)) != 0; }, 10s)) << worker.log();
  std::string metrics;
  ASSERT_TRUE(waitFor(
      [&] {
        metrics = httpGet(port, "/metrics");
        return metrics.find("causeway_policy_records_total") != std::string::npos;
      },
      20s))
      << metrics;
  worker.signal(SIGTERM);
  ASSERT_EQ(worker.wait(60s), 0) << worker.log();
  std::ifstream audit_in(audit_file);
  const std::string audit((std::istreambuf_iterator<char>(audit_in)),
                          std::istreambuf_iterator<char>());

  // then: the partner has the two allowed payments, transformed, and nothing else
  const auto mirror = readAll(acme->bootstrap(), "east.payments.authorized");
  ASSERT_EQ(mirror.size(), 2u);
  ASSERT_EQ(mirror[0].size(), 1u);
  ASSERT_EQ(mirror[1].size(), 2u);
  struct Expected {
    const verify::ConsumedRecord& got;
    std::string id, card_tail, email, iban;
  };
  for (const Expected& e :
       {Expected{mirror[0][0], "p1", "1111", "anna@example.com", "DE89370400440532013000"},
        Expected{mirror[1][0], "p5", "0004", "anna@example.com", "AT483200000012345864"},
        Expected{mirror[1][1], "p6", "0010", "jan@example.de", "DE02120300000000202051"}}) {
    EXPECT_EQ(e.got.key, e.id);
    const auto value = nlohmann::json::parse(e.got.value.value_or(""));
    EXPECT_EQ(value["id"], e.id);
    EXPECT_EQ(value["card"]["number"], "************" + e.card_tail);
    EXPECT_EQ(value["card"]["brand"], "visa");
    EXPECT_EQ(value["customer"]["email"], hmacHex(kHmacSecret, e.email));
    const std::string envelope = value["customer"]["iban"];
    EXPECT_THAT(envelope, ::testing::Not(HasSubstr(e.iban.substr(4))));
    EXPECT_EQ(decrypt(aead_file, envelope), e.iban);
    EXPECT_FALSE(value.contains("internal_notes")) << value.dump();
    EXPECT_EQ(header(e.got, "traceparent"), "00-" + e.id + "-01");
    EXPECT_EQ(header(e.got, "x-internal-route"), std::nullopt);
    EXPECT_EQ(e.got.timestamp, 1700000000000);
  }
  // ... the same e-mail address hashes the same, so the partner can join on it
  EXPECT_EQ(nlohmann::json::parse(*mirror[0][0].value)["customer"]["email"],
            nlohmann::json::parse(*mirror[1][0].value)["customer"]["email"]);
  // ... the denied topic has no mirror at all
  EXPECT_EQ(topicNames(acme->bootstrap()).count("east.payments.internal"), 0u);
  // ... the unreadable record is in the domain's own dead-letter topic, as it was read
  const auto dead = readAll(east->bootstrap(), dlq_topic);
  size_t dead_count = 0;
  for (const auto& partition : dead) {
    for (const auto& record : partition) {
      ++dead_count;
      EXPECT_EQ(record.key, "p4");
      EXPECT_EQ(record.value, "card 4111111111111111 declined");
      EXPECT_THAT(header(record, std::string(replicator::kDlqReasonHeader)).value_or(""),
                  HasSubstr("unreadable-payload"));
    }
  }
  EXPECT_EQ(dead_count, 1u);
  EXPECT_EQ(topicNames(acme->bootstrap()).count(dlq_topic), 0u);
  // ... the counters say what happened, without a value
  // (the audit log's last window is written when the worker stops)
  EXPECT_THAT(metrics, HasSubstr("causeway_policy_records_total{"));
  const auto totals = auditTotals(fileLines(audit_file));
  EXPECT_EQ(totals.at("records"), 6) << audit;
  EXPECT_EQ(totals.at("passed"), 3) << audit;
  EXPECT_EQ(totals.at("filtered"), 2) << audit;
  EXPECT_EQ(totals.at("dead_lettered"), 1) << audit;
  EXPECT_EQ(totals.at("not_allowed"), 0) << audit;
  // ... and the audit topic on the domain's cluster has the same lines, keyed by the policy
  const auto topic_lines = topicLines(east->bootstrap(), "causeway.audit", "partner-acme");
  EXPECT_EQ(auditTotals(topic_lines), totals);
  std::string audit_topic;
  for (const auto& line : topic_lines) {
    audit_topic += line + "\n";
  }
  EXPECT_EQ(topicNames(acme->bootstrap()).count("causeway.audit"), 0u);
  for (const std::string secret :
       {"4111111111111111", "anna@example.com", "DE89370400440532013000"}) {
    EXPECT_THAT(audit + audit_topic + metrics + worker.log(), ::testing::Not(HasSubstr(secret)));
  }
}

}  // namespace
}  // namespace causeway

namespace causeway {
namespace {

TEST(PartnerPolicy, ShadowModeChangesNothingOnTheTargetButCounts) {
  // given: the same policy in shadow mode
  auto east = startCluster("east", 1, {{"payments.authorized", 1}, {"payments.internal", 1}});
  auto acme = startCluster("acme", 1);
  ASSERT_TRUE(east && acme);
  const auto hmac_file = testing::writeTempFile("acme.hmac", std::string(kHmacSecret) + "\n");
  const auto aead_file = testing::writeTempFile("acme.aead", kAeadKeys);
  const auto audit_file = testing::writeTempFile("acme-audit.jsonl", "");
  const auto config_path = testing::writeTempFile(
      "shadow.yaml", policyYaml(*east, *acme, hmac_file, aead_file, audit_file, "shadow"));

  // when: payments the policy would filter, transform and dead-letter flow through it
  ChildProcess worker(testing::runCommand(config_path), testing::writeTempFile("worker.log", ""));
  const std::vector<std::pair<int32_t, TestRecord>> records = {
      {0,
       payment("p1", "DE", 250, "4111111111111111", "anna@example.com", "DE89370400440532013000")},
      {0, payment("p2", "FR", 900, "4000000000000002", "marc@example.fr",
                  "FR7630006000011234567890189")},
      {0, {"p3", "not json", {{"traceparent", "00-p3-01"}}, 1700000000000}},
  };
  ASSERT_TRUE(testing::produceTestRecords(east->bootstrap(), "payments.authorized", records));
  ASSERT_TRUE(testing::produceRecords(east->bootstrap(), "payments.internal", 1, 5));
  ASSERT_TRUE(waitFor(
      [&] {
        return testing::totalRecords(acme->bootstrap(), "east.payments.authorized", 1) >= 3 &&
               testing::totalRecords(acme->bootstrap(), "east.payments.internal", 1) >= 5;
      },
      60s))
      << worker.log();
  worker.signal(SIGTERM);
  ASSERT_EQ(worker.wait(60s), 0) << worker.log();

  // then: every record is on the target exactly as it was produced, headers included
  const auto mirror = readAll(acme->bootstrap(), "east.payments.authorized");
  ASSERT_EQ(mirror.size(), 1u);
  ASSERT_EQ(mirror[0].size(), records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    const TestRecord& sent = records[i].second;
    EXPECT_EQ(mirror[0][i].key, sent.key);
    EXPECT_EQ(mirror[0][i].value, sent.value);
    for (const auto& [name, value] : sent.headers) {
      EXPECT_EQ(header(mirror[0][i], name), value) << name;
    }
  }
  EXPECT_EQ(readAll(acme->bootstrap(), "east.payments.internal").at(0).size(), 5u);
  // ... and the audit log says what enforcing would have done
  const auto totals = auditTotals(fileLines(audit_file));
  EXPECT_EQ(totals.at("passed"), 1);
  EXPECT_EQ(totals.at("filtered"), 1);
  EXPECT_EQ(totals.at("dead_lettered"), 1);
  EXPECT_EQ(totals.at("not_allowed"), 5);
}

}  // namespace
}  // namespace causeway

namespace causeway {
namespace {

TEST(PartnerPolicy, ARestartedExactlyOnceWorkerDoesNotDeadLetterARecordTwice) {
  // given: an exactly-once policy link whose partition ends in a dead-lettered record
  auto east = startCluster("east", 1, {{"payments.authorized", 1}, {"payments.internal", 1}});
  auto acme = startCluster("acme", 1);
  ASSERT_TRUE(east && acme);
  const auto config_path = testing::writeTempFile(
      "restart.yaml",
      policyYaml(*east, *acme, testing::writeTempFile("acme.hmac", std::string(kHmacSecret)),
                 testing::writeTempFile("acme.aead", kAeadKeys),
                 testing::writeTempFile("acme-audit.jsonl", ""), "enforce"));
  const std::string dlq_topic = "causeway.east-to-acme.dlq";
  auto run = [&](const std::vector<std::pair<int32_t, TestRecord>>& records, int64_t on_target) {
    ChildProcess worker(testing::runCommand(config_path), testing::writeTempFile("worker.log", ""));
    EXPECT_TRUE(waitFor(
        [&] {
          return worker.log().find("resumes at source offset") != std::string::npos ||
                 worker.log().find("assigned 1 partition") != std::string::npos;
        },
        60s))
        << worker.log();
    EXPECT_TRUE(testing::produceTestRecords(east->bootstrap(), "payments.authorized", records));
    EXPECT_TRUE(waitFor(
        [&] {
          return testing::totalRecords(acme->bootstrap(), "east.payments.authorized", 1) >=
                     on_target &&
                 testing::totalRecords(east->bootstrap(), dlq_topic, 1) >= 1;
        },
        60s))
        << worker.log();
    worker.signal(SIGTERM);
    EXPECT_EQ(worker.wait(60s), 0) << worker.log();
    return worker.log();
  };
  run({{0, payment("p1", "DE", 250, "4111111111111111", "anna@example.com", "DE8937040044053201")},
       {0, {"p2", "not json", {}, 1700000000000}}},
      1);

  // when: a second worker takes the link over (the saved offset runs account for p2) and the
  // next record arrives
  const std::string log = run(
      {{0, payment("p3", "AT", 120, "5500000000000004", "eva@example.at", "AT6119043002345")}}, 2);

  // then: p2 is in the dead-letter topic once, p3 reached the partner after p1
  EXPECT_THAT(log, HasSubstr("resumes at source offset 2 (after the records accounted for"));
  const auto dead = readAll(east->bootstrap(), dlq_topic);
  ASSERT_EQ(dead.size(), 1u);
  ASSERT_EQ(dead[0].size(), 1u) << "dead-lettered again after the restart";
  EXPECT_EQ(dead[0][0].key, "p2");
  const auto mirror = readAll(acme->bootstrap(), "east.payments.authorized");
  ASSERT_EQ(mirror.at(0).size(), 2u);
  EXPECT_EQ(mirror[0][0].key, "p1");
  EXPECT_EQ(mirror[0][1].key, "p3");
}

}  // namespace
}  // namespace causeway
