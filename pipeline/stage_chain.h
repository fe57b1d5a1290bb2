#pragma once

#include "pipeline/stage.h"

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace causeway::pipeline {

// Counts of non-pass verdicts by (stage, outcome, reason, rule): what metrics
// and `causeway ctl status` show. Kept by the chain, read by the status
// publisher.
struct VerdictCount {
  std::string stage;
  Outcome outcome = Outcome::kPass;
  std::string reason;
  std::string rule;
  uint64_t records = 0;
};

// The ordered stages of one link (or one egress stream). process() runs them in
// order and stops at the first verdict that is not kPass. Single-threaded, like
// its stages.
class StageChain {
public:
  StageChain() = default;
  explicit StageChain(std::vector<StagePtr> stages) : stages_(std::move(stages)) {}

  void add(StagePtr stage) { stages_.push_back(std::move(stage)); }
  void prepend(StagePtr stage) { stages_.insert(stages_.begin(), std::move(stage)); }
  bool empty() const { return stages_.empty(); }
  size_t size() const { return stages_.size(); }

  // `record` must have been reset() to the source record. The verdict of the
  // stage that decided, or pass when every stage passed. Non-pass verdicts
  // (except kRetry, which is not a decision) are counted.
  Verdict process(Record& record);

  // Where the verdict came from (the stage's name), valid after process()
  // returned non-pass.
  std::string_view decidedBy() const { return decided_by_; }

  std::vector<VerdictCount> counts() const;

private:
  std::vector<StagePtr> stages_;
  std::string_view decided_by_;
  // Few distinct keys per link; looked up only on non-pass verdicts.
  std::map<std::tuple<std::string_view, Outcome, std::string_view, std::string>, uint64_t> counts_;
};

}  // namespace causeway::pipeline
