#include "config/config_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include <unistd.h>

namespace causeway::config {
namespace {

using ::testing::HasSubstr;

const std::filesystem::path kExampleFile =
    std::filesystem::path(CAUSEWAY_SOURCE_DIR) / "examples" / "two-clusters.yaml";

// Lines 1-4. A link written after it starts on line 5.
constexpr std::string_view kClusters = R"(clusters:
  east: {bootstrap: "127.0.0.1:19092"}
  west: {bootstrap: "127.0.0.1:29092"}
links:
)";

// Lines 5-8: a valid link. Extra link keys appended after it start on line 9, column 5.
constexpr std::string_view kLink = R"(  - name: east-to-west
    source: east
    target: west
    topics: {include: ["orders\\..*"]}
)";

// The clusters, the valid link, then `extra` from line 9.
std::string withLink(std::string_view extra = "") {
  return std::string(kClusters) + std::string(kLink) + std::string(extra);
}

LoadResult load(const std::string& yaml) { return loadConfigString(yaml, "test.yaml"); }

std::string allErrors(const LoadResult& result) {
  std::string out;
  for (const auto& error : result.errors) {
    out += "\n  " + error.str();
  }
  return out.empty() ? "\n  (no errors)" : out;
}

// Asserts that loading fails with exactly one error, at line:column, whose message contains
// `fragment`.
void expectOnlyError(const std::string& yaml, int line, int column, std::string_view fragment) {
  const LoadResult result = load(yaml);
  EXPECT_FALSE(result.ok());
  EXPECT_FALSE(result.config.has_value());
  ASSERT_EQ(result.errors.size(), 1u) << allErrors(result);
  const ConfigError& error = result.errors[0];
  EXPECT_EQ(error.location.file, "test.yaml");
  EXPECT_EQ(error.location.line, line) << error.str();
  EXPECT_EQ(error.location.column, column) << error.str();
  EXPECT_THAT(error.message, HasSubstr(std::string(fragment))) << error.str();
}

// By value: callers pass a temporary LoadResult.
LinkConfig onlyLink(const LoadResult& result) {
  EXPECT_TRUE(result.ok()) << allErrors(result);
  static const LinkConfig kEmpty;
  if (!result.config || result.config->links.size() != 1) {
    ADD_FAILURE() << "expected exactly one link";
    return kEmpty;
  }
  return result.config->links[0];
}

// --- Valid configurations -----------------------------------------------------------------------

TEST(ConfigLoaderTest, LoadsEveryOption) {
  // given a file that sets every option
  const std::string yaml = R"(clusters:
  east:
    bootstrap: "10.0.0.1:9092,10.0.0.2:9092"
    properties: {security.protocol: SASL_SSL, socket.timeout.ms: 30000, ssl.verify: true}
    embedded_control: "127.0.0.1:19090"
    connect_timeout: 2m
  west: {bootstrap: "127.0.0.1:29092"}
links:
  - name: east.to_west-1
    source: east
    target: west
    topics: {include: ["orders\\..*", "payments"], exclude: [".*\\.internal"]}
    naming: {template: "{source}.{link}.{target}.{topic}"}
    start: latest
    delivery: at_least_once
    discovery_interval: 250ms
    commit_interval: 2s
    max_in_flight_bytes: 8MiB
    max_in_flight_records: 5000
    consumer_properties: {fetch.wait.max.ms: "10"}
    producer_properties: {linger.ms: 5, compression.type: lz4}
)";
  // when it is loaded
  const LoadResult result = loadConfigString(yaml, "full.yaml");
  // then every value is in the typed config
  ASSERT_TRUE(result.ok()) << allErrors(result);
  const Config& config = *result.config;
  ASSERT_EQ(config.clusters.size(), 2u);
  const ClusterConfig& east = config.clusters.at("east");
  EXPECT_EQ(east.name, "east");
  EXPECT_EQ(east.bootstrap, "10.0.0.1:9092,10.0.0.2:9092");
  EXPECT_EQ(east.properties.at("security.protocol"), "SASL_SSL");
  EXPECT_EQ(east.properties.at("socket.timeout.ms"), "30000");
  EXPECT_EQ(east.properties.at("ssl.verify"), "true");
  EXPECT_EQ(east.embedded_control, "127.0.0.1:19090");
  EXPECT_EQ(east.connect_timeout, std::chrono::minutes(2));
  EXPECT_EQ(east.location.file, "full.yaml");
  EXPECT_EQ(east.location.line, 2);
  EXPECT_EQ(east.location.column, 3);
  const ClusterConfig& west = config.clusters.at("west");
  EXPECT_EQ(west.bootstrap, "127.0.0.1:29092");
  EXPECT_TRUE(west.embedded_control.empty());
  EXPECT_EQ(west.location.line, 7);

  ASSERT_EQ(config.links.size(), 1u);
  const LinkConfig& link = config.links[0];
  EXPECT_EQ(link.name, "east.to_west-1");
  EXPECT_EQ(link.groupId(), "causeway.east.to_west-1");
  EXPECT_EQ(link.source, "east");
  EXPECT_EQ(link.target, "west");
  EXPECT_THAT(link.topics.include, ::testing::ElementsAre("orders\\..*", "payments"));
  EXPECT_THAT(link.topics.exclude, ::testing::ElementsAre(".*\\.internal"));
  EXPECT_EQ(link.naming.mode, NamingMode::kTemplate);
  EXPECT_EQ(link.naming.value, "{source}.{link}.{target}.{topic}");
  EXPECT_EQ(link.start, StartPosition::kLatest);
  EXPECT_EQ(link.delivery, DeliveryMode::kAtLeastOnce);
  EXPECT_EQ(link.discovery_interval, std::chrono::milliseconds(250));
  EXPECT_EQ(link.commit_interval, std::chrono::seconds(2));
  EXPECT_EQ(link.max_in_flight_bytes, 8u << 20);
  EXPECT_EQ(link.max_in_flight_records, 5000u);
  EXPECT_EQ(link.consumer_properties.at("fetch.wait.max.ms"), "10");
  EXPECT_EQ(link.producer_properties.at("linger.ms"), "5");
  EXPECT_EQ(link.producer_properties.at("compression.type"), "lz4");
  EXPECT_EQ(link.location.line, 9);
  EXPECT_EQ(link.location.column, 5);
  EXPECT_EQ(config.findLink("east.to_west-1"), &link);
}

