#pragma once

// The egress server of a worker (`causeway run` with an `egress:` section): partners read data
// products over HTTP (SSE) and gRPC, optionally fanned out through Pushpin.
//
//   GET /v1/products                  the products this credential may read, with freshness,
//                                     contracts (subject, schema ID, derived schema), headers
//   GET /v1/products/{name}/events    text/event-stream of the product (Last-Event-ID, ?from=,
//                                     ?filter=); GRIP hold when the request came through Pushpin
//   GET /healthz                      200 while serving (no credentials)
//   causeway.v1.Egress                gRPC: ListProducts, Subscribe (egress.grpc_listen)
//
// Lifecycle: start() reads every secret file (tokens, JWKS, TLS, the resume-token key) and
// binds the ports, so a bad file or a port in use fails at start-up; streams start on demand.
// stop() ends every stream with a resume token, then stops the readers. Thread-safe.

#include "common/result.h"
#include "config/config.h"
#include "config/yaml_reader.h"
#include "egress/product_contracts.h"
#include "egress/stages.h"

#include <memory>
#include <string>
#include <vector>

namespace causeway::monitoring {
class ExpositionWriter;
}  // namespace causeway::monitoring

namespace causeway::egress {

class EgressServer {
public:
  struct Options {
    // What partners see of each record: the lead wires policies' factory here.
    PartnerStageFactory stages = defaultPartnerStageFactory();
    FilterFactory filters = defaultFilterFactory();
    // How the products listing looks up contracts' schemas (registry timeouts, caching).
    ProductContracts::Options contracts;
    // HOST:PORT overriding egress.listen (`causeway run --egress-listen`); empty: the config's.
    std::string listen;
  };

  // `config` must have an `egress` section and outlive the server.
  static Result<std::unique_ptr<EgressServer>> start(const config::Config& config, Options options);
  ~EgressServer();  // stop()
  EgressServer(const EgressServer&) = delete;
  EgressServer& operator=(const EgressServer&) = delete;

  void stop();

  // "http://127.0.0.1:8443" (https with TLS) and the ports actually bound.
  const std::string& url() const;
  int httpPort() const;
  int grpcPort() const;  // 0 without egress.grpc_listen

  // Adds the causeway_egress_* families (monitoring/prometheus_text.h).
  void addMetrics(monitoring::ExpositionWriter& writer);

  struct Impl;

private:
  EgressServer() = default;
  std::unique_ptr<Impl> impl_;
};

// The checks that need the files a configuration names (tokens, JWKS, HS256 secrets, TLS
// certificates and keys, the resume-token key, the Pushpin key), each error at the line:col of
// the setting that names the file. For `causeway check-config` and worker start-up.
std::vector<config::ConfigError> checkConfig(const config::Config& config);

}  // namespace causeway::egress
