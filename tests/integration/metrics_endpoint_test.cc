// The Prometheus endpoint against real replication: a Worker in-process with a MetricsServer
// (values asserted after replicating N records), promtool on the real output and on the alert
// rules, a real Prometheus server scraping the worker, and `causeway run --metrics-listen`.

#include "monitoring/metrics.h"
#include "monitoring/metrics_server.h"
#include "replicator/worker.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace causeway {
namespace {

using namespace std::chrono_literals;
using testing::freePort;
using testing::ChildProcess;
using testing::makeConfig;
using testing::produceRecords;
using testing::startCluster;
using testing::waitFor;

constexpr int32_t kPartitions = 3;
constexpr uint64_t kPerPartition = 400;
constexpr uint64_t kRecords = kPartitions * kPerPartition;  // 1200
const char* const kSecret = "s3cret-sasl-pa55word";

const std::filesystem::path kSourceDir = CAUSEWAY_SOURCE_DIR;

// An executable on PATH, or "" (the caller fails the test: install-deps.sh installs it).
std::string findOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const auto candidate = std::filesystem::path(dir.empty() ? "." : dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0) {
      return candidate.string();
    }
  }
  return "";
}

#define REQUIRE_TOOL(var, name)                                                                  \
  const std::string var = findOnPath(name);                                                      \
  ASSERT_FALSE(var.empty()) << name << " is not on PATH: install the Debian package "            \
                            << "'prometheus' (scripts/install-deps.sh does)"

// Runs a shell command line; returns its exit code and its combined output in `output`.
int runShell(const std::string& command, std::string& output) {
  const auto out_path = testing::writeTempFile("shell.out", "");
  const int status = std::system((command + " > '" + out_path + "' 2>&1").c_str());
  std::ifstream in(out_path);
  output.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}


struct HttpAnswer {
  int status = 0;  // 0: no answer
  std::string body;
  std::string content_type;
};

HttpAnswer httpGet(int port, const std::string& path, const httplib::Params& params = {}) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(10, 0);
  auto res = client.Get(path, params, httplib::Headers{});
  if (!res) {
    return {};
  }
  return {res->status, res->body, res->get_header_value("Content-Type")};
}

// The value of the exact series (name and labels as written), or nullopt if absent.
std::optional<double> seriesValue(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > series.size() && line.rfind(series + " ", 0) == 0) {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return std::nullopt;
}

std::string partitionSeries(const std::string& name, int32_t partition) {
  return name + "{link=\"test-link\",topic=\"orders\",partition=\"" + std::to_string(partition) +
         "\"}";
}

// makeConfig() plus a password in the source's properties that must never be shown. librdkafka
// accepts and ignores SASL settings on a PLAINTEXT connection.
config::Config configWithSecret(const embedded::EmbeddedCluster& source,
                                const embedded::EmbeddedCluster& target) {
  auto config = makeConfig(source, target, {"orders"});
  config.clusters["source"].properties["sasl.username"] = "causeway";
  config.clusters["source"].properties["sasl.password"] = kSecret;
  return config;
}

std::unique_ptr<monitoring::MetricsServer> startServer(replicator::Worker& worker) {
  monitoring::MetricsServer::Options options;
  options.listen = {"127.0.0.1", 0};
  auto server = monitoring::MetricsServer::start(options);
  EXPECT_TRUE(server.ok()) << (server.ok() ? "" : server.error().message);
  if (!server.ok()) {
    return nullptr;
  }
  (*server)->setStatusSource([&worker] { return worker.statuses(); });
  return std::move(*server);
}

// Scrapes until every partition's lag is 0 and the counter shows all records; returns the last
// page.
std::string scrapeUntilCaughtUp(int port, std::chrono::milliseconds timeout) {
  std::string text;
  waitFor(
      [&] {
        text = httpGet(port, "/metrics").body;
        if (seriesValue(text, "causeway_link_records_replicated_total{link=\"test-link\"}") !=
            static_cast<double>(kRecords)) {
          return false;
        }
        for (int32_t p = 0; p < kPartitions; ++p) {
          if (seriesValue(text, partitionSeries("causeway_partition_offset_lag", p)) != 0.0) {
            return false;
          }
        }
        return true;
      },
      timeout, 250ms);
  return text;
}

