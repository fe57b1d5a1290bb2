#include "schema/schema_service.h"

#include "common/log.h"
#include "schema/catalog.h"
#include "schema/rest_registry.h"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace causeway::schema {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// References of references of ... deeper than this are refused (a cycle, or not a real schema).
constexpr int kMaxReferenceDepth = 10;

std::string seconds(milliseconds d) {
  const auto tenths = (d.count() + 50) / 100;
  return std::to_string(tenths / 10) + (tenths % 10 ? "." + std::to_string(tenths % 10) : "") + "s";
}

std::string describeKey(Side side, const SchemaRef& ref) {
  return std::string(sideName(side)) + " schema " + ref.str();
}

}  // namespace

Result<RegistryPtr> makeRegistry(const config::RegistryConfig& config) {
  if (config.isCatalog()) {
    std::vector<config::ConfigError> errors;
    auto catalog = std::make_shared<const Catalog>(Catalog::load(config.catalog, errors));
    if (!errors.empty()) {
      std::string text =
          "registry '" + config.name + "': the catalog does not load: " + errors.front().str();
      if (errors.size() > 1) {
        text += " (and " + std::to_string(errors.size() - 1) + " more problems)";
      }
      return Error{text};
    }
    return RegistryPtr(std::make_shared<CatalogRegistry>(config.name, std::move(catalog)));
  }
  auto rest = RestRegistry::create(config);
  if (!rest) {
    return rest.error();
  }
  return RegistryPtr(std::move(*rest));
}

bool SchemaService::Key::operator<(const Key& o) const {
  return std::tie(need, topic, side, ref.kind, ref.id, ref.guid) <
         std::tie(o.need, o.topic, o.side, o.ref.kind, o.ref.id, o.ref.guid);
}

SchemaService::SchemaService(const config::Config& config, const config::LinkConfig& link,
                             Options options)
    : config_(config), link_(link), options_(std::move(options)), contracts_(config_) {
  if (!options_.registry_factory) {
    options_.registry_factory = makeRegistry;
  }
  if (!options_.counters) {
    options_.counters = std::make_shared<ViolationCounters>();
  }
  auto registryOf = [this](const std::string& cluster) -> const config::RegistryConfig* {
    auto it = config_.clusters.find(cluster);
    if (it == config_.clusters.end() || it->second.registry.empty()) {
      return nullptr;
    }
    auto registry = config_.registries.find(it->second.registry);
    return registry == config_.registries.end() ? nullptr : &registry->second;
  };
  source_config_ = registryOf(link_.source);
  target_config_ = registryOf(link_.target);
  if (source_config_ != nullptr) {
    source_registry_name_ = source_config_->name;
  }
  snapshot_ = std::make_shared<const SchemaSnapshot>();
}

SchemaService::~SchemaService() { stop(); }

bool SchemaService::checksContracts() const {
  return link_.schemas.check_contracts && !contracts_.empty();
}

Status SchemaService::start() {
  if (source_config_ != nullptr) {
    auto source = options_.registry_factory(*source_config_);
    if (!source) {
      return source.error();
    }
    source_ = std::move(*source);
  }
  if (link_.schemas.translate_ids && source_ != nullptr && target_config_ != nullptr) {
    if (target_config_ == source_config_) {
      target_ = source_;
    } else {
      auto target = options_.registry_factory(*target_config_);
      if (!target) {
        return target.error();
      }
      target_ = std::move(*target);
    }
    translate_ = source_->identity() != target_->identity();
  }
  if (translate_ && !options_.mirror_topic) {
    options_.mirror_topic = [](const std::string& topic) { return topic; };
  }
  publish();
  thread_ = std::thread([this] { run(); });
  return Status::success();
}

void SchemaService::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !thread_.joinable()) {
      return;
    }
    stopping_ = true;
  }
  cv_.notify_all();
  if (source_) {
    source_->interrupt();
  }
  if (target_ && target_ != source_) {
    target_->interrupt();
  }
  if (thread_.joinable()) {
    thread_.join();
  }
}

std::shared_ptr<const SchemaSnapshot> SchemaService::snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return snapshot_;
}

