// The egress HTTP server as partners use it: SSE streams of a product from an embedded cluster,
// resumed with Last-Event-ID, cut when too slow, refused without the right credentials, over
// TLS with client certificates, and the products listing.

#include "egress/egress_server.h"
#include "monitoring/prometheus_text.h"
#include "tests/support/egress_support.h"
#include "tests/support/jwt_signer.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <set>

namespace causeway::egress {
namespace {

using namespace std::chrono_literals;
using testing::HttpResponse;
using testing::kAcmeToken;
using testing::kGlobexToken;
using testing::kProduct;
using testing::kTopic;
using testing::SseClient;

constexpr int32_t kPartitions = 3;

std::string bearer(const std::string& token) { return "Bearer " + token; }

class EgressHttpTest : public ::testing::Test {
protected:
  void SetUp() override {
    cluster_ = testing::startCluster("east", 1, {{kTopic, kPartitions}, {"orders.placed", 1}});
    ASSERT_NE(cluster_, nullptr);
    dir_ = (std::filesystem::temp_directory_path() /
            ("causeway-egress-http-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    config_ = testing::makeEgressConfig(cluster_->bootstrap(), dir_);
    config::ProductConfig orders;
    orders.name = "orders.placed.v1";
    orders.source = "east";
    orders.topics = {"orders\\.placed"};
    config_.products.push_back(orders);
    config_.partners["acme"].products.push_back("orders.placed.v1");
  }

  void start() {
    EgressServer::Options options;
    options.stages = testing::testStageFactory();
    options.filters = testing::testFilterFactory();
    auto server = EgressServer::start(config_, options);
    ASSERT_TRUE(server) << server.error().message;
    server_ = std::move(*server);
  }

  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  SseClient::Options stream(const std::string& token, const std::string& query = "") {
    SseClient::Options o;
    o.port = server_->httpPort();
    o.path = std::string("/v1/products/") + kProduct + "/events" + query;
    o.headers["Authorization"] = bearer(token);
    return o;
  }

  embedded::EmbeddedClusterPtr cluster_;
  std::string dir_;
  config::Config config_;
  std::unique_ptr<EgressServer> server_;
};

TEST_F(EgressHttpTest, ClientResumesWithLastEventIdAndGetsExactlyTheRest) {
  start();
  ASSERT_TRUE(testing::produceRecords(cluster_->bootstrap(), kTopic, kPartitions, 100));
  SseClient first(stream(kAcmeToken, "?from=earliest"));
  ASSERT_TRUE(first.connect()) << first.error();
  ASSERT_EQ(first.status(), 200);
  EXPECT_EQ(first.responseHeaders().at("content-type"), "text/event-stream; charset=utf-8");
  ASSERT_GE(first.readEvents(120, 15s), 120u);
  first.close();
  // The client saw 120 events (more may have arrived in the same read; they count as unseen).
  const std::vector<egress::SseEvent> seen(first.events().begin(), first.events().begin() + 120);

  SseClient second(stream(kAcmeToken, "?from=earliest"));  // the header wins over ?from=
  second.close();
  auto options = stream(kAcmeToken, "?from=earliest");
  options.headers["Last-Event-ID"] = seen.back().id;
  SseClient resumed(options);
  ASSERT_TRUE(resumed.connect()) << resumed.error();
  ASSERT_EQ(resumed.status(), 200);
  EXPECT_GE(resumed.readEvents(180, 15s), 180u);
  std::set<std::pair<int, int64_t>> positions;
  for (const auto* events : {&seen, &resumed.events()}) {
    for (const auto& e : *events) {
      auto json = nlohmann::json::parse(e.data);
      EXPECT_TRUE(positions.emplace(json["partition"], json["offset"]).second)
          << "repeated " << e.data;
      // acme's policy masks "pad": the raw field never reaches it.
      EXPECT_EQ(json["value"]["pad"], "MASKED");
      EXPECT_EQ(e.data.find("\"pad\":\"x"), std::string::npos);
    }
  }
  EXPECT_EQ(positions.size(), 300u);
  EXPECT_EQ(resumed.events().size(), 180u) << "nothing beyond the product's records";
}

// A client from the live edge is given the position it started at before any event: when its
// stream ends before the first event, it resumes with that id and misses nothing that came in
// between.
TEST_F(EgressHttpTest, AStreamEndedBeforeItsFirstEventResumesWhereItBegan) {
  start();
  ASSERT_TRUE(testing::produceRecords(cluster_->bootstrap(), kTopic, kPartitions, 10));
  SseClient early(stream(kGlobexToken, "?from=latest"));
  ASSERT_TRUE(early.connect()) << early.error();
  ASSERT_EQ(early.status(), 200);
  ASSERT_TRUE(testing::waitFor(
      [&] {
        early.readEvents(1, 50ms);
        return !early.lastEventId().empty();
      },
      10s));
  EXPECT_TRUE(early.events().empty());
  const std::string begun = early.lastEventId();
  early.close();
  ASSERT_TRUE(testing::produceRecords(cluster_->bootstrap(), kTopic, kPartitions, 10, 10));
  auto options = stream(kGlobexToken);
  options.headers["Last-Event-ID"] = begun;
  SseClient resumed(options);
  ASSERT_TRUE(resumed.connect()) << resumed.error();
  ASSERT_EQ(resumed.status(), 200);
  EXPECT_EQ(resumed.readEvents(30, 15s), 30u);
  std::set<std::pair<int, int64_t>> positions;
  for (const auto& e : resumed.events()) {
    auto json = nlohmann::json::parse(e.data);
    EXPECT_GE(json["offset"].get<int64_t>(), 10) << "from before the stream began: " << e.data;
    positions.emplace(json["partition"], json["offset"]);
  }
  EXPECT_EQ(positions.size(), 30u);
  resumed.readEvents(31, 500ms);
  EXPECT_EQ(resumed.events().size(), 30u);
}

TEST_F(EgressHttpTest, IdleStreamsGetHeartbeats) {
  start();
  SseClient client(stream(kGlobexToken));
  ASSERT_TRUE(client.connect());
  ASSERT_TRUE(testing::waitFor(
      [&] {
        client.readEvents(1, 100ms);
        return client.comments() >= 2;
      },
      10s))
      << "heartbeat comments every 500 ms";
  EXPECT_TRUE(client.events().empty());
}

TEST_F(EgressHttpTest, SlowClientIsCutWithAResumeTokenAndResumesWithoutLoss) {
  config_.egress->client_buffer_bytes = 32 * 1024;
  start();
  auto options = stream(kGlobexToken);
  options.receive_buffer = 4096;
  SseClient slow(options);
  ASSERT_TRUE(slow.connect());
  ASSERT_TRUE(slow.readEvents(0, 200ms) == 0);
  // About 2 MB of events while the client reads nothing.
  ASSERT_TRUE(testing::produceRecords(cluster_->bootstrap(), kTopic, kPartitions, 3000));
  ASSERT_TRUE(slow.readToEnd(20s)) << "the server ends the slow stream";
  ASSERT_FALSE(slow.events().empty());
  const egress::SseEvent& last = slow.events().back();
  ASSERT_EQ(last.type, "error");
  auto error = nlohmann::json::parse(last.data);
  EXPECT_EQ(error["reason"], "slow-client");
  EXPECT_EQ(error["resume_token"], last.id);

  // Resume as a client would, also when cut again while the server still reads the burst.
  std::vector<egress::SseEvent> all(slow.events().begin(), slow.events().end() - 1);
  std::string token = last.id;
  for (int attempt = 0; attempt < 10 && all.size() < 9000; ++attempt) {
    auto again = stream(kGlobexToken);
    again.headers["Last-Event-ID"] = token;
    SseClient resumed(again);
    ASSERT_TRUE(resumed.connect());
    ASSERT_EQ(resumed.status(), 200);
    resumed.readEvents(9000 - all.size(), 20s);
    for (const auto& e : resumed.events()) {
      if (e.type == "message") {
        all.push_back(e);
      } else {
        EXPECT_EQ(nlohmann::json::parse(e.data)["reason"], "slow-client");
      }
    }
    if (!resumed.events().empty()) {
      token = resumed.events().back().id;
    }
  }
  std::set<std::pair<int, int64_t>> positions;
  for (const auto& e : all) {
    auto json = nlohmann::json::parse(e.data);
    EXPECT_TRUE(positions.emplace(json["partition"], json["offset"]).second);
  }
  EXPECT_EQ(positions.size(), 9000u);
  EXPECT_EQ(all.size(), 9000u);
}

TEST_F(EgressHttpTest, CredentialsAndLimits) {
  start();
  const int port = server_->httpPort();
  const std::string events = std::string("/v1/products/") + kProduct + "/events";
  auto missing = testing::httpGet(port, events);
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(missing.headers["www-authenticate"], "Bearer realm=\"causeway\"");
  auto wrong = testing::httpGet(port, events, {{"Authorization", bearer("nope-nope-nope-nope")}});
  EXPECT_EQ(wrong.status, 401);
  EXPECT_NE(wrong.headers["www-authenticate"].find("invalid_token"), std::string::npos);
  // Unknown product and a product of another partner look the same.
  auto unknown = testing::httpGet(port, "/v1/products/no.such.v1/events",
                                  {{"Authorization", bearer(kGlobexToken)}});
  auto other = testing::httpGet(port, "/v1/products/orders.placed.v1/events",
                                {{"Authorization", bearer(kGlobexToken)}});
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(other.status, 404);
  EXPECT_EQ(unknown.body, other.body);
  EXPECT_EQ(other.body.find("orders"), std::string::npos);
  auto bad_from =
      testing::httpGet(port, events + "?from=yesterday", {{"Authorization", bearer(kGlobexToken)}});
  EXPECT_EQ(bad_from.status, 400);
  auto bad_token = testing::httpGet(
      port, events, {{"Authorization", bearer(kGlobexToken)}, {"Last-Event-ID", "forged-token"}});
  EXPECT_EQ(bad_token.status, 400);
  auto bad_filter = testing::httpGet(port, events + "?filter=nonsense",
                                     {{"Authorization", bearer(kGlobexToken)}});
  EXPECT_EQ(bad_filter.status, 400);
  // globex may hold two streams at once.
  SseClient a(stream(kGlobexToken));
  SseClient b(stream(kGlobexToken));
  ASSERT_TRUE(a.connect());
  ASSERT_TRUE(b.connect());
  EXPECT_EQ(a.status(), 200);
  EXPECT_EQ(b.status(), 200);
  auto third = testing::httpGet(port, events, {{"Authorization", bearer(kGlobexToken)}});
  EXPECT_EQ(third.status, 429);
  EXPECT_EQ(third.headers["retry-after"], "5");
  a.close();
  EXPECT_TRUE(testing::waitFor(
      [&] {
        return testing::httpGet(port, "/v1/products", {{"Authorization", bearer(kGlobexToken)}})
                       .status == 200 &&
               [&] {
                 SseClient c(stream(kGlobexToken));
                 return c.connect() && c.status() == 200;
               }();
      },
      5s))
      << "a closed stream frees its slot";
}

TEST_F(EgressHttpTest, JwtWithAProductsClaimNarrowsWhatItMayRead) {
  testing::JwtSigner idp(testing::JwtSigner::Kind::kEs256, "idp-1");
  std::ofstream(dir_ + "/idp.jwks") << testing::JwtSigner::jwks({&idp});
  config::PartnerJwtConfig jwt;
  jwt.issuer = "https://idp.example";
  jwt.audience = "causeway-acme";
  jwt.jwks_file = dir_ + "/idp.jwks";
  config_.partners["acme"].auth.jwt = jwt;
  start();
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  const std::string token = idp.sign({{"iss", "https://idp.example"},
                                      {"aud", "causeway-acme"},
                                      {"sub", "acme-dashboard"},
                                      {"exp", now + 300},
                                      {"causeway_products", {"orders.placed.v1"}}});
  auto list =
      testing::httpGet(server_->httpPort(), "/v1/products", {{"Authorization", bearer(token)}});
  ASSERT_EQ(list.status, 200);
  auto products = nlohmann::json::parse(list.body)["products"];
  ASSERT_EQ(products.size(), 1u);
  EXPECT_EQ(products[0]["name"], "orders.placed.v1");
  auto forbidden =
      testing::httpGet(server_->httpPort(), std::string("/v1/products/") + kProduct + "/events",
                       {{"Authorization", bearer(token)}});
  EXPECT_EQ(forbidden.status, 403);
  const std::string expired =
      idp.sign({{"iss", "https://idp.example"}, {"aud", "causeway-acme"}, {"exp", now - 3600}});
  EXPECT_EQ(
      testing::httpGet(server_->httpPort(), "/v1/products", {{"Authorization", bearer(expired)}})
          .status,
      401);
}

TEST_F(EgressHttpTest, ProductsListingShowsFreshnessAgainstTheSlo) {
  start();
  ASSERT_TRUE(testing::produceRecords(cluster_->bootstrap(), kTopic, kPartitions, 5));
  auto list = testing::httpGet(server_->httpPort(), "/v1/products",
                               {{"Authorization", bearer(kAcmeToken)}});
  ASSERT_EQ(list.status, 200) << list.body;
  auto products = nlohmann::json::parse(list.body)["products"];
  ASSERT_EQ(products.size(), 2u);
  const auto& p = products[0];
  EXPECT_EQ(p["name"], kProduct);
  EXPECT_EQ(p["owner"], "team-payments@example.com");
  EXPECT_EQ(p["freshness_slo_seconds"], 30.0);
  // The test records carry timestamps from 2023: far outside the SLO.
  ASSERT_TRUE(p["freshness_seconds"].is_number()) << p.dump();
  EXPECT_GT(p["freshness_seconds"].get<double>(), 3600.0);
  EXPECT_EQ(p["within_slo"], false);
  EXPECT_EQ(products[1]["empty"], true);
}

TEST_F(EgressHttpTest, ProductsListingShowsContractsAndThePartnersDerivedSchema) {
  // given: kTopic has a JSON Schema contract in a local catalog and acme's policy masks and
  // drops fields; orders.placed has a contract in a registry that does not answer
  testing::addPaymentsContract(config_, dir_);
  config::ClusterConfig orders_cluster = config_.clusters.at("east");
  orders_cluster.name = "east-orders";
  orders_cluster.registry = "down-sr";
  config_.clusters[orders_cluster.name] = orders_cluster;
  config::RegistryConfig down;
  down.name = "down-sr";
  down.url = "http://127.0.0.1:" + std::to_string(testing::freePort());
  config_.registries[down.name] = down;
  config_.products[1].source = orders_cluster.name;
  config::DomainConfig orders;
  orders.name = "orders";
  orders.topics = {"orders\\..*"};
  config::ContractConfig placed;
  placed.topics = {".*"};
  placed.value.present = true;
  placed.value.format = config::PayloadFormat::kJson;
  orders.contracts.push_back(placed);
  config_.domains.push_back(orders);
  start();

  // when: acme lists its products
  auto list = testing::httpGet(server_->httpPort(), "/v1/products",
                               {{"Authorization", bearer(kAcmeToken)}});

  // then: the payments topic's contract has its subject, schema ID and the schema acme
  // receives (masked -> string, dropped -> gone, the unknown path reported)
  ASSERT_EQ(list.status, 200) << list.body;
  const auto products = nlohmann::json::parse(list.body)["products"];
  ASSERT_EQ(products.size(), 2u) << list.body;
  EXPECT_EQ(products[0]["headers"], nlohmann::json::array({"seq"}));
  ASSERT_EQ(products[0]["contracts"].size(), 1u) << products[0].dump(2);
  EXPECT_EQ(products[0]["contracts"][0]["topic"], kTopic);
  const auto& contract = products[0]["contracts"][0]["contract"];
  EXPECT_EQ(contract["domain"], "payments");
  EXPECT_EQ(contract["format"], "json");
  EXPECT_EQ(contract["subject"], "payments.authorized-value");
  EXPECT_EQ(contract["schema_id"], 7);
  EXPECT_EQ(contract["version"], 1);
  const auto& derived = contract["derived_schema"];
  ASSERT_TRUE(derived.is_object()) << contract.dump(2);
  EXPECT_EQ(derived["properties"]["card"]["properties"]["number"],
            nlohmann::json::parse(R"({"type": "string", "description": "card number"})"));
  EXPECT_FALSE(derived["properties"].contains("internal_notes"));
  EXPECT_EQ(derived["required"], nlohmann::json::parse(R"(["id", "card"])"));
  EXPECT_EQ(derived["properties"]["id"], nlohmann::json::parse(R"({"type": "string"})"));
  EXPECT_EQ(contract["derived_schema_problems"],
            nlohmann::json::array({"value.customer.emial (hash): no property 'emial' at "
                                   "value.customer in the schema"}));

  // and: the registry that does not answer is named for its topic, the listing still answers
  const auto& unavailable = products[1]["contracts"][0]["contract"];
  EXPECT_EQ(unavailable["subject"], "orders.placed-value") << products[1].dump(2);
  EXPECT_EQ(unavailable["error"], "registry unavailable");
  EXPECT_FALSE(unavailable.contains("schema_id"));
  EXPECT_EQ(unavailable["derived_schema_unavailable"],
            "the contract's schema is unknown (registry unavailable)");
  EXPECT_EQ(list.body.find("127.0.0.1"), std::string::npos) << "no registry address";

  // and: a partner without a policy sees the contract's own schema, no derived one
  auto plain = nlohmann::json::parse(testing::httpGet(server_->httpPort(), "/v1/products",
                                                      {{"Authorization", bearer(kGlobexToken)}})
                                         .body)["products"];
  ASSERT_EQ(plain.size(), 1u);
  EXPECT_EQ(plain[0]["contracts"][0]["contract"]["schema_id"], 7);
  EXPECT_FALSE(plain[0]["contracts"][0]["contract"].contains("derived_schema"));
}

TEST_F(EgressHttpTest, MetricsCountStreamsPerPartnerAndProduct) {
  start();
  ASSERT_TRUE(testing::produceRecords(cluster_->bootstrap(), kTopic, kPartitions, 10));
  {
    SseClient client(stream(kGlobexToken, "?from=earliest"));
    ASSERT_TRUE(client.connect());
    ASSERT_EQ(client.readEvents(30, 15s), 30u);
  }
  // (the stream's end is counted before its subscription is gone from the clients gauge)
  ASSERT_TRUE(testing::waitFor(
      [&] {
        monitoring::ExpositionWriter writer;
        server_->addMetrics(writer);
        const std::string text = writer.render().value();
        return text.find("causeway_egress_disconnects_total{partner=\"globex\",product=\"" +
                         std::string(kProduct) + "\",reason=\"client-gone\"} 1") !=
                   std::string::npos &&
               text.find("causeway_egress_clients{partner=\"globex\",product=\"" +
                         std::string(kProduct) + "\"} 0") != std::string::npos;
      },
      5s));
  monitoring::ExpositionWriter writer;
  server_->addMetrics(writer);
  const std::string text = writer.render().value();
  EXPECT_NE(text.find("causeway_egress_events_sent_total{partner=\"globex\",product=\"" +
                      std::string(kProduct) + "\"} 30"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("causeway_egress_clients{partner=\"globex\",product=\"" +
                      std::string(kProduct) + "\"} 0"),
            std::string::npos);
}

// A CA, a server certificate for 127.0.0.1 and a client certificate (P-256: quick to make).
bool makeCertificates(const std::string& dir) {
  const std::string key = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
  const std::string script =
      "cd '" + dir + "' && openssl req -x509 " + key +
      " -keyout ca.key -out ca.pem -days 2 -subj /CN=causeway-test-ca && openssl req " + key +
      " -keyout server.key -out server.csr -subj /CN=localhost && "
      "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext && "
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem "
      "-days 2 -extfile san.ext && openssl req " +
      key +
      " -keyout client.key -out client.csr -subj /CN=acme-client && "
      "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
      "-out client.pem -days 2";
  return std::system(("(" + script + ") > '" + dir + "/openssl.log' 2>&1").c_str()) == 0;
}

std::string run(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  char buf[4096];
  while (pipe != nullptr && fgets(buf, sizeof(buf), pipe) != nullptr) {
    out += buf;
  }
  if (pipe != nullptr) {
    ::pclose(pipe);
  }
  return out;
}

TEST_F(EgressHttpTest, MutualTlsRequiresAClientCertificate) {
  const std::string tls = dir_ + "/tls";
  std::filesystem::create_directories(tls);
  ASSERT_TRUE(makeCertificates(tls)) << "see " << tls << "/openssl.log";
  config_.egress->tls =
      config::EgressTlsConfig{tls + "/server.pem", tls + "/server.key", tls + "/ca.pem", {}};
  start();
  EXPECT_EQ(server_->url().rfind("https://", 0), 0u);
  ASSERT_TRUE(testing::produceRecords(cluster_->bootstrap(), kTopic, kPartitions, 2));
  const std::string url = server_->url() + "/v1/products/" + kProduct + "/events?from=earliest";
  const std::string curl = "curl -sN --max-time 3 --cacert '" + tls +
                           "/ca.pem' -H 'Authorization: " + bearer(kGlobexToken) + "' ";
  const std::string with_cert =
      run(curl + "--cert '" + tls + "/client.pem' --key '" + tls + "/client.key' '" + url + "'");
  size_t events = 0;
  for (size_t pos = 0; (pos = with_cert.find("\ndata: {", pos)) != std::string::npos; ++pos) {
    ++events;
  }
  EXPECT_EQ(events, 6u) << with_cert;
  const std::string without = run(curl + "-w '%{http_code}' '" + url + "' 2>&1");
  EXPECT_EQ(without.find("data:"), std::string::npos);
  EXPECT_EQ(without.find("200"), std::string::npos) << without;
}

}  // namespace
}  // namespace causeway::egress
