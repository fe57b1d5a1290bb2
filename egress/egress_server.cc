#include "egress/egress_server.h"

#include "egress/event_json.h"
#include "egress/grpc_service.h"
#include "egress/http_server.h"
#include "egress/partner_auth.h"
#include "egress/pushpin.h"
#include "egress/resume_token.h"
#include "egress/sse.h"
#include "egress/sse_stream.h"
#include "egress/stream_hub.h"
#include "monitoring/prometheus_text.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>

namespace causeway::egress {
namespace {

constexpr const char* kJson = "application/json";

std::string jsonError(const std::string& code, const std::string& message) {
  std::string out = "{\"error\":";
  appendJsonString(out, code);
  out += ",\"message\":";
  appendJsonString(out, message);
  out += "}\n";
  return out;
}

HttpResponse errorResponse(int status, const std::string& code, const std::string& message) {
  HttpResponse r;
  r.status = status;
  r.headers.emplace_back("Content-Type", kJson);
  r.body = jsonError(code, message);
  return r;
}

// HOST:PORT (IPv6 in brackets) -> host, port.
Result<std::pair<std::string, int>> splitListen(const std::string& text) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Error{"'" + text + "' is not HOST:PORT"};
  }
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  int port = -1;
  const char* first = text.data() + colon + 1;
  const char* last = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(first, last, port);
  if (ec != std::errc() || ptr != last || port < 0 || port > 65535) {
    return Error{"'" + text + "' is not HOST:PORT with a port 0..65535"};
  }
  return std::pair(host, port);
}

bool isLoopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

Result<std::string> readResumeSecret(const config::EgressConfig& egress) {
  if (egress.resume_token_secret_file.empty()) {
    spdlog::warn("egress: no resume_token_secret_file: resume tokens are signed with a random "
                 "key and will not be accepted after a restart or by other workers");
    return randomBytes(32);
  }
  std::ifstream in(egress.resume_token_secret_file, std::ios::binary);
  if (!in) {
    return Error{"egress resume-token key '" + egress.resume_token_secret_file +
                 "' cannot be read"};
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
    text.pop_back();
  }
  if (text.size() < 32) {
    return Error{"egress resume-token key '" + egress.resume_token_secret_file +
                 "' holds less than 32 bytes; use e.g. `openssl rand -hex 32`"};
  }
  return text;
}

}  // namespace

struct EgressServer::Impl {
  const config::Config* config = nullptr;
  const config::EgressConfig* egress = nullptr;
  Options options;
  std::unique_ptr<ResumeTokenCodec> codec;
  std::unique_ptr<PartnerAuth> auth;
  std::unique_ptr<StreamHub> hub;
  std::unique_ptr<ProductContracts> contracts;
  std::unique_ptr<HttpServer> http;
  std::unique_ptr<EgressGrpcServer> grpc;
  std::unique_ptr<PushpinPublisher> pushpin;
  std::unique_ptr<GripSessions> grip_sessions;
  std::mutex grip_mu;
  ReloadingFile<std::string> grip_key;  // the key Pushpin signs Grip-Sig with
  std::map<std::pair<std::string, std::string>, uint64_t> holds;  // (partner, product)
  std::string url;
  int grpc_port = 0;
  bool stopped = false;
  std::mutex stop_mu;

  HttpResponse handle(const HttpRequest& request, const ConnectionInfo& info);
  HttpResponse products(const Identity& who);
  // `resume`: the position to start after when the request names none itself (a next-link
  // request of Pushpin, which carries it in Grip-Last).
  HttpResponse events(const HttpRequest& request, const ConnectionInfo& info, const Identity& who,
                      const std::string& product, const std::string* resume = nullptr);
  std::variant<Identity, HttpResponse> authenticate(const HttpRequest& request);
  // The request came through our Pushpin (a valid Grip-Sig).
  bool viaPushpin(const HttpRequest& request);
  // A GRIP hold for a client of Pushpin, or nullopt when it must be served directly (a filter,
  // or a position the live window does not hold); then `resume` is the position Grip-Last gave.
  std::optional<HttpResponse> hold(const HttpRequest& request, const Identity& who,
                                   const std::string& product, bool recovery,
                                   std::optional<std::string>& resume);
  void addCors(const HttpRequest& request, HttpResponse& response, bool preflight) const;
};