TEST(ConfigLoaderTest, OmittedOptionsKeepTheirDefaults) {
  const LinkConfig& link = onlyLink(load(withLink()));
  const LinkConfig defaults;
  EXPECT_EQ(link.naming.mode, NamingMode::kIdentity);
  EXPECT_EQ(link.start, StartPosition::kEarliest);
  EXPECT_EQ(link.delivery, DeliveryMode::kAtLeastOnce);
  EXPECT_EQ(link.discovery_interval, defaults.discovery_interval);
  EXPECT_EQ(link.commit_interval, defaults.commit_interval);
  EXPECT_EQ(link.max_in_flight_bytes, defaults.max_in_flight_bytes);
  EXPECT_EQ(link.max_in_flight_records, defaults.max_in_flight_records);
  EXPECT_TRUE(link.topics.exclude.empty());
  EXPECT_TRUE(link.consumer_properties.empty());
}

TEST(ConfigLoaderTest, ExampleFileLoadsCleanly) {
  // given the documented example shipped in examples/
  ASSERT_TRUE(std::filesystem::exists(kExampleFile)) << kExampleFile;
  // when it is loaded from disk
  const LoadResult result = loadConfigFile(kExampleFile.string());
  // then it is valid and holds what its comments describe
  ASSERT_TRUE(result.ok()) << allErrors(result);
  EXPECT_EQ(result.config->clusters.size(), 2u);
  ASSERT_EQ(result.config->links.size(), 1u);
  EXPECT_EQ(result.config->links[0].name, "east-to-west");
  EXPECT_EQ(result.config->links[0].location.file, kExampleFile.string());
}

TEST(ConfigLoaderTest, NamingPrefix) {
  const LinkConfig& link = onlyLink(load(withLink("    naming: {prefix: \"east.\"}\n")));
  EXPECT_EQ(link.naming.mode, NamingMode::kPrefix);
  EXPECT_EQ(link.naming.value, "east.");
}

TEST(ConfigLoaderTest, NamingIdentityExplicit) {
  const LinkConfig& link = onlyLink(load(withLink("    naming: identity\n")));
  EXPECT_EQ(link.naming.mode, NamingMode::kIdentity);
}

TEST(ConfigLoaderTest, ByteSizesAcceptPlainNumbersAndBinaryUnits) {
  EXPECT_EQ(onlyLink(load(withLink("    max_in_flight_bytes: 1000\n"))).max_in_flight_bytes, 1000u);
  EXPECT_EQ(onlyLink(load(withLink("    max_in_flight_bytes: 512KiB\n"))).max_in_flight_bytes,
            512u << 10);
  EXPECT_EQ(onlyLink(load(withLink("    max_in_flight_bytes: 64MiB\n"))).max_in_flight_bytes,
            64u << 20);
  EXPECT_EQ(onlyLink(load(withLink("    max_in_flight_bytes: 2GiB\n"))).max_in_flight_bytes,
            size_t{2} << 30);
}

TEST(ConfigLoaderTest, PassthroughPropertiesAllowAnEmptyQuotedString) {
  const LinkConfig& link = onlyLink(load(withLink("    producer_properties: {client.id: \"\"}\n")));
  EXPECT_EQ(link.producer_properties.at("client.id"), "");
}

// --- File-level errors --------------------------------------------------------------------------

TEST(ConfigLoaderTest, MissingFileIsOneErrorNamingPathAndReason) {
  const std::string path = "/nonexistent/causeway/config.yaml";
  const LoadResult result = loadConfigFile(path);
  EXPECT_FALSE(result.ok());
  ASSERT_EQ(result.errors.size(), 1u) << allErrors(result);
  EXPECT_EQ(result.errors[0].location.file, path);
  EXPECT_EQ(result.errors[0].location.line, 0);
  EXPECT_THAT(result.errors[0].str(), HasSubstr(path));
  EXPECT_THAT(result.errors[0].str(), HasSubstr(std::strerror(ENOENT)));
}

TEST(ConfigLoaderTest, DirectoryIsOneErrorNamingPathAndReason) {
  const std::string path = std::filesystem::temp_directory_path().string();
  const LoadResult result = loadConfigFile(path);
  ASSERT_EQ(result.errors.size(), 1u) << allErrors(result);
  EXPECT_THAT(result.errors[0].str(), HasSubstr(path));
  EXPECT_THAT(result.errors[0].str(), HasSubstr(std::strerror(EISDIR)));
}

TEST(ConfigLoaderTest, FileErrorsCarryThePath) {
  // given a file on disk with an error on line 9
  const auto path = std::filesystem::temp_directory_path() /
                    ("causeway_config_test_" + std::to_string(::getpid()) + ".yaml");
  {
    std::ofstream out(path);
    out << withLink("    start: never\n");
  }
  // when it is loaded
  const LoadResult result = loadConfigFile(path.string());
  std::filesystem::remove(path);
  // then the error is reported as path:line:col: path: message
  ASSERT_EQ(result.errors.size(), 1u) << allErrors(result);
  EXPECT_EQ(result.errors[0].str(),
            path.string() +
                ":9:12: links[0].start: unknown value 'never'; expected one of: earliest, latest");
}

TEST(ConfigLoaderTest, SyntaxErrorIsReportedAtItsMark) {
  expectOnlyError("clusters:\n  east: {bootstrap: \"a:1\"\nlinks: []\n", 3, 1,
                  "YAML syntax error: end of map flow not found");
}

TEST(ConfigLoaderTest, UnbalancedFlowSequenceIsASyntaxError) {
  expectOnlyError("clusters: [a\n", 2, 1, "end of sequence flow not found");
}

