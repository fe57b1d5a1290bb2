#pragma once

#include "common/result.h"
#include "control/control_target.h"

#include <memory>
#include <mutex>
#include <string>

namespace grpc {
class Server;
} // namespace grpc

namespace causeway::control {

class ControlService;

// The gRPC server of causeway.v1.Control in a worker process (`causeway run`).
//
// Security: it listens on loopback unless told otherwise. With tls_cert/tls_key it serves TLS;
// with tls_client_ca as well it requires and verifies client certificates. With
// admin_token_file every call needs `authorization: Bearer <token>`; read_token_file adds a
// read-only token. Listening on a non-loopback address without TLS is refused unless
// allow_insecure_remote (tokens would cross the network in clear text).
//
// Lifecycle: start() binds (an address in use is an error at once, before the links start);
// calls answer UNAVAILABLE until setTarget(); setTarget(nullptr) or stop() before the target is
// destroyed. stop() cancels running calls (a Failover stops within seconds), waits for them and
// is idempotent. All methods may be called from any thread.
class ControlServer {
public:
  struct Options {
    std::string listen = "127.0.0.1:9465";  // HOST:PORT; port 0 picks a free one
    std::string admin_token_file;           // empty: no token needed
    std::string read_token_file;            // empty: no read-only token
    std::string tls_cert;                   // PEM files; empty: plaintext
    std::string tls_key;
    std::string tls_client_ca;              // empty: client certificates are not asked for
    bool allow_insecure_remote = false;
  };

  static Result<std::unique_ptr<ControlServer>> start(const Options& options);
  ~ControlServer();

  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  void setTarget(ControlTarget* target);
  void stop();

  // "host:port" listened on (the chosen port when 0 was asked for).
  const std::string& address() const { return address_; }
  int port() const { return port_; }
  bool tls() const { return tls_; }

private:
  ControlServer() = default;

  std::unique_ptr<ControlService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  int port_ = 0;
  bool tls_ = false;
  std::mutex stop_mu_;
  bool stopped_ = false;
};

// True for "127.0.0.1", "::1", "[::1]", "localhost" and the rest of 127.0.0.0/8.
bool isLoopbackHost(const std::string& host);

// Splits "HOST:PORT" / "[V6]:PORT"; error for a missing host or a port outside 0..65535.
Result<std::pair<std::string, int>> splitHostPort(const std::string& address);

// Reads a whole file (PEM certificates and keys), naming `what` in the error.
Result<std::string> readFile(const std::string& path, const std::string& what);

} // namespace causeway::control