void EgressServer::Impl::addCors(const HttpRequest& request, HttpResponse& response,
                                 bool preflight) const {
  const std::string* origin = request.header("origin");
  if (origin == nullptr) {
    return;
  }
  const auto& allowed = egress->cors_origins;
  const bool any = std::find(allowed.begin(), allowed.end(), "*") != allowed.end();
  if (!any && std::find(allowed.begin(), allowed.end(), *origin) == allowed.end()) {
    return;
  }
  response.headers.emplace_back("Access-Control-Allow-Origin", *origin);
  response.headers.emplace_back("Vary", "Origin");
  if (preflight) {
    response.headers.emplace_back("Access-Control-Allow-Methods", "GET, OPTIONS");
    response.headers.emplace_back("Access-Control-Allow-Headers",
                                  "Authorization, Last-Event-ID, Accept, Cache-Control");
    response.headers.emplace_back("Access-Control-Max-Age", "600");
  }
}

std::variant<Identity, HttpResponse> EgressServer::Impl::authenticate(const HttpRequest& request) {
  std::optional<std::string_view> authorization;
  if (const std::string* value = request.header("authorization")) {
    authorization = *value;
  }
  auto result = auth->authenticate(authorization, unixSeconds());
  if (auto* error = std::get_if<AuthError>(&result)) {
    hub->recordRejected("unauthorized");
    HttpResponse r = errorResponse(401, "unauthorized", error->message);
    r.headers.emplace_back("WWW-Authenticate",
                           error->problem == AuthProblem::kMissing
                               ? "Bearer realm=\"causeway\""
                               : "Bearer realm=\"causeway\", error=\"invalid_token\"");
    return r;
  }
  return std::get<Identity>(std::move(result));
}

HttpResponse EgressServer::Impl::handle(const HttpRequest& request, const ConnectionInfo& info) {
  HttpResponse response;
  if (request.method == "OPTIONS") {
    response.status = 204;
    addCors(request, response, true);
    return response;
  }
  const std::string& path = request.path;
  if (path == "/healthz") {
    response.headers.emplace_back("Content-Type", "text/plain");
    response.body = "ok\n";
    return response;
  }
  constexpr std::string_view kProducts = "/v1/products";
  constexpr std::string_view kEvents = "/events";
  const bool list = path == kProducts || path == std::string(kProducts) + "/";
  const bool stream = path.size() > kProducts.size() + 1 + kEvents.size() &&
                      path.compare(0, kProducts.size() + 1, std::string(kProducts) + "/") == 0 &&
                      path.compare(path.size() - kEvents.size(), kEvents.size(), kEvents) == 0;
  if (!list && !stream) {
    response = errorResponse(404, "not_found", "no such resource");
  } else if (request.method != "GET") {
    response = errorResponse(405, "method_not_allowed", "only GET is served here");
    response.headers.emplace_back("Allow", "GET, OPTIONS");
  } else {
    const std::string name =
        stream
            ? path.substr(kProducts.size() + 1, path.size() - kProducts.size() - 1 - kEvents.size())
            : std::string();
    const bool pushpin_request = stream && viaPushpin(request);
    std::variant<Identity, HttpResponse> who = HttpResponse{};
    const std::string* session = request.param("grip_session");
    if (pushpin_request && session != nullptr) {
      // Pushpin's recovery request for a held client: the identity is in the signed link.
      if (auto identity = grip_sessions->decode(*session, name)) {
        who = std::move(*identity);
      } else {
        who = errorResponse(401, "unauthorized", "invalid grip session");
      }
    } else {
      who = authenticate(request);
    }
    if (auto* refused = std::get_if<HttpResponse>(&who)) {
      response = std::move(*refused);
    } else if (list) {
      response = products(std::get<Identity>(who));
    } else {
      std::optional<HttpResponse> held;
      std::optional<std::string> resume;
      if (pushpin_request) {
        held = hold(request, std::get<Identity>(who), name, session != nullptr, resume);
      }
      response =
          held ? std::move(*held)
               : events(request, info, std::get<Identity>(who), name, resume ? &*resume : nullptr);
    }
  }
  addCors(request, response, false);
  return response;
}

