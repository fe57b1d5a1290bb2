// The schema sections of the configuration (registries, registry on clusters, domains with
// contracts, schemas on links): what they load, every error with line:col, and
// schema::checkConfig's semantic checks (catalogs that do not load or compile, contracts that
// disagree with a catalog).

#include "config/config_loader.h"
#include "schema/check_config.h"
#include "tests/support/test_support.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace causeway::config {
namespace {

using ::testing::HasSubstr;

std::string allErrors(const std::vector<ConfigError>& errors) {
  std::string out;
  for (const auto& e : errors) {
    out += "\n  " + e.str();
  }
  return out.empty() ? "(none)" : out;
}

// Lines 1-7.
const std::string kRegistries = R"(registries:
  east-sr: {url: "https://sr.east.example:8081", auth: {basic_file: /etc/causeway/east.cred}}
  west-sr:
    url: "http://sr.west.example:8081/apis/ccompat/v7"
    auth: {bearer_token_file: /etc/causeway/west.token}
    timeout: 2s
  local: {catalog: "schemas/"}
)";
// Lines 8-10.
const std::string kClusters = R"(clusters:
  east: {bootstrap: "127.0.0.1:19092", registry: east-sr}
  west: {bootstrap: "127.0.0.1:29092", registry: west-sr}
)";
// Lines 11-19.
const std::string kDomains = R"(domains:
  - name: payments
    owner: "team-payments@example.com"
    topics: ["payments\\..*"]
    contracts:
      - name: authorized
        topics: ["payments\\.authorized"]
        key: {format: string}
        value: {format: avro, subject_strategy: topic, compatibility: backward}
)";
// Lines 20-25.
const std::string kLinks = R"(links:
  - name: east-to-west
    source: east
    target: west
    topics: {include: ["payments\\..*"]}
    schemas: {translate_ids: true, subject_prefix: "east."}
)";

LoadResult load(const std::string& yaml) { return loadConfigString(yaml, "dir/test.yaml"); }

void expectError(const std::string& yaml, int line, int column, const std::string& fragment) {
  const LoadResult result = load(yaml);
  EXPECT_FALSE(result.ok());
  bool found = false;
  for (const auto& error : result.errors) {
    if (error.message.find(fragment) != std::string::npos) {
      found = true;
      EXPECT_EQ(error.location.line, line) << error.str();
      EXPECT_EQ(error.location.column, column) << error.str();
    }
  }
  EXPECT_TRUE(found) << "no error with '" << fragment << "' in" << allErrors(result.errors);
}

TEST(SchemaConfig, LoadsRegistriesDomainsAndLinkSchemas) {
  const LoadResult result = load(kRegistries + kClusters + kDomains + kLinks);
  ASSERT_TRUE(result.ok()) << allErrors(result.errors);
  const Config& config = *result.config;
  ASSERT_EQ(config.registries.size(), 3u);
  EXPECT_EQ(config.registries.at("east-sr").auth.basic_file, "/etc/causeway/east.cred");
  EXPECT_EQ(config.registries.at("west-sr").timeout, std::chrono::milliseconds(2000));
  EXPECT_EQ(config.registries.at("local").catalog, "dir/schemas/")
      << "relative to the configuration file";
  EXPECT_EQ(config.clusters.at("east").registry, "east-sr");
  ASSERT_EQ(config.domains.size(), 1u);
  const DomainConfig& domain = config.domains[0];
  EXPECT_EQ(domain.owner, "team-payments@example.com");
  ASSERT_EQ(domain.contracts.size(), 1u);
  EXPECT_EQ(domain.contracts[0].key.format, PayloadFormat::kString);
  EXPECT_EQ(domain.contracts[0].value.format, PayloadFormat::kAvro);
  EXPECT_EQ(domain.contracts[0].on_violation, ViolationAction::kDeadLetter);
  EXPECT_EQ(domain.contracts[0].value.location.line, 19);
  const LinkSchemasConfig& schemas = config.links[0].schemas;
  EXPECT_TRUE(schemas.translate_ids);
  EXPECT_EQ(schemas.subject_prefix, "east.");
  EXPECT_TRUE(schemas.check_contracts);
}

