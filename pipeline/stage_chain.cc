#include "pipeline/stage_chain.h"

namespace causeway::pipeline {

const char* outcomeName(Outcome outcome) {
  switch (outcome) {
  case Outcome::kPass:
    return "pass";
  case Outcome::kDrop:
    return "drop";
  case Outcome::kDeadLetter:
    return "dead_letter";
  case Outcome::kStop:
    return "stop";
  case Outcome::kRetry:
    return "retry";
  }
  return "unknown";
}

Verdict StageChain::process(Record& record) {
  for (const StagePtr& stage : stages_) {
    Verdict verdict = stage->process(record);
    if (verdict.outcome != Outcome::kPass) {
      decided_by_ = stage->name();
      if (verdict.outcome != Outcome::kRetry) {
        counts_[{decided_by_, verdict.outcome, verdict.reason, verdict.rule}] += 1;
      }
      return verdict;
    }
  }
  return Verdict::pass();
}

std::vector<VerdictCount> StageChain::counts() const {
  std::vector<VerdictCount> out;
  out.reserve(counts_.size());
  for (const auto& [key, records] : counts_) {
    const auto& [stage, outcome, reason, rule] = key;
    out.push_back(VerdictCount{std::string(stage), outcome, std::string(reason), rule, records});
  }
  return out;
}

}  // namespace causeway::pipeline