bool EgressServer::Impl::viaPushpin(const HttpRequest& request) {
  const std::string* sig = request.header("grip-sig");
  if (!pushpin || sig == nullptr) {
    return false;
  }
  auto parsed = ParsedJwt::parse(*sig);
  if (!parsed) {
    return false;
  }
  std::lock_guard lock(grip_mu);
  grip_key.refresh();
  if (!grip_key.value()) {
    return false;
  }
  JwtKeys keys;
  keys.hs256_secret = &*grip_key.value();
  JwtExpectations expect;
  expect.issuer = "pushpin";
  return parsed->verify(keys, expect, unixSeconds()).ok();
}

std::optional<HttpResponse> EgressServer::Impl::hold(const HttpRequest& request,
                                                     const Identity& who,
                                                     const std::string& product, bool recovery,
                                                     std::optional<std::string>& resume) {
  if (request.param("filter") != nullptr) {
    return std::nullopt;  // a per-client filter: Pushpin would send everybody the same events
  }
  if (auto refused = hub->checkAccess(who, product)) {
    return errorResponse(refused->http_status, refused->code, refused->message);
  }
  if (auto started = pushpin->ensure(who.partner, product); !started) {
    spdlog::warn("egress: cannot publish '{}' for partner '{}' to Pushpin: {}", product,
                 who.partner, started.message());
    return errorResponse(503, "unavailable", "the product cannot be read right now");
  }
  auto tail = hub->tailFor(product, who.partner);
  if (!tail) {
    return errorResponse(503, "unavailable", "the product cannot be read right now");
  }
  const std::string channel = gripChannel(who.partner, product);
  LiveWindow& window = tail->window();
  const size_t budget = egress->pushpin->max_initial_bytes;
  std::optional<std::string> token;
  if (const std::string* last = request.header("grip-last")) {
    token = gripLastId(*last, channel);
    resume = token;
  }
  if (!token) {
    if (const std::string* id = request.header("last-event-id"); id != nullptr && !id->empty()) {
      token = *id;
    }
  }
  uint64_t seq = 0;
  std::string last_id;
  if (token) {
    // A held client recovering (Pushpin dropped items it could not write in time) gets what
    // follows its last id in bodies of up to `budget`, through as many next links as it takes,
    // however far behind: served directly instead, it would stay a worker stream for good.
    auto at = window.afterToken(*token, recovery ? std::numeric_limits<uint64_t>::max() : budget);
    if (!at) {
      if (std::holds_alternative<TokenError>(codec->decode(product, *token))) {
        return errorResponse(400, "bad_resume_token", "the resume token is not valid");
      }
      return std::nullopt;  // older than the window: served directly (catch-up)
    }
    seq = *at;
    last_id = *token;
  } else {
    const std::string* from = request.param("from");
    if (from != nullptr && *from != "latest") {
      return std::nullopt;  // history first: served directly
    }
    std::tie(seq, last_id) = window.head();
  }
  HttpResponse r;
  if (!recovery) {
    appendSseRetry(r.body, egress->retry.count());
  }
  uint64_t next = seq;
  const LiveWindow::Snapshot at = window.readOrWait(seq, [&](const StreamEvent& event) {
    r.body += "id: ";
    r.body += event.token;
    r.body += "\ndata: ";
    r.body += event.data;
    r.body += "\n\n";
    last_id = event.token;
    ++next;
    return r.body.size() < budget;
  });
  if (!recovery && next == seq && !last_id.empty()) {
    // No event yet: an id field alone (no data, so no event) still sets the client's last event
    // id. A stream that ends before its first event (Pushpin cancels a session, a proxy drops
    // it) then reconnects from here instead of from the head of that later moment.
    appendSseId(r.body, last_id);
  }
  const long keep_alive = std::max<long>(
      1, std::chrono::duration_cast<std::chrono::seconds>(egress->heartbeat_interval).count());
  // Pushpin asks the next link when a published item does not follow the client's last id, or
  // when nothing was sent for `timeout` seconds. A body cut by the budget leaves the client
  // behind: with no item coming (the product is idle), the next page is asked in a second
  // instead of after four heartbeats.
  const long link_timeout = next < at.next_seq ? 1 : keep_alive * 4;
  r.headers.emplace_back("Content-Type", "text/event-stream; charset=utf-8");
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("Grip-Hold", "stream");
  r.headers.emplace_back("Grip-Channel", channel + "; prev-id=" + last_id);
  r.headers.emplace_back("Grip-Link", "</v1/products/" + product + "/events?grip_session=" +
                                          grip_sessions->encode(who, product) +
                                          ">; rel=next; timeout=" + std::to_string(link_timeout));
  // An SSE comment (":" and a blank line, in Pushpin's cstring format) on idle holds.
  r.headers.emplace_back("Grip-Keep-Alive",
                         ":\\n\\n; format=cstring; timeout=" + std::to_string(keep_alive));
  {
    std::lock_guard lock(grip_mu);
    holds[{who.partner, product}]++;
  }
  if (!recovery) {
    spdlog::info("egress audit: {}", nlohmann::json{{"audit", "egress_hold"},
                                                    {"partner", who.partner},
                                                    {"identity", who.token_id},
                                                    {"auth", who.method},
                                                    {"product", product},
                                                    {"transport", "pushpin"},
                                                    {"from", token.value_or("from=latest")},
                                                    {"to", last_id}}
                                         .dump());
  }
  return r;
}

