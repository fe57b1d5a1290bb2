#pragma once

#include "config/source_location.h"

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace causeway::config {

// A data product: a domain's topics, published to partners over HTTP streaming and gRPC
// (egress/) or through links into their clusters, always through the partner's policy.
struct ProductConfig {
  std::string name;         // "payments.authorized.v1": letters, digits, '.', '_', '-'
  std::string domain;       // the owning domain ("payments"); informational until domains exist
  std::string description;  // one line for partners
  std::string owner;        // a contact ("team-payments@example.com")
  std::string source;       // the cluster its topics live in
  std::vector<std::string> topics;  // ECMAScript regexes, fully matched against topic names
  // How stale the newest record a partner can read may be; 0: no objective (freshness is
  // still reported).
  std::chrono::milliseconds freshness_slo{0};
  // Record headers passed to partners (after the partner's policy); others are left out.
  std::vector<std::string> headers;
  SourceLocation location;
};

} // namespace causeway::config
