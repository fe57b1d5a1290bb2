#pragma once

// A stage: one deterministic step on a record's way from the source to a sink
// (loop prevention, contract check, schema-ID rewrite, policy filter, field
// transforms, provenance).
//
// Rules every stage keeps:
//  - Deterministic: the same record and the same snapshot give the same verdict
//  and the same
//    bytes. Exactly-once links resume from the target after a crash and run the
//    stages again on records they already processed; a different answer the
//    second time would be a duplicate or a hole.
//  - No I/O and no blocking. What a stage needs from outside (schemas, ID maps,
//  keys) is
//    prepared by the control plane into an immutable snapshot the stage holds;
//    when the snapshot lacks something, the stage answers kRetry and the
//    partition pauses with backoff while the control plane fetches it.
//  - No per-record logging and no allocation on the pass path beyond buffers
//  reused across
//    records (Record's rewrite buffers).
//
// A stage is used by one data-plane thread at a time (one chain per link and
// thread).

#include "pipeline/record.h"

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

namespace causeway::pipeline {

enum class Outcome : uint8_t {
  kPass,        // go on (possibly rewritten: see Record)
  kDrop,        // not written anywhere; a known skip for offset translation; counted
  kDeadLetter,  // written to the link's dead-letter queue with the reason, not
                // to the target
  kStop,        // the link stops, naming the partition and offset and the reason
  kRetry,       // not decidable now (a schema not yet fetched, a registry down): the
                // partition pauses and this record is processed again after
                // `retry_after`
};

const char* outcomeName(Outcome outcome);

// A stage's answer. `reason` is a short, stable, low-cardinality word for
// metrics labels
// ("loop", "filtered", "contract", "unknown-schema"); `rule` names the
// configured rule that decided ("payments.contract.value",
// "partner-acme.filter"); `detail` is for people and DLQ headers
// ("value.amount: expected number"). None may contain a record's raw field
// values.
struct Verdict {
  Outcome outcome = Outcome::kPass;
  std::string_view reason;  // static storage
  std::string rule;
  std::string detail;
  std::chrono::milliseconds retry_after{0};

  static Verdict pass() { return {}; }
  static Verdict drop(std::string_view reason, std::string rule = {}) {
    return {Outcome::kDrop, reason, std::move(rule), {}, {}};
  }
  static Verdict deadLetter(std::string_view reason, std::string rule, std::string detail) {
    return {Outcome::kDeadLetter, reason, std::move(rule), std::move(detail), {}};
  }
  static Verdict stop(std::string_view reason, std::string rule, std::string detail) {
    return {Outcome::kStop, reason, std::move(rule), std::move(detail), {}};
  }
  static Verdict retry(std::string_view reason, std::string detail,
                       std::chrono::milliseconds after) {
    return {Outcome::kRetry, reason, {}, std::move(detail), after};
  }
};

class Stage {
public:
  virtual ~Stage() = default;
  // Short name for metrics and status ("loop-prevention", "provenance",
  // "contract").
  virtual std::string_view name() const = 0;
  virtual Verdict process(Record& record) = 0;
};

using StagePtr = std::unique_ptr<Stage>;

}  // namespace causeway::pipeline