TEST(ConfigLoaderTest, EmptyFile) { expectOnlyError("", 1, 1, "the file is empty"); }

TEST(ConfigLoaderTest, FileWithOnlyComments) {
  expectOnlyError("# nothing here\n", 1, 1, "expected a map with `clusters` and `links`");
}

TEST(ConfigLoaderTest, TopLevelMustBeAMap) {
  expectOnlyError("- clusters\n- links\n", 1, 1,
                  "expected a map with `clusters` and `links`, found a list");
}

TEST(ConfigLoaderTest, MoreThanOneDocument) {
  expectOnlyError(withLink() + "---\nclusters: {}\n", 10, 1, "exactly one");
}

// --- Top level ----------------------------------------------------------------------------------

TEST(ConfigLoaderTest, UnknownTopLevelKeySuggestsTheClosest) {
  expectOnlyError(withLink() + "cluster: {}\n", 9, 1,
                  "unknown key 'cluster'; did you mean 'clusters'?");
}

TEST(ConfigLoaderTest, MissingClusters) {
  expectOnlyError(std::string("links:\n") + std::string(kLink), 1, 1,
                  "missing required key 'clusters'");
}

TEST(ConfigLoaderTest, MissingLinks) {
  expectOnlyError("clusters:\n  east: {bootstrap: \"a:1\"}\n", 1, 1,
                  "missing required key 'links'");
}

TEST(ConfigLoaderTest, ClustersMustNotBeEmpty) {
  // The link's cluster names cannot be checked then, and are not reported as unknown.
  expectOnlyError("clusters: {}\nlinks:\n" + std::string(kLink), 1, 11, "at least one cluster");
}

TEST(ConfigLoaderTest, LinksMustNotBeEmpty) {
  expectOnlyError(std::string(kClusters.substr(0, kClusters.size() - 7)) + "links: []\n", 4, 8,
                  "at least one link");
}

TEST(ConfigLoaderTest, LinksMustBeAList) {
  expectOnlyError(std::string(kClusters.substr(0, kClusters.size() - 7)) + "links: {name: x}\n", 4,
                  8, "expected a list of links, found a map");
}

TEST(ConfigLoaderTest, ClustersMustBeAMap) {
  expectOnlyError("clusters: [east]\nlinks:\n" + std::string(kLink), 1, 11,
                  "clusters: expected a map of cluster name -> cluster settings, found a list");
}

// --- Clusters -----------------------------------------------------------------------------------

TEST(ConfigLoaderTest, UnknownClusterKeySuggestsTheClosest) {
  expectOnlyError(R"(clusters:
  east: {bootstrap: "a:1", conect_timeout: 5s}
  west: {bootstrap: "b:1"}
links:
)" + std::string(kLink),
                  2, 28,
                  "clusters.east: unknown key 'conect_timeout'; did you mean 'connect_timeout'?");
}

TEST(ConfigLoaderTest, UnknownKeyWithNothingCloseListsTheValidKeys) {
  expectOnlyError(R"(clusters:
  east: {bootstrap: "a:1", brokers: 3}
  west: {bootstrap: "b:1"}
links:
)" + std::string(kLink),
                  2, 28,
                  "valid keys are: bootstrap, properties, embedded_control, connect_timeout");
}

TEST(ConfigLoaderTest, MissingBootstrapIsReportedAtTheCluster) {
  expectOnlyError(R"(clusters:
  east:
    connect_timeout: 5s
  west: {bootstrap: "b:1"}
links:
)" + std::string(kLink),
                  2, 3, "clusters.east: missing required key 'bootstrap'");
}

TEST(ConfigLoaderTest, EmptyBootstrap) {
  expectOnlyError(R"(clusters:
  east: {bootstrap: "  "}
  west: {bootstrap: "b:1"}
links:
)" + std::string(kLink),
                  2, 21, "clusters.east.bootstrap: must not be empty");
}

TEST(ConfigLoaderTest, BootstrapOfTheWrongType) {
  expectOnlyError(R"(clusters:
  east:
    bootstrap: {host: a, port: 1}
  west: {bootstrap: "b:1"}
links:
)" + std::string(kLink),
                  3, 16, "expected a string, found a map");
}

TEST(ConfigLoaderTest, BootstrapWithoutValueIsReportedAtItsKey) {
  expectOnlyError(R"(clusters:
  east:
    bootstrap:
  west: {bootstrap: "b:1"}
links:
)" + std::string(kLink),
                  3, 5, "clusters.east.bootstrap: expected a string, found no value");
}

TEST(ConfigLoaderTest, ClusterSettingsMustBeAMap) {
  expectOnlyError(R"(clusters:
  east: "a:1"
  west: {bootstrap: "b:1"}
links:
)" + std::string(kLink),
                  2, 9, "clusters.east: expected a map of cluster settings, found the value 'a:1'");
}

TEST(ConfigLoaderTest, DuplicateClusterName) {
  expectOnlyError(R"(clusters:
  east: {bootstrap: "a:1"}
  west: {bootstrap: "b:1"}
  east: {bootstrap: "c:1"}
links:
)" + std::string(kLink),
                  4, 3, "clusters.east: duplicate key (first defined at line 2)");
}

TEST(ConfigLoaderTest, ClusterNameWithInvalidCharacters) {
  expectOnlyError(R"(clusters:
  east: {bootstrap: "a:1"}
  west: {bootstrap: "b:1"}
  "us east": {bootstrap: "c:1"}
links:
)" + std::string(kLink),
                  4, 3, "cluster names may only use letters, digits");
}

TEST(ConfigLoaderTest, ClusterPropertyValueMustBeScalar) {
  expectOnlyError(R"(clusters:
  east:
    bootstrap: "a:1"
    properties: {sasl.mechanisms: [PLAIN, SCRAM]}
  west: {bootstrap: "b:1"}
links:
)" + std::string(kLink),
                  4, 35,
                  "clusters.east.properties.sasl.mechanisms: expected a string, number or "
                  "boolean, found a list");
}

