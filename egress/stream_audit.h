#pragma once

// The end of a stream as operators see it: one audit line per stream (partner, credential,
// product, where it started and ended, how much was sent, why it ended; never a payload or a
// secret) and the disconnect counter. Shared by the SSE and gRPC transports.

#include "egress/partner_auth.h"
#include "egress/subscription.h"

#include <chrono>
#include <string>

namespace causeway::egress {

class StreamHub;

struct StreamAudit {
  Identity who;
  std::string product;
  std::string transport;  // "sse", "grpc", "pushpin"
  std::string peer;
  std::string from;  // ?from= or the start token
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

  // Logs the line and counts the disconnect.
  void finish(StreamHub& hub, Subscription& subscription, uint64_t bytes) const;
};

} // namespace causeway::egress
