#pragma once

// The control plane of a link's schema stages. The stages never do I/O: when their snapshot
// lacks a schema they report it here (request()) and answer "retry later"; this service's
// thread fetches what is missing from the registries, compiles contract validators, registers
// source schemas in the target registry (references, rule set and metadata included) after
// checking compatibility, and publishes a new immutable snapshot the stages pick up.
//
// Lifecycle: construct (no I/O; copies the configuration it needs), start() (the thread),
// stop() (interrupts registry calls in progress and joins; the destructor calls it). One per
// link and worker, shared with the link's schema stages (startSchemaService() and
// makeSchemaStages() in schema_stages.h).
//
// Threading: request(), snapshot(), version(), topicStatus() and violation counting are safe
// from any thread; everything else runs on the service's own thread.

#include "config/config.h"
#include "schema/contracts.h"
#include "schema/registry.h"
#include "schema/schema_snapshot.h"
#include "schema/violation_counters.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace causeway::schema {

// SchemaService::Options::derive.
using DeriveSchema = std::function<std::optional<std::string>(
    const std::string& topic, Side side, const SchemaRef& ref, const ResolvedSchema& writer)>;

// Builds the Registry for a `registries:` entry (REST or catalog).
Result<RegistryPtr> makeRegistry(const config::RegistryConfig& config);

// Topics of a link waiting for a schema, by why (what the metrics show). A topic counts once
// per reason it has at least one schema waiting for.
struct WaitingTopics {
  size_t registry_unavailable = 0;  // a registry did not answer: retried with backoff
  size_t paused = 0;                // a person has to act (incompatible, refused, credentials)
};

class SchemaService {
public:
  struct Options {
    // The mirror topic of a source topic (the link's naming, e.g. TopicSelector::targetTopic);
    // target subjects follow it. Required when IDs are translated.
    std::function<std::string(const std::string&)> mirror_topic;
    // Builds registries (tests pass test doubles); default makeRegistry.
    std::function<Result<RegistryPtr>(const config::RegistryConfig&)> registry_factory;
    // Backoff of keys whose registry did not answer, doubling up to the maximum (a link's
    // `schemas.retry: {initial, max}`).
    std::chrono::milliseconds retry_initial{250};
    std::chrono::milliseconds retry_max{30000};
    // How often a paused key (incompatible target subject, missing contract subject) is
    // tried again (a link's `schemas.paused_recheck`).
    std::chrono::milliseconds paused_recheck{30000};
    // How long a contract schema fetched as "latest" is used for newly seen writer schemas
    // before it is fetched again (validators already compiled stay as they are).
    std::chrono::milliseconds contract_refresh{60000};
    // Where violations are counted (kept across the link's restarts by its owner); default:
    // counters of this service alone.
    std::shared_ptr<ViolationCounters> counters;
    // How log lines name the owner; default "link '<link name>'" (a data product's streams:
    // "product '<name>'").
    std::string log_name;
    // What the link's later stages make of the records of a writer schema (a partner policy's
    // field rules): given the source topic, the writer schema's side, ID (as the source names
    // it), and the schema
    // with the texts of its references (from the source registry), the text of the schema that
    // describes the records the target receives, or nullopt when they keep the writer's shape.
    // When IDs are translated, that schema is registered in the target registry instead of the
    // writer's (with its references and metadata, without its rule set). Called on the
    // service's thread, once per writer schema, before any record of it passes the stages.
    DeriveSchema derive;
  };

  enum class Need : uint8_t { kValidate, kTranslate };

  SchemaService(const config::Config& config, const config::LinkConfig& link, Options options);
  ~SchemaService();
  SchemaService(const SchemaService&) = delete;
  SchemaService& operator=(const SchemaService&) = delete;

  // Builds the registry clients (no connection yet) and starts the thread. An error names a
  // registry that cannot be built (a bad URL, a catalog that does not load).
  Status start();
  void stop();

  // --- What the stages use (any thread) ---
  const ContractSet& contracts() const { return contracts_; }
  // Contracts are checked on this link (domains have contracts, `schemas.check_contracts`).
  bool checksContracts() const;
  // IDs are rewritten on this link (translate_ids, and the two clusters' registries differ).
  bool translatesIds() const { return translate_; }
  // The registry that reads this link's source records, or "" when the source has none.
  const std::string& sourceRegistryName() const { return source_registry_name_; }

  uint64_t version() const { return version_.load(std::memory_order_acquire); }
  std::shared_ptr<const SchemaSnapshot> snapshot() const;
  // Asks for the entry of (topic, side, schema); answered in a later snapshot.
  void request(Need need, std::string_view topic, Side side, const SchemaRef& schema);