TEST(ConfigLoaderTest, ClusterPropertyWithoutValue) {
  expectOnlyError(R"(clusters:
  east:
    bootstrap: "a:1"
    properties:
      sasl.username:
  west: {bootstrap: "b:1"}
links:
)" + std::string(kLink),
                  5, 7, "clusters.east.properties.sasl.username: has no value");
}

TEST(ConfigLoaderTest, ClusterPropertiesMustBeAMap) {
  expectOnlyError(R"(clusters:
  east: {bootstrap: "a:1", properties: [security.protocol]}
  west: {bootstrap: "b:1"}
links:
)" + std::string(kLink),
                  2, 40, "expected a map of librdkafka property -> value, found a list");
}

TEST(ConfigLoaderTest, ClusterPropertiesRejectGroupId) {
  expectOnlyError(R"(clusters:
  east: {bootstrap: "a:1", properties: {group.id: mine}}
  west: {bootstrap: "b:1"}
links:
)" + std::string(kLink),
                  2, 41, "properties.group.id: Causeway owns this property");
}

TEST(ConfigLoaderTest, ClusterPropertiesRejectBootstrapServers) {
  expectOnlyError(R"(clusters:
  east: {bootstrap: "a:1", properties: {bootstrap.servers: "a:1"}}
  west: {bootstrap: "b:1"}
links:
)" + std::string(kLink),
                  2, 41, "set the cluster's `bootstrap` instead");
}

TEST(ConfigLoaderTest, ClusterPropertiesRejectPartitionAssignmentStrategy) {
  expectOnlyError(R"(clusters:
  east: {bootstrap: "a:1", properties: {partition.assignment.strategy: range}}
  west: {bootstrap: "b:1"}
links:
)" + std::string(kLink),
                  2, 41, "cooperative-sticky");
}

TEST(ConfigLoaderTest, InvalidEmbeddedControl) {
  expectOnlyError(R"(clusters:
  east: {bootstrap: "a:1", embedded_control: "localhost:99999"}
  west: {bootstrap: "b:1"}
links:
)" + std::string(kLink),
                  2, 46, "expected host:port");
}

TEST(ConfigLoaderTest, InvalidConnectTimeout) {
  expectOnlyError(R"(clusters:
  east: {bootstrap: "a:1", connect_timeout: 10 seconds}
  west: {bootstrap: "b:1"}
links:
)" + std::string(kLink),
                  2, 45, "expected a duration like 250ms, 5s, 2m or 1h, found '10 seconds'");
}

TEST(ConfigLoaderTest, ZeroConnectTimeout) {
  expectOnlyError(R"(clusters:
  east: {bootstrap: "a:1", connect_timeout: 0s}
  west: {bootstrap: "b:1"}
links:
)" + std::string(kLink),
                  2, 45, "connect_timeout: must be greater than 0");
}

TEST(ConfigLoaderTest, NonStringKey) {
  expectOnlyError(R"(clusters:
  east: {bootstrap: "a:1"}
  west: {bootstrap: "b:1"}
  ? [a, b]
  : {bootstrap: "c:1"}
links:
)" + std::string(kLink),
                  4, 5, "keys must be plain strings, found a list");
}

// --- Links: identity and references -------------------------------------------------------------

TEST(ConfigLoaderTest, LinkMustBeAMap) {
  expectOnlyError(withLink("  - east-to-west\n"), 9, 5,
                  "links[1]: expected a map of link settings, found the value 'east-to-west'");
}

TEST(ConfigLoaderTest, MissingLinkKeysAreReportedAtTheLink) {
  const LoadResult result = load(std::string(kClusters) + "  - {start: latest}\n");
  ASSERT_EQ(result.errors.size(), 4u) << allErrors(result);
  for (const auto& error : result.errors) {
    EXPECT_EQ(error.location.line, 5) << error.str();
    EXPECT_EQ(error.location.column, 5) << error.str();
  }
  EXPECT_THAT(allErrors(result), HasSubstr("links[0]: missing required key 'name'"));
  EXPECT_THAT(allErrors(result), HasSubstr("links[0]: missing required key 'source'"));
  EXPECT_THAT(allErrors(result), HasSubstr("links[0]: missing required key 'target'"));
  EXPECT_THAT(allErrors(result), HasSubstr("links[0]: missing required key 'topics'"));
}

TEST(ConfigLoaderTest, UnknownLinkKeySuggestsTheClosest) {
  expectOnlyError(withLink("    comit_interval: 1s\n"), 9, 5,
                  "links[0]: unknown key 'comit_interval'; did you mean 'commit_interval'?");
}

TEST(ConfigLoaderTest, ALinkNamesAKnownPolicy) {
  expectOnlyError(withLink("    policy: partner-acme\n"), 9, 13,
                  "links[0].policy: unknown policy 'partner-acme'; define it under the "
                  "top-level `policies:`");
}

TEST(ConfigLoaderTest, GroupSyncIsLoaded) {
  const LinkConfig link = onlyLink(load(withLink(
      "    delivery: exactly_once\n"
      "    groups: {names: [billing, audit], include: [\"team-.*\"], exclude: [\"team-x\"],"
      " sync_interval: 2s}\n")));
  EXPECT_EQ(link.groups.names, (std::vector<std::string>{"billing", "audit"}));
  EXPECT_EQ(link.groups.include, (std::vector<std::string>{"team-.*"}));
  EXPECT_EQ(link.groups.exclude, (std::vector<std::string>{"team-x"}));
  EXPECT_EQ(link.groups.sync_interval, std::chrono::seconds(2));
}

TEST(ConfigLoaderTest, TransactionalIsLoaded) {
  const LinkConfig link =
      onlyLink(load(withLink("    delivery: exactly_once\n    transactional: true\n")));
  EXPECT_TRUE(link.transactional);
}

TEST(ConfigLoaderTest, TransactionalNeedsExactlyOnce) {
  expectOnlyError(withLink("    transactional: true\n"), 9, 20,
                  "links[0].transactional: transactional writes need delivery: exactly_once");
}

