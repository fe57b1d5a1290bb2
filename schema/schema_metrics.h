#pragma once

// Prometheus series of the links' data contracts (and data products', as link
// "egress/<partner>/<product>"). A library of its own
// (causeway_schema_metrics) so that schema/ does not depend on monitoring/. Labels hold only
// names from the configuration and the fixed reasons of docs/schemas.md, never record values.
//
//   causeway_schema_violations_total{link,domain,topic,rule,reason}
//       records that broke a contract (or whose schema the source registry does not know), by
//       reason: bad-framing | unknown-schema | schema-mismatch | invalid-payload; rule is
//       <domain>.<contract>.<key|value>, or <link>.schemas.<key|value> for IDs the ID
//       translation found nowhere. on_violation decided their fate (dead letter, skip, stop).
//   causeway_schema_topics_waiting{link,reason}
//       topics whose records wait for a schema: registry-unavailable (a registry did not answer;
//       retried with backoff) | schema-paused (a person has to act; `causeway ctl status` and
//       the log say why). Nothing is dropped while they wait.

#include "monitoring/prometheus_text.h"
#include "schema/schema_service.h"
#include "schema/violation_counters.h"

#include <optional>
#include <string>
#include <vector>

namespace causeway::schema {

struct LinkSchemaMetrics {
  std::string link;
  std::vector<ViolationCount> violations;
  // From the link's running schema services (several while a restarted link drains); nullopt
  // when none runs.
  std::optional<WaitingTopics> waiting;
};

void addSchemaMetrics(monitoring::ExpositionWriter& writer,
                      const std::vector<LinkSchemaMetrics>& links);

}  // namespace causeway::schema
