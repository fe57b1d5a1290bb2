#pragma once

// A small writer of the Prometheus text exposition format, version 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/). prometheus-cpp is not packaged
// in Debian 12, and Causeway needs only counters, gauges and histograms rendered from snapshots,
// so this is all there is: no registry, no global state, no clock. The one outside input is the
// set of secrets (common/secrets.h), taken once per writer: a label value never shows a secret.

#include "common/result.h"
#include "common/secrets.h"

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace causeway::monitoring {

// Label name -> value pairs of one series, in the order they are written.
using Labels = std::vector<std::pair<std::string, std::string>>;

enum class MetricType { kCounter, kGauge, kHistogram };

const char* toString(MetricType type);

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool isValidMetricName(std::string_view name);
// [a-zA-Z_][a-zA-Z0-9_]*, and not starting with "__" (reserved for Prometheus itself).
bool isValidLabelName(std::string_view name);
// Label values: backslash -> \\, double quote -> \", newline -> \n; everything else (UTF-8)
// as is.
std::string escapeLabelValue(std::string_view value);
// HELP text: backslash -> \\, newline -> \n.
std::string escapeHelp(std::string_view help);
// Sample values the way Prometheus parses them: integral values without exponent or fraction
// ("12000"), others in the shortest form that reads back exactly ("0.25", "1e-05"), and "NaN",
// "+Inf", "-Inf".
std::string formatValue(double value);

// Collects metric families and renders them, each family contiguous with its HELP and TYPE
// lines once, in the order the families were first declared. Samples can be added to families
// in any order (e.g. link by link), which is what makes grouping by family the writer's job.
//
// Invalid input (a bad metric or label name, a family redeclared with another type, a duplicate
// series, histogram bounds that do not increase) is a programming error in the caller, but it is
// reported rather than asserted: the offending sample is skipped and render() returns every
// problem, so a scrape shows an error instead of a text Prometheus would reject.
//
// Not thread-safe; build one per scrape.
class ExpositionWriter {
public:
  class Family;

  // Declares (or returns the already declared) family `name`. `help` is free text.
  Family& family(const std::string& name, MetricType type, const std::string& help);

  // The exposition text (ends with '\n' unless empty), or every error seen while building it.
  // Families without samples are left out.
  Result<std::string> render() const;

  class Family {
  public:
    // A counter or gauge sample.
    void add(const Labels& labels, double value);
    void add(const Labels& labels, uint64_t value);
    void add(const Labels& labels, int64_t value);
    // A histogram: `upper_bounds` strictly increasing and finite; `bucket_counts` are per bucket
    // (NOT cumulative) with one more entry than `upper_bounds`, the last one being the +Inf
    // bucket. Writes cumulative name_bucket{le=...} lines ending with le="+Inf", then name_sum
    // and name_count (the sum of all buckets).
    void addHistogram(const Labels& labels, std::span<const double> upper_bounds,
                      std::span<const uint64_t> bucket_counts, double sum);

  private:
    friend class ExpositionWriter;
    Family(ExpositionWriter& owner, std::string name, MetricType type, std::string help)
        : owner_(owner), name_(std::move(name)), type_(type), help_(std::move(help)) {}
    // Validates `labels` and appends them without braces (`a="x",b="y"`) to `out`; false after
    // recording an error.
    bool renderLabels(const Labels& labels, std::string& out);
    void addSample(const Labels& labels, const std::string& value);

    ExpositionWriter& owner_;
    std::string name_;
    MetricType type_;
    std::string help_;
    bool valid_ = true;                 // false: declared with a bad name; samples are dropped
    std::string body_;                  // the sample lines
    std::set<std::string> series_;      // rendered label sets seen, to reject duplicates
  };

private:
  void error(std::string message) { errors_.push_back(std::move(message)); }

  // Label values are redacted against this snapshot (one lock per scrape, not per label).
  std::shared_ptr<const secrets::SecretSet> secrets_ = secrets::registeredSecrets();
  std::vector<std::unique_ptr<Family>> families_;  // declaration order
  std::map<std::string, Family*> by_name_;
  std::vector<std::string> errors_;
};

} // namespace causeway::monitoring
