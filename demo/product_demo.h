#pragma once

#include "embedded/embedded_cluster.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace causeway::demo {

// What the data-product part of `causeway demo` gets from the data-sharing part: the
// configuration (clusters and the partner's policy, with its key files) and what a partner must
// and must not see.
struct ProductDemoInput {
  std::string config_yaml;       // clusters: and policies: (other sections are ignored)
  std::string policy;            // the partner's policy, e.g. "partner-acme"
  std::string topic;             // the domain's topic published as the product
  uint64_t expected_events = 0;  // records of `topic` the policy lets through
  std::vector<std::string> protected_values;  // must appear in no event
  std::string work_dir;                       // for the demo token file (exists)
  std::chrono::milliseconds serve_for{0};     // keep serving after the check (0: stop)
  int port = 19480;                           // tried first; any free port if taken
};

struct ProductOutcome {
  bool verified = false;
  std::string failure;  // what went wrong, when not verified
  uint64_t events = 0;  // events the demo's partner client read
};

// Publishes `topic` of `east` as the data product payments.authorized.v1 to the partner "acme"
// over HTTP (partner egress, egress/), through the partner's policy, with a demo bearer token.
// Prints a ready-to-paste `curl -N` command, then reads the stream as the partner would (from
// the earliest record) and verifies: exactly `expected_events` events, no protected value in
// any byte. With `serve_for`, it then keeps serving (producing a new payment each second so the
// stream moves) until the time is up or `interrupted`.
//
// Runs on the calling thread; the egress server has its own threads and is stopped on return.
ProductOutcome runProductScenario(embedded::EmbeddedCluster& east, const ProductDemoInput& input,
                                  std::FILE* out, const std::atomic<bool>& interrupted,
                                  std::chrono::milliseconds timeout);

}  // namespace causeway::demo
