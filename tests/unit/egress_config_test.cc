// The products, partners and egress sections: valid shapes load into the typed structs, and
// every mistake is reported at its line and column.

#include "config/config_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace causeway::config {
namespace {

using ::testing::HasSubstr;

// Lines 1-2: one cluster. No links: a worker that only serves products needs none.
constexpr std::string_view kHead = R"(clusters:
  east: {bootstrap: "127.0.0.1:19092"}
)";

// After the body (so line numbers stay): the policy partners name.
constexpr std::string_view kTail = R"(
policies:
  partner-acme: {topics: {allow: ["payments\\..*"]}}
)";

LoadResult load(const std::string& body) {
  return loadConfigString(std::string(kHead) + body + std::string(kTail), "test.yaml");
}

std::string allErrors(const LoadResult& result) {
  std::string out;
  for (const auto& e : result.errors) {
    out += "\n  " + e.str();
  }
  return out.empty() ? "\n  (no errors)" : out;
}

void expectOnlyError(const std::string& body, int line, int column, std::string_view fragment) {
  const LoadResult result = load(body);
  ASSERT_EQ(result.errors.size(), 1u) << allErrors(result);
  EXPECT_EQ(result.errors[0].location.line, line) << allErrors(result);
  EXPECT_EQ(result.errors[0].location.column, column) << allErrors(result);
  EXPECT_THAT(result.errors[0].message, HasSubstr(std::string(fragment)));
}

const std::string kProducts = R"(products:
  - name: payments.authorized.v1
    domain: payments
    description: "Authorized card payments"
    owner: team-payments@example.com
    source: east
    topics: ["payments\\.authorized"]
    freshness_slo: 30s
    headers: [trace-id]
)";

const std::string kPartners = R"(partners:
  acme:
    policy: partner-acme
    products: ["payments.authorized.v1"]
    auth:
      tokens_file: /etc/causeway/acme.tokens
      jwt: {issuer: "https://idp.example", audience: causeway, jwks_file: /etc/causeway/idp.jwks}
    max_connections: 20
)";

const std::string kEgress = R"(egress:
  listen: "0.0.0.0:8443"
  tls: {cert_file: /etc/causeway/tls.crt, key_file: /etc/causeway/tls.key}
  resume_token_secret_file: /etc/causeway/resume.key
  heartbeat_interval: 10s
  client_buffer_bytes: 4MiB
  cors_origins: ["https://partner.example"]
  pushpin: {publish_url: "http://127.0.0.1:5561/publish/", sig_key_file: /etc/pushpin.key}
)";

TEST(EgressConfigTest, APartnerPolicyMustExist) {
  const LoadResult result =
      loadConfigString(std::string(kHead) + kProducts + kPartners + kEgress, "t.yaml");
  ASSERT_EQ(result.errors.size(), 1u) << allErrors(result);
  EXPECT_EQ(result.errors[0].location.line, 14) << allErrors(result);
  EXPECT_THAT(result.errors[0].message, HasSubstr("unknown policy 'partner-acme'"));
}

TEST(EgressConfigTest, TheIssueShapeLoads) {
  const LoadResult result = load(kProducts + kPartners + kEgress);
  ASSERT_TRUE(result.ok()) << allErrors(result);
  const Config& c = *result.config;
  ASSERT_EQ(c.products.size(), 1u);
  const ProductConfig& p = c.products[0];
  EXPECT_EQ(p.name, "payments.authorized.v1");
  EXPECT_EQ(p.domain, "payments");
  EXPECT_EQ(p.source, "east");
  EXPECT_EQ(p.topics, std::vector<std::string>{"payments\\.authorized"});
  EXPECT_EQ(p.freshness_slo, std::chrono::seconds(30));
  EXPECT_EQ(p.headers, std::vector<std::string>{"trace-id"});
  const PartnerConfig& acme = c.partners.at("acme");
  EXPECT_EQ(acme.policy, "partner-acme");
  EXPECT_EQ(acme.products, std::vector<std::string>{"payments.authorized.v1"});
  EXPECT_EQ(acme.auth.tokens_file, "/etc/causeway/acme.tokens");
  ASSERT_TRUE(acme.auth.jwt);
  EXPECT_EQ(acme.auth.jwt->audience, "causeway");
  EXPECT_EQ(acme.auth.jwt->products_claim, "causeway_products");
  EXPECT_EQ(acme.max_connections, 20u);
  ASSERT_TRUE(c.egress);
  EXPECT_EQ(c.egress->listen, "0.0.0.0:8443");
  ASSERT_TRUE(c.egress->tls);
  EXPECT_EQ(c.egress->tls->client_ca_file, "");
  EXPECT_EQ(c.egress->heartbeat_interval, std::chrono::seconds(10));
  EXPECT_EQ(c.egress->client_buffer_bytes, 4u << 20);
  ASSERT_TRUE(c.egress->pushpin);
  EXPECT_EQ(c.egress->pushpin->publish_url, "http://127.0.0.1:5561/publish/");
  EXPECT_EQ(c.findProduct("payments.authorized.v1"), &c.products[0]);
}