HttpResponse EgressServer::Impl::products(const Identity& who) {
  const auto found = config->partners.find(who.partner);
  const config::PartnerConfig* partner = found == config->partners.end() ? nullptr : &found->second;
  nlohmann::json list = nlohmann::json::array();
  for (const config::ProductConfig* product : hub->productsFor(who)) {
    const ProductInfo info = hub->describe(*product);
    nlohmann::json item = {
        {"name", product->name},
        {"domain", product->domain},
        {"description", product->description},
        {"owner", product->owner},
        {"events_url", "/v1/products/" + product->name + "/events"},
    };
    addContractsJson(contracts->describe(*product, partner, info.topics), item);
    if (info.freshness_seconds) {
      item["freshness_seconds"] = std::round(*info.freshness_seconds * 1000) / 1000;
    } else {
      item["freshness_seconds"] = nullptr;
    }
    if (product->freshness_slo.count() > 0) {
      item["freshness_slo_seconds"] = product->freshness_slo.count() / 1000.0;
      if (info.freshness_seconds) {
        item["within_slo"] = *info.freshness_seconds * 1000 <= product->freshness_slo.count();
      } else {
        item["within_slo"] = nullptr;
      }
    }
    if (info.empty) {
      item["empty"] = true;
    }
    list.push_back(std::move(item));
  }
  HttpResponse r;
  r.headers.emplace_back("Content-Type", kJson);
  r.headers.emplace_back("Cache-Control", "no-store");
  r.body = nlohmann::json{{"products", list}}.dump() + "\n";
  return r;
}

HttpResponse EgressServer::Impl::events(const HttpRequest& request, const ConnectionInfo& info,
                                        const Identity& who, const std::string& product,
                                        const std::string* resume) {
  OpenRequest open;
  if (const std::string* id = request.header("last-event-id"); id != nullptr && !id->empty()) {
    open.last_event_id = *id;
  } else if (resume != nullptr) {
    open.last_event_id = *resume;
  }
  if (const std::string* from = request.param("from"); from != nullptr && !from->empty()) {
    open.from = *from;
  }
  if (const std::string* filter = request.param("filter"); filter != nullptr && !filter->empty()) {
    open.filter = *filter;
  }
  auto opened = hub->open(who, product, open);
  if (auto* error = std::get_if<OpenError>(&opened)) {
    HttpResponse r = errorResponse(error->http_status, error->code, error->message);
    if (error->retry_after_seconds > 0) {
      r.headers.emplace_back("Retry-After", std::to_string(error->retry_after_seconds));
    }
    return r;
  }
  StreamAudit audit;
  audit.who = who;
  audit.product = product;
  audit.transport = "sse";
  audit.peer = info.peer;
  audit.from = open.last_event_id ? *open.last_event_id : "from=" + open.from.value_or("latest");
  HttpResponse r;
  r.headers.emplace_back("Content-Type", "text/event-stream; charset=utf-8");
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("X-Accel-Buffering", "no");
  r.stream = std::make_unique<SseStream>(std::move(std::get<std::unique_ptr<Subscription>>(opened)),
                                         *hub, std::move(audit), egress->retry.count());
  return r;
}

