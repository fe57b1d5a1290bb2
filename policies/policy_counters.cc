#include "policies/policy_counters.h"

namespace causeway::policies {

PolicyCounters::PolicyCounters(std::string policy, std::string link, bool shadow,
                               const std::vector<std::string>& rule_names)
    : policy_(std::move(policy)), link_(std::move(link)), shadow_(shadow) {
  for (const std::string& name : rule_names) {
    rules_.push_back(std::make_unique<Rule>());
    rules_.back()->name = name;
  }
}

PolicyCountsSnapshot PolicyCounters::snapshot() const {
  auto get = [](const std::atomic<uint64_t>& c) { return c.load(std::memory_order_relaxed); };
  PolicyCountsSnapshot out;
  out.policy = policy_;
  out.link = link_;
  out.shadow = shadow_;
  out.records = get(records);
  out.passed = get(passed);
  out.not_allowed = get(not_allowed);
  out.filtered = get(filtered);
  out.dead_lettered = get(dead_lettered);
  out.skipped = get(skipped);
  out.stopped = get(stopped);
  out.unreadable = get(unreadable);
  out.missing_field = get(missing_field);
  out.transform_failed = get(transform_failed);
  out.headers_removed = get(headers_removed);
  out.records_rewritten = get(records_rewritten);
  for (const auto& rule : rules_) {
    out.rules.push_back(RuleCountsSnapshot{rule->name, get(rule->applied), get(rule->kept),
                                           get(rule->absent), get(rule->failed)});
  }
  return out;
}

}  // namespace causeway::policies