TEST(SchemaConfig, UnknownRegistryOnACluster) {
  std::string clusters = kClusters;
  clusters.replace(clusters.find("registry: west-sr"), 17, "registry: wset-sr");
  expectError(kRegistries + clusters + kDomains + kLinks, 10, 50,
              "unknown registry 'wset-sr'; did you mean 'west-sr'?");
  expectError(kClusters.substr(0, 0) + "clusters:\n  east: {bootstrap: \"a:1\", registry: x}\n" +
                  "  west: {bootstrap: \"b:1\"}\n" + kLinks.substr(0, kLinks.find("    schemas")),
              2, 38, "define it under the top-level `registries:`");
}

TEST(SchemaConfig, RegistryShapes) {
  const std::string rest = kClusters + kLinks.substr(0, kLinks.find("    schemas"));
  expectError("registries:\n  a: {url: \"https://x:1\", catalog: \"s/\"}\n" + rest, 2, 3,
              "`url` and `catalog` exclude each other");
  expectError("registries:\n  a: {context: .east}\n" + rest, 2, 3, "needs `url`");
  expectError("registries:\n  a: {url: \"https://user:hunter2@x:1\"}\n" + rest, 2, 12,
              "must not contain credentials");
  expectError("registries:\n  a: {url: \"http://x:1\", tls: {ca_file: ca.pem}}\n" + rest, 2, 31,
              "`tls` needs an https:// url");
  expectError("registries:\n  a: {catalog: s, timeout: 1s}\n" + rest, 2, 19,
              "`timeout` applies to registries with a `url`");
  expectError("registries:\n  a: {url: \"https://x:1\", context: east}\n" + rest, 2, 36,
              "a context is written like \".east\"");
  const LoadResult leaky = load("registries:\n  a: {url: \"https://user:hunter2@x:1\"}\n" + rest);
  for (const auto& error : leaky.errors) {
    EXPECT_THAT(error.message, ::testing::Not(HasSubstr("hunter2")));
  }
}

TEST(SchemaConfig, AContractOnATopicItsDomainDoesNotOwn) {
  std::string domains = kDomains;
  domains.replace(domains.find("[\"payments\\\\.authorized\"]"), 25, "[\"orders\\\\.created\"]");
  expectError(kRegistries + kClusters + domains + kLinks, 17, 18,
              "the contract covers 'orders.created', which domain 'payments' does not own (no "
              "domain owns it)");
}

TEST(SchemaConfig, ATopicOwnedByTwoDomains) {
  const std::string second = "  - name: billing\n    topics: [\"payments\\\\.authorized\"]\n";
  expectError(kRegistries + kClusters + kDomains + second + kLinks, 21, 14,
              "topic 'payments.authorized' is also owned by domain 'payments'");
}

TEST(SchemaConfig, FormatAndStrategyMismatch) {
  std::string domains = kDomains;
  domains.replace(domains.find("key: {format: string}"), 21,
                  "key: {format: string, subject_strategy: record}");
  expectError(kRegistries + kClusters + domains + kLinks, 18, 31,
              "`subject_strategy` applies to avro, protobuf and json; this format (string)");
  domains = kDomains;
  domains.replace(domains.find("subject_strategy: topic"), 23, "subject: topic");
  expectError(kRegistries + kClusters + domains + kLinks, 19, 31,
              "`subject` is called `subject_strategy`");
  domains = kDomains;
  domains.replace(domains.find("format: avro"), 12, "format: avor");
  expectError(kRegistries + kClusters + domains + kLinks, 19, 25, "did you mean 'avro'");
}

TEST(SchemaConfig, TranslateIdsNeedsRegistriesOnBothClusters) {
  std::string clusters = kClusters;
  clusters.replace(clusters.find(", registry: west-sr"), 19, "");
  expectError(kRegistries + clusters + kDomains + kLinks, 25, 30,
              "translate_ids needs a `registry:` on both clusters; cluster 'west' has none");
  std::string links = kLinks;
  links.replace(links.find("translate_ids: true, "), 21, "");
  expectError(kRegistries + kClusters + kDomains + links, 25, 14,
              "subject_prefix, context and translate_keys apply to translate_ids: true");
}

