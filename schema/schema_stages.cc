#include "schema/schema_stages.h"

#include <simdjson.h>

#include <cstring>

namespace causeway::schema {
namespace {

using pipeline::Record;
using pipeline::Verdict;

std::string_view headerName(Side side) {
  return side == Side::kKey ? kKeySchemaIdHeader : kValueSchemaIdHeader;
}

std::optional<std::string_view> content(const Record& record, Side side) {
  return side == Side::kKey ? record.key() : record.value();
}

// Replaces the snapshot when the service published a newer one (one atomic load per record
// otherwise). States of validators that may be gone are trimmed now and then.
void refresh(SchemaService& service, std::shared_ptr<const SchemaSnapshot>& snapshot,
             ValidationScratch* scratch) {
  const uint64_t version = service.version();
  if (!snapshot || snapshot->version != version) {
    snapshot = service.snapshot();
    if (scratch != nullptr) {
      scratch->trim(256);
    }
  }
}

template <typename Entries>
auto* findEntry(const SchemaSnapshot& snapshot, std::string_view topic, Side side,
                const SchemaRef& ref, Entries SideEntries::*member) {
  using Entry = typename Entries::mapped_type;
  const TopicEntries* entries = snapshot.find(topic);
  if (entries == nullptr) {
    return static_cast<const Entry*>(nullptr);
  }
  const Entries& map = entries->side(side).*member;
  auto it = map.find(ref);
  return it == map.end() ? static_cast<const Entry*>(nullptr) : &it->second;
}

std::string describe(Side side, const SchemaRef& ref) {
  return std::string(sideName(side)) + " schema " + ref.str();
}

Verdict waitFor(EntryState state, Side side, const SchemaRef& ref, const std::string& detail,
                std::chrono::milliseconds after) {
  return Verdict::retry(state == EntryState::kPaused ? "schema-paused" : "registry-unavailable",
                        describe(side, ref) + ": " + detail, after);
}

// The service with the link's backoff settings, started; nullptr when it has nothing to do.
Result<std::shared_ptr<SchemaService>> startWith(const config::Config& config,
                                                 const config::LinkConfig& link,
                                                 SchemaService::Options options) {
  options.retry_initial = link.schemas.retry_initial;
  options.retry_max = link.schemas.retry_max;
  options.paused_recheck = link.schemas.paused_recheck;
  auto service = std::make_shared<SchemaService>(config, link, std::move(options));
  if (Status started = service->start(); !started) {
    return started.error();
  }
  if (!service->checksContracts() && !service->translatesIds()) {
    service->stop();
    return std::shared_ptr<SchemaService>();
  }
  return service;
}

}  // namespace

Result<std::shared_ptr<SchemaService>>
startSchemaService(const config::Config& config, const config::LinkConfig& link,
                   std::function<std::string(const std::string&)> mirror_topic,
                   std::shared_ptr<ViolationCounters> counters, DeriveSchema derive) {
  SchemaService::Options options;
  options.mirror_topic = std::move(mirror_topic);
  options.counters = std::move(counters);
  options.derive = std::move(derive);
  return startWith(config, link, std::move(options));
}

Result<std::shared_ptr<SchemaService>>
startProductSchemaService(const config::Config& config, const config::ProductConfig& product) {
  // The service reads a link's source and target; a product reads its source cluster only.
  config::LinkConfig link;
  link.name = "egress/" + product.name;
  link.source = product.source;
  link.target = product.source;
  link.schemas.check_contracts = true;
  link.schemas.translate_ids = false;
  SchemaService::Options options;
  options.log_name = "product '" + product.name + "'";
  return startWith(config, link, std::move(options));
}

std::vector<pipeline::StagePtr> makeSchemaStages(const config::Config&,
                                                 const config::LinkConfig& link,
                                                 std::shared_ptr<SchemaService> service) {
  std::vector<pipeline::StagePtr> stages;
  if (service == nullptr) {
    return stages;
  }
  if (service->checksContracts()) {
    stages.push_back(std::make_unique<ContractStage>(service));
  }
  if (service->translatesIds()) {
    stages.push_back(std::make_unique<IdTranslationStage>(service, link));
  }
  return stages;
}

// --- ContractStage -----------------------------------------------------------------------------

ContractStage::TopicState& ContractStage::topicState(std::string_view topic) {
  if (last_ != nullptr && last_->topic == topic) {
    return *last_;
  }
  auto it = topics_.find(topic);
  if (it == topics_.end()) {
    auto state = std::make_unique<TopicState>();
    state->topic = std::string(topic);
    state->contract = service_.contracts().find(topic);  // regexes: once per topic
    it = topics_.emplace(state->topic, std::move(state)).first;
  }
  last_ = it->second.get();
  return *last_;
}

Verdict ContractStage::violation(TopicState& state, Side side, std::string_view reason,
                                 std::string detail) {
  std::string rule = state.contract->rule(side);
  std::atomic<uint64_t>* counter = nullptr;
  for (const auto& counted : state.counters) {
    if (counted.side == side && counted.reason == reason) {
      counter = counted.records;
    }
  }
  if (counter == nullptr) {
    counter =
        counters_ != nullptr
            ? counters_->counter(state.contract->domain->name, state.topic, rule, reason)
            : service_.violationCounter(state.contract->domain->name, state.topic, rule, reason);
    state.counters.push_back({side, reason, counter});
  }
  counter->fetch_add(1, std::memory_order_relaxed);
  switch (state.contract->config->on_violation) {
  case config::ViolationAction::kSkip:
    return Verdict::drop(reason, std::move(rule));
  case config::ViolationAction::kStop:
    return Verdict::stop(reason, std::move(rule), std::move(detail));
  case config::ViolationAction::kDeadLetter:
    break;
  }
  return Verdict::deadLetter(reason, std::move(rule), std::move(detail));
}

bool ContractStage::checkSide(Record& record, TopicState& state, Side side, Verdict& verdict) {
  const config::ContractSideConfig& config = state.contract->side(side);
  if (!config.present || config.format == config::PayloadFormat::kBytes) {
    return true;
  }
  const auto bytes = content(record, side);
  if (!bytes) {
    if (side == Side::kValue) {
      return true;  // a tombstone deletes a key; it has no payload to check
    }
    verdict = violation(state, side, "invalid-payload",
                        std::string("key: a null key, the contract requires ") +
                            config::payloadFormatName(config.format));
    return false;
  }
  if (config.format == config::PayloadFormat::kString) {
    if (!simdjson::validate_utf8(bytes->data(), bytes->size())) {
      verdict = violation(state, side, "invalid-payload",
                          std::string(sideName(side)) + ": not UTF-8 (the contract says string)");
      return false;
    }
    return true;
  }
  const bool protobuf = config.format == config::PayloadFormat::kProtobuf;
  Frame frame;
  FrameError error;
  const auto header = record.header(headerName(side));
  if (header && *header) {
    if (!parseHeaderId(**header, protobuf, frame, error)) {
      verdict = violation(state, side, "bad-framing",
                          std::string(sideName(side)) + ": header " +
                              std::string(headerName(side)) + ": " + error.describe());
      return false;
    }
  } else if (!parseFrame(*bytes, protobuf, frame, error)) {
    verdict = violation(state, side, "bad-framing",
                        std::string(sideName(side)) + ": " + error.describe());
    return false;
  }
  const auto* entry =
      findEntry(*snapshot_, state.topic, side, frame.schema, &SideEntries::validation);
  if (entry == nullptr) {
    service_.request(SchemaService::Need::kValidate, state.topic, side, frame.schema);
    verdict = Verdict::retry(
        "schema-pending", describe(side, frame.schema) + ": fetching it and the contract's schema",
        kPendingRetry);
    return false;
  }
  switch (entry->state) {
  case EntryState::kRetry:
  case EntryState::kPaused:
    verdict = waitFor(entry->state, side, frame.schema, entry->detail, entry->retry_after);
    return false;
  case EntryState::kRefused:
    verdict =
        violation(state, side, entry->reason, describe(side, frame.schema) + ": " + entry->detail);
    return false;
  case EntryState::kReady:
    break;
  }
  const std::string_view payload = bytes->substr(frame.prefix_size);
  if (!entry->validator->validate(payload, frame.indexes, scratch_, violation_)) {
    verdict = violation(state, side, "invalid-payload",
                        std::string(sideName(side)) + " schema " + frame.schema.str() + ": " +
                            violation_.describe(sideName(side)));
    return false;
  }
  if (output_ == Output::kJson) {
    json_.clear();
    if (!entry->validator->toJson(payload, frame.indexes, scratch_, json_, violation_)) {
      // Valid, but JSON cannot carry it (bytes in a proto2 string, a JSON form far larger than
      // the record): still the contract's on_violation, so nothing vanishes without a count.
      verdict = violation(state, side, "no-json-form",
                          std::string(sideName(side)) + " schema " + frame.schema.str() + ": " +
                              violation_.describe(sideName(side)));
      return false;
    }
    // `payload` is not read again: the rewrite may reuse the buffer it points into.
    (side == Side::kKey ? record.rewriteKey() : record.rewriteValue()).swap(json_);
  }
  return true;
}

Verdict ContractStage::process(Record& record) {
  TopicState& state = topicState(record.source().topic);
  if (state.contract == nullptr) {
    return Verdict::pass();
  }
  refresh(service_, snapshot_, &scratch_);
  Verdict verdict;
  for (Side side : {Side::kKey, Side::kValue}) {
    if (!checkSide(record, state, side, verdict)) {
      return verdict;
    }
  }
  return Verdict::pass();
}

// --- IdTranslationStage ------------------------------------------------------------------------

IdTranslationStage::TopicState& IdTranslationStage::topicState(std::string_view topic) {
  if (last_ != nullptr && last_->topic == topic) {
    return *last_;
  }
  auto it = topics_.find(topic);
  if (it == topics_.end()) {
    auto state = std::make_unique<TopicState>();
    state->topic = std::string(topic);
    state->contract = service_.contracts().find(topic);
    it = topics_.emplace(state->topic, std::move(state)).first;
  }
  last_ = it->second.get();
  return *last_;
}

bool IdTranslationStage::translateSide(Record& record, TopicState& state, Side side,
                                       Verdict& verdict) {
  if (state.contract != nullptr && state.contract->side(side).present) {
    if (!state.contract->side(side).usesRegistry()) {
      return true;  // a contract saying string or bytes: nothing framed here
    }
  } else if (side == Side::kKey && !translate_keys_) {
    return true;
  }
  // Where the ID is: the header when there is one, else the payload's prefix. Only the magic
  // byte and the ID or GUID matter here; message indexes stay as they are.
  const auto header = record.header(headerName(side));
  std::string_view framed;
  bool in_header = false;
  if (header && *header) {
    framed = **header;
    in_header = true;
  } else if (auto bytes = content(record, side)) {
    framed = *bytes;
  } else {
    return true;
  }
  SchemaRef ref;
  if (framed.size() >= kIdPrefixSize && static_cast<uint8_t>(framed[0]) == kMagicId) {
    ref = SchemaRef::ofId(loadId(framed.data() + 1));
  } else if (framed.size() >= kGuidPrefixSize && static_cast<uint8_t>(framed[0]) == kMagicGuid) {
    Guid guid;
    std::memcpy(guid.data(), framed.data() + 1, guid.size());
    ref = SchemaRef::ofGuid(guid);
  } else {
    return true;  // not framed: nothing to translate (a contract would have said so before)
  }
  const auto* entry = findEntry(*snapshot_, state.topic, side, ref, &SideEntries::translation);
  if (entry == nullptr) {
    service_.request(SchemaService::Need::kTranslate, state.topic, side, ref);
    verdict = Verdict::retry("schema-pending",
                             describe(side, ref) + ": registering it in the target registry",
                             kPendingRetry);
    return false;
  }
  switch (entry->state) {
  case EntryState::kRetry:
  case EntryState::kPaused:
    verdict = waitFor(entry->state, side, ref, entry->detail, entry->retry_after);
    return false;
  case EntryState::kRefused: {
    std::string rule = link_name_ + ".schemas." + sideName(side);
    std::atomic<uint64_t>*& counter = state.unknown[side == Side::kKey ? 0 : 1];
    if (counter == nullptr) {
      counter = service_.violationCounter(
          state.contract != nullptr ? std::string_view(state.contract->domain->name) : "",
          state.topic, rule, "unknown-schema");
    }
    counter->fetch_add(1, std::memory_order_relaxed);
    verdict = Verdict::deadLetter("unknown-schema", std::move(rule),
                                  describe(side, ref) + ": " + entry->detail);
    return false;
  }
  case EntryState::kReady:
    break;
  }
  if (entry->target == ref) {
    return true;
  }
  if (in_header) {
    header_.assign(framed.data(), framed.size());
    storeId(header_.data() + 1, entry->target.id);
    const std::string_view name = headerName(side);
    record.removeHeader(name);
    record.addHeader(name, header_);
    return true;
  }
  // rewriteKey()/rewriteValue() start an empty buffer: when an earlier stage already rewrote
  // this side, `framed` points into that very buffer, so it is copied aside first.
  const bool owned = side == Side::kKey ? record.keyChanged() : record.valueChanged();
  if (owned) {
    copy_.assign(framed.data(), framed.size());
    framed = copy_;
  }
  std::string& out = side == Side::kKey ? record.rewriteKey() : record.rewriteValue();
  out.assign(framed.data(), framed.size());
  storeId(out.data() + 1, entry->target.id);
  return true;
}

Verdict IdTranslationStage::process(Record& record) {
  TopicState& state = topicState(record.source().topic);
  refresh(service_, snapshot_, nullptr);
  Verdict verdict;
  for (Side side : {Side::kKey, Side::kValue}) {
    if (!translateSide(record, state, side, verdict)) {
      return verdict;
    }
  }
  return Verdict::pass();
}

}  // namespace causeway::schema
