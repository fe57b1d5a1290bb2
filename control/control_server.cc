#include "control/control_server.h"

#include "control/auth.h"
#include "control/control_service.h"

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <fstream>
#include <sstream>

namespace causeway::control {

bool isLoopbackHost(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

Result<std::pair<std::string, int>> splitHostPort(const std::string& address) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Error{"'" + address + "' is not HOST:PORT (e.g. 127.0.0.1:9465)"};
  }
  std::string host = address.substr(0, colon);
  const std::string port_text = address.substr(colon + 1);
  if (host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    return Error{"'" + address + "': write an IPv6 host in brackets ([::1]:9465)"};
  }
  if (host.empty() || port_text.empty() || port_text.size() > 5 ||
      port_text.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port_text) > 65535) {
    return Error{"'" + address + "' is not HOST:PORT with a port 0..65535"};
  }
  return std::make_pair(host, std::stoi(port_text));
}

Result<std::string> readFile(const std::string& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error{what + " '" + path + "' cannot be read"};
  }
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().empty()) {
    return Error{what + " '" + path + "' is empty"};
  }
  return text.str();
}

Result<std::unique_ptr<ControlServer>> ControlServer::start(const Options& options) {
  auto host_port = splitHostPort(options.listen);
  if (!host_port) {
    return Error{"control listen address: " + host_port.error().message};
  }
  const auto& [host, port] = *host_port;

  // Token files are read again whenever they change (rotation without a restart).
  auto auth = TokenAuth::fromFiles(options.admin_token_file, options.read_token_file);
  if (!auth) {
    return auth.error();
  }

  std::shared_ptr<grpc::ServerCredentials> credentials;
  const bool tls = !options.tls_cert.empty() || !options.tls_key.empty();
  if (tls) {
    if (options.tls_cert.empty() || options.tls_key.empty()) {
      return Error{"control TLS needs both a certificate and a key"};
    }
    auto cert = readFile(options.tls_cert, "control TLS certificate");
    auto key = readFile(options.tls_key, "control TLS key");
    if (!cert || !key) {
      return Error{!cert ? cert.error().message : key.error().message};
    }
    grpc::SslServerCredentialsOptions ssl;
    ssl.pem_key_cert_pairs.push_back({*key, *cert});
    if (!options.tls_client_ca.empty()) {
      auto ca = readFile(options.tls_client_ca, "control TLS client CA");
      if (!ca) {
        return ca.error();
      }
      ssl.pem_root_certs = *ca;
      ssl.client_certificate_request =
          GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
    }
    credentials = grpc::SslServerCredentials(ssl);
  } else {
    if (!options.tls_client_ca.empty()) {
      return Error{"--control-tls-client-ca needs --control-tls-cert and --control-tls-key"};
    }
    if (!isLoopbackHost(host) && !options.allow_insecure_remote) {
      return Error{"control API on '" + options.listen +
                   "' without TLS: calls and tokens would cross the network in clear text; "
                   "give --control-tls-cert/--control-tls-key, or listen on 127.0.0.1"};
    }
    credentials = grpc::InsecureServerCredentials();
  }

  std::unique_ptr<ControlServer> server(new ControlServer());
  server->service_ = std::make_unique<ControlService>(std::move(*auth));
  grpc::ServerBuilder builder;
  int selected_port = 0;
  const std::string bind = (host.find(':') != std::string::npos ? "[" + host + "]" : host) +
                           ":" + std::to_string(port);
  builder.AddListeningPort(bind, credentials, &selected_port);
  builder.RegisterService(server->service_.get());
  // No SO_REUSEPORT: a second worker on the same port must fail, not share the port.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  server->server_ = builder.BuildAndStart();
  if (!server->server_ || selected_port == 0) {
    return Error{"control API cannot listen on " + options.listen +
                 " (address in use, or not an address of this host)"};
  }
  server->port_ = selected_port;
  server->address_ = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
                     std::to_string(selected_port);
  server->tls_ = tls;
  if (options.admin_token_file.empty() && !isLoopbackHost(host)) {
    spdlog::warn("control API on {} needs no token: anyone who reaches it is an admin "
                 "(--control-token-file)", server->address_);
  }
  return server;
}

ControlServer::~ControlServer() { stop(); }

void ControlServer::setTarget(ControlTarget* target) {
  if (service_) {
    service_->setTarget(target);
  }
}

void ControlServer::stop() {
  std::lock_guard lock(stop_mu_);
  if (stopped_ || !server_) {
    return;
  }
  stopped_ = true;
  service_->beginShutdown();
  // Running calls are cancelled after the deadline; Shutdown returns once they have ended.
  server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  server_->Wait();
  service_->setTarget(nullptr);
}

} // namespace causeway::control