// Lines 20-28: `schemas:` in block style, lines 27 and 28 replaceable.
std::string linksWith(const std::string& retry_line, const std::string& recheck_line) {
  return kLinks.substr(0, kLinks.find("    schemas")) + "    schemas:\n" +
         "      translate_ids: true\n" + retry_line + "\n" + recheck_line + "\n";
}

TEST(SchemaConfig, LinkSchemasBackoff) {
  const LoadResult result =
      load(kRegistries + kClusters + kDomains +
           linksWith("      retry: {initial: 100ms, max: 2s}", "      paused_recheck: 5s"));
  ASSERT_TRUE(result.ok()) << allErrors(result.errors);
  const LinkSchemasConfig& schemas = result.config->links[0].schemas;
  EXPECT_EQ(schemas.retry_initial, std::chrono::milliseconds(100));
  EXPECT_EQ(schemas.retry_max, std::chrono::milliseconds(2000));
  EXPECT_EQ(schemas.paused_recheck, std::chrono::milliseconds(5000));

  // Defaults: those of the schema service.
  const LoadResult defaults = load(kRegistries + kClusters + kDomains + kLinks);
  ASSERT_TRUE(defaults.ok()) << allErrors(defaults.errors);
  EXPECT_EQ(defaults.config->links[0].schemas.retry_initial, std::chrono::milliseconds(250));
  EXPECT_EQ(defaults.config->links[0].schemas.retry_max, std::chrono::milliseconds(30000));
  EXPECT_EQ(defaults.config->links[0].schemas.paused_recheck, std::chrono::milliseconds(30000));

  // Only `initial`, below the default maximum.
  const LoadResult initial_only =
      load(kRegistries + kClusters + kDomains +
           linksWith("      retry: {initial: 1s}", "      check_contracts: true"));
  ASSERT_TRUE(initial_only.ok()) << allErrors(initial_only.errors);
  EXPECT_EQ(initial_only.config->links[0].schemas.retry_initial, std::chrono::milliseconds(1000));
  EXPECT_EQ(initial_only.config->links[0].schemas.retry_max, std::chrono::milliseconds(30000));
}

TEST(SchemaConfig, LinkSchemasBackoffErrors) {
  const std::string head = kRegistries + kClusters + kDomains;
  const std::string recheck = "      paused_recheck: 5s";
  expectError(head + linksWith("      retry: {initial: 5s, max: 1s}", recheck), 27, 24,
              "retry.initial (5s) is longer than retry.max (1s)");
  expectError(head + linksWith("      retry: {initial: 2m}", recheck), 27, 24,
              "retry.initial (2m) is longer than retry.max (30s)");
  expectError(head + linksWith("      retry: {max: 100ms}", recheck), 27, 20,
              "retry.initial (250ms) is longer than retry.max (100ms)");
  expectError(head + linksWith("      retry: {initial: soon}", recheck), 27, 24,
              "expected a duration like 250ms, 5s, 2m or 1h, found 'soon'");
  expectError(head + linksWith("      retry: {initial: 0ms}", recheck), 27, 24,
              "must be greater than 0");
  expectError(head + linksWith("      retry: {initial: 1s, maximum: 2s}", recheck), 27, 28,
              "unknown key 'maximum'; valid keys are: initial, max");
  expectError(head + linksWith("      retry: 5s", recheck), 27, 14, "a map with initial and max");
  expectError(head + linksWith("      retry: {initial: 1s}", "      paused_recheck: 0s"), 28, 23,
              "must be greater than 0");
  expectError(head + linksWith("      retry: {initial: 1s}", "      paused_recheck: -1s"), 28, 23,
              "expected a duration");
  expectError(head + linksWith("      retry: {initial: 1s}", "      pause_recheck: 1s"), 28, 7,
              "did you mean 'paused_recheck'");
}

// A catalog folder on disk for checkConfig.
std::string writeCatalog(const std::map<std::string, std::string>& files) {
  const std::string marker = testing::writeTempFile("catalog-marker", "");
  const auto dir = std::filesystem::path(marker).parent_path() /
                   ("catalog-" + std::filesystem::path(marker).filename().string());
  std::filesystem::create_directories(dir);
  for (const auto& [name, text] : files) {
    std::ofstream(dir / name) << text;
  }
  return dir.string();
}