  // Why topics are paused or waiting, for `causeway ctl status`: topic -> one line, only for
  // topics with something to say ("paused: value schema id 7 is incompatible with subject
  // east.orders-value in registry 'west-sr': ...").
  std::map<std::string, std::string> topicStatus() const;
  // The same, counted for /metrics.
  WaitingTopics waitingTopics() const;

  // Violation counting for the contract stage: a stable counter per (domain, topic, rule,
  // reason), created on first use (the stage caches the pointer).
  std::atomic<uint64_t>* violationCounter(std::string_view domain, std::string_view topic,
                                          std::string_view rule, std::string_view reason) {
    return options_.counters->counter(domain, topic, rule, reason);
  }
  std::vector<ViolationCount> violationCounts() const { return options_.counters->counts(); }

  // Test hook: waits until no request is outstanding (every requested key has an entry that
  // is not a first-time miss) or `timeout` passes.
  bool waitIdle(std::chrono::milliseconds timeout) const;

private:
  struct Key {
    Need need;
    std::string topic;
    Side side;
    SchemaRef ref;
    bool operator<(const Key& o) const;
  };
  struct Work {
    std::chrono::steady_clock::time_point next{};
    int attempts = 0;
  };
  struct Resolved {
    ResolvedSchema schema;
    std::string record;  // record name, "" when it has none
  };

  void run();
  void process(const Key& key, Work& work);
  bool finished(const Key& key) const;  // the key has a final entry (kReady or kRefused)
  void resolveValidation(const Key& key, Work& work);
  void resolveTranslation(const Key& key, Work& work);
  // Records the outcome of a failed registry call: kRetry with backoff, or the given state.
  // Stores the key's entry; kRetry and kPaused keys stay in work_ for another attempt.
  void setValidation(const Key& key, Work& work, ValidationEntry entry);
  void setTranslation(const Key& key, Work& work, TranslationEntry entry);
  // One log line when a key's state changes (waiting, paused, refused, ready again), not per
  // attempt or record. `before` is empty for a key seen the first time.
  void logChange(const Key& key, std::optional<EntryState> before, EntryState after,
                 const std::string& detail) const;
  // The state and delay a failed registry call leads to.
  EntryState stateFor(const RegistryError& error) const;
  std::chrono::milliseconds delayFor(EntryState state, Work& work) const;
  void publish();

  // Registry reads, cached for the service's life (schemas by ID never change).
  RegistryResult<Resolved> writerSchema(const SchemaRef& ref);
  RegistryResult<ResolvedSchema> resolveReferences(Registry& registry, const Schema& schema);
  RegistryResult<RegisteredSchema> sourceVersion(const std::string& subject, int version);
  // The references of `schema` registered in the target registry (recursively), rewritten to
  // the target's subjects and versions.
  RegistryResult<std::vector<SchemaReference>> registerReferences(const Schema& schema, int depth);
  std::string targetSubject(const std::string& subject) const;

  // Copies: the contracts and registry settings point into them, and a reloaded
  // configuration must not pull them from under a link that is still draining.
  const config::Config config_;
  const config::LinkConfig link_;
  Options options_;
  ContractSet contracts_;
  std::string source_registry_name_;
  const config::RegistryConfig* source_config_ = nullptr;
  const config::RegistryConfig* target_config_ = nullptr;
  bool translate_ = false;

  RegistryPtr source_;
  RegistryPtr target_;

  // Service thread only.
  std::unordered_map<SchemaRef, Resolved, SchemaRefHash> writers_;
  struct CachedVersion {
    RegisteredSchema schema;
    std::chrono::steady_clock::time_point fetched;
  };
  std::map<std::pair<std::string, int>, CachedVersion> versions_;
  std::map<std::pair<std::string, int>, SchemaReference> target_references_;
  std::map<Key, Work> work_;  // keys not ready: when to try again

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool stopping_ = false;    // guarded by mu_
  std::set<Key> requested_;  // guarded by mu_: new requests
  std::set<Key> known_;      // guarded by mu_: ever requested
  std::unordered_map<std::string, TopicEntries, TopicHash, std::equal_to<>> entries_;  // mu_
  std::shared_ptr<const SchemaSnapshot> snapshot_;  // guarded by mu_
  std::atomic<uint64_t> version_{0};
  bool busy_ = false;  // guarded by mu_: the thread is working on keys

  std::thread thread_;
};

}  // namespace causeway::schema