TEST(MetricsEndpoint, ScrapedValuesFollowReplication) {
  // given: N records in the source and a worker with its metrics endpoint
  auto source = startCluster("source", 3, {{"orders", kPartitions}});
  auto target = startCluster("target", 3);
  ASSERT_TRUE(source && target);
  ASSERT_TRUE(produceRecords(source->bootstrap(), "orders", kPartitions, kPerPartition));
  replicator::Worker worker(configWithSecret(*source, *target));
  ASSERT_TRUE(worker.start().ok());
  auto server = startServer(worker);
  ASSERT_TRUE(server);

  // when: the link has caught up
  const std::string text = scrapeUntilCaughtUp(server->port(), 90s);

  // then: the counters say exactly N, every partition's lag is 0 at the high watermark, and the
  // latency histograms counted every record under its timestamp type (CreateTime)
  const std::string l = "{link=\"test-link\"}";
  ASSERT_EQ(seriesValue(text, "causeway_link_records_replicated_total" + l), kRecords) << text;
  for (int32_t p = 0; p < kPartitions; ++p) {
    EXPECT_EQ(seriesValue(text, partitionSeries("causeway_partition_offset_lag", p)), 0.0) << p;
    EXPECT_EQ(seriesValue(text, partitionSeries("causeway_partition_high_watermark", p)),
              static_cast<double>(kPerPartition))
        << p;
    EXPECT_EQ(seriesValue(text, partitionSeries("causeway_partition_next_offset", p)),
              static_cast<double>(kPerPartition))
        << p;
    EXPECT_EQ(seriesValue(text, partitionSeries("causeway_partition_time_lag_seconds", p)), 0.0);
  }
  EXPECT_EQ(seriesValue(text, "causeway_link_offset_lag" + l), 0.0);
  EXPECT_EQ(seriesValue(text, "causeway_link_assigned_partitions" + l), kPartitions);
  EXPECT_EQ(seriesValue(text, "causeway_link_state{link=\"test-link\",state=\"running\"}"), 1.0);
  EXPECT_EQ(seriesValue(text, "causeway_link_state{link=\"test-link\",state=\"failed\"}"), 0.0);
  EXPECT_GT(seriesValue(text, "causeway_link_bytes_replicated_total" + l).value_or(0), 0.0);
  const std::string ct = "{link=\"test-link\",timestamp_type=\"create_time\"}";
  const std::string lat = "{link=\"test-link\",timestamp_type=\"log_append_time\"}";
  EXPECT_EQ(seriesValue(text, "causeway_replication_latency_seconds_count" + ct), kRecords);
  EXPECT_EQ(seriesValue(text, "causeway_replication_latency_seconds_count" + lat), 0.0);
  EXPECT_EQ(seriesValue(text, "causeway_record_age_at_poll_seconds_count" + ct), kRecords);
  EXPECT_EQ(seriesValue(text, "causeway_link_info{link=\"test-link\",source_cluster=\"source\","
                              "target_cluster=\"target\"}"),
            1.0);
  // and: no cluster property leaks, however it is named
  EXPECT_EQ(text.find(kSecret), std::string::npos);
  EXPECT_EQ(text.find("sasl"), std::string::npos);

  // and: the probes answer while it runs
  auto healthz = httpGet(server->port(), "/healthz");
  EXPECT_EQ(healthz.status, 200);
  EXPECT_EQ(healthz.body, "ok\n");
  auto readyz = httpGet(server->port(), "/readyz");
  EXPECT_EQ(readyz.status, 200) << readyz.body;
  EXPECT_NE(readyz.body.find("link 'test-link': running, 3 partitions assigned"),
            std::string::npos)
      << readyz.body;
  EXPECT_EQ(readyz.body.find(kSecret), std::string::npos);

  // when: the worker stops
  worker.stop(10s);

  // then: not ready any more, still alive, and the stopped state is scraped
  auto stopped = httpGet(server->port(), "/readyz");
  EXPECT_EQ(stopped.status, 503) << stopped.body;
  EXPECT_NE(stopped.body.find("link 'test-link': stopped"), std::string::npos) << stopped.body;
  EXPECT_EQ(httpGet(server->port(), "/healthz").status, 200);
  const std::string after = httpGet(server->port(), "/metrics").body;
  EXPECT_EQ(seriesValue(after, "causeway_link_state{link=\"test-link\",state=\"stopped\"}"), 1.0);
  server->setStatusSource(nullptr);
}