Config catalogConfig(const std::string& folder, PayloadFormat format) {
  Config config;
  config.registries["local"].name = "local";
  config.registries["local"].catalog = folder;
  DomainConfig domain;
  domain.name = "payments";
  domain.topics = {"payments\\..*"};
  ContractConfig contract;
  contract.topics = {"payments\\.authorized"};
  contract.value.present = true;
  contract.value.format = format;
  contract.value.location = SourceLocation{"test.yaml", 9, 16};
  domain.contracts.push_back(contract);
  config.domains.push_back(domain);
  return config;
}

TEST(SchemaCheckConfig, ACatalogThatLoadsAndFitsTheContracts) {
  const std::string folder = writeCatalog(
      {{"index.yaml", "schemas:\n  - {id: 1, subject: payments.authorized-value, file: p.avsc}\n"},
       {"p.avsc", R"({"type":"record","name":"P","fields":[{"name":"a","type":"long"}]})"}});
  const auto errors = schema::checkConfig(catalogConfig(folder, PayloadFormat::kAvro));
  EXPECT_TRUE(errors.empty()) << allErrors(errors);
}

TEST(SchemaCheckConfig, CatalogFilesThatDoNotParseOrCompile) {
  const std::string folder = writeCatalog(
      {{"index.yaml", "schemas:\n  - {id: 1, subject: payments.authorized-value, file: p.avsc}\n"
                      "  - {id: 2, subject: other-value, file: o.json}\n"
                      "  - {id: 3, subject: third-value, file: t.avsc}\n"},
       {"p.avsc", "{\"type\": \"record\",\n \"name\": }"},
       {"o.json", R"({"type": "object"})"},
       {"t.avsc",
        R"({"type": "record", "name": "T", "fields": [{"name": "a", "type": "Money"}]})"}});
  auto errors = schema::checkConfig(catalogConfig(folder, PayloadFormat::kAvro));
  ASSERT_EQ(errors.size(), 1u) << allErrors(errors);
  EXPECT_EQ(errors[0].location.file, folder + "/p.avsc");
  EXPECT_EQ(errors[0].location.line, 2);
  EXPECT_THAT(errors[0].message, HasSubstr("registry 'local': not valid JSON"));

  std::ofstream(std::filesystem::path(folder) / "p.avsc")
      << R"({"type":"record","name":"P","fields":[]})";
  errors = schema::checkConfig(catalogConfig(folder, PayloadFormat::kAvro));
  ASSERT_EQ(errors.size(), 1u) << allErrors(errors);
  EXPECT_EQ(errors[0].location.file, folder + "/index.yaml");
  EXPECT_EQ(errors[0].location.line, 4);
  EXPECT_THAT(errors[0].message, HasSubstr("t.avsc (ID 3) cannot be used"));
  EXPECT_THAT(errors[0].message, HasSubstr("unknown type 'Money'"));
}

TEST(SchemaCheckConfig, AContractFormatTheCatalogDisagreesWith) {
  const std::string folder = writeCatalog(
      {{"index.yaml", "schemas:\n  - {id: 1, subject: payments.authorized-value, file: p.json}\n"},
       {"p.json", R"({"type": "object"})"}});
  auto errors = schema::checkConfig(catalogConfig(folder, PayloadFormat::kAvro));
  ASSERT_EQ(errors.size(), 1u) << allErrors(errors);
  EXPECT_EQ(errors[0].str(),
            "test.yaml:9:16: the contract says avro, but registry 'local' holds subject "
            "payments.authorized-value as json (p.json)");
  Config missing = catalogConfig(folder, PayloadFormat::kJson);
  missing.domains[0].contracts[0].topics = {"payments\\.settled"};
  errors = schema::checkConfig(missing);
  ASSERT_EQ(errors.size(), 1u) << allErrors(errors);
  EXPECT_THAT(errors[0].message, HasSubstr("no registry holds the contract's subject "
                                           "payments.settled-value"));
}

}  // namespace
}  // namespace causeway::config
