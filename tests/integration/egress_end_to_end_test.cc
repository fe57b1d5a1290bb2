// What a partner and an operator see of `causeway run` serving a data product: records
// produced to the product's topic on an embedded cluster reach an authenticated partner over
// SSE through its policy, another partner is refused without a hint, a resume token resumes
// exactly after the last event seen, /metrics shows the stream, and a client's ?filter=
// narrows the policy's view.

#include "tests/support/egress_support.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cctype>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>

namespace causeway::egress {
namespace {

using namespace std::chrono_literals;
using testing::kAcmeToken;
using testing::kGlobexToken;
using testing::kProduct;
using testing::kTopic;
using testing::SseClient;

constexpr int32_t kPartitions = 3;

void write(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

// `policy_filter`: the partner policy's own filter, or empty for none.
std::string configYaml(const std::string& bootstrap, const std::string& dir, int port,
                       const std::string& policy_filter = "") {
  return R"(clusters:
  east: {bootstrap: ")" +
         bootstrap + R"("}
policies:
  partner-acme:
    topics: {allow: ["payments\\..*"]}
)" + (policy_filter.empty() ? std::string() : "    filter: '" + policy_filter + "'\n") +
         R"(    fields:
      - {path: value.pad, action: redact}
    audit: {file: ")" +
         dir + R"(/acme-audit.jsonl", interval: 1s}
products:
  - name: payments.authorized.v1
    domain: payments
    description: "Authorized card payments"
    source: east
    topics: ["payments\\.authorized"]
    freshness_slo: 30s
    headers: [seq]
  - name: payments.refunds.v1
    source: east
    topics: ["payments\\.refunds"]
partners:
  acme:
    policy: partner-acme
    products: ["payments.authorized.v1"]
    auth: {tokens_file: ")" +
         dir + R"(/acme.tokens"}
  globex:
    products: ["payments.refunds.v1"]
    auth: {tokens_file: ")" +
         dir + R"(/globex.tokens"}
egress:
  listen: "127.0.0.1:)" +
         std::to_string(port) + R"("
  heartbeat_interval: 1s
)";
}

SseClient::Options stream(int port, const std::string& token, const std::string& query = "") {
  SseClient::Options o;
  o.port = port;
  o.path = std::string("/v1/products/") + kProduct + "/events" + query;
  if (!token.empty()) {
    o.headers["Authorization"] = "Bearer " + token;
  }
  return o;
}

// Percent-encodes a query value.
std::string urlEncode(std::string_view text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::pair<int, int64_t> positionOf(const SseEvent& event) {
  auto json = nlohmann::json::parse(event.data);
  return {json["partition"].get<int>(), json["offset"].get<int64_t>()};
}

TEST(EgressEndToEndTest, PartnerReadsResumesAndIsCountedThroughCausewayRun) {
  auto cluster = testing::startCluster("east", 1, {{kTopic, kPartitions}});
  ASSERT_NE(cluster, nullptr);
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("causeway-egress-e2e-" + std::to_string(::getpid())))
                              .string();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  write(dir + "/acme.tokens", std::string("acme-1 ") + kAcmeToken + "\n");
  write(dir + "/globex.tokens", std::string("globex-1 ") + kGlobexToken + "\n");
  const int port = testing::freePort();
  const int metrics_port = testing::freePort();
  write(dir + "/causeway.yaml", configYaml(cluster->bootstrap(), dir, port));
  testing::ChildProcess worker({CAUSEWAY_BINARY, "run", "-c", dir + "/causeway.yaml",
                                "--metrics-listen", "127.0.0.1:" + std::to_string(metrics_port),
                                "--control-listen", "off"},
                               dir + "/worker.log");
  const std::map<std::string, std::string> acme = {
      {"Authorization", std::string("Bearer ") + kAcmeToken}};
  ASSERT_TRUE(testing::waitFor(
      [&] {
        return worker.running() && testing::httpGet(port, "/v1/products", acme).status == 200;
      },
      20s))
      << worker.log();
  const auto listing = nlohmann::json::parse(testing::httpGet(port, "/v1/products", acme).body);
  ASSERT_EQ(listing["products"].size(), 1u) << listing.dump();
  EXPECT_EQ(listing["products"][0]["name"], kProduct);

  ASSERT_TRUE(testing::produceRecords(cluster->bootstrap(), kTopic, kPartitions, 10));

  // The partner reads 12 of the 30 events and goes away.
  std::string last_id;
  std::set<std::pair<int, int64_t>> seen;
  {
    SseClient first(stream(port, kAcmeToken, "?from=earliest"));
    ASSERT_TRUE(first.connect()) << first.error();
    ASSERT_EQ(first.status(), 200) << first.body();
    EXPECT_EQ(first.responseHeaders().at("content-type").rfind("text/event-stream", 0), 0u);
    ASSERT_GE(first.readEvents(12, 15s), 12u) << worker.log();
    for (size_t i = 0; i < 12; ++i) {
      const SseEvent& e = first.events()[i];
      EXPECT_FALSE(e.id.empty());
      const auto json = nlohmann::json::parse(e.data);
      EXPECT_EQ(json["topic"], kTopic);
      EXPECT_EQ(json["value"]["pad"], "[REDACTED]") << "the policy applies: " << e.data;
      EXPECT_EQ(e.data.find("\"pad\":\"x"), std::string::npos);
      EXPECT_TRUE(json["headers"].contains("seq")) << e.data;
      EXPECT_FALSE(json["headers"].contains("origin-app")) << "only the product's headers";
      EXPECT_TRUE(seen.insert(positionOf(e)).second);
    }
    last_id = first.events()[11].id;
  }

  // Another partner: the product is not one of its own, so it does not exist for it.
  {
    SseClient globex(stream(port, kGlobexToken, "?from=earliest"));
    ASSERT_TRUE(globex.connect());
    EXPECT_EQ(globex.status(), 404) << globex.body();
    EXPECT_EQ(globex.body().find("acme"), std::string::npos);
    SseClient anonymous(stream(port, ""));
    ASSERT_TRUE(anonymous.connect());
    EXPECT_EQ(anonymous.status(), 401);
    SseClient forged(stream(port, "not-a-token-0123456789"));
    ASSERT_TRUE(forged.connect());
    EXPECT_EQ(forged.status(), 401);
  }

  // More records while the partner is away, then it resumes from the last event it saw:
  // the 18 it had not seen and the 15 new, nothing twice.
  ASSERT_TRUE(testing::produceRecords(cluster->bootstrap(), kTopic, kPartitions, 5, 10));
  auto resume = stream(port, kAcmeToken);
  resume.headers["Last-Event-ID"] = last_id;
  SseClient resumed(resume);
  ASSERT_TRUE(resumed.connect());
  ASSERT_EQ(resumed.status(), 200) << resumed.body();
  EXPECT_EQ(resumed.readEvents(33, 15s), 33u) << worker.log();
  // Nothing more arrives (heartbeats only).
  EXPECT_EQ(resumed.readEvents(34, 2500ms), 33u);
  EXPECT_GE(resumed.comments(), 1u) << "a heartbeat on the idle stream";
  for (const auto& e : resumed.events()) {
    EXPECT_TRUE(seen.insert(positionOf(e)).second) << "repeated " << e.data;
    EXPECT_EQ(nlohmann::json::parse(e.data)["value"]["pad"], "[REDACTED]");
  }
  EXPECT_EQ(seen.size(), 45u);
  for (int p = 0; p < kPartitions; ++p) {
    for (int64_t offset = 0; offset < 15; ++offset) {
      EXPECT_EQ(seen.count({p, offset}), 1u) << p << "@" << offset;
    }
  }

  // The operator's view while the resumed stream is open.
  const std::string labels = "{partner=\"acme\",product=\"" + std::string(kProduct) + "\"}";
  std::string metrics;
  ASSERT_TRUE(testing::waitFor(
      [&] {
        metrics = testing::httpGet(metrics_port, "/metrics").body;
        return metrics.find("causeway_egress_clients" + labels + " 1") != std::string::npos;
      },
      10s))
      << metrics;
  EXPECT_NE(metrics.find("causeway_egress_events_sent_total" + labels), std::string::npos);
  EXPECT_NE(metrics.find("causeway_egress_bytes_sent_total" + labels), std::string::npos);
  EXPECT_NE(metrics.find("causeway_egress_rejected_total{reason=\"not_found\"} 1"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("causeway_egress_freshness_slo_seconds"), std::string::npos);
  // The partner's policy counts what egress sent through it, next to the links' policy counters.
  EXPECT_NE(metrics.find("causeway_policy_records_total{link=\"egress/acme/" +
                         std::string(kProduct) +
                         "\",policy=\"partner-acme\",mode=\"enforce\",outcome=\"passed\"}"),
            std::string::npos)
      << metrics;
  resumed.close();

  worker.signal(SIGTERM);
  EXPECT_EQ(worker.wait(20s), std::optional<int>(0)) << worker.log();
  const std::string log = worker.log();
  EXPECT_NE(log.find("{\"audit\":\"egress_stream\",\"auth\":\"token\""), std::string::npos)
      << "an audit line";
  // ... naming the credential by its id (not a secret, so not redacted)
  EXPECT_NE(log.find("\"identity\":\""), std::string::npos) << log;
  EXPECT_EQ(log.find("\"identity\":\"***\""), std::string::npos) << log;
  EXPECT_EQ(log.find(kAcmeToken), std::string::npos) << "a secret in the log";
  // The policy's audit log has the egress stream's decisions (written at the latest at stop).
  std::ifstream audit_file(dir + "/acme-audit.jsonl");
  const std::string audit((std::istreambuf_iterator<char>(audit_file)),
                          std::istreambuf_iterator<char>());
  EXPECT_NE(audit.find("\"link\":\"egress/acme/" + std::string(kProduct) + "\""),
            std::string::npos)
      << audit;
  if (!HasFailure()) {
    std::filesystem::remove_all(dir);
  }
}

// A client's ?filter= narrows what the partner's policy lets through (policy: partition != 1,
// client: seq >= 4 and seq != 7, or'ed with partition == 1, which cannot widen it), sees the
// policy's output (the redacted pad), resumes with Last-Event-ID under the same filter with no
// gap and no repeat among the matching events, and a bad filter is a 400 that says where.
TEST(EgressEndToEndTest, ClientFilterNarrowsThePolicysViewAndResumes) {
  auto cluster = testing::startCluster("east", 1, {{kTopic, kPartitions}});
  ASSERT_NE(cluster, nullptr);
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("causeway-egress-filter-" + std::to_string(::getpid())))
                              .string();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  write(dir + "/acme.tokens", std::string("acme-1 ") + kAcmeToken + "\n");
  write(dir + "/globex.tokens", std::string("globex-1 ") + kGlobexToken + "\n");
  const int port = testing::freePort();
  write(dir + "/causeway.yaml", configYaml(cluster->bootstrap(), dir, port, "partition != 1"));
  testing::ChildProcess worker({CAUSEWAY_BINARY, "run", "-c", dir + "/causeway.yaml",
                                "--metrics-listen", "off", "--control-listen", "off"},
                               dir + "/worker.log");
  const std::map<std::string, std::string> acme = {
      {"Authorization", std::string("Bearer ") + kAcmeToken}};
  ASSERT_TRUE(testing::waitFor(
      [&] {
        return worker.running() && testing::httpGet(port, "/v1/products", acme).status == 200;
      },
      20s))
      << worker.log();
  // seq 0..9 in each partition.
  ASSERT_TRUE(testing::produceRecords(cluster->bootstrap(), kTopic, kPartitions, 10));

  const std::string filter =
      "?filter=" + urlEncode("partition == 1 or (value.seq >= 4 and "
                             "value.seq != 7 and value.pad == \"[REDACTED]\")");
  // Matching: partitions 0 and 2 (the policy's), seq 4, 5, 6, 8, 9: 10 events.
  std::set<std::pair<int, int64_t>> seen;
  auto check = [&](const SseEvent& e) {
    const auto json = nlohmann::json::parse(e.data);
    const int64_t seq = json["value"]["seq"].get<int64_t>();
    EXPECT_NE(json["partition"].get<int>(), 1) << "the filter widened the policy: " << e.data;
    EXPECT_TRUE(seq >= 4 && seq != 7) << e.data;
    EXPECT_EQ(json["value"]["pad"], "[REDACTED]");
    EXPECT_TRUE(seen.insert(positionOf(e)).second) << "repeated " << e.data;
  };
  std::string last_id;
  {
    SseClient first(stream(port, kAcmeToken, filter + "&from=earliest"));
    ASSERT_TRUE(first.connect()) << first.error();
    ASSERT_EQ(first.status(), 200) << first.body();
    ASSERT_GE(first.readEvents(4, 15s), 4u) << worker.log();
    for (size_t i = 0; i < 4; ++i) {
      check(first.events()[i]);
    }
    last_id = first.events()[3].id;
  }
  // seq 10..14 while the client is away: 5 more matching in each of partitions 0 and 2.
  ASSERT_TRUE(testing::produceRecords(cluster->bootstrap(), kTopic, kPartitions, 5, 10));
  auto resume = stream(port, kAcmeToken, filter);
  resume.headers["Last-Event-ID"] = last_id;
  SseClient resumed(resume);
  ASSERT_TRUE(resumed.connect());
  ASSERT_EQ(resumed.status(), 200) << resumed.body();
  EXPECT_EQ(resumed.readEvents(16, 15s), 16u) << worker.log();
  EXPECT_EQ(resumed.readEvents(17, 1500ms), 16u) << "nothing beyond the matching events";
  for (const auto& e : resumed.events()) {
    check(e);
  }
  ASSERT_EQ(seen.size(), 20u);
  for (int p : {0, 2}) {
    for (int64_t seq = 4; seq < 15; ++seq) {
      EXPECT_EQ(seen.count({p, seq}), seq == 7 ? 0u : 1u) << p << "@" << seq;
    }
  }
  resumed.close();

  // A bad filter: 400 with the column and what is wrong; an overlong one is refused too.
  const auto bad = testing::httpGet(
      port, std::string("/v1/products/") + kProduct + "/events?filter=" + urlEncode("value.seq >="),
      acme);
  EXPECT_EQ(bad.status, 400) << bad.body;
  const auto bad_json = nlohmann::json::parse(bad.body);
  EXPECT_EQ(bad_json["error"], "bad_filter") << bad.body;
  EXPECT_NE(bad_json["message"].get<std::string>().find("column 13"), std::string::npos)
      << bad.body;
  const auto huge = testing::httpGet(port,
                                     std::string("/v1/products/") + kProduct + "/events?filter=" +
                                         urlEncode("value.seq == " + std::string(2000, '1')),
                                     acme);
  EXPECT_EQ(huge.status, 400) << huge.body;
  EXPECT_NE(huge.body.find("at most 1024"), std::string::npos) << huge.body;

  worker.signal(SIGTERM);
  EXPECT_EQ(worker.wait(20s), std::optional<int>(0)) << worker.log();
  if (!HasFailure()) {
    std::filesystem::remove_all(dir);
  }
}

}  // namespace
}  // namespace causeway::egress