TEST(EgressConfigTest, LinksStayRequiredWithoutEgress) {
  const LoadResult result = load(kProducts);
  EXPECT_FALSE(result.ok());
  EXPECT_THAT(allErrors(result), HasSubstr("missing required key 'links'"));
}

TEST(EgressConfigTest, UnknownClusterOfAProduct) {
  std::string body = kProducts + kEgress;
  body.replace(body.find("source: east"), 12, "source: eats");
  expectOnlyError(body, 8, 13, "unknown cluster 'eats'");
}

TEST(EgressConfigTest, DuplicateProductName) {
  const std::string body =
      kProducts + R"(  - {name: payments.authorized.v1, source: east, topics: [x]}
)" + kEgress;
  expectOnlyError(body, 12, 12, "duplicate product name");
}

TEST(EgressConfigTest, ProductNameMustBeUrlSafe) {
  expectOnlyError("products:\n  - {name: \"a b\", source: east, topics: [x]}\n" + kEgress, 4, 12,
                  "letters, digits");
}

TEST(EgressConfigTest, PartnerNamesAnUnknownProduct) {
  std::string body = kProducts + kPartners + kEgress;
  const std::string listed = "products: [\"payments.authorized.v1\"]";
  body.replace(body.find(listed), listed.size(), "products: [\"payments.authorised.v1\"]");
  expectOnlyError(body, 15, 16, "did you mean 'payments.authorized.v1'");
}

TEST(EgressConfigTest, PartnerWithoutCredentials) {
  const std::string body = kProducts + R"(partners:
  acme:
    products: ["payments.authorized.v1"]
    auth: {}
)" + kEgress;
  expectOnlyError(body, 15, 5, "tokens_file and/or jwt");
}

TEST(EgressConfigTest, JwtNeedsKeys) {
  const std::string body = kProducts + R"(partners:
  acme:
    products: ["payments.authorized.v1"]
    auth: {jwt: {issuer: i, audience: a}}
)" + kEgress;
  expectOnlyError(body, 15, 12, "jwks_file");
}

TEST(EgressConfigTest, TwoPartnersWithTheSameIssuerAndAudience) {
  const std::string body = kProducts + R"(partners:
  acme:
    products: ["payments.authorized.v1"]
    auth: {jwt: {issuer: i, audience: a, jwks_file: k}}
  globex:
    products: ["payments.authorized.v1"]
    auth: {jwt: {issuer: i, audience: a, jwks_file: k}}
)" + kEgress;
  const LoadResult result = load(body);
  ASSERT_EQ(result.errors.size(), 1u) << allErrors(result);
  EXPECT_EQ(result.errors[0].location.line, 18);
  EXPECT_THAT(result.errors[0].message, HasSubstr("own audience"));
}

TEST(EgressConfigTest, EgressErrorsAtTheirPlace) {
  expectOnlyError("egress: {listen: \"nowhere\"}\n", 3, 18, "HOST:PORT");
  expectOnlyError("egress: {listen: \"127.0.0.1:0\", heartbeat_interval: often}\n", 3, 53,
                  "duration");
  expectOnlyError("egress: {listen: \"127.0.0.1:0\", tls: {cert_file: c}}\n", 3, 33, "key_file");
  expectOnlyError("egress: {listen: \"127.0.0.1:0\", pushpin: {publish_url: \"https://x\", "
                  "sig_key_file: k}}\n",
                  3, 56, "http://");
  expectOnlyError("egress: {listen: \"127.0.0.1:0\", max_conections: 5}\n", 3, 33,
                  "did you mean 'max_connections'");
  expectOnlyError("egress: {}\n", 3, 1, "missing required key 'listen'");
}

}  // namespace
}  // namespace causeway::config
