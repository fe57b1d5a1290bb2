// causeway run --config FILE

#include "app/commands.h"
#include "app/link_extensions.h"
#include "common/duration.h"
#include "config/config_loader.h"
#include "control/control_server.h"
#include "egress/contract_stages.h"
#include "egress/egress_server.h"
#include "egress/filter_stages.h"
#include "egress/policy_stages.h"
#include "monitoring/metrics_server.h"
#include "policies/audit_topic_sink.h"
#include "replicator/worker.h"
#include "schema/schema_metrics.h"

#include <spdlog/spdlog.h>

#include <csignal>
#include <ctime>
#include <iostream>
#include <memory>
#include <optional>

namespace causeway::app {
namespace {

void logStatus(const std::vector<replicator::LinkStatus>& statuses) {
  for (const auto& s : statuses) {
    int64_t lag = 0;
    bool lag_known = true;
    for (const auto& p : s.partitions) {
      if (p.lag < 0) {
        lag_known = false;
      } else {
        lag += p.lag;
      }
    }
    spdlog::info("link '{}' {}: {} partitions, {} records / {} bytes replicated, lag {}{}{}",
                 s.name, replicator::toString(s.state), s.partitions.size(), s.records_replicated,
                 s.bytes_replicated, lag, lag_known ? "" : "+ (unknown)",
                 s.last_error.empty() ? "" : ", last problem: " + s.last_error);
  }
}

}  // namespace

int runRun(const RunOptions& options) {
  auto loaded = config::loadConfigFile(options.config_path);
  if (!loaded.ok()) {
    for (const auto& error : loaded.errors) {
      std::cerr << error.str() << "\n";
    }
    std::cerr << loaded.errors.size() << " error(s) in " << options.config_path
              << "; nothing started\n";
    return 1;
  }
  const auto status_interval =
      parseDuration(options.status_interval).value_or(std::chrono::seconds(10));
  std::optional<monitoring::ListenAddress> metrics_listen;
  if (!options.metrics_listen.empty() && options.metrics_listen != "off") {
    auto parsed = monitoring::parseListenAddress(options.metrics_listen);
    if (!parsed) {
      std::cerr << "--metrics-listen: " << parsed.error().message << "; nothing started\n";
      return 1;
    }
    metrics_listen = *parsed;
  }

  // Block the stop signals before any thread starts so every thread inherits the mask and
  // only sigtimedwait below sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  // The egress server reads the configuration for as long as it runs; the worker gets a copy.
  auto worker_config = std::make_shared<const config::Config>(*loaded.config);
  // Partner policies (and what else extends the links) per configuration; outlives the worker
  // and the metrics server, which read it.
  LinkExtensionsHub extensions;
  replicator::Worker worker(std::move(*loaded.config), extensions.factory());
  // What the subsystems refuse (catalog schemas, policy filters and keys, a partner policy
  // rule naming a field the contract of a topic it sees cannot hold, which would never apply),
  // refused before any port opens, as check-config refuses it.
  if (const Error* refused = worker.extensionsError()) {
    std::cerr << refused->message << "\n"
              << options.config_path << ": errors above; nothing started\n";
    return 1;
  }
  // Declared after the worker so it is destroyed first: its request threads read the worker.
  // It listens before the links start, so a port in use stops the process before anything
  // connects, and /healthz answers (and /readyz says "starting") while the links connect.
  std::unique_ptr<monitoring::MetricsServer> metrics;
  if (metrics_listen) {
    monitoring::MetricsServer::Options metrics_options;
    metrics_options.listen = *metrics_listen;
    auto started = monitoring::MetricsServer::start(metrics_options);
    if (started) {
      metrics = std::move(*started);
      metrics->setExtraSource(
          [&extensions](monitoring::ExpositionWriter& writer) { extensions.addMetrics(writer); });
      spdlog::info("metrics on http://{}/metrics (also /healthz, /readyz)", metrics->address());
    } else if (options.metrics_listen_explicit) {
      std::cerr << started.error().message << "; nothing started\n";
      return 1;
    } else {
      spdlog::warn("running WITHOUT metrics: {}", started.error().message);
    }
  }
  // The control API (causeway ctl), declared after the worker so it stops first; like the
  // metrics it listens before the links start and answers UNAVAILABLE until they have.
  control::WorkerControlTarget control_target(worker);
  std::unique_ptr<control::ControlServer> control_server;
  if (!options.control_listen.empty() && options.control_listen != "off") {
    control::ControlServer::Options control_options;
    control_options.listen = options.control_listen;
    control_options.admin_token_file = options.control_token_file;
    control_options.read_token_file = options.control_read_token_file;
    control_options.tls_cert = options.control_tls_cert;
    control_options.tls_key = options.control_tls_key;
    control_options.tls_client_ca = options.control_tls_client_ca;
    // Security settings make the API required: never run without the protection asked for.
    const bool required = options.control_listen_explicit || !options.control_token_file.empty() ||
                          !options.control_read_token_file.empty() ||
                          !options.control_tls_cert.empty() || !options.control_tls_key.empty() ||
                          !options.control_tls_client_ca.empty();
    auto started = control::ControlServer::start(control_options);
    if (started) {
      control_server = std::move(*started);
      spdlog::info("control API (causeway.v1.Control) on {}{}", control_server->address(),
                   control_server->tls() ? " with TLS" : "");
    } else if (required) {
      std::cerr << started.error().message << "; nothing started\n";
      return 1;
    } else {
      spdlog::warn("running WITHOUT the control API: {}", started.error().message);
    }
  }
  // Partner egress (data products over HTTP/gRPC), when configured. Like the other servers it
  // binds before the links start, so a port in use or an unreadable secret stops the process.
  std::unique_ptr<egress::EgressServer> egress;
  if (worker_config->egress || !options.egress_listen.empty()) {
    if (!worker_config->egress) {
      std::cerr << "--egress-listen needs an `egress` section (with products and partners) in "
                << options.config_path << "; nothing started\n";
      return 1;
    }
    egress::EgressServer::Options egress_options;
    egress_options.listen = options.egress_listen;
    // Partners read every product through their policy, compiled as links compile theirs.
    std::vector<config::ConfigError> policy_errors;
    std::shared_ptr<policies::PolicyRuntime> policy_runtime = policies::PolicyRuntime::create(
        *worker_config, policy_errors, {}, policies::auditTopicFactory());
    if (!policy_runtime) {
      for (const auto& error : policy_errors) {
        std::cerr << error.str() << "\n";
      }
      std::cerr << "the partners' policies do not compile; nothing started\n";
      return 1;
    }
    extensions.addEgressPolicies(policy_runtime);
    // Records are checked against their domain contracts first and decoded to JSON, so
    // policies edit (and partners read) the fields of Avro and Protobuf products too.
    auto product_contracts = std::make_shared<egress::ProductContractStages>(*worker_config);
    egress_options.stages =
        product_contracts->factory(egress::policyStageFactory(std::move(policy_runtime)));
    // ?filter= and gRPC Subscribe's filter: the policies' predicate language, after the policy.
    egress_options.filters = egress::predicateFilterFactory();
    auto started = egress::EgressServer::start(*worker_config, egress_options);
    if (!started) {
      std::cerr << started.error().message << "; nothing started\n";
      return 1;
    }
    egress = std::move(*started);
    spdlog::info("partner egress on {}{}", egress->url(),
                 egress->grpcPort() != 0 ? " (gRPC causeway.v1.Egress on port " +
                                               std::to_string(egress->grpcPort()) + ")"
                                         : std::string());
    if (metrics) {
      metrics->setExtraSource(
          [&extensions, &egress, product_contracts](monitoring::ExpositionWriter& w) {
            extensions.addMetrics(w);
            egress->addMetrics(w);
            schema::addSchemaMetrics(w, product_contracts->metrics());
          });
    }
  }
  // Scrapes stop reading the egress server before it is destroyed, on every way out.
  struct ExtraSourceGuard {
    monitoring::MetricsServer* metrics;
    LinkExtensionsHub& extensions;
    ~ExtraSourceGuard() {
      if (metrics != nullptr) {
        metrics->setExtraSource([this_extensions = &extensions](monitoring::ExpositionWriter& w) {
          this_extensions->addMetrics(w);
        });
      }
    }
  } extra_guard{egress ? metrics.get() : nullptr, extensions};
  if (auto started = worker.start(); !started) {
    spdlog::error("no link could start:\n{}", started.message());
    worker.stop(std::chrono::seconds(0));
    return 1;
  }
  // Worker::statuses() may be called from other threads only once start() has returned.
  if (metrics) {
    metrics->setStatusSource([&worker] { return worker.statuses(); });
  }
  if (control_server) {
    control_server->setTarget(&control_target);
  }
  spdlog::info("causeway worker running; SIGTERM or SIGINT drains and stops");

  auto next_status = std::chrono::steady_clock::now() + status_interval;
  int received = 0;
  while (worker.anyRunning() || egress) {
    timespec tick{0, 200 * 1000 * 1000};
    int sig = sigtimedwait(&stop_signals, nullptr, &tick);
    if (sig == SIGTERM || sig == SIGINT) {
      received = sig;
      break;
    }
    if (std::chrono::steady_clock::now() >= next_status) {
      logStatus(worker.statuses());
      next_status = std::chrono::steady_clock::now() + status_interval;
    }
  }
  if (received != 0) {
    spdlog::info("received {}, draining (up to {})", received == SIGTERM ? "SIGTERM" : "SIGINT",
                 formatDuration(options.drain_timeout));
  }
  if (control_server) {
    control_server->stop();  // no reload or pause while the links drain
  }
  if (egress) {
    egress->stop();  // every stream ends with its resume token
  }
  worker.stop(options.drain_timeout);
  auto statuses = worker.statuses();
  logStatus(statuses);
  int exit_code = 0;
  for (const auto& s : statuses) {
    if (s.state == replicator::LinkState::kFailed) {
      std::cerr << "link '" << s.name << "' failed: " << s.error << "\n";
      exit_code = 1;
    }
  }
  return exit_code;
}

}  // namespace causeway::app