TEST(ConfigLoaderTest, TransactionalIsABoolean) {
  expectOnlyError(withLink("    delivery: exactly_once\n    transactional: yes please\n"), 10, 20,
                  "expected true or false");
}

TEST(ConfigLoaderTest, ATransactionTimeoutUnderTwiceTheCommitIntervalIsAnError) {
  expectOnlyError(withLink("    delivery: exactly_once\n    transactional: true\n"
                           "    commit_interval: 3s\n    producer_properties:\n"
                           "      transaction.timeout.ms: 5000\n"),
                  13, 31,
                  "links[0].producer_properties.transaction.timeout.ms: transaction.timeout.ms "
                  "(5000 ms, from producer_properties) must be at least twice the link's "
                  "commit_interval (3000 ms)");
  const LinkConfig link = onlyLink(load(withLink(
      "    delivery: exactly_once\n    transactional: true\n"
      "    commit_interval: 2s\n    producer_properties: {transaction.timeout.ms: 5000}\n")));
  EXPECT_EQ(link.producer_properties.at("transaction.timeout.ms"), "5000");
}

TEST(ConfigLoaderTest, TheDefaultTransactionTimeoutIsCheckedAgainstTheCommitInterval) {
  // 10 s by default: a 6 s commit_interval is too long, and the error is at the interval
  expectOnlyError(withLink("    delivery: exactly_once\n    transactional: true\n"
                           "    commit_interval: 6s\n"),
                  11, 22,
                  "transaction.timeout.ms (10000 ms, the default) must be at least twice the "
                  "link's commit_interval (6000 ms)");
  // non-transactional links commit no transaction
  EXPECT_TRUE(load(withLink("    delivery: exactly_once\n    commit_interval: 6s\n")).ok());
}

TEST(ConfigLoaderTest, GroupSyncWorksOnAtLeastOnceLinks) {
  // Groups move to the first copy of their next record (docs/failover.md).
  const LinkConfig link = onlyLink(load(withLink("    groups: {names: [billing]}\n")));
  EXPECT_EQ(link.delivery, DeliveryMode::kAtLeastOnce);
  EXPECT_EQ(link.groups.names, (std::vector<std::string>{"billing"}));
}

TEST(ConfigLoaderTest, TopicConfigSyncIsOnByDefault) {
  const LinkConfig link = onlyLink(load(withLink("")));
  EXPECT_TRUE(link.topic_configs.sync);
  EXPECT_TRUE(link.topic_configs.exclude.empty());
  EXPECT_EQ(link.topic_configs.interval, std::chrono::minutes(10));
}

TEST(ConfigLoaderTest, TopicConfigSyncIsLoaded) {
  const LinkConfig link = onlyLink(load(withLink(
      "    topic_configs: {sync: false, exclude: [retention.ms, segment.bytes], interval: 1m}\n")));
  EXPECT_FALSE(link.topic_configs.sync);
  EXPECT_EQ(link.topic_configs.exclude,
            (std::vector<std::string>{"retention.ms", "segment.bytes"}));
  EXPECT_EQ(link.topic_configs.interval, std::chrono::minutes(1));
}

TEST(ConfigLoaderTest, TopicConfigExcludeNamesASyncedConfig) {
  expectOnlyError(withLink("    topic_configs: {exclude: [retention.mss]}\n"), 9, 31,
                  "'retention.mss' is not a synced topic config; did you mean 'retention.ms'?");
  expectOnlyError(withLink("    topic_configs: {exclude: [min.insync.replicas]}\n"), 9, 31,
                  "'min.insync.replicas' is not a synced topic config");
}

TEST(ConfigLoaderTest, TopicConfigSyncIsABoolean) {
  expectOnlyError(withLink("    topic_configs: {sync: yes please}\n"), 9, 27,
                  "expected true or false");
}

TEST(ConfigLoaderTest, GroupSyncNeedsNamesOrInclude) {
  expectOnlyError(withLink("    delivery: exactly_once\n    groups: {sync_interval: 1s}\n"), 10, 13,
                  "name the groups to sync");
}

TEST(ConfigLoaderTest, LinkNameWithInvalidCharacters) {
  expectOnlyError(std::string(kClusters) + R"(  - name: east to west
    source: east
    target: west
    topics: {include: [".*"]}
)",
                  5, 11, "links[0].name: link names may only use letters, digits");
}

TEST(ConfigLoaderTest, EmptyLinkName) {
  expectOnlyError(std::string(kClusters) + R"(  - name: ""
    source: east
    target: west
    topics: {include: [".*"]}
)",
                  5, 11, "must not be empty");
}

TEST(ConfigLoaderTest, DuplicateLinkName) {
  expectOnlyError(withLink(R"(  - name: east-to-west
    source: west
    target: east
    topics: {include: [".*"]}
)"),
                  9, 11,
                  "links[1].name: duplicate link name 'east-to-west' (first defined at line 5)");
}

TEST(ConfigLoaderTest, UnknownSourceClusterSuggestsTheClosest) {
  expectOnlyError(std::string(kClusters) + R"(  - name: l
    source: eats
    target: west
    topics: {include: [".*"]}
)",
                  6, 13, "links[0].source: unknown cluster 'eats'; did you mean 'east'?");
}

TEST(ConfigLoaderTest, UnknownTargetClusterListsTheClusters) {
  expectOnlyError(std::string(kClusters) + R"(  - name: l
    source: east
    target: central
    topics: {include: [".*"]}
)",
                  7, 13, "unknown cluster 'central'; the clusters are: east, west");
}

TEST(ConfigLoaderTest, SourceMustNotBeAList) {
  expectOnlyError(std::string(kClusters) + R"(  - name: l
    source: [east]
    target: west
    topics: {include: [".*"]}
)",
                  6, 13, "links[0].source: expected a string, found a list");
}

