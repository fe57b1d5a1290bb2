#include "monitoring/metrics_server.h"

#include "common/secrets.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <sys/socket.h>

#include <charconv>
#include <chrono>

namespace causeway::monitoring {
namespace {

constexpr const char* kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";
constexpr const char* kTextContentType = "text/plain; charset=utf-8";

} // namespace

Result<ListenAddress> parseListenAddress(std::string_view text) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == text.size()) {
    return Error{"invalid listen address '" + std::string(text) +
                 "': expected HOST:PORT, e.g. 127.0.0.1:9464"};
  }
  std::string_view host = text.substr(0, colon);
  const std::string_view port_text = text.substr(colon + 1);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') {
      return Error{"invalid listen address '" + std::string(text) +
                   "': an IPv6 host goes in brackets, e.g. [::1]:9464"};
    }
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return Error{"invalid listen address '" + std::string(text) +
                 "': an IPv6 host goes in brackets, e.g. [::1]:9464"};
  }
  int port = -1;
  const char* const last = port_text.data() + port_text.size();
  const auto [end, ec] = std::from_chars(port_text.data(), last, port);
  if (ec != std::errc() || end != last || port < 0 || port > 65535) {
    return Error{"invalid listen address '" + std::string(text) + "': port '" +
                 std::string(port_text) + "' is not a number from 0 to 65535"};
  }
  return ListenAddress{std::string(host), port};
}

bool linksReady(const std::vector<replicator::LinkStatus>& links, std::string& reasons) {
  if (links.empty()) {
    reasons += "no links\n";
    return false;
  }
  bool ready = true;
  for (const auto& link : links) {
    reasons += "link '" + link.name + "': " + replicator::toString(link.state);
    switch (link.state) {
    case replicator::LinkState::kRunning:
    case replicator::LinkState::kPaused:  // paused by an operator: the worker itself is fine
      reasons += ", " + std::to_string(link.partitions.size()) + " partitions assigned";
      break;
    case replicator::LinkState::kFailed:
      ready = false;
      reasons += ": " + link.error;
      break;
    case replicator::LinkState::kFailedOver:  // done on purpose: nothing wrong with the worker
      reasons += ": " + link.error;
      break;
    default:
      ready = false;
    }
    reasons += '\n';
  }
  return ready;
}

MetricsServer::MetricsServer(Options options)
    : options_(std::move(options)), http_(std::make_unique<httplib::Server>()) {}

MetricsServer::~MetricsServer() { stop(); }

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(Options options) {
  std::unique_ptr<MetricsServer> server(new MetricsServer(std::move(options)));
  httplib::Server& http = *server->http_;
  const ListenAddress& listen = server->options_.listen;
  const std::string shown = (listen.host.find(':') != std::string::npos
                                 ? "[" + listen.host + "]"
                                 : listen.host) + ":";
  // Scrapes and probes are small and rare: two request threads, and short timeouts so that
  // stop() never waits long on an idle keep-alive connection.
  http.new_task_queue = [] { return new httplib::ThreadPool(2); };
  http.set_keep_alive_timeout(1);
  http.set_read_timeout(5, 0);
  http.set_write_timeout(5, 0);
  // httplib's default socket options add SO_REUSEPORT, which would let a second worker bind the
  // same port and receive half of the scrapes. SO_REUSEADDR only, so a port in use is an error.
  http.set_socket_options([](int sock) {
    int one = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  });
  if (listen.host.find(':') != std::string::npos) {
    http.set_address_family(AF_INET6);
  }
  server->installRoutes();
  int port = listen.port;
  if (port == 0) {
    port = http.bind_to_any_port(listen.host);
    if (port <= 0) {
      return Error{"cannot listen on " + shown + "0 for metrics: the host is not a local address"};
    }
  } else if (!http.bind_to_port(listen.host, port)) {
    return Error{"cannot listen on " + shown + std::to_string(port) +
                 " for metrics: the port is in use (another causeway worker?) or the host is not "
                 "a local address; choose another with --metrics-listen HOST:PORT, or "
                 "--metrics-listen off"};
  }
  server->port_ = port;
  server->address_ = shown + std::to_string(port);
  server->thread_ = std::thread([raw = server.get()] {
    raw->http_->listen_after_bind();
    raw->finished_.store(true);
  });
  // httplib's stop() is a no-op until the accept loop runs: wait for it, so a server destroyed
  // right after start() cannot leave the loop running forever. The socket already listens, so
  // no request is lost meanwhile.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!http.is_running()) {
    if (server->finished_.load() || std::chrono::steady_clock::now() > deadline) {
      return Error{"the metrics endpoint on " + server->address_ +
                   " stopped as soon as it started"};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return server;
}

void MetricsServer::setStatusSource(StatusSource source) {
  std::unique_lock lock(source_mu_);
  source_ = std::move(source);
}

void MetricsServer::setExtraSource(ExtraSource source) {
  std::unique_lock lock(source_mu_);
  extra_ = std::move(source);
}

bool MetricsServer::snapshot(std::vector<replicator::LinkStatus>& out) {
  std::shared_lock lock(source_mu_);
  if (!source_) {
    return false;
  }
  out = source_();
  return true;
}

void MetricsServer::stop() {
  std::lock_guard lock(stop_mu_);
  if (thread_.joinable()) {
    http_->stop();
    thread_.join();
  }
}

void MetricsServer::installRoutes() {
  http_->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    std::vector<replicator::LinkStatus> links;
    snapshot(links);
    ExpositionWriter writer;
    addProcessMetrics(writer, options_.process);
    addLinkMetrics(writer, links, std::chrono::steady_clock::now(), options_.metrics);
    {
      std::shared_lock lock(source_mu_);
      if (extra_) {
        extra_(writer);
      }
    }
    auto text = writer.render();
    if (!text) {
      // A bug in a family or label name: say so rather than serve a page Prometheus rejects.
      spdlog::error("metrics: {}", text.error().message);
      res.status = 500;
      res.set_content(secrets::redact(text.error().message) + "\n", kTextContentType);
      return;
    }
    res.set_content(std::move(*text), kMetricsContentType);
  });
  http_->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", kTextContentType);
  });
  http_->Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    std::vector<replicator::LinkStatus> links;
    if (!snapshot(links)) {
      res.status = 503;
      res.set_content("not ready: starting\n", kTextContentType);
      return;
    }
    std::string reasons;
    const bool ready = linksReady(links, reasons);
    res.status = ready ? 200 : 503;
    // The reasons quote link errors, which may echo a cluster's configuration.
    res.set_content((ready ? "ready\n" : "not ready\n") + secrets::redact(reasons),
                    kTextContentType);
  });
}

} // namespace causeway::monitoring
