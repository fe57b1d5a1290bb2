#pragma once

// What `causeway run` adds to its links: data contracts (schema/: contract checks and schema-ID
// translation) and partner policies (policies/) as stages, and the policies' topic allow-lists.
// The worker builds one set per configuration (start and each reload); each link start gets its
// own schema service (its registry thread). The newest policy counters are what /metrics shows.

#include "monitoring/prometheus_text.h"
#include "replicator/link_extensions.h"

#include <memory>
#include <mutex>

namespace causeway::policies {
class PolicyRuntime;
}  // namespace causeway::policies

namespace causeway::app {

// Thread-safe. Lives as long as the worker (and the metrics server reading it).
class LinkExtensionsHub {
public:
  ~LinkExtensionsHub();

  // For replicator::Worker: compiles the policies of `config` (reads key files, opens audit
  // logs, starts their writer); an error lists every problem with its line:col.
  replicator::LinkExtensionsFactory factory();

  // The policy counters of the newest configuration, for /metrics.
  void addMetrics(monitoring::ExpositionWriter& writer) const;

private:
  mutable std::mutex mu_;
  std::shared_ptr<policies::PolicyRuntime> current_;
};

}  // namespace causeway::app
