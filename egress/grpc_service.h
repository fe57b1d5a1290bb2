#pragma once

// causeway.v1.Egress over gRPC's callback API: Subscribe streams are reactors that write when
// the subscription has events and the previous write completed, so an idle subscriber holds no
// thread (as on the HTTP side). Semantics and credentials are the HTTP endpoints' (StreamHub,
// PartnerAuth).
//
// Lifecycle: start() binds (TLS from egress.tls when set); stop() ends every stream
// (UNAVAILABLE, with its resume token) and waits for the calls. Thread-safe.

#include "common/result.h"
#include "config/config.h"

#include <memory>
#include <string>

namespace grpc {
class Server;
}  // namespace grpc

namespace causeway::egress {

class PartnerAuth;
class ProductContracts;
class StreamHub;

class EgressGrpcServer {
public:
  static Result<std::unique_ptr<EgressGrpcServer>> start(const config::EgressConfig& egress,
                                                         StreamHub& hub,
                                                         ProductContracts& contracts,
                                                         PartnerAuth& auth);
  ~EgressGrpcServer();
  void stop();
  int port() const { return port_; }

  class Service;

private:
  EgressGrpcServer() = default;
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool stopped_ = false;
};

}  // namespace causeway::egress
