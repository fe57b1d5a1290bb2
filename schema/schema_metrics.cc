#include "schema/schema_metrics.h"

namespace causeway::schema {

void addSchemaMetrics(monitoring::ExpositionWriter& writer,
                      const std::vector<LinkSchemaMetrics>& links) {
  using monitoring::MetricType;
  auto& violations = writer.family(
      "causeway_schema_violations_total", MetricType::kCounter,
      "Records that broke a data contract, by rule and reason (on_violation decides their fate)");
  auto& waiting =
      writer.family("causeway_schema_topics_waiting", MetricType::kGauge,
                    "Topics whose records wait for a schema: a registry that does not answer "
                    "(registry-unavailable) or a schema a person must look at (schema-paused)");
  for (const LinkSchemaMetrics& link : links) {
    for (const ViolationCount& count : link.violations) {
      violations.add({{"link", link.link},
                      {"domain", count.domain},
                      {"topic", count.topic},
                      {"rule", count.rule},
                      {"reason", count.reason}},
                     count.records);
    }
    if (link.waiting) {
      waiting.add({{"link", link.link}, {"reason", "registry-unavailable"}},
                  static_cast<uint64_t>(link.waiting->registry_unavailable));
      waiting.add({{"link", link.link}, {"reason", "schema-paused"}},
                  static_cast<uint64_t>(link.waiting->paused));
    }
  }
}

}  // namespace causeway::schema
