#include "tests/support/egress_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <csignal>
#include <filesystem>
#include <fstream>

namespace causeway::testing {
namespace {

void writeFile(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

class MaskPadStage : public pipeline::Stage {
public:
  std::string_view name() const override { return "test-mask"; }
  pipeline::Verdict process(pipeline::Record& record) override {
    auto value = record.value();
    if (!value) {
      return pipeline::Verdict::pass();
    }
    auto doc = nlohmann::json::parse(*value, nullptr, false);
    if (doc.is_object() && doc.contains("pad")) {
      doc["pad"] = "MASKED";
      record.rewriteValue() = doc.dump();
    }
    return pipeline::Verdict::pass();
  }
};

class SeqEvenStage : public pipeline::Stage {
public:
  std::string_view name() const override { return "test-filter"; }
  pipeline::Verdict process(pipeline::Record& record) override {
    auto seq = record.header("seq");
    if (seq && *seq && !(*seq)->empty() && ((*seq)->back() - '0') % 2 == 0) {
      return pipeline::Verdict::pass();
    }
    return pipeline::Verdict::drop("filtered", "client-filter");
  }
};

}  // namespace

config::Config makeEgressConfig(const std::string& bootstrap, const std::string& dir) {
  std::filesystem::create_directories(dir);
  writeFile(dir + "/acme.tokens", std::string("acme-1 ") + kAcmeToken + "\n");
  writeFile(dir + "/globex.tokens", std::string("globex-1 ") + kGlobexToken + "\n");
  writeFile(dir + "/resume.key", "resume-token-secret-0123456789abcdef\n");
  config::Config config;
  config::ClusterConfig east;
  east.name = "east";
  east.bootstrap = bootstrap;
  config.clusters["east"] = east;
  config::ProductConfig product;
  product.name = kProduct;
  product.domain = "payments";
  product.description = "Authorized card payments, one event per authorization";
  product.owner = "team-payments@example.com";
  product.source = "east";
  product.topics = {"payments\\.authorized"};
  product.freshness_slo = std::chrono::seconds(30);
  product.headers = {"seq"};
  config.products.push_back(product);
  config::PartnerConfig acme;
  acme.name = "acme";
  acme.policy = "mask-pad";
  acme.products = {kProduct};
  acme.auth.tokens_file = dir + "/acme.tokens";
  acme.max_connections = 50;
  config.partners["acme"] = acme;
  config::PartnerConfig globex;
  globex.name = "globex";
  globex.products = {kProduct};
  globex.auth.tokens_file = dir + "/globex.tokens";
  globex.max_connections = 2;
  config.partners["globex"] = globex;
  config::EgressConfig egress;
  egress.listen = "127.0.0.1:0";
  egress.resume_token_secret_file = dir + "/resume.key";
  egress.heartbeat_interval = std::chrono::milliseconds(500);
  config.egress = egress;
  return config;
}

void addPaymentsContract(config::Config& config, const std::string& dir) {
  std::filesystem::create_directories(dir + "/catalog");
  writeFile(dir + "/catalog/index.yaml",
            "schemas:\n  - {id: 7, subject: payments.authorized-value, file: authorized.json}\n");
  writeFile(dir + "/catalog/authorized.json", R"({
  "title": "payments.Authorized",
  "type": "object",
  "required": ["id", "card", "internal_notes"],
  "properties": {
    "id": {"type": "string"},
    "card": {"type": "object", "properties": {
      "number": {"type": "string", "description": "card number", "pattern": "^[0-9]{12,19}$"}}},
    "customer": {"type": "object", "properties": {"email": {"type": "string"}}},
    "internal_notes": {"type": "string"}
  }
})");
  config::RegistryConfig catalog;
  catalog.name = "east-catalog";
  catalog.catalog = dir + "/catalog";
  config.registries[catalog.name] = catalog;
  config.clusters["east"].registry = catalog.name;
  config::DomainConfig payments;
  payments.name = "payments";
  payments.topics = {"payments\\..*"};
  config::ContractConfig contract;
  contract.name = "authorized";
  contract.topics = {"payments\\.authorized"};
  contract.value.present = true;
  contract.value.format = config::PayloadFormat::kJson;
  payments.contracts.push_back(contract);
  config.domains.push_back(payments);
  config::PolicyConfig policy;
  policy.name = "mask-pad";
  policy.topics_allow = {".*"};
  auto rule = [](const std::string& path, config::FieldAction action) {
    config::FieldRuleConfig r;
    r.path.text = path;
    r.action = action;
    return r;
  };
  policy.fields = {rule("value.card.number", config::FieldAction::kMask),
                   rule("value.internal_notes", config::FieldAction::kDrop),
                   rule("value.customer.emial", config::FieldAction::kHash)};
  policy.headers_allow = {"seq", "traceparent"};
  policy.headers_allow_set = true;
  config.policies[policy.name] = policy;
}

egress::PartnerStageFactory testStageFactory() {
  return [](const config::Config&, const config::PartnerConfig& partner,
            const config::ProductConfig&) -> Result<pipeline::StageChain> {
    pipeline::StageChain chain;
    if (partner.policy == "mask-pad") {
      chain.add(std::make_unique<MaskPadStage>());
    } else if (!partner.policy.empty()) {
      return Error{"unknown test policy '" + partner.policy + "'"};
    }
    return chain;
  };
}

egress::FilterFactory testFilterFactory() {
  return [](std::string_view text, const config::ProductConfig&) -> Result<pipeline::StagePtr> {
    if (text == "seq-even") {
      return pipeline::StagePtr(std::make_unique<SeqEvenStage>());
    }
    return Error{"unknown test filter"};
  };
}

SseClient::SseClient(Options options)
    : options_(std::move(options)),
      parser_([this](const egress::SseEvent& e) { events_.push_back(e); }) {}

SseClient::~SseClient() { close(); }

void SseClient::close() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

bool SseClient::connect(std::chrono::milliseconds timeout) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (options_.receive_buffer > 0) {
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &options_.receive_buffer,
                 sizeof(options_.receive_buffer));
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(options_.port));
  ::inet_pton(AF_INET, options_.host.c_str(), &addr.sin_addr);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    error_ = "connect failed";
    return false;
  }
  std::string request = options_.method + " " + options_.path +
                        " HTTP/1.1\r\nHost: " + options_.host + ":" +
                        std::to_string(options_.port) + "\r\nAccept: text/event-stream\r\n";
  for (const auto& [name, value] : options_.headers) {
    request += name + ": " + value + "\r\n";
  }
  request += "\r\n";
  if (::send(fd_, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size())) {
    error_ = "send failed";
    return false;
  }
  std::string head;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (head.find("\r\n\r\n") == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fd_, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      error_ = "no response head within the timeout";
      return false;
    }
    char buf[4096];
    const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) {
      error_ = "connection closed before the response head";
      return false;
    }
    head.append(buf, static_cast<size_t>(n));
  }
  const size_t end = head.find("\r\n\r\n");
  std::string rest = head.substr(end + 4);
  head.resize(end);
  const size_t sp = head.find(' ');
  status_ = std::atoi(head.c_str() + sp + 1);
  size_t pos = head.find("\r\n");
  while (pos != std::string::npos && pos < head.size()) {
    const size_t next = head.find("\r\n", pos + 2);
    const std::string line =
        head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
    const size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      response_headers_[lower(line.substr(0, colon))] = value;
    }
    pos = next;
  }
  chunked_ = lower(response_headers_["transfer-encoding"]) == "chunked";
  if (!rest.empty()) {
    if (chunked_) {
      chunk_buffer_ += rest;
    } else {
      body_ += rest;
      parser_.feed(rest);
    }
  }
  if (chunked_) {
    readSome(std::chrono::milliseconds(0));
  }
  return true;
}