void SchemaService::request(Need need, std::string_view topic, Side side, const SchemaRef& ref) {
  Key key{need, std::string(topic), side, ref};
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!known_.insert(key).second) {
      return;  // the service keeps working on it until it has an answer
    }
    requested_.insert(std::move(key));
  }
  cv_.notify_all();
}

bool SchemaService::waitIdle(std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [this] { return requested_.empty() && !busy_; });
}

void SchemaService::run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    Clock::time_point next = Clock::time_point::max();
    for (const auto& [key, work] : work_) {
      next = std::min(next, work.next);
    }
    if (requested_.empty() && next > Clock::now()) {
      if (next == Clock::time_point::max()) {
        cv_.wait(lock);
      } else {
        cv_.wait_until(lock, next);
      }
      continue;
    }
    for (const auto& key : requested_) {
      work_.emplace(key, Work{});
    }
    requested_.clear();
    busy_ = true;
    lock.unlock();

    const auto now = Clock::now();
    bool changed = false;
    for (auto it = work_.begin(); it != work_.end();) {
      {
        std::lock_guard<std::mutex> check(mu_);
        if (stopping_) {
          break;
        }
      }
      if (it->second.next > now) {
        ++it;
        continue;
      }
      process(it->first, it->second);
      changed = true;
      it = finished(it->first) ? work_.erase(it) : std::next(it);
    }
    if (changed) {
      publish();
    }
    lock.lock();
    busy_ = false;
    cv_.notify_all();
  }
}

bool SchemaService::finished(const Key& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto topic = entries_.find(key.topic);
  if (topic == entries_.end()) {
    return false;
  }
  const SideEntries& side = topic->second.side(key.side);
  if (key.need == Need::kValidate) {
    auto it = side.validation.find(key.ref);
    return it != side.validation.end() &&
           (it->second.state == EntryState::kReady || it->second.state == EntryState::kRefused);
  }
  auto it = side.translation.find(key.ref);
  return it != side.translation.end() &&
         (it->second.state == EntryState::kReady || it->second.state == EntryState::kRefused);
}

void SchemaService::process(const Key& key, Work& work) {
  if (key.need == Need::kValidate) {
    resolveValidation(key, work);
  } else {
    resolveTranslation(key, work);
  }
}

EntryState SchemaService::stateFor(const RegistryError& error) const {
  switch (error.code) {
  case RegistryErrc::kUnavailable:
    return EntryState::kRetry;
  case RegistryErrc::kNotFound:
    return EntryState::kRefused;
  default:
    // Credentials, a refusal, an answer that is not the API: a person has to act.
    return EntryState::kPaused;
  }
}

milliseconds SchemaService::delayFor(EntryState state, Work& work) const {
  if (state == EntryState::kPaused) {
    return options_.paused_recheck;
  }
  milliseconds delay = options_.retry_initial;
  for (int i = 0; i < work.attempts && delay < options_.retry_max; ++i) {
    delay *= 2;
  }
  return std::min(delay, options_.retry_max);
}

void SchemaService::setValidation(const Key& key, Work& work, ValidationEntry entry) {
  if (entry.state == EntryState::kRetry || entry.state == EntryState::kPaused) {
    entry.retry_after = delayFor(entry.state, work);
    work.next = Clock::now() + entry.retry_after;
    ++work.attempts;
  }
  if (entry.state == EntryState::kRefused && entry.reason.empty()) {
    entry.reason = "schema-mismatch";
  }
  std::optional<EntryState> before;
  const EntryState after = entry.state;
  const std::string detail = entry.detail;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto [it, fresh] = entries_[key.topic].side(key.side).validation.try_emplace(key.ref);
    if (!fresh) {
      before = it->second.state;
    }
    it->second = std::move(entry);
  }
  logChange(key, before, after, detail);
  if (after == EntryState::kReady && translate_) {
    // A schema that fits the contract is what the ID stage asks for next (the record's side in
    // the target registry): start on it now, so the first records of a new schema wait for one
    // round of fetching, not two.
    request(Need::kTranslate, key.topic, key.side, key.ref);
  }
}

