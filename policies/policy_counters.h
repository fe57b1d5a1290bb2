#pragma once

// Every decision of one policy on one link, counted: what monitoring exports and the audit log
// aggregates. Written by the link's data-plane thread(s) with relaxed atomic increments, read
// by any thread as a snapshot. Shared (shared_ptr) between the stages and the readers.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace causeway::policies {

// Why a record was a violation (the verdict's reason; a metrics label).
inline constexpr std::string_view kReasonNotAllowed = "not-allowed";
inline constexpr std::string_view kReasonFiltered = "filtered";
inline constexpr std::string_view kReasonUnreadable = "unreadable-payload";
inline constexpr std::string_view kReasonMissingField = "missing-field";
inline constexpr std::string_view kReasonTransformFailed = "transform-failed";

struct RuleCountsSnapshot {
  std::string rule;      // "value.card.number:mask"
  uint64_t applied = 0;  // occurrences changed (masked, hashed, encrypted, dropped, ...)
  uint64_t kept = 0;     // occurrences left as they were (null, already short enough)
  uint64_t absent = 0;   // records without the field
  uint64_t failed = 0;   // occurrences the action does not fit (a violation)
};

struct PolicyCountsSnapshot {
  std::string policy;
  std::string link;
  bool shadow = false;
  uint64_t records = 0;        // records the policy looked at
  uint64_t passed = 0;         // went on to the target (in shadow mode: would have)
  uint64_t not_allowed = 0;    // topic not on the allow-list
  uint64_t filtered = 0;       // the filter was false
  uint64_t dead_lettered = 0;  // violations sent to the DLQ
  uint64_t skipped = 0;        // violations dropped (on_violation: skip)
  uint64_t stopped = 0;        // violations that stopped the link
  uint64_t unreadable = 0;     // violations by cause
  uint64_t missing_field = 0;
  uint64_t transform_failed = 0;
  uint64_t headers_removed = 0;
  uint64_t records_rewritten = 0;
  std::vector<RuleCountsSnapshot> rules;
};

class PolicyCounters {
public:
  PolicyCounters(std::string policy, std::string link, bool shadow,
                 const std::vector<std::string>& rule_names);

  struct Rule {
    std::string name;
    std::atomic<uint64_t> applied{0};
    std::atomic<uint64_t> kept{0};
    std::atomic<uint64_t> absent{0};
    std::atomic<uint64_t> failed{0};
  };

  std::atomic<uint64_t> records{0};
  std::atomic<uint64_t> passed{0};
  std::atomic<uint64_t> not_allowed{0};
  std::atomic<uint64_t> filtered{0};
  std::atomic<uint64_t> dead_lettered{0};
  std::atomic<uint64_t> skipped{0};
  std::atomic<uint64_t> stopped{0};
  std::atomic<uint64_t> unreadable{0};
  std::atomic<uint64_t> missing_field{0};
  std::atomic<uint64_t> transform_failed{0};
  std::atomic<uint64_t> headers_removed{0};
  std::atomic<uint64_t> records_rewritten{0};

  Rule& rule(size_t i) { return *rules_[i]; }
  PolicyCountsSnapshot snapshot() const;

private:
  std::string policy_;
  std::string link_;
  bool shadow_;
  std::vector<std::unique_ptr<Rule>> rules_;
};

using PolicyCountersPtr = std::shared_ptr<PolicyCounters>;

inline void bump(std::atomic<uint64_t>& counter, uint64_t n = 1) {
  counter.fetch_add(n, std::memory_order_relaxed);
}

}  // namespace causeway::policies
