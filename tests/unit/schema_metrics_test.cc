// The data contracts' Prometheus series: violations by link, domain, topic, rule and reason
// from a link's ViolationCounters, and topics waiting for a schema, as text Prometheus parses.

#include "schema/schema_metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace causeway::schema {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(SchemaMetrics, ViolationsAndWaitingTopicsRenderPerLink) {
  ViolationCounters counters;
  auto* value = counters.counter("payments", "payments.authorized", "payments.authorized.value",
                                 "invalid-payload");
  value->fetch_add(2);
  // The same key answers the same counter (a restarted link's stage counts on).
  EXPECT_EQ(counters.counter("payments", "payments.authorized", "payments.authorized.value",
                             "invalid-payload"),
            value);
  counters.counter("", "orders", "east-to-west.schemas.value", "unknown-schema")->fetch_add(1);
  std::vector<LinkSchemaMetrics> links(2);
  links[0].link = "east-to-west";
  links[0].violations = counters.counts();
  links[0].waiting = WaitingTopics{1, 0};
  links[1].link = "stopped";  // no running service: counters only, no gauge

  monitoring::ExpositionWriter writer;
  addSchemaMetrics(writer, links);
  auto text = writer.render();
  ASSERT_TRUE(text.ok()) << text.error().message;

  EXPECT_THAT(*text, HasSubstr("# TYPE causeway_schema_violations_total counter\n"));
  EXPECT_THAT(*text,
              HasSubstr("causeway_schema_violations_total{link=\"east-to-west\","
                        "domain=\"payments\",topic=\"payments.authorized\","
                        "rule=\"payments.authorized.value\",reason=\"invalid-payload\"} 2\n"));
  EXPECT_THAT(*text, HasSubstr("causeway_schema_violations_total{link=\"east-to-west\","
                               "domain=\"\",topic=\"orders\",rule=\"east-to-west.schemas.value\","
                               "reason=\"unknown-schema\"} 1\n"));
  EXPECT_THAT(*text, HasSubstr("# TYPE causeway_schema_topics_waiting gauge\n"));
  EXPECT_THAT(*text, HasSubstr("causeway_schema_topics_waiting{link=\"east-to-west\","
                               "reason=\"registry-unavailable\"} 1\n"));
  EXPECT_THAT(*text, HasSubstr("causeway_schema_topics_waiting{link=\"east-to-west\","
                               "reason=\"schema-paused\"} 0\n"));
  EXPECT_THAT(*text, Not(HasSubstr("link=\"stopped\"")));
}

}  // namespace
}  // namespace causeway::schema
