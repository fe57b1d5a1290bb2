#include "policies/policy_stage.h"

#include "schema/wire_format.h"

#include <algorithm>

namespace causeway::policies {

using pipeline::Verdict;

Result<std::unique_ptr<PolicyStage>>
PolicyStage::create(PolicyPtr policy, PolicyCountersPtr counters,
                    std::shared_ptr<const AvroShapes> avro,
                    std::shared_ptr<const ProtobufShapes> protobuf) {
  if ((policy->valueFormat() == PayloadFormat::kAvro && avro == nullptr) ||
      (policy->valueFormat() == PayloadFormat::kProtobuf && protobuf == nullptr)) {
    return Error{std::string("formats.value ") + formatName(policy->valueFormat()) +
                 " needs the writer schemas a link that translates schema IDs provides "
                 "(schemas: {translate_ids: true})"};
  }
  Result<TransformRunner> runner = TransformRunner::create(policy->rules());
  if (!runner) {
    return runner.error();
  }
  return std::unique_ptr<PolicyStage>(new PolicyStage(std::move(policy), std::move(counters),
                                                      std::move(*runner), std::move(avro),
                                                      std::move(protobuf)));
}

PolicyStage::PolicyStage(PolicyPtr policy, PolicyCountersPtr counters, TransformRunner runner,
                         std::shared_ptr<const AvroShapes> avro,
                         std::shared_ptr<const ProtobufShapes> protobuf)
    : policy_(std::move(policy)), counters_(std::move(counters)), runner_(std::move(runner)) {
  if (!policy_->valuePaths().empty()) {
    if (policy_->valueFormat() == PayloadFormat::kAvro) {
      auto reader = std::make_unique<AvroReader>(policy_->valuePaths(), std::move(avro));
      schema_reader_ = reader.get();
      value_reader_ = std::move(reader);
    } else if (policy_->valueFormat() == PayloadFormat::kProtobuf) {
      auto reader = std::make_unique<ProtobufReader>(policy_->valuePaths(), std::move(protobuf));
      schema_reader_ = reader.get();
      value_reader_ = std::move(reader);
    } else {
      value_reader_ = std::make_unique<JsonReader>(policy_->valuePaths());
    }
  }
  if (!policy_->keyPaths().empty()) {
    key_reader_ = std::make_unique<JsonReader>(policy_->keyPaths());
  }
  const FieldSlots& slots = policy_->slots();
  for (uint16_t slot = 0; slot < slots.size(); ++slot) {
    const FieldPath& path = slots.path(slot);
    const bool payload =
        path.root == PathRoot::kValue ||
        (path.root == PathRoot::kKey && policy_->keyFormat() == PayloadFormat::kJson);
    if (!payload) {
      record_slots_.push_back(
          {slot, path.root, path.root == PathRoot::kHeaders ? path.segments[0].name : ""});
    }
  }
  values_.resize(slots.size());
}

bool PolicyStage::topicAllowed(std::string_view topic) {
  // Records come in runs of one topic: the last answer first, then a map (regexes only once
  // per topic).
  if (topic == last_topic_ && !last_topic_.empty()) {
    return last_allowed_;
  }
  auto it = topics_.find(topic);
  if (it == topics_.end()) {
    if (topics_.size() > 100000) {
      topics_.clear();  // bounded, in case topic names are generated without end
    }
    it = topics_.emplace(std::string(topic), policy_->allowsTopic(topic)).first;
  }
  last_topic_.assign(topic);
  last_allowed_ = it->second;
  return last_allowed_;
}

void PolicyStage::note(std::string_view rule, std::string what) {
  trace_->steps.push_back({std::string(rule), std::move(what)});
}

void PolicyStage::fillRecordFields(const pipeline::Record& record) {
  for (const RecordSlot& s : record_slots_) {
    FieldValue& v = values_[s.slot];
    // Record numbers are only compared, never transformed: no text.
    auto number = [&](int64_t n) { v = FieldValue::ofNumber(static_cast<double>(n), {}); };
    switch (s.root) {
    case PathRoot::kTimestamp:
      number(record.timestamp());
      break;
    case PathRoot::kPartition:
      number(record.source().partition);
      break;
    case PathRoot::kOffset:
      number(record.source().offset);
      break;
    case PathRoot::kTopic:
      v = FieldValue::ofString(record.source().topic);
      break;
    case PathRoot::kKey: {
      auto key = record.key();
      v = key ? FieldValue::ofString(*key) : FieldValue::null();
      break;
    }
    case PathRoot::kHeaders: {
      auto header = record.header(s.header);
      if (!header) {
        v = FieldValue::missing();
      } else if (!*header) {
        v = FieldValue::null();
      } else {
        v = FieldValue::ofString(**header);
      }
      break;
    }
    case PathRoot::kValue:
      break;
    }
  }
}

Verdict PolicyStage::violation(std::string_view reason, const std::string& rule,
                               std::string detail) {
  PolicyCounters& c = *counters_;
  if (reason == kReasonUnreadable) {
    bump(c.unreadable);
  } else if (reason == kReasonMissingField) {
    bump(c.missing_field);
  } else {
    bump(c.transform_failed);
  }
  const config::OnViolation on = policy_->config().on_violation;
  if (trace_ != nullptr) {
    note(rule, std::string(reason) + " (" + detail + "): " +
                   (on == config::OnViolation::kDeadLetter ? "dead-lettered"
                    : on == config::OnViolation::kSkip     ? "skipped"
                                                           : "link stops") +
                   (policy_->shadow() ? " [shadow: passed unchanged]" : ""));
  }
  switch (on) {
  case config::OnViolation::kDeadLetter:
    bump(c.dead_lettered);
    break;
  case config::OnViolation::kSkip:
    bump(c.skipped);
    break;
  case config::OnViolation::kStop:
    bump(c.stopped);
    break;
  }
  if (policy_->shadow()) {
    return Verdict::pass();
  }
  switch (on) {
  case config::OnViolation::kDeadLetter:
    return Verdict::deadLetter(reason, rule, std::move(detail));
  case config::OnViolation::kSkip:
    return Verdict::drop(reason, rule);
  case config::OnViolation::kStop:
    return Verdict::stop(reason, rule, std::move(detail));
  }
  return Verdict::pass();
}

bool PolicyStage::transform(PathRoot root, PayloadReader* reader, bool tombstone,
                            std::vector<FieldEdit>& edits) {
  const std::vector<TransformRule>& rules = policy_->rules();
  const std::span<const FieldOccurrence> occurrences =
      reader != nullptr ? reader->occurrences() : std::span<const FieldOccurrence>();
  for (size_t i = 0; i < rules.size(); ++i) {
    const TransformRule& rule = rules[i];
    if (rule.path.root != root) {
      continue;
    }
    PolicyCounters::Rule& counts = counters_->rule(i);
    size_t found = 0;
    size_t applied = 0;
    for (const FieldOccurrence& occurrence : occurrences) {
      if (occurrence.slot != rule.slot) {
        continue;
      }
      ++found;
      FieldEdit edit;
      switch (runner_.apply(i, occurrence, arena_, edit, problem_)) {
      case TransformRunner::Outcome::kApplied:
        edits.push_back(edit);
        ++applied;
        bump(counts.applied);
        break;
      case TransformRunner::Outcome::kKept:
        bump(counts.kept);
        break;
      case TransformRunner::Outcome::kFailed:
        bump(counts.failed);
        if (trace_ != nullptr) {
          note(rule.name, "failed: " + problem_);
        }
        reason_ = kReasonTransformFailed;
        violation_rule_ = rule.name;
        return false;
      }
    }
    if (found > 0) {
      if (trace_ != nullptr) {
        note(rule.name, applied > 0 ? "applied to " + std::to_string(applied) +
                                          (applied == 1 ? " occurrence" : " occurrences")
                                    : "kept (null or already within bounds)");
      }
      continue;
    }
    if (rule.action == Action::kSet && rule.parent_slot >= 0 && !tombstone) {
      size_t inserted = 0;
      for (const FieldOccurrence& occurrence : occurrences) {
        if (occurrence.slot == rule.parent_slot && reader->acceptsInsert(occurrence)) {
          FieldEdit edit;
          runner_.insert(i, occurrence.handle, arena_, edit);
          edits.push_back(edit);
          ++inserted;
        }
      }
      if (inserted > 0) {
        bump(counts.applied, inserted);
        if (trace_ != nullptr) {
          note(rule.name, "added (the field was missing)");
        }
        continue;
      }
    }
    bump(counts.absent);
    if (rule.required && !tombstone) {
      if (trace_ != nullptr) {
        note(rule.name, "missing (required)");
      }
      problem_ = rule.path.text() + " is missing";
      reason_ = kReasonMissingField;
      violation_rule_ = rule.name;
      return false;
    }
    if (trace_ != nullptr) {
      note(rule.name, "absent");
    }
  }
  return true;
}

namespace {

bool hasHeader(const pipeline::RecordView& record, std::string_view name) {
  return std::any_of(record.headers.begin(), record.headers.end(),
                     [&](const pipeline::HeaderView& h) { return h.name == name; });
}

}  // namespace

Verdict PolicyStage::process(pipeline::Record& record) {
  PolicyCounters& c = *counters_;
  const bool shadow = policy_->shadow();
  bump(c.records);
  if (trace_ != nullptr) {
    trace_->steps.clear();
  }
  if (!topicAllowed(record.source().topic)) {
    bump(c.not_allowed);
    if (trace_ != nullptr) {
      note("topics", "not allowed: record dropped" +
                         std::string(shadow ? " [shadow: passed unchanged]" : ""));
    }
    if (shadow) {
      return Verdict::pass();
    }
    return Verdict::drop(kReasonNotAllowed, policy_->topicsRule());
  }
  if (trace_ != nullptr) {
    note("topics", "allowed");
  }

  std::fill(values_.begin(), values_.end(), FieldValue::missing());
  fillRecordFields(record);
  const std::optional<std::string_view> value = record.value();
  const bool tombstone = !value.has_value();
  if (value_reader_ && value) {
    if (schema_reader_ != nullptr) {
      // The ID translation stage may have rewritten the prefix: the writer's schema is the
      // one the source record names.
      schema_reader_->selectWriter(record.source().topic, record.source().value,
                                   hasHeader(record.source(), schema::kValueSchemaIdHeader));
    }
    if (!value_reader_->read(*value, problem_)) {
      return violation(kReasonUnreadable, policy_->payloadRule(), "value: " + problem_);
    }
    for (const FieldOccurrence& o : value_reader_->occurrences()) {
      values_[o.slot] = o.value;
    }
  } else if (tombstone) {
    for (const ReaderPath& path : policy_->valuePaths()) {
      if (path.segments.empty()) {
        values_[path.slot] = FieldValue::null();
      }
    }
  }
  const std::optional<std::string_view> key = record.key();
  bool key_read = false;
  if (key_reader_) {
    if (key) {
      if (!key_reader_->read(*key, problem_)) {
        return violation(kReasonUnreadable, policy_->payloadRule(), "key: " + problem_);
      }
      key_read = true;
      for (const FieldOccurrence& o : key_reader_->occurrences()) {
        values_[o.slot] = o.value;
      }
    } else {
      for (const ReaderPath& path : policy_->keyPaths()) {
        if (path.segments.empty()) {
          values_[path.slot] = FieldValue::null();
        }
      }
    }
  }

  bool filtered = false;
  if (policy_->filter()) {
    filtered = !policy_->filter()->evaluate(values_);
    if (trace_ != nullptr) {
      note("filter", filtered ? "false: record filtered" : "true");
    }
    if (filtered) {
      bump(c.filtered);
      if (!shadow) {
        return Verdict::drop(kReasonFiltered, policy_->filterRule());
      }
    }
  }

  if (schema_reader_ != nullptr && value && !schema_reader_->shapeProblems()->empty()) {
    // After the filter: a record it drops needs no edit.
    return violation(kReasonTransformFailed, policy_->fieldsRule(),
                     std::string("value: the policy's ") +
                         (policy_->valueFormat() == PayloadFormat::kAvro ? "Avro" : "Protobuf") +
                         " schema: " + schema_reader_->shapeProblems()->front());
  }
  arena_.clear();
  value_edits_.clear();
  key_edits_.clear();
  if (!transform(PathRoot::kValue, value && value_reader_ ? value_reader_.get() : nullptr,
                 tombstone, value_edits_) ||
      !transform(PathRoot::kKey, key_read ? key_reader_.get() : nullptr, !key.has_value(),
                 key_edits_)) {
    return violation(reason_, violation_rule_, problem_);
  }

  if (policy_->filtersHeaders()) {
    // Names are copied out (into strings reused between records) before removing any.
    remove_count_ = 0;
    record.forEachHeader([&](std::string_view name, std::optional<std::string_view>) {
      if (policy_->headerAllowed(name) ||
          std::find(remove_headers_.begin(), remove_headers_.begin() + remove_count_, name) !=
              remove_headers_.begin() + remove_count_) {
        return;
      }
      if (remove_count_ == remove_headers_.size()) {
        remove_headers_.emplace_back();
      }
      remove_headers_[remove_count_++].assign(name);
    });
    if (remove_count_ > 0) {
      bump(c.headers_removed, remove_count_);
      if (trace_ != nullptr) {
        note("headers", "removed " + std::to_string(remove_count_) +
                            (remove_count_ == 1 ? " header name" : " header names"));
      }
      if (!shadow) {
        for (size_t i = 0; i < remove_count_; ++i) {
          record.removeHeader(remove_headers_[i]);
        }
      }
    }
  }

  const bool rewrite_value = !value_edits_.empty() || (schema_reader_ != nullptr && value &&
                                                       schema_reader_->rewritesUnedited());
  if (!shadow && (rewrite_value || !key_edits_.empty())) {
    if (rewrite_value) {
      if (!value_reader_->write(value_edits_, arena_, out_, problem_)) {
        return violation(kReasonTransformFailed, policy_->fieldsRule(), "value: " + problem_);
      }
      record.rewriteValue().swap(out_);
    }
    if (!key_edits_.empty()) {
      if (!key_reader_->write(key_edits_, arena_, out_, problem_)) {
        return violation(kReasonTransformFailed, policy_->fieldsRule(), "key: " + problem_);
      }
      record.rewriteKey().swap(out_);
    }
    bump(c.records_rewritten);
  }
  if (!filtered) {
    bump(c.passed);
  }
  return Verdict::pass();
}

}  // namespace causeway::policies
