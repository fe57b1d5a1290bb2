#pragma once

#include "config/source_location.h"

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace causeway::config {

struct EgressTlsConfig {
  std::string cert_file;       // PEM certificate chain
  std::string key_file;        // PEM private key
  std::string client_ca_file;  // PEM CA: clients must present a certificate it signed
  SourceLocation location;
};

// Fan-out through Pushpin (GRIP): streams that arrive through Pushpin are answered with a hold
// instruction and every event is published once to Pushpin, which serves the clients.
struct PushpinConfig {
  // Pushpin's HTTP publish endpoint ("http://127.0.0.1:5561/publish/").
  std::string publish_url;
  // The key Pushpin signs its Grip-Sig header with (the route's sig_key; first line of the
  // file). Requests with a valid Grip-Sig get a GRIP hold; the others are served directly.
  std::string sig_key_file;
  // How much of the live window a resuming Pushpin client may be sent in the hold response.
  size_t max_initial_bytes = 1u << 20;
  SourceLocation location;
};

// The egress server: partners' HTTP (SSE) and gRPC streams of data products.
struct EgressConfig {
  std::string listen;       // HOST:PORT of the HTTP server (port 0: any free port)
  std::string grpc_listen;  // HOST:PORT of causeway.v1.Egress; empty: no gRPC
  std::optional<EgressTlsConfig> tls;
  // Serving plaintext on a non-loopback address is refused unless this is set (tokens would
  // cross the network in clear text).
  bool allow_insecure_remote = false;
  // Key of the resume tokens' HMAC (any bytes, at least 32). Workers serving the same products
  // must share it; without it a random key is used and tokens do not survive a restart.
  std::string resume_token_secret_file;
  SourceLocation resume_token_secret_location;
  std::chrono::milliseconds heartbeat_interval{15000};  // comment lines on idle streams
  std::chrono::milliseconds retry{2000};                // the SSE `retry:` hint to browsers
  // Events kept in memory per (product, partner) for clients at or near the live edge.
  size_t live_window_bytes = 64u << 20;
  // How far (bytes of events) a client may fall behind the newest event before it is cut with
  // a resume token.
  size_t client_buffer_bytes = 8u << 20;
  // Clients resuming from older positions than the live window read through their own
  // catch-up consumer; at most this many at once per worker (others get 503 + Retry-After).
  size_t max_catchup_readers = 8;
  size_t max_connections = 10000;  // all partners together
  size_t io_threads = 2;           // HTTP event loops
  // Origins allowed to call from browsers (CORS), e.g. "https://partner.example"; "*" for any.
  std::vector<std::string> cors_origins;
  std::optional<PushpinConfig> pushpin;
  SourceLocation location;
};

} // namespace causeway::config
