// causeway: cross-cluster Kafka replication. This file only parses the command line and hands
// over to the command functions in app/commands.h.

#include "app/commands.h"
#include "common/duration.h"
#include "common/log.h"
#include "common/output_guard.h"

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
  // First: every line the process prints, and an uncaught exception's message, hides secrets.
  const causeway::OutputGuard output_guard;
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
  run->add_option("--control-listen", run_options.control_listen,
                  "HOST:PORT of the gRPC control API (causeway ctl); off: none")
      ->capture_default_str();
  run->add_option("--control-token-file", run_options.control_token_file,
                  "File with the admin bearer token of the control API (read again when it "
                  "changes)");
  run->add_option("--control-read-token-file", run_options.control_read_token_file,
                  "File with a read-only bearer token of the control API");
  run->add_option("--control-tls-cert", run_options.control_tls_cert,
                  "PEM certificate: serve the control API over TLS");
  run->add_option("--control-tls-key", run_options.control_tls_key,
                  "PEM key of --control-tls-cert");
  run->add_option("--control-tls-client-ca", run_options.control_tls_client_ca,
                  "PEM CA: require control clients to present a certificate it signed");
  run->add_option("--egress-listen", run_options.egress_listen,
                  "HOST:PORT of the partner egress server (overrides egress.listen)");

  causeway::app::ProductsOptions products;
  auto* products_cmd = app.add_subcommand("products", "Data products served to partners");
  products_cmd->require_subcommand(1);
  auto* products_list = products_cmd->add_subcommand(
      "list", "Every product with its partners and live freshness against its objective");
  products_list->add_option("-c,--config", products.config_path, "YAML configuration")
      ->required();
  products_list->add_option("--partner", products.partner, "Only this partner's products");
  products_list->add_flag("--json", products.json, "JSON instead of a table");

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
  std::string demo_serve_for = "30s";
  demo_cmd->add_option("--serve-for", demo_serve_for,
                       "Keep serving the data product this long after its check (0s: stop)")
      ->check(DurationValidator())
      ->capture_default_str();

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
  translate_cmd->add_flag("--scan", translate.scan,
                          "Ignore the link's saved offset runs (state topic) and search the "
                          "mirror partitions' records instead (slower, O(log n) reads)");

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
  failover_cmd->add_flag("--undo", failover.undo,
                         "Clear the link's failover mark so its workers may replicate again "
                         "(after a drill); moves no group back");
  failover_cmd->add_flag("--force", failover.force,
                         "Do not wait for zero lag: fail over now and report the RPO");
  failover_cmd->add_option("--drain-timeout", failover_drain,
                           "How long to wait for the link to reach zero lag")
      ->check(DurationValidator());

  causeway::app::CtlOptions ctl;
  auto* ctl_cmd = app.add_subcommand("ctl", "Talk to a running worker's control API");
  ctl_cmd->require_subcommand(1);
  ctl_cmd->add_option("--address", ctl.address, "HOST:PORT of the control API")
      ->capture_default_str();
  ctl_cmd->add_option("--token-file", ctl.token_file, "File with the bearer token");
  ctl_cmd->add_option("--tls-ca", ctl.tls_ca, "PEM CA: use TLS and verify the worker with it");
  ctl_cmd->add_option("--tls-cert", ctl.tls_cert, "PEM client certificate (mutual TLS)");
  ctl_cmd->add_option("--tls-key", ctl.tls_key, "PEM key of --tls-cert");
  ctl_cmd->add_option("--tls-server-name", ctl.tls_server_name,
                      "Name expected in the worker's certificate (default: the host)");
  ctl_cmd->add_option("--timeout", ctl.timeout, "Deadline of each call")
      ->check(DurationValidator());
  ctl_cmd->add_flag("--json", ctl.json, "JSON instead of tables");
  ctl_cmd->add_subcommand("links", "List the links with state and totals");
  auto* ctl_status = ctl_cmd->add_subcommand("status", "One link in detail, per partition");
  ctl_status->add_option("link", ctl.link, "Link name")->required();
  auto* ctl_pause = ctl_cmd->add_subcommand("pause", "Pause fetching for a link");
  ctl_pause->add_option("link", ctl.link, "Link name")->required();
  auto* ctl_resume = ctl_cmd->add_subcommand("resume", "Resume a paused link");
  ctl_resume->add_option("link", ctl.link, "Link name")->required();
  auto* ctl_translate = ctl_cmd->add_subcommand(
      "translate", "A source group's offsets and their exact target offsets");
  ctl_translate->add_option("link", ctl.link, "Link name")->required();
  ctl_translate->add_option("group", ctl.group, "Consumer group")->required();
  auto* ctl_failover = ctl_cmd->add_subcommand(
      "failover", "Fail a link's consumer groups over to the target (streamed progress)");
  ctl_failover->add_option("link", ctl.link, "Link name")->required();
  ctl_failover->add_option("--group", ctl.groups, "Consumer group to move (repeatable)");
  ctl_failover->add_flag("--dry-run", ctl.dry_run, "Print the plan and change nothing");
  ctl_failover->add_flag("--force", ctl.force, "Do not wait for zero lag");
  ctl_failover->add_option("--drain-timeout", ctl.drain_timeout,
                           "How long to wait for zero lag")
      ->check(DurationValidator());
  auto* ctl_reload = ctl_cmd->add_subcommand(
      "reload", "Validate a configuration and apply it without a restart");
  ctl_reload->add_option("config", ctl.config_path, "YAML configuration")->required();
  ctl_reload->add_flag("--server-path", ctl.server_path,
                       "The path is on the worker's host (default: send this file's text)");
  ctl_reload->add_flag("--check", ctl.validate_only, "Only validate; apply nothing");

  causeway::app::PolicyTestOptions policy_test;
  auto* policy_cmd = app.add_subcommand("policy", "Partner policies");
  policy_cmd->require_subcommand(1);
  auto* policy_test_cmd = policy_cmd->add_subcommand(
      "test", "Run sample records through a policy; print each before and after");
  policy_test_cmd->add_option("-c,--config", policy_test.config_path, "YAML configuration")
      ->required();
  policy_test_cmd->add_option("--policy", policy_test.policy, "Policy name")->required();
  policy_test_cmd->add_option("--input", policy_test.input,
                              "JSON lines: {\"topic\", \"key\", \"value\", \"headers\", "
                              "\"timestamp\"} per record (- for stdin)");
  policy_test_cmd->add_flag("--values", policy_test.values, "Each input line is a record value");
  policy_test_cmd->add_option("--topic", policy_test.topic, "Topic of records that name none");
  policy_test_cmd->add_option("--schema", policy_test.schema_path,
                              "Avro and Protobuf policies: the writer's schema (.avsc or .proto); "
                              "sample values are its data as plain JSON (Avro: unions "
                              "unwrapped, bytes in base64) or protobuf's JSON mapping");
  policy_test_cmd->add_option(
      "--message", policy_test.message,
      "Protobuf policies: the samples' message (default: the file's first)");

  causeway::app::DecryptOptions decrypt;
  auto* decrypt_cmd = app.add_subcommand(
      "decrypt", "Decrypt policy-encrypted fields (stdin: an envelope, JSON or JSON lines)");
  auto* key_file = decrypt_cmd->add_option("--key-file", decrypt.key_file, "Key file (ID:HEX lines)");
  decrypt_cmd->add_option("--key-env", decrypt.key_env, "Environment variable holding the keys")
      ->excludes(key_file);

  causeway::app::SchemaCheckOptions schema_check;
  auto* schema_cmd = app.add_subcommand("schema", "Data contracts and schema registries");
  schema_cmd->require_subcommand(1);
  auto* schema_check_cmd = schema_cmd->add_subcommand(
      "check", "Validate sample records against a topic's contract; print each violation");
  schema_check_cmd->add_option("-c,--config", schema_check.config_path, "YAML configuration")
      ->required();
  schema_check_cmd->add_option("-t,--topic", schema_check.topic, "Source topic")->required();
  schema_check_cmd->add_option("-i,--input", schema_check.input,
                               "Samples: .bin (4-byte big-endian length + bytes, repeated) or "
                               ".jsonl (one JSON document per line)")
      ->required();
  schema_check_cmd->add_option("--side", schema_check.side, "key or value")
      ->check(CLI::IsMember({"key", "value"}))
      ->capture_default_str();
  schema_check_cmd->add_option("--cluster", schema_check.cluster,
                               "Cluster whose registry holds the schemas (default: the only one)");
  schema_check_cmd->add_option("--subject", schema_check.subject,
                               ".jsonl only: the contract's subject, for record strategies");

  CLI11_PARSE(app, argc, argv);
  causeway::initLogging(log_level, log_format == "json" ? causeway::LogFormat::kJson
                                                        : causeway::LogFormat::kText);

  if (*check) {
    return causeway::app::runCheckConfig(check_path);
  }
  if (*schema_check_cmd) {
    return causeway::app::runSchemaCheck(schema_check);
  }
  if (*run) {
    run_options.drain_timeout = *causeway::parseDuration(drain);
    run_options.metrics_listen_explicit = run->count("--metrics-listen") > 0;
    run_options.control_listen_explicit = run->count("--control-listen") > 0;
    return causeway::app::runRun(run_options);
  }
  if (*ctl_cmd) {
    for (auto* sub : ctl_cmd->get_subcommands()) {
      if (*sub) {
        ctl.command = sub->get_name();
      }
    }
    return causeway::app::runCtl(ctl);
  }
  if (*products_list) {
    return causeway::app::runProductsList(products);
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
  if (*policy_test_cmd) {
    return causeway::app::runPolicyTest(policy_test);
  }
  if (*decrypt_cmd) {
    if (decrypt.key_file.empty() && decrypt.key_env.empty()) {
      std::cerr << "decrypt: --key-file or --key-env is required\n";
      return 2;
    }
    return causeway::app::runDecrypt(decrypt);
  }
  if (*demo_cmd) {
    demo.timeout = *causeway::parseDuration(demo_timeout);
    demo.serve_for = *causeway::parseDuration(demo_serve_for);
    return causeway::app::runDemo(demo);
  }
  return 2;
}
