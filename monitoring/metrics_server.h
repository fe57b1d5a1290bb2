#pragma once

#include "common/result.h"
#include "monitoring/metrics.h"
#include "replicator/link_status.h"

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace httplib {
class Server;
} // namespace httplib

namespace causeway::monitoring {

// "HOST:PORT" as given to --metrics-listen ("127.0.0.1:9464", "0.0.0.0:9464", "[::1]:9464",
// "localhost:0"; port 0 picks a free port).
struct ListenAddress {
  std::string host;
  int port = 0;
};
Result<ListenAddress> parseListenAddress(std::string_view text);

// The HTTP endpoint Prometheus and Kubernetes probes talk to:
//   GET /metrics  Prometheus text format 0.0.4 (renderMetrics() of the current snapshots)
//   GET /healthz  200 "ok" while the process serves requests (liveness)
//   GET /readyz   200 when every link is running, else 503; the body has one line per link
//                 ("link 'x': running, 6 partitions assigned" / "link 'x': failed: <reason>")
//
// Lifecycle: start() binds the port (an address in use is an error returned at once, before
// anything else of the process starts) and serves from its own threads until stop() or
// destruction. Until setStatusSource() is called the links are unknown: /metrics shows only the
// process series and /readyz answers 503 "starting". Call setStatusSource(nullptr) (or stop())
// before whatever the source reads is destroyed.
//
// Threads: one accept thread plus a pool of two request threads (httplib). The status source is
// called from the request threads, concurrently, so it must be thread-safe
// (replicator::Worker::statuses() is, once Worker::start() has returned). start(), stop() and
// setStatusSource() may be called from any thread.
class MetricsServer {
public:
  using StatusSource = std::function<std::vector<replicator::LinkStatus>()>;

  struct Options {
    ListenAddress listen{"127.0.0.1", 9464};
    MetricsOptions metrics;
    ProcessFacts process;
  };

  static Result<std::unique_ptr<MetricsServer>> start(Options options);
  ~MetricsServer();  // stop()

  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  void setStatusSource(StatusSource source);

  // More families for /metrics from another subsystem (egress); called on the request threads,
  // so it must be thread-safe. Set to nullptr before what it reads is destroyed.
  using ExtraSource = std::function<void(ExpositionWriter&)>;
  void setExtraSource(ExtraSource source);

  // Stops accepting, finishes the requests being served and joins the threads. Idempotent.
  void stop();

  // "host:port" actually listened on (the chosen port when 0 was asked for).
  const std::string& address() const { return address_; }
  int port() const { return port_; }

private:
  explicit MetricsServer(Options options);
  void installRoutes();
  // The current snapshots, or false when no source is set yet.
  bool snapshot(std::vector<replicator::LinkStatus>& out);

  Options options_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  std::atomic<bool> finished_{false};
  std::string address_;
  int port_ = 0;
  std::mutex stop_mu_;
  // Request threads hold it shared while calling source_, so setStatusSource() returns only once
  // no request uses the old source any more.
  std::shared_mutex source_mu_;
  StatusSource source_;
  ExtraSource extra_;
};

// /readyz's decision, exposed for tests: ready when there is at least one link and every link
// is running. `reasons` gets one line per link.
bool linksReady(const std::vector<replicator::LinkStatus>& links, std::string& reasons);

} // namespace causeway::monitoring
