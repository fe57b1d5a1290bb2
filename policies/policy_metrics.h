#pragma once

// Prometheus series of policy decisions, from PolicyRuntime::snapshot(). A library of its own
// (causeway_policy_metrics) so that policies/ does not depend on monitoring/. Labels hold only
// names from the configuration (link, policy, rule = path:action), never record values.
//
//   causeway_policy_records_total{link,policy,mode,outcome}   passed | not_allowed | filtered |
//                                                            dead_lettered | skipped | stopped
//   causeway_policy_violations_total{link,policy,mode,reason} unreadable-payload |
//                                                            missing-field | transform-failed
//   causeway_policy_field_transforms_total{link,policy,mode,rule,result}
//                                                            applied | kept | absent | failed
//   causeway_policy_headers_removed_total{link,policy,mode}
//   causeway_policy_records_rewritten_total{link,policy,mode}

#include "monitoring/prometheus_text.h"
#include "policies/policy_counters.h"

#include <vector>

namespace causeway::policies {

void addPolicyMetrics(monitoring::ExpositionWriter& writer,
                      const std::vector<PolicyCountsSnapshot>& policies);

}  // namespace causeway::policies