TEST(ConfigLoaderTest, IdentityLinkWithinOneClusterWouldLoop) {
  expectOnlyError(std::string(kClusters) + R"(  - name: l
    source: east
    target: east
    topics: {include: [".*"]}
)",
                  7, 13, "replication loop");
}

TEST(ConfigLoaderTest, PrefixLinkWithinOneClusterIsRejectedToo) {
  expectOnlyError(std::string(kClusters) + R"(  - name: l
    source: east
    target: east
    topics: {include: [".*"]}
    naming: {prefix: "copy."}
)",
                  7, 13, "between two different clusters");
}

TEST(ConfigLoaderTest, TwoClusterNamesWithTheSameBootstrap) {
  expectOnlyError(R"(clusters:
  east: {bootstrap: "127.0.0.1:19092"}
  west: {bootstrap: "127.0.0.1:19092"}
links:
)" + std::string(kLink),
                  7, 13, "have the same bootstrap");
}

// --- Links: topics ------------------------------------------------------------------------------

std::string linkWithTopics(std::string_view topics) {
  return std::string(kClusters) + R"(  - name: l
    source: east
    target: west
    topics: )" +
         std::string(topics) + "\n";
}

TEST(ConfigLoaderTest, TopicsIncludeIsRequired) {
  expectOnlyError(linkWithTopics("{exclude: [\"x\"]}"), 8, 5,
                  "links[0].topics: missing required key 'include'");
}

TEST(ConfigLoaderTest, TopicsIncludeMustNotBeEmpty) {
  expectOnlyError(linkWithTopics("{include: []}"), 8, 23,
                  "links[0].topics.include: must list at least one regex");
}

TEST(ConfigLoaderTest, TopicsIncludeMustBeAList) {
  expectOnlyError(linkWithTopics("{include: \"orders\"}"), 8, 23,
                  "expected a list of regexes, found the value 'orders'");
}

TEST(ConfigLoaderTest, TopicsMustBeAMap) {
  expectOnlyError(linkWithTopics("[\"orders\"]"), 8, 13,
                  "links[0].topics: expected a map with include (and exclude) regex lists");
}

TEST(ConfigLoaderTest, InvalidIncludeRegexReportsTheRegexError) {
  expectOnlyError(linkWithTopics("{include: [\"ok\", \"orders(\"]}"), 8, 30,
                  "links[0].topics.include[1]: invalid regex 'orders(': Mismatched '(' and ')'");
}

TEST(ConfigLoaderTest, InvalidExcludeRegex) {
  expectOnlyError(linkWithTopics("{include: [\".*\"], exclude: [\"[a-\"]}"), 8, 41,
                  "links[0].topics.exclude[0]: invalid regex '[a-'");
}

TEST(ConfigLoaderTest, EmptyRegex) {
  expectOnlyError(linkWithTopics("{include: [\"\"]}"), 8, 24, "an empty regex matches no topic");
}

TEST(ConfigLoaderTest, OverlongRegexIsRejectedBeforeCompiling) {
  // std::regex compiles recursively: 100000 characters would overflow the stack.
  expectOnlyError(linkWithTopics("{include: [\"" + std::string(100000, 'a') + "\"]}"), 8, 24,
                  "links[0].topics.include[0]: the regex is 100000 characters long; at most 1000");
}

TEST(ConfigLoaderTest, RegexOfTheMaximumLengthCompiles) {
  const LinkConfig& link = onlyLink(load(linkWithTopics("{include: [\"" + std::string(499, '(') +
                                                        "ab" + std::string(499, ')') + "\"]}")));
  ASSERT_EQ(link.topics.include.size(), 1u);
  EXPECT_EQ(link.topics.include[0].size(), 1000u);
}

TEST(ConfigLoaderTest, RegexMustBeAString) {
  expectOnlyError(linkWithTopics("{include: [{a: b}]}"), 8, 24,
                  "links[0].topics.include[0]: expected a string, found a map");
}

TEST(ConfigLoaderTest, UnknownTopicsKey) {
  expectOnlyError(linkWithTopics("{include: [\".*\"], exlude: [\"x\"]}"), 8, 31,
                  "did you mean 'exclude'?");
}

// --- Links: naming ------------------------------------------------------------------------------

TEST(ConfigLoaderTest, UnknownNamingSuggestsTheClosest) {
  expectOnlyError(withLink("    naming: identiy\n"), 9, 13,
                  "links[0].naming: unknown naming 'identiy'; did you mean 'identity'?");
}

TEST(ConfigLoaderTest, NamingPrefixWithoutValue) {
  expectOnlyError(withLink("    naming: prefix\n"), 9, 13, "prefix needs a value");
}

TEST(ConfigLoaderTest, NamingTemplateWithoutValue) {
  expectOnlyError(withLink("    naming: template\n"), 9, 13, "template needs a value");
}

TEST(ConfigLoaderTest, NamingWithBothPrefixAndTemplate) {
  expectOnlyError(withLink("    naming: {prefix: a., template: \"{topic}\"}\n"), 9, 5,
                  "set either prefix or template, not both");
}

TEST(ConfigLoaderTest, NamingEmptyMap) {
  expectOnlyError(withLink("    naming: {}\n"), 9, 5, "expected prefix or template");
}

TEST(ConfigLoaderTest, NamingUnknownKey) {
  expectOnlyError(withLink("    naming: {prefx: a.}\n"), 9, 14,
                  "links[0].naming: unknown key 'prefx'; did you mean 'prefix'?");
}

TEST(ConfigLoaderTest, NamingMustNotBeAList) {
  expectOnlyError(withLink("    naming: [identity]\n"), 9, 13, "found a list");
}

TEST(ConfigLoaderTest, EmptyPrefix) {
  expectOnlyError(withLink("    naming: {prefix: \"\"}\n"), 9, 22,
                  "links[0].naming.prefix: must not be empty");
}

TEST(ConfigLoaderTest, PrefixWithCharactersTopicsCannotHave) {
  expectOnlyError(withLink("    naming: {prefix: \"east/\"}\n"), 9, 22,
                  "the prefix becomes part of topic names");
}

