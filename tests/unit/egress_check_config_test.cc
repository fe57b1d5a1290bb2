// egress::checkConfig: the files a configuration names, checked where the setting is written.

#include "config/config_loader.h"
#include "egress/egress_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace causeway::egress {
namespace {

using ::testing::HasSubstr;

TEST(EgressCheckConfigTest, ReportsUnreadableAndInvalidFilesAtTheirSettings) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("causeway-egress-check-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "acme.tokens") << "acme-1 0123456789abcdef-shared\n";
  std::ofstream(dir / "globex.tokens") << "globex-1 0123456789abcdef-shared\n";
  std::ofstream(dir / "short.key") << "too-short\n";
  std::ofstream(dir / "bad.jwks") << "{\"keys\": []}";
  const std::string d = dir.string();
  const std::string yaml =
      "clusters:\n  east: {bootstrap: \"127.0.0.1:1\"}\n"         // 1-2
      "products:\n  - {name: p.v1, source: east, topics: [t]}\n"  // 3-4
      "partners:\n"                                               // 5
      "  acme:\n    products: [p.v1]\n"                           // 6-7
      "    auth: {tokens_file: " +
      d +
      "/acme.tokens, jwt: {issuer: i, "
      "audience: a, jwks_file: " +
      d +
      "/bad.jwks}}\n"                      // 8
      "  globex:\n    products: [p.v1]\n"  // 9-10
      "    auth: {tokens_file: " +
      d +
      "/globex.tokens}\n"                 // 11
      "egress:\n  listen: 127.0.0.1:0\n"  // 12-13
      "  resume_token_secret_file: " +
      d +
      "/short.key\n"  // 14
      "  tls: {cert_file: " +
      d + "/none.pem, key_file: k}\n";  // 15
  auto loaded = config::loadConfigString(yaml, "egress.yaml");
  ASSERT_TRUE(loaded.ok()) << (loaded.errors.empty() ? "" : loaded.errors[0].str());
  const auto errors = checkConfig(*loaded.config);
  std::string all;
  for (const auto& e : errors) {
    all += e.str() + "\n";
  }
  ASSERT_EQ(errors.size(), 4u) << all;
  EXPECT_THAT(all, HasSubstr("egress.yaml:8:"));
  EXPECT_THAT(all, HasSubstr("jwt.jwks_file: JWKS file"));
  EXPECT_THAT(all, HasSubstr("egress.yaml:11:"));
  EXPECT_THAT(all, HasSubstr("is also a token of partner 'acme'"));
  EXPECT_THAT(all, HasSubstr("egress.yaml:14:"));
  EXPECT_THAT(all, HasSubstr("less than 32 bytes"));
  EXPECT_THAT(all, HasSubstr("egress.yaml:15:"));
  EXPECT_THAT(all, HasSubstr("tls.cert_file"));
  EXPECT_EQ(all.find("0123456789abcdef"), std::string::npos) << "no token in messages";
  std::filesystem::remove_all(dir);
}

// A partner policy's paths against the contracts of its product's topics, where their schemas
// are in a catalog: a field the schema cannot hold, or an action that does not fit its type, is
// an error at the rule's line:col naming the topic; a JSON contract as written, an Avro one as
// its records decode on partner streams.
TEST(EgressCheckConfigTest, PolicyPathsAreCheckedAgainstCatalogContracts) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("causeway-egress-paths-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "catalog");
  std::ofstream(dir / "catalog" / "index.yaml")
      << "schemas:\n"
         "  - {id: 1, subject: payments.authorized-value, file: payment.json}\n"
         "  - {id: 2, subject: payments.refunds-value, file: refund.avsc}\n";
  std::ofstream(dir / "catalog" / "payment.json")
      << R"({"type":"object","additionalProperties":false,"properties":{
           "id":{"type":"string"},"amount":{"type":"number"},
           "card":{"type":"object","additionalProperties":false,
                   "properties":{"number":{"type":"string"}}}}})";
  std::ofstream(dir / "catalog" / "refund.avsc")
      << R"({"type":"record","name":"Refund","fields":[{"name":"id","type":"string"},
           {"name":"amount","type":"long"},{"name":"note","type":["null","string"]}]})";
  std::ofstream(dir / "acme.tokens") << "acme-1 0123456789abcdef0123456789abcdef\n";
  const std::string d = dir.string();
  auto yaml = [&](const std::string& fields, const std::string& filter) {
    return "registries:\n  local: {catalog: " + d + "/catalog}\n"                    // 1-2
           "clusters:\n  east: {bootstrap: \"127.0.0.1:1\", registry: local}\n"     // 3-4
           "domains:\n  - name: payments\n    topics: [\"payments\\\\..*\"]\n"   // 5-7
           "    contracts:\n"                                                        // 8
           "      - {name: authorized, topics: [\"payments\\\\.authorized\"], "
           "value: {format: json}}\n"                                                // 9
           "      - {name: refunds, topics: [\"payments\\\\.refunds\"], "
           "value: {format: avro}}\n"                                                // 10
           "policies:\n  acme-policy:\n"                                           // 11-12
           "    topics: {allow: [\"payments\\\\..*\"]}\n"                          // 13
           "    filter: '" + filter + "'\n"                                          // 14
           "    fields:\n" + fields +                                                // 15-
           "products:\n  - {name: p.v1, source: east, topics: "
           "[\"payments\\\\.authorized\", \"payments\\\\.refunds\", \"payments\\\\..*\"]}\n"
           "partners:\n  acme:\n    products: [p.v1]\n    policy: acme-policy\n"
           "    auth: {tokens_file: " + d + "/acme.tokens}\n"
           "egress: {listen: \"127.0.0.1:0\"}\n";
  };
  auto errorsOf = [&](const std::string& text) {
    auto loaded = config::loadConfigString(text, "paths.yaml");
    EXPECT_TRUE(loaded.ok()) << (loaded.errors.empty() ? "" : loaded.errors[0].str());
    std::string all;
    if (loaded.ok()) {
      for (const auto& e : checkConfig(*loaded.config)) {
        all += e.str() + "\n";
      }
    }
    return all;
  };
  // Fields both contracts have: nothing to say.
  EXPECT_EQ(errorsOf(yaml("      - {path: value.id, action: hash, secret_env: ACME_HMAC}\n",
                          "value.amount >= 100")),
            "");
  const std::string all = errorsOf(
      yaml("      - {path: value.card.numbr, action: mask, keep_last: 4}\n"   // 16
           "      - {path: value.amount, action: truncate, max: 4}\n",       // 17
           "value.amount >= 100 and value.nte == \"x\""));
  EXPECT_THAT(all, HasSubstr("paths.yaml:16:"));
  EXPECT_THAT(all, HasSubstr("no field 'numbr' at value.card in the contract schema of topic "
                             "payments.authorized (subject payments.authorized-value); did you "
                             "mean 'number'?"));
  EXPECT_THAT(all, HasSubstr("no field 'card' at value in the contract schema of topic "
                             "payments.refunds"));
  EXPECT_THAT(all, HasSubstr("paths.yaml:17:"));
  EXPECT_THAT(all, HasSubstr("truncate does not fit value.amount, which is a number"));
  EXPECT_THAT(all, HasSubstr("paths.yaml:14:"));
  EXPECT_THAT(all, HasSubstr("did you mean 'note'?"));
  std::filesystem::remove_all(dir);
}