TEST(MetricsEndpoint, PromtoolAcceptsTheRealOutput) {
  REQUIRE_TOOL(promtool, "promtool");
  // given: a worker that replicated records (every family has samples)
  auto source = startCluster("source", 3, {{"orders", kPartitions}});
  auto target = startCluster("target", 3);
  ASSERT_TRUE(source && target);
  ASSERT_TRUE(produceRecords(source->bootstrap(), "orders", kPartitions, kPerPartition));
  replicator::Worker worker(makeConfig(*source, *target, {"orders"}));
  ASSERT_TRUE(worker.start().ok());
  auto server = startServer(worker);
  ASSERT_TRUE(server);
  const std::string text = scrapeUntilCaughtUp(server->port(), 90s);
  ASSERT_NE(text.find("causeway_replication_latency_seconds_bucket"), std::string::npos) << text;

  // when: the scraped page is piped to promtool
  const auto path = testing::writeTempFile("scrape.txt", text);
  std::string output;
  const int code = runShell("'" + promtool + "' check metrics < '" + path + "'", output);

  // then: no format error and no lint problem
  EXPECT_EQ(code, 0) << output << "\n--- scraped page ---\n" << text;
  EXPECT_EQ(output.find("error"), std::string::npos) << output;
  worker.stop(10s);
  server->setStatusSource(nullptr);
}

TEST(MetricsEndpoint, ReadyzIsUnavailableWhenTheLinkFailed) {
  // given: a link whose target cannot be reached, so it fails at start
  auto source = startCluster("source", 1, {{"orders", 1}});
  auto target = startCluster("target", 1);
  ASSERT_TRUE(source && target);
  auto config = makeConfig(*source, *target, {"orders"});
  config.clusters["target"].bootstrap = "127.0.0.1:1";  // nothing listens on port 1
  config.clusters["target"].connect_timeout = 2s;
  replicator::Worker worker(config);
  ASSERT_FALSE(worker.start().ok());
  auto server = startServer(worker);
  ASSERT_TRUE(server);

  // when
  auto readyz = httpGet(server->port(), "/readyz");
  const std::string text = httpGet(server->port(), "/metrics").body;

  // then: 503 with the reason naming the cluster, and the failed state as a metric
  EXPECT_EQ(readyz.status, 503);
  EXPECT_NE(readyz.body.find("link 'test-link': failed: "), std::string::npos) << readyz.body;
  EXPECT_NE(readyz.body.find("cluster 'target' (127.0.0.1:1)"), std::string::npos)
      << readyz.body;
  EXPECT_EQ(httpGet(server->port(), "/healthz").status, 200);
  EXPECT_EQ(seriesValue(text, "causeway_link_state{link=\"test-link\",state=\"failed\"}"), 1.0)
      << text;
  EXPECT_EQ(seriesValue(text, "causeway_link_state{link=\"test-link\",state=\"running\"}"), 0.0);
  server->setStatusSource(nullptr);
}

TEST(MetricsEndpoint, AlertRulesPassPromtool) {
  REQUIRE_TOOL(promtool, "promtool");
  const auto dir = kSourceDir / "monitoring" / "prometheus";
  std::string output;
  EXPECT_EQ(runShell("'" + promtool + "' check rules '" + (dir / "causeway-alerts.yml").string() +
                         "'",
                     output),
            0)
      << output;
  // The rule unit tests make each alert fire (and stay quiet) on synthetic series.
  EXPECT_EQ(runShell("cd '" + dir.string() + "' && '" + promtool +
                         "' test rules causeway-alerts.test.yml",
                     output),
            0)
      << output;
}