Result<std::unique_ptr<EgressServer>> EgressServer::start(const config::Config& config,
                                                          Options options) {
  if (!config.egress) {
    return Error{"the configuration has no egress section"};
  }
  std::unique_ptr<EgressServer> server(new EgressServer());
  server->impl_ = std::make_unique<Impl>();
  Impl& impl = *server->impl_;
  impl.config = &config;
  impl.egress = &*config.egress;
  impl.options = std::move(options);
  const std::string listen =
      impl.options.listen.empty() ? config.egress->listen : impl.options.listen;
  auto host_port = splitListen(listen);
  if (!host_port) {
    return Error{"egress listen address: " + host_port.error().message};
  }
  if (!config.egress->tls && !isLoopback(host_port->first) &&
      !config.egress->allow_insecure_remote) {
    return Error{"egress on '" + listen +
                 "' without TLS: partners' tokens would cross the "
                 "network in clear text; configure egress.tls, listen on 127.0.0.1 (behind a TLS "
                 "proxy), or set egress.allow_insecure_remote: true"};
  }
  auto secret = readResumeSecret(*config.egress);
  if (!secret) {
    return secret.error();
  }
  impl.codec = std::make_unique<ResumeTokenCodec>(*secret);
  auto auth = PartnerAuth::create(config);
  if (!auth) {
    return Error{"egress: " + auth.error().message};
  }
  impl.auth = std::move(*auth);
  StreamHub::Options hub_options;
  hub_options.config = &config;
  hub_options.codec = impl.codec.get();
  hub_options.stages = impl.options.stages;
  hub_options.filters = impl.options.filters;
  impl.hub = std::make_unique<StreamHub>(hub_options);
  impl.contracts = std::make_unique<ProductContracts>(config, impl.options.contracts);

  HttpServer::Options http;
  http.host = host_port->first;
  http.port = host_port->second;
  http.io_threads = config.egress->io_threads;
  // Stream opens wait for readers to start; a few handler threads keep other requests moving.
  http.handler_threads = 4;
  http.max_connections = config.egress->max_connections + 64;
  http.heartbeat_interval = config.egress->heartbeat_interval;
  if (config.egress->tls) {
    http.tls = TlsFiles{config.egress->tls->cert_file, config.egress->tls->key_file,
                        config.egress->tls->client_ca_file};
  }
  Impl* raw = &impl;
  auto started =
      HttpServer::start(http, [raw](const HttpRequest& request, const ConnectionInfo& info) {
        return raw->handle(request, info);
      });
  if (!started) {
    impl.hub->stop();
    return started.error();
  }
  impl.http = std::move(*started);
  if (config.egress->pushpin) {
    impl.grip_key = ReloadingFile<std::string>(
        config.egress->pushpin->sig_key_file, "egress: Pushpin key",
        [](const std::string& path) { return readSecretFile(path, "Pushpin key file"); });
    if (auto loaded = impl.grip_key.load(); !loaded) {
      impl.http->stop();
      impl.hub->stop();
      return Error{"egress: " + loaded.message()};
    }
    impl.grip_sessions = std::make_unique<GripSessions>(*secret);
    impl.pushpin = std::make_unique<PushpinPublisher>(*config.egress->pushpin, *impl.hub);
  }
  if (!config.egress->grpc_listen.empty()) {
    auto grpc = EgressGrpcServer::start(*config.egress, *impl.hub, *impl.contracts, *impl.auth);
    if (!grpc) {
      impl.http->stop();
      impl.hub->stop();
      return grpc.error();
    }
    impl.grpc = std::move(*grpc);
    impl.grpc_port = impl.grpc->port();
  }
  const std::string shown_host = host_port->first.find(':') != std::string::npos
                                     ? "[" + host_port->first + "]"
                                     : host_port->first;
  impl.url = std::string(config.egress->tls ? "https://" : "http://") + shown_host + ":" +
             std::to_string(impl.http->port());
  return server;
}

EgressServer::~EgressServer() { stop(); }

void EgressServer::stop() {
  if (!impl_) {
    return;
  }
  std::lock_guard lock(impl_->stop_mu);
  if (impl_->stopped) {
    return;
  }
  impl_->stopped = true;
  impl_->contracts->interrupt();  // a listing waiting for a registry
  // Streams first (each gets its resume token), then the readers behind them.
  if (impl_->http) {
    impl_->http->stop();
  }
  if (impl_->grpc) {
    impl_->grpc->stop();
  }
  if (impl_->pushpin) {
    impl_->pushpin->stop();
  }
  impl_->hub->stop();
  impl_->http.reset();
  impl_->grpc.reset();
}

