// causeway: cross-cluster Kafka replication. This file only parses the command line and hands
// over to the command functions in app/commands.h.

#include "app/commands.h"
#include "common/duration.h"
#include "common/log.h"

#include <CLI/CLI.hpp>

#include <iostream>

namespace {

// CLI11 validator for durations like "30s" or "500ms".
struct DurationValidator : public CLI::Validator {
  DurationValidator() {
    name_ = "DURATION";
    func_ = [](const std::string& text) {
      return causeway::parseDuration(text) ? std::string() : "expected a duration like 30s or 500ms";
    };
  }
};

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"Causeway: cross-cluster Kafka replication with exact offsets and inline policies"};
  app.require_subcommand(1);
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  std::string log_format = "text";
  app.add_option("--log-format", log_format, "text, or json (one object per line)")
      ->check(CLI::IsMember({"text", "json"}));

  std::string check_path;
  auto* check = app.add_subcommand("check-config", "Validate a configuration file; list every error");
  check->add_option("file", check_path, "YAML configuration")->required();

  causeway::app::RunOptions run_options;
  std::string drain = "30s";
  auto* run = app.add_subcommand("run", "Run the links of a configuration until SIGTERM");
  run->add_option("-c,--config", run_options.config_path, "YAML configuration")->required();
  run->add_option("--drain-timeout", drain, "How long SIGTERM waits for in-flight records")
      ->check(DurationValidator());
  run->add_option("--status-interval", run_options.status_interval,
                  "How often a status line per link is logged")
      ->check(DurationValidator());
  run->add_option("--metrics-listen", run_options.metrics_listen,
                  "HOST:PORT for Prometheus /metrics, /healthz and /readyz (\"\" or off: none)")
      ->capture_default_str();

  causeway::app::DevClusterOptions dev;
  auto* dev_cluster = app.add_subcommand("dev-cluster", "Host an embedded Kafka cluster until stopped");
  dev_cluster->add_option("--name", dev.name, "Cluster name");
  dev_cluster->add_option("--brokers", dev.brokers, "Number of brokers")->check(CLI::Range(1, 16));
  dev_cluster->add_option("--port", dev.port, "Stable bootstrap port on 127.0.0.1 (0: none)")
      ->check(CLI::Range(0, 65535));
  dev_cluster->add_option("--control-port", dev.control_port,
                          "HTTP control endpoint port (0: any free port)")
      ->check(CLI::Range(0, 65535));
  dev_cluster->add_option("--topic", dev.topics, "Topic to create, NAME[:PARTITIONS]; repeatable");

  causeway::app::DemoOptions demo;
  std::string demo_timeout = "120s";
  auto* demo_cmd = app.add_subcommand("demo", "Replicate sample data between two embedded clusters");
  demo_cmd->add_option("--records", demo.records, "Records to produce")
      ->check(CLI::Range(uint64_t{1}, uint64_t{2000000}));
  demo_cmd->add_option("--rate", demo.rate, "Records per second (0: as fast as possible)")
      ->check(CLI::NonNegativeNumber);
  demo_cmd->add_option("--timeout", demo_timeout, "Give up waiting for catch-up after this")
      ->check(DurationValidator());
  demo_cmd->add_flag("--plain", demo.plain, "Plain progress lines even on a terminal");

  causeway::app::TranslateOptions translate;
  auto* offsets = app.add_subcommand("offsets", "Consumer-group offsets across a link");
  offsets->require_subcommand(1);
  auto* translate_cmd = offsets->add_subcommand(
      "translate", "Print a source group's offsets and their exact positions on the target");
  translate_cmd->add_option("-c,--config", translate.config_path, "YAML configuration")
      ->required();
  translate_cmd->add_option("--link", translate.link, "Link name")->required();
  translate_cmd->add_option("--group", translate.group, "Consumer group")->required();
  translate_cmd->add_flag("--json", translate.json, "JSON instead of a table");

  causeway::app::FailoverOptions failover;
  std::string failover_drain = "5m";
  auto* failover_cmd = app.add_subcommand(
      "failover", "Plan and run a failover of a link's consumer groups to the target cluster");
  failover_cmd->add_option("-c,--config", failover.config_path, "YAML configuration")
      ->required();
  failover_cmd->add_option("--link", failover.link, "Link name")->required();
  failover_cmd->add_option("--group", failover.groups,
                           "Consumer group to move (repeatable; added to the link's groups)");
  failover_cmd->add_flag("--dry-run", failover.dry_run, "Print the plan and change nothing");
  failover_cmd->add_flag("--force", failover.force,
                         "Do not wait for zero lag: fail over now and report the RPO");
  failover_cmd->add_option("--drain-timeout", failover_drain,
                           "How long to wait for the link to reach zero lag")
      ->check(DurationValidator());

  CLI11_PARSE(app, argc, argv);
  causeway::initLogging(log_level, log_format == "json" ? causeway::LogFormat::kJson
                                                        : causeway::LogFormat::kText);

  if (*check) {
    return causeway::app::runCheckConfig(check_path);
  }
  if (*run) {
    run_options.drain_timeout = *causeway::parseDuration(drain);
    run_options.metrics_listen_explicit = run->count("--metrics-listen") > 0;
    return causeway::app::runRun(run_options);
  }
  if (*dev_cluster) {
    return causeway::app::runDevCluster(dev);
  }
  if (*translate_cmd) {
    return causeway::app::runOffsetsTranslate(translate);
  }
  if (*failover_cmd) {
    failover.drain_timeout = *causeway::parseDuration(failover_drain);
    return causeway::app::runFailover(failover);
  }
  if (*demo_cmd) {
    demo.timeout = *causeway::parseDuration(demo_timeout);
    return causeway::app::runDemo(demo);
  }
  return 2;
}