bool SseClient::readSome(std::chrono::milliseconds timeout) {
  if (fd_ < 0 || closed_) {
    return false;
  }
  if (timeout.count() > 0 || chunk_buffer_.empty()) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) > 0) {
      char buf[16384];
      const ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) {
        closed_ = true;
      } else if (chunked_) {
        chunk_buffer_.append(buf, static_cast<size_t>(n));
      } else {
        body_.append(buf, static_cast<size_t>(n));
        parser_.feed(std::string_view(buf, static_cast<size_t>(n)));
      }
    }
  }
  while (chunked_) {
    const size_t line_end = chunk_buffer_.find("\r\n");
    if (line_end == std::string::npos) {
      break;
    }
    const size_t size = std::stoul(chunk_buffer_.substr(0, line_end), nullptr, 16);
    if (size == 0) {
      closed_ = true;
      break;
    }
    if (chunk_buffer_.size() < line_end + 2 + size + 2) {
      break;
    }
    const std::string data = chunk_buffer_.substr(line_end + 2, size);
    body_ += data;
    parser_.feed(data);
    chunk_buffer_.erase(0, line_end + 2 + size + 2);
  }
  return !closed_;
}

size_t SseClient::readEvents(size_t count, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (events_.size() < count && !closed_ && std::chrono::steady_clock::now() < deadline) {
    readSome(std::chrono::milliseconds(50));
  }
  return events_.size();
}