// Every causeway_* metric a dashboard panel or an alert queries is one the worker exports.
TEST(MetricsEndpoint, DashboardAndAlertsQueryExportedMetrics) {
  // given: every family the renderer can produce
  replicator::LinkStatus link;
  link.name = "l";
  link.state = replicator::LinkState::kRunning;
  replicator::PartitionStatus p;
  p.source_topic = "t";
  p.next_offset = 1;
  p.high_watermark = 2;
  p.lag = 1;
  p.time_lag_ms = 5;
  link.partitions = {p};
  link.errors = {{"consume:X", 1}};
  link.updated_at = std::chrono::steady_clock::now();
  auto text = monitoring::renderMetrics({link}, {}, std::chrono::steady_clock::now());
  ASSERT_TRUE(text.ok());
  std::set<std::string> exported;
  const std::regex type_line("# TYPE ([a-z_:]+) ");
  for (std::sregex_iterator it(text->begin(), text->end(), type_line), end; it != end; ++it) {
    exported.insert((*it)[1]);
  }

  // when: the dashboard and the rules are read
  std::ifstream dashboard_file(kSourceDir / "monitoring" / "grafana" / "causeway-dashboard.json");
  ASSERT_TRUE(dashboard_file) << "monitoring/grafana/causeway-dashboard.json is missing";
  const auto dashboard = nlohmann::json::parse(dashboard_file, nullptr, false);
  ASSERT_FALSE(dashboard.is_discarded()) << "the dashboard is not valid JSON";
  std::string queries;
  for (const auto& panel : dashboard.at("panels")) {
    for (const auto& target : panel.at("targets")) {
      queries += target.at("expr").get<std::string>() + "\n";
    }
  }
  std::ifstream rules_file(kSourceDir / "monitoring" / "prometheus" / "causeway-alerts.yml");
  queries.append(std::istreambuf_iterator<char>(rules_file), std::istreambuf_iterator<char>());

  // then
  const std::regex metric("causeway_[a-z_]+");
  size_t checked = 0;
  for (std::sregex_iterator it(queries.begin(), queries.end(), metric), end; it != end; ++it) {
    std::string name = it->str();
    for (const std::string suffix : {"_bucket", "_sum", "_count"}) {
      if (name.size() > suffix.size() &&
          name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0 &&
          exported.count(name.substr(0, name.size() - suffix.size())) > 0) {
        name = name.substr(0, name.size() - suffix.size());
      }
    }
    if (name.starts_with("causeway_")) {
      EXPECT_EQ(exported.count(name), 1u) << name << " is queried but not exported";
      ++checked;
    }
  }
  EXPECT_GT(checked, 20u);
}

// Prometheus' configuration for scraping one target every second.
std::string prometheusConfig(int target_port) {
  return "global:\n"
         "  scrape_interval: 1s\n"
         "  scrape_timeout: 1s\n"
         "  evaluation_interval: 1s\n"
         "scrape_configs:\n"
         "  - job_name: causeway\n"
         "    static_configs:\n"
         "      - targets: ['127.0.0.1:" +
         std::to_string(target_port) + "']\n";
}

TEST(MetricsEndpoint, RealPrometheusScrapesTheWorker) {
  REQUIRE_TOOL(prometheus_bin, "prometheus");
  // given: a worker that replicated N records, with its metrics endpoint
  auto source = startCluster("source", 3, {{"orders", kPartitions}});
  auto target = startCluster("target", 3);
  ASSERT_TRUE(source && target);
  ASSERT_TRUE(produceRecords(source->bootstrap(), "orders", kPartitions, kPerPartition));
  replicator::Worker worker(makeConfig(*source, *target, {"orders"}));
  ASSERT_TRUE(worker.start().ok());
  auto server = startServer(worker);
  ASSERT_TRUE(server);
  scrapeUntilCaughtUp(server->port(), 90s);

  // when: a Prometheus server on loopback scrapes it every second
  const auto config_path =
      testing::writeTempFile("prometheus.yml", prometheusConfig(server->port()));
  const auto tsdb = std::filesystem::path(testing::writeTempFile("tsdb-marker", "")).string() +
                    ".tsdb";
  std::filesystem::create_directories(tsdb);
  const int api_port = freePort();
  ASSERT_GT(api_port, 0);
  ChildProcess prometheus({prometheus_bin, "--config.file=" + config_path,
                           "--storage.tsdb.path=" + tsdb,
                           "--web.listen-address=127.0.0.1:" + std::to_string(api_port)},
                          testing::writeTempFile("prometheus.log", ""));

  // then: its query API returns the lag series of every partition, and the counter's value
  nlohmann::json lag_result;
  const bool lag_seen = waitFor(
      [&] {
        auto answer = httpGet(api_port, "/api/v1/query",
                              {{"query", "causeway_partition_offset_lag"}});
        if (answer.status != 200) {
          return false;
        }
        auto body = nlohmann::json::parse(answer.body, nullptr, false);
        if (body.is_discarded() || body.value("status", "") != "success") {
          return false;
        }
        lag_result = body["data"]["result"];
        return lag_result.size() == static_cast<size_t>(kPartitions);
      },
      40s, 500ms);
  ASSERT_TRUE(lag_seen) << "Prometheus did not return the lag series within 40 s; last result: "
                        << lag_result.dump() << "\nprometheus log:\n"
                        << prometheus.log();
  std::set<std::string> partitions;
  for (const auto& series : lag_result) {
    EXPECT_EQ(series["metric"].value("link", ""), "test-link");
    EXPECT_EQ(series["metric"].value("topic", ""), "orders");
    EXPECT_EQ(series["metric"].value("job", ""), "causeway");
    EXPECT_EQ(series["value"][1].get<std::string>(), "0") << series.dump();
    partitions.insert(series["metric"].value("partition", ""));
  }
  EXPECT_EQ(partitions, (std::set<std::string>{"0", "1", "2"}));
  auto counter = httpGet(api_port, "/api/v1/query",
                         {{"query", "causeway_link_records_replicated_total{link=\"test-link\"}"}});
  auto counter_body = nlohmann::json::parse(counter.body, nullptr, false);
  ASSERT_FALSE(counter_body.is_discarded()) << counter.body;
  ASSERT_EQ(counter_body["data"]["result"].size(), 1u) << counter.body;
  EXPECT_EQ(counter_body["data"]["result"][0]["value"][1].get<std::string>(),
            std::to_string(kRecords));

  prometheus.signal(SIGTERM);
  EXPECT_TRUE(prometheus.wait(30s).has_value()) << "prometheus did not stop within 30 s";
  worker.stop(10s);
  server->setStatusSource(nullptr);
}