void SchemaService::setTranslation(const Key& key, Work& work, TranslationEntry entry) {
  if (entry.state == EntryState::kRetry || entry.state == EntryState::kPaused) {
    entry.retry_after = delayFor(entry.state, work);
    work.next = Clock::now() + entry.retry_after;
    ++work.attempts;
  }
  std::optional<EntryState> before;
  const EntryState after = entry.state;
  const std::string detail = entry.detail;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto [it, fresh] = entries_[key.topic].side(key.side).translation.try_emplace(key.ref);
    if (!fresh) {
      before = it->second.state;
    }
    it->second = std::move(entry);
  }
  logChange(key, before, after, detail);
}

void SchemaService::logChange(const Key& key, std::optional<EntryState> before, EntryState after,
                              const std::string& detail) const {
  if (before == after) {
    return;  // one line per change, not per attempt
  }
  const char* what = key.need == Need::kValidate ? "contract" : "ID translation";
  const std::string subject =
      (options_.log_name.empty() ? "link '" + link_.name + "'" : options_.log_name) + ": topic '" +
      key.topic + "', " + describeKey(key.side, key.ref);
  switch (after) {
  case EntryState::kRetry:
    spdlog::warn("{} ({}): waiting for a registry, retrying with backoff: {}", subject, what,
                 detail);
    break;
  case EntryState::kPaused:
    spdlog::warn("{} ({}): paused, checked again every {}: {}", subject, what,
                 seconds(options_.paused_recheck), detail);
    break;
  case EntryState::kRefused:
    spdlog::warn("{} ({}): its records are refused (on_violation decides): {}", subject, what,
                 detail);
    break;
  case EntryState::kReady:
    if (before) {
      spdlog::info("{} ({}): ready, its records go on", subject, what);
    }
    break;
  }
}

void SchemaService::publish() {
  std::lock_guard<std::mutex> lock(mu_);
  auto snapshot = std::make_shared<SchemaSnapshot>();
  snapshot->version = version_.load(std::memory_order_relaxed) + 1;
  snapshot->topics = entries_;
  snapshot_ = std::move(snapshot);
  version_.store(snapshot_->version, std::memory_order_release);
}

// --- Registry reads ------------------------------------------------------------------------------

RegistryResult<ResolvedSchema> SchemaService::resolveReferences(Registry& registry,
                                                                const Schema& schema) {
  ResolvedSchema out;
  out.schema = schema;
  std::function<std::optional<RegistryError>(const Schema&, int)> add =
      [&](const Schema& at, int depth) -> std::optional<RegistryError> {
    if (depth > kMaxReferenceDepth) {
      return RegistryError{RegistryErrc::kRejected, 0, 0,
                           "references nested more than " + std::to_string(kMaxReferenceDepth) +
                               " levels deep (a cycle?)"};
    }
    for (const auto& ref : at.references) {
      if (std::any_of(out.references.begin(), out.references.end(),
                      [&ref](const auto& r) { return r.first == ref.name; })) {
        continue;
      }
      auto referenced = &registry == source_.get()
                            ? sourceVersion(ref.subject, ref.version)
                            : registry.subjectVersion(ref.subject, ref.version);
      if (!referenced) {
        return referenced.error();
      }
      if (auto problem = add(referenced->schema, depth + 1)) {
        return problem;
      }
      out.references.emplace_back(ref.name, referenced->schema);
    }
    return std::nullopt;
  };
  if (auto problem = add(schema, 0)) {
    return *problem;
  }
  return out;
}

RegistryResult<SchemaService::Resolved> SchemaService::writerSchema(const SchemaRef& ref) {
  if (auto it = writers_.find(ref); it != writers_.end()) {
    return it->second;
  }
  auto schema = ref.isGuid() ? source_->schemaByGuid(ref.guid) : source_->schemaById(ref.id, "");
  if (!schema) {
    return schema.error();
  }
  auto resolved = resolveReferences(*source_, *schema);
  if (!resolved) {
    return resolved.error();
  }
  Resolved out;
  out.schema = std::move(*resolved);
  if (auto name = recordName(out.schema.schema)) {
    out.record = *name;
  }
  writers_[ref] = out;
  return out;
}

