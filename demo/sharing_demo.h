#pragma once

#include "embedded/embedded_cluster.h"
#include "replicator/link_extensions.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace causeway::demo {

struct SharingOutcome {
  bool verified = false;
  std::string failure;    // what went wrong, when not verified
  uint64_t produced = 0;  // payments produced on the domain's cluster
  uint64_t shared = 0;    // records the partner's cluster holds
  uint64_t dead_lettered = 0;
};

struct SharingSettings {
  std::chrono::milliseconds timeout{120000};  // for the partner's copy and the product stream
  bool product = true;  // then serve the payments as a data product (demo/product_demo.h)
  std::chrono::milliseconds serve_for{0};  // keep serving the product this long after its check
};

// The data-sharing half of `causeway demo`: a partner cluster "acme", a topic of card payments
// on `east` (the domain), and a link east-to-acme with the partner policy of
// examples/partner-sharing.yaml (allow-list, filter, masking, HMAC hashing, encryption with keys
// generated for this run, a dropped field, a header allow-list, violations to a dead-letter topic
// on east). Prints one record before and after and the decision counts, then reads every byte on
// the partner's cluster and verifies: exactly the payments the filter lets through, none of the
// protected values in clear anywhere, the unreadable records in the dead-letter topic. Then,
// with `settings.product`, the same payments are served to the partner over HTTP.
//
// `extensions` compiles the policy into the link (app/link_extensions.h). Runs on the calling
// thread; `interrupted` stops it.
SharingOutcome runSharingScenario(embedded::EmbeddedCluster& east,
                                  const replicator::LinkExtensionsFactory& extensions,
                                  const SharingSettings& settings, std::FILE* out,
                                  const std::atomic<bool>& interrupted);

}  // namespace causeway::demo
