#pragma once

// The two pipeline stages of schema/ and the factory that puts them in a link's chain.
//
//  - ContractStage ("contract"): checks each record's key and value against the contract of
//    the domain that owns the topic (framing, writer schema known and fitting the contract,
//    payload decoding). A violation answers per the contract's on_violation: dlq ->
//    dead-letter, skip -> drop, stop -> stop, naming the rule (<domain>.<contract>.<side>), the
//    schema ID and the failing path ("value schema id 7: value.amount: expected number, found
//    string"); never a raw value.
//  - IdTranslationStage ("schema-ids"): rewrites key and value schema IDs (in the payload prefix
//    or the __key_schema_id / __value_schema_id header) to the IDs the same schemas have in the
//    target cluster's registry; GUIDs pass unchanged once the target knows them.
//
// Both read the SchemaService's snapshot and never block: what it lacks is requested from the
// service and the record answers kRetry (the partition pauses with backoff, nothing is
// dropped). Single-threaded like every stage; both share ownership of the service.

#include "config/config.h"
#include "pipeline/stage.h"
#include "schema/schema_service.h"

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace causeway::schema {

// The link's SchemaService, started (its thread fetches schemas off the hot path), or nullptr
// when the link needs no schema stage (no contract applies, no IDs to translate). Call once
// per link and worker, before the link's first record; `mirror_topic` is the link's naming
// (source topic -> target topic; target subjects follow it); `counters` are where the link's
// violations are counted (pass the same object to each start of one link; null: the service's
// own). The backoff comes from the link's `schemas.retry` and `schemas.paused_recheck`.
// An error names a registry that cannot be built (a bad URL, a catalog that does not
// load). Stopping: the last owner's destructor stops and joins the thread (or call stop() first
// to interrupt registry calls).
// `derive`: SchemaService::Options::derive (a partner policy's derived schema), or empty.
Result<std::shared_ptr<SchemaService>>
startSchemaService(const config::Config& config, const config::LinkConfig& link,
                   std::function<std::string(const std::string&)> mirror_topic,
                   std::shared_ptr<ViolationCounters> counters = nullptr, DeriveSchema derive = {});

// The stages a link needs, in chain order (contract check, then ID translation); empty when
// the link has neither contracts to check nor IDs to translate, or `service` is null. Pass the
// service startSchemaService() returned; the stages share ownership of it. Put them after loop
// prevention and before provenance headers, and before a policy stage (contracts see the
// producer's bytes; a policy may rewrite them).
std::vector<pipeline::StagePtr> makeSchemaStages(const config::Config& config,
                                                 const config::LinkConfig& link,
                                                 std::shared_ptr<SchemaService> service);

// The SchemaService of a data product's streams (partner egress): the contracts of the domains
// that own the product's topics, read with the product's source cluster's registry; no IDs are
// translated. nullptr when no domain has a contract. Shared by every stream of the product.
Result<std::shared_ptr<SchemaService>>
startProductSchemaService(const config::Config& config, const config::ProductConfig& product);

// How long a record waits for a schema the service has not fetched yet.
inline constexpr std::chrono::milliseconds kPendingRetry{100};

class ContractStage final : public pipeline::Stage {
public:
  // What a record that fits its contract leaves the stage as.
  enum class Output : uint8_t {
    kAsWritten,  // unchanged (links: the target's consumers read the producer's bytes)
    // Avro, Protobuf and JSON sides as plain JSON text without the schema prefix
    // (Validator::toJson); string and bytes sides unchanged. For readers without a registry:
    // partner egress, and the policies after it, which edit JSON.
    kJson,
  };

  // `counters`: where violations are counted (null: the service's own; partner streams count
  // per partner and product).
  explicit ContractStage(std::shared_ptr<SchemaService> service, Output output = Output::kAsWritten,
                         std::shared_ptr<ViolationCounters> counters = nullptr)
      : owner_(std::move(service)), service_(*owner_), output_(output),
        counters_(std::move(counters)) {}
  std::string_view name() const override { return "contract"; }
  pipeline::Verdict process(pipeline::Record& record) override;

private:
  struct TopicState {
    const Contract* contract = nullptr;
    std::string topic;
    // Violation counters by side and reason (reasons are string literals), created on the
    // first violation.
    struct Counter {
      Side side;
      std::string_view reason;
      std::atomic<uint64_t>* records;
    };
    std::vector<Counter> counters;
  };
  TopicState& topicState(std::string_view topic);
  // False with `verdict` set when the side does not pass.
  bool checkSide(pipeline::Record& record, TopicState& state, Side side,
                 pipeline::Verdict& verdict);
  pipeline::Verdict violation(TopicState& state, Side side, std::string_view reason,
                              std::string detail);

  std::shared_ptr<SchemaService> owner_;
  SchemaService& service_;
  const Output output_;
  const std::shared_ptr<ViolationCounters> counters_;
  std::shared_ptr<const SchemaSnapshot> snapshot_;
  std::unordered_map<std::string, std::unique_ptr<TopicState>, TopicHash, std::equal_to<>> topics_;
  TopicState* last_ = nullptr;  // the previous record's topic: most records repeat it
  ValidationScratch scratch_;
  Violation violation_;
  std::string json_;  // kJson: a side's JSON, swapped into the record (buffers reused)
};

class IdTranslationStage final : public pipeline::Stage {
public:
  IdTranslationStage(std::shared_ptr<SchemaService> service, const config::LinkConfig& link)
      : owner_(std::move(service)), service_(*owner_), link_name_(link.name),
        translate_keys_(link.schemas.translate_keys) {}
  std::string_view name() const override { return "schema-ids"; }
  pipeline::Verdict process(pipeline::Record& record) override;

private:
  struct TopicState {
    const Contract* contract = nullptr;
    std::string topic;
    // Records dead-lettered because the source registry does not know their schema, by side
    // (created on the first).
    std::atomic<uint64_t>* unknown[2] = {nullptr, nullptr};
  };
  TopicState& topicState(std::string_view topic);
  bool translateSide(pipeline::Record& record, TopicState& state, Side side,
                     pipeline::Verdict& verdict);

  std::shared_ptr<SchemaService> owner_;
  SchemaService& service_;
  std::string link_name_;
  bool translate_keys_;
  std::shared_ptr<const SchemaSnapshot> snapshot_;
  std::unordered_map<std::string, std::unique_ptr<TopicState>, TopicHash, std::equal_to<>> topics_;
  TopicState* last_ = nullptr;
  std::string header_;  // a rewritten header value, reused
  std::string copy_;    // a side an earlier stage rewrote, copied before it is rewritten again
};

}  // namespace causeway::schema