RegistryResult<RegisteredSchema> SchemaService::sourceVersion(const std::string& subject,
                                                              int version) {
  const auto key = std::make_pair(subject, version);
  const auto now = Clock::now();
  if (auto it = versions_.find(key);
      it != versions_.end() &&
      (version > 0 || now - it->second.fetched < options_.contract_refresh)) {
    return it->second.schema;
  }
  auto fetched = source_->subjectVersion(subject, version);
  if (!fetched) {
    return fetched.error();
  }
  versions_[key] = CachedVersion{*fetched, now};
  return std::move(*fetched);
}

std::string SchemaService::targetSubject(const std::string& subject) const {
  const auto& schemas = link_.schemas;
  std::string out = schemas.context.empty() ? std::string() : ":" + schemas.context + ":";
  return out + schemas.subject_prefix + subject;
}

RegistryResult<std::vector<SchemaReference>> SchemaService::registerReferences(const Schema& schema,
                                                                               int depth) {
  std::vector<SchemaReference> out;
  if (depth > kMaxReferenceDepth) {
    return RegistryError{RegistryErrc::kRejected, 0, 0,
                         "references nested more than " + std::to_string(kMaxReferenceDepth) +
                             " levels deep (a cycle?)"};
  }
  for (const auto& ref : schema.references) {
    const auto cache_key = std::make_pair(ref.subject, ref.version);
    if (auto it = target_references_.find(cache_key); it != target_references_.end()) {
      SchemaReference rewritten = it->second;
      rewritten.name = ref.name;
      out.push_back(std::move(rewritten));
      continue;
    }
    auto referenced = sourceVersion(ref.subject, ref.version);
    if (!referenced) {
      return referenced.error();
    }
    auto nested = registerReferences(referenced->schema, depth + 1);
    if (!nested) {
      return nested.error();
    }
    Schema copy = referenced->schema;
    copy.references = std::move(*nested);
    const std::string subject = targetSubject(ref.subject);
    auto id = target_->registerSchema(subject, copy);
    if (!id) {
      return id.error();
    }
    auto found = target_->lookup(subject, copy);
    if (!found) {
      return found.error();
    }
    SchemaReference rewritten{ref.name, subject, found->version};
    target_references_[cache_key] = rewritten;
    out.push_back(std::move(rewritten));
  }
  return out;
}

// --- Contracts -----------------------------------------------------------------------------------

void SchemaService::resolveValidation(const Key& key, Work& work) {
  const Contract* contract = contracts_.find(key.topic);
  if (contract == nullptr) {
    return setValidation(key, work, {EntryState::kRefused, nullptr, "no contract applies", {}, {}});
  }
  const auto& side = contract->side(key.side);
  if (source_ == nullptr) {
    return setValidation(key, work,
                         {EntryState::kPaused,
                          nullptr,
                          "contract " + contract->name + " needs a schema registry, and cluster '" +
                              link_.source + "' has none (set `registry:` on it)",
                          {},
                          {}});
  }
  auto writer = writerSchema(key.ref);
  if (!writer) {
    const auto& error = writer.error();
    const EntryState state = stateFor(error);
    return setValidation(key, work,
                         {state,
                          nullptr,
                          state == EntryState::kRefused
                              ? key.ref.str() + " is not in registry '" + source_->name() + "'"
                              : error.message,
                          {},
                          "unknown-schema"});
  }
  const SchemaType type = writer->schema.schema.type;
  const char* expected = config::payloadFormatName(side.format);
  if (std::string(formatName(type)) != expected) {
    return setValidation(
        key, work,
        {EntryState::kRefused,
         nullptr,
         key.ref.str() + " is a " + formatName(type) + " schema, the contract says " + expected,
         {},
         {}});
  }
  if (side.subject_strategy != config::SubjectStrategy::kTopic && writer->record.empty()) {
    return setValidation(key, work,
                         {EntryState::kRefused,
                          nullptr,
                          key.ref.str() + " has no record name for the subject strategy " +
                              config::subjectStrategyName(side.subject_strategy),
                          {},
                          {}});
  }
  const std::string subject =
      subjectName(side.subject_strategy, key.topic, key.side, writer->record);
  auto reader = sourceVersion(subject, side.version);
  if (!reader) {
    const auto& error = reader.error();
    EntryState state = stateFor(error);
    std::string detail = error.message;
    if (error.code == RegistryErrc::kNotFound) {
      state = EntryState::kPaused;  // the contract's subject is missing: a person must act
      detail = "the contract's subject " + subject +
               (side.version > 0 ? " version " + std::to_string(side.version) : "") +
               " is not in registry '" + source_->name() + "'";
    }
    return setValidation(key, work, {state, nullptr, detail, {}, {}});
  }
  const bool decode_only =
      side.compatibility == config::Compatibility::kNone && type != SchemaType::kJson;
  if (side.compatibility == config::Compatibility::kNone) {
    // Any schema of the subject is acceptable: the writer's must be one of them.
    auto found = source_->lookup(subject, writer->schema.schema);
    if (!found) {
      const EntryState state = stateFor(found.error());
      return setValidation(key, work,
                           {state,
                            nullptr,
                            state == EntryState::kRefused
                                ? key.ref.str() + " is not registered under subject " + subject
                                : found.error().message,
                            {},
                            {}});
    }
  }
  auto reader_resolved = resolveReferences(*source_, reader->schema);
  if (!reader_resolved) {
    return setValidation(key, work,
                         {stateFor(reader_resolved.error()) == EntryState::kRetry
                              ? EntryState::kRetry
                              : EntryState::kPaused,
                          nullptr,
                          reader_resolved.error().message,
                          {},
                          {}});
  }
  auto validator = compileValidator(writer->schema, decode_only ? nullptr : &*reader_resolved,
                                    side.compatibility);
  if (!validator) {
    return setValidation(key, work,
                         {EntryState::kRefused,
                          nullptr,
                          key.ref.str() + " does not fit contract " + contract->name +
                              " (subject " + subject + " version " +
                              std::to_string(reader->version) + "): " + validator.error().message,
                          {},
                          {}});
  }
  setValidation(key, work, {EntryState::kReady, std::move(*validator), {}, {}, {}});
}