TEST(ConfigLoaderTest, TemplateWithoutTopic) {
  expectOnlyError(withLink("    naming: {template: \"{source}.mirror\"}\n"), 9, 24,
                  "the template must contain {topic}");
}

TEST(ConfigLoaderTest, TemplateWithUnknownPlaceholder) {
  expectOnlyError(withLink("    naming: {template: \"{sorce}.{topic}\"}\n"), 9, 24,
                  "unknown placeholder '{sorce}'; did you mean '{source}'?");
}

TEST(ConfigLoaderTest, TemplateWithUnclosedBrace) {
  expectOnlyError(withLink("    naming: {template: \"{source.{topic}\"}\n"), 9, 24,
                  "unknown placeholder '{source.{topic}'");
}

TEST(ConfigLoaderTest, TemplateEndingInAnOpenBrace) {
  expectOnlyError(withLink("    naming: {template: \"{topic}.{\"}\n"), 9, 24, "unclosed '{'");
}

TEST(ConfigLoaderTest, TemplateWithStrayClosingBrace) {
  expectOnlyError(withLink("    naming: {template: \"{topic}}\"}\n"), 9, 24,
                  "'}' without a matching '{'");
}

TEST(ConfigLoaderTest, TemplateWithCharactersTopicsCannotHave) {
  expectOnlyError(withLink("    naming: {template: \"{source}/{topic}\"}\n"), 9, 24,
                  "has a character topic names cannot contain");
}

// --- Links: start, delivery, durations, sizes ---------------------------------------------------

TEST(ConfigLoaderTest, UnknownStartSuggestsTheClosest) {
  expectOnlyError(withLink("    start: earlist\n"), 9, 12,
                  "links[0].start: unknown value 'earlist'; did you mean 'earliest'?");
}

TEST(ConfigLoaderTest, ExactlyOnceIsAccepted) {
  const LinkConfig link = onlyLink(load(withLink("    delivery: exactly_once\n")));
  EXPECT_EQ(link.delivery, causeway::config::DeliveryMode::kExactlyOnce);
}

TEST(ConfigLoaderTest, UnknownDelivery) {
  expectOnlyError(withLink("    delivery: at-least-once\n"), 9, 15,
                  "unknown value 'at-least-once'; did you mean 'at_least_once'?");
}

TEST(ConfigLoaderTest, InvalidDiscoveryInterval) {
  expectOnlyError(withLink("    discovery_interval: 1.5s\n"), 9, 25,
                  "links[0].discovery_interval: expected a duration like 250ms, 5s, 2m or 1h, "
                  "found '1.5s'");
}

TEST(ConfigLoaderTest, ZeroCommitInterval) {
  expectOnlyError(withLink("    commit_interval: 0\n"), 9, 22,
                  "links[0].commit_interval: must be greater than 0");
}

TEST(ConfigLoaderTest, DurationMustNotBeAMap) {
  expectOnlyError(withLink("    commit_interval: {seconds: 1}\n"), 9, 22,
                  "expected a string, found a map");
}

TEST(ConfigLoaderTest, ByteSizeWithDecimalUnit) {
  expectOnlyError(withLink("    max_in_flight_bytes: 64MB\n"), 9, 26,
                  "unknown unit 'MB'; use KiB, MiB or GiB");
}

TEST(ConfigLoaderTest, ZeroByteSize) {
  expectOnlyError(withLink("    max_in_flight_bytes: 0MiB\n"), 9, 26, "must be greater than 0");
}

TEST(ConfigLoaderTest, ByteSizeThatOverflows) {
  expectOnlyError(withLink("    max_in_flight_bytes: 99999999999999GiB\n"), 9, 26, "too large");
}

TEST(ConfigLoaderTest, NegativeByteSize) {
  expectOnlyError(withLink("    max_in_flight_bytes: -1\n"), 9, 26, "expected a byte count");
}

TEST(ConfigLoaderTest, RecordCountTakesNoUnit) {
  expectOnlyError(withLink("    max_in_flight_records: 10KiB\n"), 9, 28,
                  "links[0].max_in_flight_records: expected a positive whole number, found "
                  "'10KiB'");
}

TEST(ConfigLoaderTest, ZeroRecordCount) {
  expectOnlyError(withLink("    max_in_flight_records: 0\n"), 9, 28, "must be greater than 0");
}

// --- Links: passthrough properties --------------------------------------------------------------

TEST(ConfigLoaderTest, ConsumerPropertiesRejectEnableAutoCommit) {
  expectOnlyError(withLink("    consumer_properties: {enable.auto.commit: true}\n"), 9, 27,
                  "links[0].consumer_properties.enable.auto.commit: Causeway owns this property");
}

TEST(ConfigLoaderTest, ConsumerPropertiesRejectEnableAutoOffsetStore) {
  expectOnlyError(withLink("    consumer_properties: {enable.auto.offset.store: false}\n"), 9, 27,
                  "enable.auto.offset.store: Causeway owns this property");
}

TEST(ConfigLoaderTest, ConsumerPropertiesRejectGroupId) {
  expectOnlyError(withLink("    consumer_properties:\n      group.id: g\n"), 10, 7,
                  "Causeway sets it to causeway.<link>");
}

TEST(ConfigLoaderTest, ConsumerPropertiesRejectPartitionAssignmentStrategy) {
  expectOnlyError(withLink("    consumer_properties: {partition.assignment.strategy: range}\n"), 9,
                  27, "partition.assignment.strategy: Causeway owns this property");
}

TEST(ConfigLoaderTest, ProducerPropertiesRejectBootstrapServers) {
  expectOnlyError(withLink("    producer_properties: {bootstrap.servers: \"x:1\"}\n"), 9, 27,
                  "links[0].producer_properties.bootstrap.servers: Causeway owns this property");
}

TEST(ConfigLoaderTest, ProducerPropertiesRejectMetadataBrokerList) {
  expectOnlyError(withLink("    producer_properties: {metadata.broker.list: \"x:1\"}\n"), 9, 27,
                  "alias of bootstrap.servers");
}

