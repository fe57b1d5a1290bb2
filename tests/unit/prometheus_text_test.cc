// The Prometheus text exposition writer: names, escaping, value formatting, family grouping and
// histogram buckets.

#include "monitoring/prometheus_text.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace causeway::monitoring {
namespace {

std::string renderOk(const ExpositionWriter& writer) {
  auto text = writer.render();
  EXPECT_TRUE(text.ok()) << (text.ok() ? "" : text.error().message);
  return text.ok() ? *text : std::string();
}

size_t occurrences(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos;
       pos = text.find(needle, pos + 1)) {
    ++n;
  }
  return n;
}

TEST(PrometheusText, MetricAndLabelNames) {
  EXPECT_TRUE(isValidMetricName("causeway_link_records_replicated_total"));
  EXPECT_TRUE(isValidMetricName("job:rate5m"));
  EXPECT_TRUE(isValidMetricName("_x"));
  EXPECT_FALSE(isValidMetricName(""));
  EXPECT_FALSE(isValidMetricName("1abc"));
  EXPECT_FALSE(isValidMetricName("a-b"));
  EXPECT_FALSE(isValidMetricName("a b"));

  EXPECT_TRUE(isValidLabelName("link"));
  EXPECT_TRUE(isValidLabelName("_x9"));
  EXPECT_FALSE(isValidLabelName(""));
  EXPECT_FALSE(isValidLabelName("__name__"));
  EXPECT_FALSE(isValidLabelName("a:b"));
  EXPECT_FALSE(isValidLabelName("9a"));
  EXPECT_FALSE(isValidLabelName("topic.name"));
}

TEST(PrometheusText, LabelValuesEscapeBackslashQuoteAndNewline) {
  EXPECT_EQ(escapeLabelValue(R"(a\b)"), R"(a\\b)");
  EXPECT_EQ(escapeLabelValue(R"(say "hi")"), R"(say \"hi\")");
  EXPECT_EQ(escapeLabelValue("two\nlines"), R"(two\nlines)");
  EXPECT_EQ(escapeLabelValue("tab\tand ünïcode"), "tab\tand ünïcode");
  EXPECT_EQ(escapeHelp("a\\b\n\"q\""), "a\\\\b\\n\"q\"");  // HELP keeps quotes as they are

  ExpositionWriter writer;
  writer.family("t", MetricType::kGauge, "h").add({{"topic", "we\"ird\\na\nme"}}, uint64_t{1});
  EXPECT_EQ(renderOk(writer), "# HELP t h\n# TYPE t gauge\nt{topic=\"we\\\"ird\\\\na\\nme\"} 1\n");
}