// --- ID translation ------------------------------------------------------------------------------

void SchemaService::resolveTranslation(const Key& key, Work& work) {
  if (!translate_) {
    return setTranslation(key, work, {EntryState::kReady, key.ref, {}, {}});
  }
  auto failed = [&](const RegistryError& error, const std::string& what) {
    const EntryState state = stateFor(error);
    setTranslation(key, work,
                   {state == EntryState::kRefused ? EntryState::kPaused : state,
                    {},
                    what + ": " + error.message,
                    {}});
  };
  if (key.ref.isGuid()) {
    // GUIDs are global: they pass unchanged where the target registry knows them.
    auto known = target_->schemaByGuid(key.ref.guid);
    if (known) {
      return setTranslation(key, work, {EntryState::kReady, key.ref, {}, {}});
    }
    if (known.error().code == RegistryErrc::kNotFound) {
      return setTranslation(key, work,
                            {EntryState::kPaused,
                             {},
                             key.ref.str() + " is not known to the target registry '" +
                                 target_->name() +
                                 "' (GUIDs pass through unchanged; register the schema there)",
                             {}});
    }
    return failed(known.error(), "checking " + key.ref.str() + " in the target registry");
  }
  auto writer = writerSchema(key.ref);
  if (!writer) {
    if (writer.error().code == RegistryErrc::kNotFound) {
      return setTranslation(key, work,
                            {EntryState::kRefused,
                             {},
                             key.ref.str() + " is not in registry '" + source_->name() + "'",
                             {}});
    }
    return failed(writer.error(), "reading " + key.ref.str());
  }
  config::SubjectStrategy strategy = config::SubjectStrategy::kTopic;
  if (const Contract* contract = contracts_.find(key.topic)) {
    if (contract->side(key.side).usesRegistry()) {
      strategy = contract->side(key.side).subject_strategy;
    }
  }
  const std::string mirror = options_.mirror_topic(key.topic);
  const std::string subject =
      targetSubject(subjectName(strategy, mirror, key.side, writer->record));
  auto references = registerReferences(writer->schema.schema, 0);
  if (!references) {
    return failed(references.error(), "registering the references of " + key.ref.str());
  }
  Schema copy = writer->schema.schema;
  copy.references = std::move(*references);
  // What the messages below call it: the writer's schema, or the schema derived from it.
  std::string what = key.ref.str();
  if (options_.derive) {
    auto resolved = resolveReferences(*source_, writer->schema.schema);
    if (!resolved) {
      return failed(resolved.error(), "reading the references of " + key.ref.str());
    }
    if (std::optional<std::string> derived =
            options_.derive(key.topic, key.side, key.ref, *resolved)) {
      copy.text = std::move(*derived);
      // The writer's data-contract rules name fields as the writer wrote them.
      copy.rule_set.clear();
      what += " (as the link's partner policy derives it)";
    }
  }
  // Before the first record of this schema crosses: would the target subject take it?
  auto compatible = target_->checkCompatibility(subject, copy);
  if (!compatible) {
    return failed(compatible.error(), "checking " + what + " against subject " + subject);
  }
  if (!compatible->compatible) {
    std::string why;
    for (const auto& message : compatible->messages) {
      why += (why.empty() ? ": " : "; ") + message;
    }
    return setTranslation(key, work,
                          {EntryState::kPaused,
                           {},
                           what + " is incompatible with subject " + subject + " in registry '" +
                               target_->name() + "'" + why,
                           {}});
  }
  auto id = target_->registerSchema(subject, copy);
  if (!id) {
    if (id.error().code == RegistryErrc::kIncompatible) {
      return setTranslation(key, work,
                            {EntryState::kPaused,
                             {},
                             what + " is incompatible with subject " + subject + " in registry '" +
                                 target_->name() + "': " + id.error().message,
                             {}});
    }
    return failed(id.error(), "registering " + what + " as subject " + subject);
  }
  setTranslation(key, work, {EntryState::kReady, SchemaRef::ofId(*id), {}, {}});
}