TEST(EgressCheckConfigTest, KeyPathsAreCheckedAgainstTheKeyContract) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("causeway-egress-key-paths-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "catalog");
  std::ofstream(dir / "catalog" / "index.yaml")
      << "schemas:\n"
         "  - {id: 1, subject: payments.authorized-key, file: key.json}\n"
         "  - {id: 2, subject: payments.authorized-value, file: value.json}\n";
  std::ofstream(dir / "catalog" / "key.json")
      << R"({"type":"object","additionalProperties":false,"properties":{
           "customer":{"type":"string"},"region":{"type":"string"}}})";
  std::ofstream(dir / "catalog" / "value.json") << R"({"type":"object"})";
  std::ofstream(dir / "acme.tokens") << "acme-1 0123456789abcdef0123456789abcdef\n";
  const std::string d = dir.string();
  auto errorsOf = [&](const std::string& rule) {
    const std::string text =
        "registries:\n  local: {catalog: " + d +
        "/catalog}\n"
        "clusters:\n  east: {bootstrap: \"127.0.0.1:1\", registry: local}\n"
        "domains:\n  - name: payments\n    topics: [\"payments\\\\..*\"]\n"
        "    contracts:\n"
        "      - {name: authorized, topics: [\"payments\\\\.authorized\"], "
        "key: {format: json}, value: {format: json}}\n"
        "policies:\n  acme-policy:\n    topics: {allow: [\"payments\\\\..*\"]}\n"
        "    fields:\n" +
        rule +
        "products:\n  - {name: p.v1, source: east, topics: [\"payments\\\\.authorized\"]}\n"
        "partners:\n  acme:\n    products: [p.v1]\n    policy: acme-policy\n"
        "    auth: {tokens_file: " +
        d +
        "/acme.tokens}\n"
        "egress: {listen: \"127.0.0.1:0\"}\n";
    auto loaded = config::loadConfigString(text, "keys.yaml");
    EXPECT_TRUE(loaded.ok()) << (loaded.errors.empty() ? "" : loaded.errors[0].str());
    std::string all;
    if (loaded.ok()) {
      for (const auto& e : checkConfig(*loaded.config)) {
        all += e.str() + "\n";
      }
    }
    return all;
  };
  // A field the key's contract has: nothing to say.
  EXPECT_EQ(errorsOf("      - {path: key.region, action: mask, keep_last: 2}\n"), "");
  // A misspelt one, on line 14, is named against the key's subject.
  const std::string all = errorsOf("      - {path: key.custmer, action: mask, keep_last: 2}\n");
  EXPECT_THAT(all, HasSubstr("keys.yaml:14:16:"));
  EXPECT_THAT(all, HasSubstr("no field 'custmer' at key in the contract schema of topic "
                             "payments.authorized (subject payments.authorized-key); did you "
                             "mean 'customer'?"));
  std::filesystem::remove_all(dir);
}

} // namespace
} // namespace causeway::egress