TEST(PrometheusText, ValuesAreFormattedTheWayPrometheusParsesThem) {
  EXPECT_EQ(formatValue(0), "0");
  EXPECT_EQ(formatValue(12000), "12000");
  EXPECT_EQ(formatValue(-3), "-3");
  EXPECT_EQ(formatValue(0.25), "0.25");
  EXPECT_EQ(formatValue(0.001), "0.001");
  EXPECT_EQ(formatValue(1.5e-7), "1.5e-07");
  EXPECT_EQ(formatValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(formatValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(formatValue(std::nan("")), "NaN");
  EXPECT_EQ(std::stod(formatValue(1718000000.123)), 1718000000.123);
}

TEST(PrometheusText, HelpAndTypeOncePerFamilyWithSamplesGrouped) {
  // given: samples of two families added interleaved, as a renderer walking links does
  ExpositionWriter writer;
  for (const std::string link : {"a", "b"}) {
    writer.family("x_total", MetricType::kCounter, "X.").add({{"link", link}}, uint64_t{1});
    writer.family("y", MetricType::kGauge, "Y.").add({{"link", link}}, int64_t{-2});
  }

  // then: each family is contiguous, HELP and TYPE once, in declaration order
  EXPECT_EQ(renderOk(writer), "# HELP x_total X.\n"
                              "# TYPE x_total counter\n"
                              "x_total{link=\"a\"} 1\n"
                              "x_total{link=\"b\"} 1\n"
                              "# HELP y Y.\n"
                              "# TYPE y gauge\n"
                              "y{link=\"a\"} -2\n"
                              "y{link=\"b\"} -2\n");
}

TEST(PrometheusText, SeriesWithoutLabelsAndEmptyFamilies) {
  ExpositionWriter writer;
  writer.family("declared_but_empty", MetricType::kGauge, "nothing");
  writer.family("up", MetricType::kGauge, "u").add({}, 1.0);
  EXPECT_EQ(renderOk(writer), "# HELP up u\n# TYPE up gauge\nup 1\n");
}

TEST(PrometheusText, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  // given: per-bucket counts 2, 0, 3 and 1 in +Inf
  ExpositionWriter writer;
  const std::vector<double> bounds = {0.001, 0.25, 300};
  const std::vector<uint64_t> counts = {2, 0, 3, 1};
  writer.family("lat_seconds", MetricType::kHistogram, "Latency.")
      .addHistogram({{"link", "l"}}, bounds, counts, 400.5);

  // then
  EXPECT_EQ(renderOk(writer), "# HELP lat_seconds Latency.\n"
                              "# TYPE lat_seconds histogram\n"
                              "lat_seconds_bucket{link=\"l\",le=\"0.001\"} 2\n"
                              "lat_seconds_bucket{link=\"l\",le=\"0.25\"} 2\n"
                              "lat_seconds_bucket{link=\"l\",le=\"300\"} 5\n"
                              "lat_seconds_bucket{link=\"l\",le=\"+Inf\"} 6\n"
                              "lat_seconds_sum{link=\"l\"} 400.5\n"
                              "lat_seconds_count{link=\"l\"} 6\n");
}

TEST(PrometheusText, HistogramWithoutLabels) {
  ExpositionWriter writer;
  const std::vector<double> bounds = {1};
  const std::vector<uint64_t> counts = {0, 0};
  writer.family("h", MetricType::kHistogram, "H.").addHistogram({}, bounds, counts, 0);
  EXPECT_EQ(renderOk(writer), "# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"1\"} 0\n"
                              "h_bucket{le=\"+Inf\"} 0\nh_sum 0\nh_count 0\n");
}

TEST(PrometheusText, InvalidInputIsReportedNotRendered) {
  // given: one mistake of each kind
  const std::vector<double> bounds = {2, 1};
  const std::vector<uint64_t> counts = {0, 0, 0};
  ExpositionWriter writer;
  writer.family("bad-name", MetricType::kGauge, "h").add({}, 1.0);
  writer.family("g", MetricType::kGauge, "h").add({{"__reserved", "x"}}, 1.0);
  writer.family("g", MetricType::kGauge, "h").add({{"a", "1"}, {"a", "2"}}, 1.0);
  writer.family("g", MetricType::kCounter, "h").add({}, 1.0);
  writer.family("dup", MetricType::kGauge, "h").add({{"a", "1"}}, 1.0);
  writer.family("dup", MetricType::kGauge, "h").add({{"a", "1"}}, 2.0);
  writer.family("hist", MetricType::kHistogram, "h").addHistogram({}, bounds, counts, 0);
  writer.family("hist2", MetricType::kHistogram, "h")
      .addHistogram({{"le", "1"}}, std::vector<double>{1}, std::vector<uint64_t>{0, 0}, 0);
  writer.family("hist3", MetricType::kHistogram, "h")
      .addHistogram({}, std::vector<double>{1}, std::vector<uint64_t>{0}, 0);

  // then: render() lists every problem
  auto text = writer.render();
  ASSERT_FALSE(text.ok());
  const std::string& message = text.error().message;
  EXPECT_NE(message.find("8 error(s)"), std::string::npos) << message;
  EXPECT_NE(message.find("invalid metric name 'bad-name'"), std::string::npos) << message;
  EXPECT_NE(message.find("invalid label name '__reserved'"), std::string::npos) << message;
  EXPECT_NE(message.find("label 'a' given twice"), std::string::npos) << message;
  EXPECT_NE(message.find("declared as gauge and again as counter"), std::string::npos) << message;
  EXPECT_NE(message.find("duplicate series {a=\"1\"}"), std::string::npos) << message;
  EXPECT_NE(message.find("finite and increasing"), std::string::npos) << message;
  EXPECT_NE(message.find("'le' is reserved"), std::string::npos) << message;
  EXPECT_NE(message.find("1 bounds need 2 bucket counts, got 1"), std::string::npos) << message;
}

TEST(PrometheusText, EveryLineOfAFamilyStartsWithItsName) {
  ExpositionWriter writer;
  writer.family("a_total", MetricType::kCounter, "A.").add({{"k", "v"}}, uint64_t{3});
  writer.family("b_seconds", MetricType::kHistogram, "B.")
      .addHistogram({{"k", "v"}}, std::vector<double>{0.5}, std::vector<uint64_t>{1, 1}, 0.75);
  const std::string text = renderOk(writer);
  EXPECT_EQ(occurrences(text, "# HELP "), 2u);
  EXPECT_EQ(occurrences(text, "# TYPE "), 2u);
  EXPECT_EQ(occurrences(text, "\nb_seconds_bucket{"), 2u);
  EXPECT_NE(text.find("b_seconds_sum{k=\"v\"} 0.75\n"), std::string::npos) << text;
  EXPECT_NE(text.find("b_seconds_count{k=\"v\"} 2\n"), std::string::npos) << text;
}

} // namespace
} // namespace causeway::monitoring
