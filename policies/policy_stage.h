#pragma once

// The pipeline stage that applies one policy to a link's records (pipeline/stage.h), in order:
//  1. topic allow-list (default deny): a topic not allowed -> drop, reason "not-allowed";
//  2. the payload is read once (JSON: one pass, no document built); unreadable -> violation;
//  3. the filter: false -> drop, reason "filtered" (a known skip for offset translation);
//  4. field transforms; a missing required field or an action that does not fit the value ->
//     violation;
//  5. header allow/deny;
//  6. the rewritten key/value are written into the Record's buffers.
// A violation becomes what on_violation says: dlq -> kDeadLetter, skip -> kDrop, stop -> kStop,
// with a reason, the rule and a detail that name paths and positions, never values. In shadow
// mode every step runs and is counted, and the record passes unchanged.
//
// One stage per data-plane thread (it owns cipher contexts and buffers); the compiled Policy
// and the counters are shared. Deterministic except the ciphertext of `encrypt` (a random nonce
// per value; the verdict is deterministic).

#include "pipeline/stage.h"
#include "policies/avro_payload.h"
#include "policies/json_payload.h"
#include "policies/policy.h"
#include "policies/policy_counters.h"
#include "policies/protobuf_payload.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace causeway::policies {

// What each step did to one record: for `causeway policy test`, never set on links.
struct PolicyTrace {
  struct Step {
    std::string rule;  // "topics", "filter", "value.card.number:mask", "headers"
    std::string what;  // "allowed", "false: record filtered", "applied to 1 occurrence", ...
  };
  std::vector<Step> steps;
};

class PolicyStage : public pipeline::Stage {
public:
  // `avro`, `protobuf`: the writer schemas of Avro or Protobuf records (formats.value avro or
  // protobuf; required then).
  static Result<std::unique_ptr<PolicyStage>>
  create(PolicyPtr policy, PolicyCountersPtr counters,
         std::shared_ptr<const AvroShapes> avro = nullptr,
         std::shared_ptr<const ProtobufShapes> protobuf = nullptr);

  std::string_view name() const override { return "policy"; }
  pipeline::Verdict process(pipeline::Record& record) override;

  void setTrace(PolicyTrace* trace) { trace_ = trace; }
  const Policy& policy() const { return *policy_; }

private:
  PolicyStage(PolicyPtr policy, PolicyCountersPtr counters, TransformRunner runner,
              std::shared_ptr<const AvroShapes> avro,
              std::shared_ptr<const ProtobufShapes> protobuf);
  bool topicAllowed(std::string_view topic);
  void fillRecordFields(const pipeline::Record& record);
  pipeline::Verdict violation(std::string_view reason, const std::string& rule, std::string detail);
  void note(std::string_view rule, std::string what);
  // Applies the rules whose root is `root` to `reader`'s occurrences; false on a violation
  // (problem_ and reason_ say which).
  bool transform(PathRoot root, PayloadReader* reader, bool tombstone,
                 std::vector<FieldEdit>& edits);

  PolicyPtr policy_;
  PolicyCountersPtr counters_;
  TransformRunner runner_;
  std::unique_ptr<PayloadReader> value_reader_;
  std::unique_ptr<PayloadReader> key_reader_;
  // value_reader_, when the value format is avro or protobuf
  WriterSchemaReader* schema_reader_ = nullptr;
  struct RecordSlot {
    uint16_t slot;
    PathRoot root;
    std::string header;  // kHeaders: the name
  };
  std::vector<RecordSlot> record_slots_;  // slots filled from the record itself
  std::vector<FieldValue> values_;
  std::vector<FieldEdit> value_edits_;
  std::vector<FieldEdit> key_edits_;
  std::string arena_;
  std::string out_;
  std::string problem_;
  std::string_view reason_;
  std::string violation_rule_;
  std::vector<std::string> remove_headers_;  // the first remove_count_ are this record's
  size_t remove_count_ = 0;
  std::string last_topic_;
  bool last_allowed_ = false;
  std::map<std::string, bool, std::less<>> topics_;
  PolicyTrace* trace_ = nullptr;
};

}  // namespace causeway::policies