bool SseClient::readToEnd(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!closed_ && std::chrono::steady_clock::now() < deadline) {
    readSome(std::chrono::milliseconds(50));
  }
  return closed_;
}

HttpResponse httpGet(int port, const std::string& path,
                     const std::map<std::string, std::string>& headers, const std::string& method) {
  SseClient::Options options;
  options.port = port;
  options.path = path;
  options.headers = headers;
  options.method = method;
  SseClient client(options);
  HttpResponse response;
  if (!client.connect()) {
    return response;
  }
  client.readToEnd(std::chrono::seconds(10));
  response.status = client.status();
  response.headers = client.responseHeaders();
  response.body = client.body();
  return response;
}

}  // namespace causeway::testing

namespace causeway::testing {

namespace {

bool canConnect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

std::unique_ptr<PushpinProcess>
PushpinProcess::start(const std::string& dir, int origin_port,
                      const std::map<std::string, std::string>& settings) {
  // Ports are picked free and bound by Pushpin a moment later; a parallel test can take one in
  // between (Pushpin's runner then reports "Exited unexpectedly"). Such a start is tried again
  // with new ports.
  for (int attempt = 1;; ++attempt) {
    std::filesystem::remove_all(dir);
    bool exited = false;
    auto p = startOnce(dir, origin_port, settings, attempt == 3, exited);
    if (p || !exited || attempt == 3) {
      return p;
    }
  }
}

std::unique_ptr<PushpinProcess>
PushpinProcess::startOnce(const std::string& dir, int origin_port,
                          const std::map<std::string, std::string>& settings, bool last_attempt,
                          bool& exited) {
  std::unique_ptr<PushpinProcess> p(new PushpinProcess());
  p->dir_ = dir;
  const std::string run = dir + "/run";
  const std::string log = dir + "/log";
  std::filesystem::create_directories(run);
  std::filesystem::create_directories(log);
  p->http_port_ = freePort();
  p->publish_port_ = freePort();
  const int push_in = freePort();
  const int push_sub = freePort();
  const int command = freePort();
  const std::string key = "pushpin-sig-key-" + std::to_string(::getpid()) + "-0123456789";
  p->sig_key_file_ = dir + "/pushpin.key";
  writeFile(p->sig_key_file_, key + "\n");
  std::ifstream in("/etc/pushpin/pushpin.conf");
  if (!in) {
    ADD_FAILURE() << "/etc/pushpin/pushpin.conf is missing: install the Debian package pushpin "
                     "(scripts/install-deps.sh)";
    return nullptr;
  }
  // The packaged runner would start zurl with a config that refuses 127.*; zurl runs on its own
  // here, allowed to reach the origin on loopback.
  std::map<std::string, std::string> replace = {
      {"include", "/usr/lib/pushpin/internal.conf"},
      {"rundir", run},
      {"logdir", log},
      {"services", "condure,pushpin-proxy,pushpin-handler"},
      {"http_port", std::to_string(p->http_port_)},
      {"routesfile", dir + "/routes"},
      {"sig_key", key},
      {"push_in_spec", "tcp://127.0.0.1:" + std::to_string(push_in)},
      {"push_in_sub_specs", "tcp://127.0.0.1:" + std::to_string(push_sub)},
      {"push_in_http_port", std::to_string(p->publish_port_)},
      {"command_spec", "tcp://127.0.0.1:" + std::to_string(command)},
      {"message_rate", "1000000"},
      {"message_hwm", "1000000"},
  };
  for (const auto& [key, value] : settings) {
    replace[key] = value;
  }
  std::string conf;
  std::string line;
  while (std::getline(in, line)) {
    const size_t eq = line.find('=');
    if (!line.empty() && line[0] != '#' && eq != std::string::npos) {
      auto it = replace.find(line.substr(0, eq));
      if (it != replace.end()) {
        line = it->first + "=" + it->second;
      }
    }
    conf += line + "\n";
    if (line == "[proxy]") {
      conf += "zurl_out_specs=ipc://" + run + "/zurl-in\n";
      conf += "zurl_out_stream_specs=ipc://" + run + "/zurl-in-stream\n";
      conf += "zurl_in_specs=ipc://" + run + "/zurl-out\n";
    }
  }
  writeFile(dir + "/pushpin.conf", conf);
  writeFile(dir + "/routes", "* 127.0.0.1:" + std::to_string(origin_port) + "\n");
  writeFile(dir + "/zurl.conf", "[General]\nin_spec=ipc://" + run +
                                    "/zurl-in\nin_stream_spec=ipc://" + run +
                                    "/zurl-in-stream\nout_spec=ipc://" + run +
                                    "/zurl-out\ndefpolicy=allow\nallow=\ndeny=\n"
                                    "max_open_requests=5000\nbuffer_size=200000\ntimeout=600\n"
                                    "in_hwm=5000\nout_hwm=5000\n");
  p->zurl_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{"/usr/bin/zurl", "--config=" + dir + "/zurl.conf"},
      dir + "/zurl.out");
  p->pushpin_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{"/usr/bin/pushpin", "--config=" + dir + "/pushpin.conf"},
      dir + "/pushpin.out");
  if (!waitFor(
          [&] {
            exited = !p->pushpin_->running();
            return exited || (canConnect(p->http_port_) && canConnect(p->publish_port_));
          },
          15s) ||
      exited) {
    if (!exited || last_attempt) {
      ADD_FAILURE() << "pushpin did not start: " << p->pushpin_->log();
    }
    return nullptr;
  }
  return p;
}

PushpinProcess::~PushpinProcess() {
  // The runner stops its services on SIGTERM.
  if (pushpin_) {
    pushpin_->signal(SIGTERM);
    pushpin_->wait(5s);
  }
  if (zurl_) {
    zurl_->signal(SIGTERM);
    zurl_->wait(5s);
  }
}

std::string PushpinProcess::publishUrl() const {
  return "http://127.0.0.1:" + std::to_string(publish_port_) + "/publish/";
}

size_t PushpinProcess::handlerLogCount(const std::string& text) const {
  std::ifstream in(dir_ + "/log/pushpin-handler.log");
  size_t n = 0;
  std::string line;
  while (std::getline(in, line)) {
    n += line.find(text) != std::string::npos ? 1 : 0;
  }
  return n;
}

}  // namespace causeway::testing