std::vector<std::string> runWithMetrics(const std::string& config_path, const std::string& listen) {
  auto argv = testing::runCommand(config_path);  // it listens on 127.0.0.1:0: replace that
  for (size_t i = 0; i + 1 < argv.size(); ++i) {
    if (argv[i] == "--metrics-listen") {
      argv[i + 1] = listen;
    }
  }
  return argv;
}

TEST(MetricsProcess, RunServesMetricsOnTheGivenAddress) {
  // given: records in the source and `causeway run --metrics-listen 127.0.0.1:<port>`
  auto source = startCluster("source", 3, {{"orders", kPartitions}});
  auto target = startCluster("target", 3);
  ASSERT_TRUE(source && target);
  ASSERT_TRUE(produceRecords(source->bootstrap(), "orders", kPartitions, kPerPartition));
  const auto config_path =
      testing::writeTempFile("run.yaml", testing::toYaml(configWithSecret(*source, *target)));
  const int port = freePort();
  ASSERT_GT(port, 0);
  ChildProcess worker(runWithMetrics(config_path, "127.0.0.1:" + std::to_string(port)),
                      testing::writeTempFile("worker.log", ""));

  // when: it is scraped once it has caught up
  const std::string text = scrapeUntilCaughtUp(port, 90s);
  auto metrics = httpGet(port, "/metrics");
  auto readyz = httpGet(port, "/readyz");
  worker.signal(SIGTERM);
  const auto exit_code = worker.wait(60s);

  // then
  EXPECT_EQ(seriesValue(text, "causeway_link_records_replicated_total{link=\"test-link\"}"),
            kRecords)
      << text << "\n" << worker.log();
  EXPECT_EQ(metrics.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(readyz.status, 200) << readyz.body;
  EXPECT_EQ(text.find(kSecret), std::string::npos);
  EXPECT_EQ(worker.log().find(kSecret), std::string::npos);
  EXPECT_NE(worker.log().find("metrics on http://127.0.0.1:" + std::to_string(port)),
            std::string::npos)
      << worker.log();
  ASSERT_TRUE(exit_code.has_value()) << worker.log();
  EXPECT_EQ(*exit_code, 0) << worker.log();
}

TEST(MetricsProcess, AMetricsPortInUseStopsTheRunAtOnce) {
  // given: the port is taken
  auto source = startCluster("source", 1, {{"orders", 1}});
  auto target = startCluster("target", 1);
  ASSERT_TRUE(source && target);
  monitoring::MetricsServer::Options options;
  options.listen = {"127.0.0.1", 0};
  auto holder = monitoring::MetricsServer::start(options);
  ASSERT_TRUE(holder.ok());
  const auto config_path = testing::writeTempFile(
      "run.yaml", testing::toYaml(makeConfig(*source, *target, {"orders"})));

  // when
  ChildProcess worker(runWithMetrics(config_path, (*holder)->address()),
                      testing::writeTempFile("worker.log", ""));
  const auto exit_code = worker.wait(30s);

  // then: exit 1 with the address and the reason, before any link started
  ASSERT_TRUE(exit_code.has_value()) << worker.log();
  EXPECT_EQ(*exit_code, 1) << worker.log();
  EXPECT_NE(worker.log().find("cannot listen on " + (*holder)->address() + " for metrics"),
            std::string::npos)
      << worker.log();
  EXPECT_EQ(worker.log().find("running"), std::string::npos) << worker.log();
}

} // namespace
} // namespace causeway