// --- Status and counters -----------------------------------------------------------------------

std::map<std::string, std::string> SchemaService::topicStatus() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, std::string> out;
  for (const auto& [topic, entries] : entries_) {
    std::string line;
    int worst = -1;  // paused > retry > refused
    auto consider = [&](Side side, const SchemaRef& ref, EntryState state, milliseconds after,
                        const std::string& detail, const char* what) {
      int rank = -1;
      std::string text;
      switch (state) {
      case EntryState::kPaused:
        rank = 3;
        text = std::string("paused (") + what + "): " + describeKey(side, ref) + ": " + detail;
        break;
      case EntryState::kRetry:
        rank = 2;
        text = std::string("waiting for a registry (") + what + ", retry in " + seconds(after) +
               "): " + describeKey(side, ref) + ": " + detail;
        break;
      case EntryState::kRefused:
        rank = 1;
        text = std::string("refusing records (") + what + "): " + describeKey(side, ref) + ": " +
               detail;
        break;
      case EntryState::kReady:
        break;
      }
      if (rank > worst) {
        worst = rank;
        line = text;
      }
    };
    for (Side side : {Side::kKey, Side::kValue}) {
      for (const auto& [ref, entry] : entries.side(side).validation) {
        consider(side, ref, entry.state, entry.retry_after, entry.detail, "contract");
      }
      for (const auto& [ref, entry] : entries.side(side).translation) {
        consider(side, ref, entry.state, entry.retry_after, entry.detail, "ID translation");
      }
    }
    if (!line.empty()) {
      out[topic] = line;
    }
  }
  return out;
}

WaitingTopics SchemaService::waitingTopics() const {
  std::lock_guard<std::mutex> lock(mu_);
  WaitingTopics out;
  for (const auto& [topic, entries] : entries_) {
    bool retry = false;
    bool paused = false;
    auto consider = [&](EntryState state) {
      retry = retry || state == EntryState::kRetry;
      paused = paused || state == EntryState::kPaused;
    };
    for (Side side : {Side::kKey, Side::kValue}) {
      for (const auto& [ref, entry] : entries.side(side).validation) {
        consider(entry.state);
      }
      for (const auto& [ref, entry] : entries.side(side).translation) {
        consider(entry.state);
      }
    }
    out.registry_unavailable += retry ? 1 : 0;
    out.paused += paused ? 1 : 0;
  }
  return out;
}

}  // namespace causeway::schema
