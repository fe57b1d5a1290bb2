#pragma once

// What `causeway run` adds to its links: data contracts (schema/: contract checks and schema-ID
// translation) and partner policies (policies/) as stages, and the policies' topic allow-lists.
// The worker builds one set per configuration (start and each reload); each link start gets its
// own schema service (its registry thread). /metrics shows the newest policy counters and each
// link's contract violations (counted across the link's restarts) and topics waiting for a
// schema.

#include "monitoring/prometheus_text.h"
#include "replicator/link_extensions.h"

#include <memory>
#include <mutex>

namespace causeway::policies {
class PolicyRuntime;
}  // namespace causeway::policies

namespace causeway::app {

class SchemaServices;

// Thread-safe. Lives as long as the worker (and the metrics server reading it).
class LinkExtensionsHub {
public:
  LinkExtensionsHub();
  ~LinkExtensionsHub();

  // For replicator::Worker: compiles the policies of `config` (reads key files, opens audit
  // logs, starts their writer); an error lists every problem with its line:col.
  replicator::LinkExtensionsFactory factory();

  // Partner egress applies policies compiled from the configuration it started with, in their
  // own runtime (egress is not reloaded): its counters join the links' on /metrics and its
  // audit lines go to the same audit logs. Starts the runtime's audit writer.
  void addEgressPolicies(std::shared_ptr<policies::PolicyRuntime> runtime);

  // The policy counters of the newest configuration and of egress, and the links' schema
  // series, for /metrics.
  void addMetrics(monitoring::ExpositionWriter& writer) const;

private:
  mutable std::mutex mu_;
  std::shared_ptr<policies::PolicyRuntime> current_;
  std::shared_ptr<policies::PolicyRuntime> egress_;
  const std::shared_ptr<SchemaServices> schemas_;
};

}  // namespace causeway::app