TEST(ConfigLoaderTest, ProducerPropertiesRejectAcks) {
  expectOnlyError(withLink("    producer_properties: {acks: \"1\"}\n"), 9, 27,
                  "links[0].producer_properties.acks: Causeway owns this property");
}

TEST(ConfigLoaderTest, ProducerPropertiesRejectEnableIdempotence) {
  expectOnlyError(withLink("    producer_properties: {enable.idempotence: false}\n"), 9, 27,
                  "enable.idempotence: Causeway owns this property");
}

TEST(ConfigLoaderTest, ConsumerPropertiesRejectAutoOffsetResetInFavourOfStart) {
  expectOnlyError(withLink("    consumer_properties: {auto.offset.reset: latest}\n"), 9, 27,
                  "set the link's `start`");
}

TEST(ConfigLoaderTest, ConsumerPropertiesAcceptProducerOnlyNames) {
  // acks means nothing to a consumer; only the producer's list applies to producer properties.
  auto result = causeway::config::loadConfigString(
      withLink("    consumer_properties: {fetch.wait.max.ms: 10}\n"), "t.yaml");
  EXPECT_TRUE(result.ok());
}

TEST(ConfigLoaderTest, DuplicatePropertyKey) {
  expectOnlyError(withLink("    producer_properties:\n      linger.ms: 5\n      linger.ms: 6\n"),
                  11, 7, "duplicate key (first defined at line 10)");
}

// --- All errors in one pass ---------------------------------------------------------------------

TEST(ConfigLoaderTest, ReportsEveryErrorInOnePassInFileOrder) {
  // given a file with five independent mistakes
  const std::string yaml = R"(clusters:
  east: {bootstrp: "127.0.0.1:19092"}
  west: {bootstrap: "127.0.0.1:29092", connect_timeout: soon}
links:
  - name: a
    source: east
    target: west
    topics: {include: ["("]}
    delivery: exactly-once
  - name: a
    source: west
    target: east
    topics: {include: [".*"]}
)";
  // when it is loaded
  const LoadResult result = load(yaml);
  // then each one is reported, sorted by position, and no config is returned
  EXPECT_FALSE(result.config.has_value());
  ASSERT_EQ(result.errors.size(), 6u) << allErrors(result);
  const std::vector<std::pair<int, std::string>> expected = {
      {2, "clusters.east: missing required key 'bootstrap'"},
      {2, "clusters.east: unknown key 'bootstrp'; did you mean 'bootstrap'?"},
      {3, "clusters.west.connect_timeout: expected a duration"},
      {8, "links[0].topics.include[0]: invalid regex '('"},
      {9, "links[0].delivery: unknown value 'exactly-once'; did you mean 'exactly_once'?"},
      {10, "links[1].name: duplicate link name 'a'"},
  };
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(result.errors[i].location.line, expected[i].first) << result.errors[i].str();
    EXPECT_THAT(result.errors[i].message, HasSubstr(expected[i].second));
  }
}

TEST(ConfigLoaderTest, BrokenClusterDoesNotAlsoBreakItsLinks) {
  // A cluster with an error still exists by name: its links are not flagged as unknown.
  expectOnlyError(R"(clusters:
  east: {bootstrap: ""}
  west: {bootstrap: "127.0.0.1:29092"}
links:
)" + std::string(kLink),
                  2, 21, "must not be empty");
}

// --- Robustness ---------------------------------------------------------------------------------

TEST(ConfigLoaderTest, SelfReferencingAliasIsAnErrorNotAHang) {
  expectOnlyError(std::string(kClusters.substr(0, kClusters.size() - 7)) + "links: &l [*l]\n", 4, 8,
                  "links[0]: expected a map of link settings, found a list");
}

TEST(ConfigLoaderTest, StrayCommaIsASyntaxErrorNotAHang) {
  // yaml-cpp's LoadAll never returns on this input (found by fuzz/config_fuzz.cc).
  expectOnlyError(withLink() + "---\n,\n", 10, 1, "YAML syntax error: unexpected character");
}

TEST(ConfigLoaderTest, AliasesAreFollowed) {
  const LoadResult result = load(R"(clusters:
  east: {bootstrap: "127.0.0.1:19092", properties: &props {security.protocol: plaintext}}
  west: {bootstrap: "127.0.0.1:29092", properties: *props}
links:
)" + std::string(kLink));
  ASSERT_TRUE(result.ok()) << allErrors(result);
  EXPECT_EQ(result.config->clusters.at("west").properties.at("security.protocol"), "plaintext");
}

TEST(ConfigLoaderTest, DeepNestingIsASyntaxErrorNotACrash) {
  const std::string yaml = "clusters: " + std::string(5000, '[') + std::string(5000, ']') + "\n";
  const LoadResult result = load(yaml);
  EXPECT_FALSE(result.ok());
  ASSERT_FALSE(result.errors.empty());
}

TEST(ConfigLoaderTest, BinaryGarbageGivesErrorsNotExceptions) {
  const std::string inputs[] = {std::string("\0\xff\xfe\x01", 4), "{{{{",  "]]]",          ": : :",
                                "clusters: !!binary x",           "&a *a", "\t\tclusters:"};
  for (const auto& input : inputs) {
    const LoadResult result = load(input);
    EXPECT_FALSE(result.ok()) << input;
    EXPECT_FALSE(result.errors.empty()) << input;
  }
}

TEST(ConfigErrorTest, StrHasFileLineColumnAndMessage) {
  const ConfigError error{SourceLocation{"a.yaml", 12, 5}, "links[0].naming: bad"};
  EXPECT_EQ(error.str(), "a.yaml:12:5: links[0].naming: bad");
}

TEST(ConfigErrorTest, StrWithoutPositionHasOnlyTheFile) {
  const ConfigError error{SourceLocation{"a.yaml", 0, 0}, "cannot open: No such file"};
  EXPECT_EQ(error.str(), "a.yaml: cannot open: No such file");
}

}  // namespace
}  // namespace causeway::config
