#pragma once

// The `causeway` subcommands. Each returns the process exit code. main.cc only parses the
// command line (CLI11) and dispatches here; every command lives in its own cmd_*.cc file.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace causeway::app {

// causeway check-config FILE: prints every error as file:line:col: message; exit 0 if valid,
// 1 if not.
int runCheckConfig(const std::string& path);

struct RunOptions {
  std::string config_path;
  std::chrono::milliseconds drain_timeout{30000};
  std::string status_interval = "10s";  // how often a one-line status per link is logged
  // HOST:PORT of the Prometheus /metrics, /healthz and /readyz endpoint; "" or "off" disables it.
  std::string metrics_listen = "127.0.0.1:9464";
  // Given on the command line. An explicit address that cannot be listened on stops the process
  // (exit 1); when the default port is taken (a second worker on one host) the worker runs
  // without metrics and says so in a warning.
  bool metrics_listen_explicit = false;
  // HOST:PORT of the gRPC control API (causeway.v1.Control); "off" disables it. Like the
  // metrics address: an explicit address that cannot be listened on stops the process.
  std::string control_listen = "127.0.0.1:9465";
  bool control_listen_explicit = false;
  std::string control_token_file;       // admin bearer token (first line of the file)
  std::string control_read_token_file;  // read-only bearer token
  std::string control_tls_cert;         // PEM; with control_tls_key: TLS
  std::string control_tls_key;
  std::string control_tls_client_ca;  // PEM; client certificates required and verified
  // HOST:PORT of the egress HTTP server, overriding egress.listen; needs an `egress` section.
  std::string egress_listen;
};
// causeway run --config FILE: runs the links until SIGTERM/SIGINT, then drains and exits 0;
// exits 1 if the config is invalid or the metrics address cannot be listened on (nothing
// starts), or a link failed.
int runRun(const RunOptions& options);

struct DevClusterOptions {
  std::string name = "dev";
  int brokers = 3;
  int port = 0;                     // stable bootstrap port (0: only the brokers' random ports)
  int control_port = 0;             // HTTP control endpoint (0: random)
  std::vector<std::string> topics;  // "name:partitions" or "name" (1 partition)
};
// causeway dev-cluster: hosts one embedded cluster until SIGTERM/SIGINT.
int runDevCluster(const DevClusterOptions& options);

struct DemoOptions {
  uint64_t records = 20000;  // records produced into the source, in total
  double rate = 5000;        // records per second produced (0 = as fast as possible)
  std::chrono::milliseconds timeout{120000};  // give up waiting for catch-up after this
  bool plain = false;                         // plain lines even on a terminal
  std::chrono::milliseconds serve_for{30000};  // the data product stays served this long
};
// causeway demo: two embedded clusters, sample topics, a producer, one link, a live table,
// and a verification summary. Exit 0 only if every partition verified identical.
int runDemo(const DemoOptions& options);

struct TranslateOptions {
  std::string config_path;
  std::string link;
  std::string group;
  bool json = false;
  bool scan = false;  // ignore the saved offset runs: search the mirror partitions only
};
// causeway offsets translate: a group's source offsets and their exact target offsets, per
// partition. Exit 0, or 1 with a message (unknown link or group, no commits, unreachable, a
// missing or corrupt state topic unless --scan).
int runOffsetsTranslate(const TranslateOptions& options);

struct FailoverOptions {
  std::string config_path;
  std::string link;
  std::vector<std::string> groups;  // in addition to the link's groups.names
  bool dry_run = false;
  bool force = false;
  bool undo = false;  // only clear the link's failover mark
  std::chrono::milliseconds drain_timeout{300000};
};
// causeway failover: plan (lag, translated group positions, RPO), drain to zero lag (or
// --force), final group sync, and a report. Exit 0 when every group was synced.
int runFailover(const FailoverOptions& options);

struct CtlOptions {
  std::string address = "127.0.0.1:9465";
  std::string token_file;
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
  std::string tls_server_name;
  bool json = false;
  std::string timeout = "60s";  // deadline of each call (not of a failover's drain)
  // links | status | pause | resume | translate | failover | reload
  std::string command;
  std::string link;
  std::string group;
  std::vector<std::string> groups;  // failover: groups in addition to the link's
  bool dry_run = false;
  bool force = false;
  std::string drain_timeout = "5m";
  std::string config_path;     // reload: a local file, sent as YAML text
  bool server_path = false;    // reload: send the path for the worker to read instead
  bool validate_only = false;  // reload: only validate
};
// causeway ctl: the client of a worker's control API. Tables by default, JSON with --json; exit
// 1 with the server's message on errors (and for a failover that did not move every group).
int runCtl(const CtlOptions& options);

struct PolicyTestOptions {
  std::string config_path;
  std::string policy;
  std::string input = "-";  // a JSON-lines file; "-": stdin
  bool values = false;      // each line is a record value, not {"topic", "key", "value", ...}
  std::string topic;        // the topic of records that name none
  std::string schema_path;  // formats.value avro or protobuf: the writer's .avsc or .proto
  std::string message;      // the samples' message in it (empty: the file's first)
};
// causeway policy test: each sample record before and after the policy, with what every step
// did, then the totals. Exit 0, or 1 when the configuration, the policy or an input line is
// invalid.
int runPolicyTest(const PolicyTestOptions& options);

struct DecryptOptions {
  std::string key_file;
  std::string key_env;
};
// causeway decrypt: stdin (an envelope, a JSON document or JSON lines) to stdout with every
// encrypted field decrypted. Exit 1 when a key cannot be read or an envelope not decrypted.
int runDecrypt(const DecryptOptions& options);

struct SchemaCheckOptions {
  std::string config_path;
  std::string topic;
  std::string input;    // samples: .bin (4-byte big-endian length + bytes, repeated) or .jsonl
  std::string side = "value";  // key | value
  std::string cluster;  // whose registry holds the schemas (default: the only registry)
  std::string subject;  // .jsonl with record subject strategies: the contract's subject
  std::chrono::milliseconds timeout{30000};  // per record, while the registry is unavailable
};
// causeway schema check: validates sample records against the topic's contract and prints each
// violation. Exit 0 when every record passes, 1 when any violates, 2 on other errors.
int runSchemaCheck(const SchemaCheckOptions& options);

struct ProductsOptions {
  std::string config_path;
  std::string partner;  // only the products this partner may read
  bool json = false;
};
// causeway products list: every data product with its partners and live freshness (read from
// the source clusters). Exit 1 for an invalid configuration or an unknown partner.
int runProductsList(const ProductsOptions& options);

}  // namespace causeway::app