const std::string& EgressServer::url() const { return impl_->url; }
int EgressServer::httpPort() const { return impl_->http ? impl_->http->port() : 0; }
int EgressServer::grpcPort() const { return impl_->grpc_port; }

void EgressServer::addMetrics(monitoring::ExpositionWriter& writer) {
  using monitoring::MetricType;
  const HubMetrics m = impl_->hub->metrics();
  auto& clients = writer.family("causeway_egress_clients", MetricType::kGauge,
                                "Open product streams, by partner and product");
  auto& events = writer.family("causeway_egress_events_sent_total", MetricType::kCounter,
                               "Events sent to partners");
  auto& bytes = writer.family("causeway_egress_bytes_sent_total", MetricType::kCounter,
                              "Bytes of event data sent to partners");
  auto& catchup = writer.family("causeway_egress_catchup_events_total", MetricType::kCounter,
                                "Events sent through catch-up readers (clients behind the live "
                                "window)");
  auto& filtered = writer.family("causeway_egress_filtered_events_total", MetricType::kCounter,
                                 "Events a client's ?filter= kept from it");
  auto& disconnects = writer.family("causeway_egress_disconnects_total", MetricType::kCounter,
                                    "Streams ended, by reason");
  auto& freshness = writer.family("causeway_egress_freshness_seconds", MetricType::kGauge,
                                  "Age of the newest record read for the partner");
  auto& slo = writer.family("causeway_egress_freshness_slo_seconds", MetricType::kGauge,
                            "The product's freshness objective");
  for (const auto& s : m.streams) {
    const monitoring::Labels labels = {{"partner", s.partner}, {"product", s.product}};
    clients.add(labels, s.connected);
    events.add(labels, s.events);
    bytes.add(labels, s.bytes);
    catchup.add(labels, s.catchup_events);
    filtered.add(labels, s.filtered);
    for (const auto& [reason, count] : s.disconnects) {
      disconnects.add({{"partner", s.partner}, {"product", s.product}, {"reason", reason}}, count);
    }
    if (s.freshness_seconds) {
      freshness.add(labels, *s.freshness_seconds);
    }
    if (s.freshness_slo_seconds) {
      slo.add(labels, *s.freshness_slo_seconds);
    }
  }
  auto& rejected = writer.family("causeway_egress_rejected_total", MetricType::kCounter,
                                 "Requests refused, by reason");
  for (const auto& [code, count] : m.rejected) {
    rejected.add({{"reason", code}}, count);
  }
  if (impl_->pushpin) {
    auto& published = writer.family("causeway_egress_pushpin_published_total", MetricType::kCounter,
                                    "Events published to Pushpin");
    auto& errors = writer.family("causeway_egress_pushpin_publish_errors_total",
                                 MetricType::kCounter, "Failed publish requests to Pushpin");
    for (const auto& [key, stats] : impl_->pushpin->stats()) {
      const monitoring::Labels labels = {{"partner", key.first}, {"product", key.second}};
      published.add(labels, stats.items);
      errors.add(labels, stats.errors);
    }
    auto& holds = writer.family("causeway_egress_pushpin_holds_total", MetricType::kCounter,
                                "Streams handed to Pushpin (GRIP holds, recoveries included)");
    std::lock_guard lock(impl_->grip_mu);
    for (const auto& [key, count] : impl_->holds) {
      holds.add({{"partner", key.first}, {"product", key.second}}, count);
    }
  }
  writer.family("causeway_egress_catchup_readers", MetricType::kGauge, "Catch-up readers running")
      .add({}, m.catchup_readers);
  writer
      .family("causeway_egress_tails", MetricType::kGauge,
              "Live tails running (one per product and partner with clients)")
      .add({}, static_cast<uint64_t>(impl_->hub->tailCount()));
  if (impl_->http) {
    writer
        .family("causeway_egress_http_connections", MetricType::kGauge,
                "Open HTTP connections of the egress server")
        .add({}, static_cast<uint64_t>(impl_->http->connections()));
  }
}

}  // namespace causeway::egress
