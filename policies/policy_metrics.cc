#include "policies/policy_metrics.h"

namespace causeway::policies {

void addPolicyMetrics(monitoring::ExpositionWriter& writer,
                      const std::vector<PolicyCountsSnapshot>& policies) {
  using monitoring::MetricType;
  auto& records = writer.family("causeway_policy_records_total", MetricType::kCounter,
                                "Records a policy looked at, by what it decided (in shadow mode: "
                                "what it would have decided)");
  auto& violations =
      writer.family("causeway_policy_violations_total", MetricType::kCounter,
                    "Records a policy could not apply, by cause (on_violation decides their fate)");
  auto& transforms = writer.family("causeway_policy_field_transforms_total", MetricType::kCounter,
                                   "Field rule outcomes: occurrences applied, kept (null or within "
                                   "bounds) or failed, and records without the field (absent)");
  auto& headers = writer.family("causeway_policy_headers_removed_total", MetricType::kCounter,
                                "Header names removed by a policy's allow/deny lists");
  auto& rewritten = writer.family("causeway_policy_records_rewritten_total", MetricType::kCounter,
                                  "Records whose key or value a policy rewrote");
  for (const PolicyCountsSnapshot& p : policies) {
    const monitoring::Labels base = {
        {"link", p.link}, {"policy", p.policy}, {"mode", p.shadow ? "shadow" : "enforce"}};
    auto with = [&](const char* name, const std::string& value) {
      monitoring::Labels labels = base;
      labels.emplace_back(name, value);
      return labels;
    };
    records.add(with("outcome", "passed"), p.passed);
    records.add(with("outcome", "not_allowed"), p.not_allowed);
    records.add(with("outcome", "filtered"), p.filtered);
    records.add(with("outcome", "dead_lettered"), p.dead_lettered);
    records.add(with("outcome", "skipped"), p.skipped);
    records.add(with("outcome", "stopped"), p.stopped);
    violations.add(with("reason", std::string(kReasonUnreadable)), p.unreadable);
    violations.add(with("reason", std::string(kReasonMissingField)), p.missing_field);
    violations.add(with("reason", std::string(kReasonTransformFailed)), p.transform_failed);
    headers.add(base, p.headers_removed);
    rewritten.add(base, p.records_rewritten);
    for (const RuleCountsSnapshot& rule : p.rules) {
      monitoring::Labels labels = with("rule", rule.rule);
      labels.emplace_back("result", "");
      for (const auto& [result, value] : {std::pair<const char*, uint64_t>{"applied", rule.applied},
                                          {"kept", rule.kept},
                                          {"absent", rule.absent},
                                          {"failed", rule.failed}}) {
        labels.back().second = result;
        transforms.add(labels, value);
      }
    }
  }
}

}  // namespace causeway::policies
