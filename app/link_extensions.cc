#include "app/link_extensions.h"

#include "egress/policy_paths.h"
#include "policies/audit_topic_sink.h"
#include "policies/avro_payload.h"
#include "policies/derived_schema.h"
#include "policies/policy_metrics.h"
#include "policies/policy_runtime.h"
#include "policies/protobuf_payload.h"
#include "replicator/topic_selector.h"
#include "schema/check_config.h"
#include "schema/schema_metrics.h"
#include "schema/schema_stages.h"

#include <spdlog/spdlog.h>

#include <map>
#include <vector>

namespace causeway::app {

// The links' violation counters (one set per link name, for the worker's life) and their
// running schema services (weakly: a stopped link's service goes away with its stages).
// Thread-safe: links start on the worker's threads, /metrics reads on the server's.
class SchemaServices {
public:
  std::shared_ptr<schema::ViolationCounters> countersFor(const std::string& link) {
    std::lock_guard lock(mu_);
    auto& counters = links_[link].counters;
    if (!counters) {
      counters = std::make_shared<schema::ViolationCounters>();
    }
    return counters;
  }

  void started(const std::string& link, const std::shared_ptr<schema::SchemaService>& service) {
    std::lock_guard lock(mu_);
    auto& services = links_[link].services;
    std::erase_if(services, [](const auto& weak) { return weak.expired(); });
    services.push_back(service);
  }

  std::vector<schema::LinkSchemaMetrics> metrics() const {
    std::vector<std::pair<std::string, std::shared_ptr<schema::SchemaService>>> running;
    std::vector<schema::LinkSchemaMetrics> out;
    {
      std::lock_guard lock(mu_);
      for (const auto& [name, link] : links_) {
        schema::LinkSchemaMetrics metrics;
        metrics.link = name;
        if (link.counters) {
          metrics.violations = link.counters->counts();
        }
        out.push_back(std::move(metrics));
        for (const auto& weak : link.services) {
          if (auto service = weak.lock()) {
            running.emplace_back(name, std::move(service));
          }
        }
      }
    }
    // Outside the lock: the last reference to a service may be dropped here, which joins its
    // thread.
    for (auto& [name, service] : running) {
      for (auto& metrics : out) {
        if (metrics.link == name) {
          const schema::WaitingTopics waiting = service->waitingTopics();
          schema::WaitingTopics& sum =
              metrics.waiting ? *metrics.waiting : metrics.waiting.emplace();
          sum.registry_unavailable += waiting.registry_unavailable;
          sum.paused += waiting.paused;
        }
      }
    }
    running.clear();
    return out;
  }

private:
  struct Link {
    std::shared_ptr<schema::ViolationCounters> counters;
    std::vector<std::weak_ptr<schema::SchemaService>> services;
  };
  mutable std::mutex mu_;
  std::map<std::string, Link> links_;
};

namespace {

// The writer schemas a policy that reads Avro or Protobuf records learns from the link's
// schema service (one of the two, or neither).
struct WriterShapes {
  std::shared_ptr<policies::AvroShapes> avro;
  std::shared_ptr<policies::ProtobufShapes> protobuf;
};

class PolicyExtensions final : public replicator::LinkExtensions {
public:
  PolicyExtensions(std::shared_ptr<const config::Config> config,
                   std::shared_ptr<policies::PolicyRuntime> runtime,
                   std::shared_ptr<SchemaServices> schemas)
      : config_(std::move(config)), runtime_(std::move(runtime)), schemas_(std::move(schemas)) {}

  // Contracts first (they check the producer's bytes), then the partner policy (which may
  // rewrite them).
  Result<std::vector<pipeline::StagePtr>> makeStages(const config::LinkConfig& link) override {
    auto selector = replicator::TopicSelector::create(link);
    if (!selector) {
      return selector.error();
    }
    // Avro records a policy edits are read with their writer's schema, which the schema
    // service hands over (with the policy's shape of it) as it translates each ID.
    auto policy = config_->policies.find(link.policy);
    WriterShapes shapes;
    if (!link.policy.empty() && policy != config_->policies.end()) {
      if (policy->second.value_format == "avro") {
        shapes.avro = std::make_shared<policies::AvroShapes>();
      } else if (policy->second.value_format == "protobuf") {
        shapes.protobuf = std::make_shared<policies::ProtobufShapes>();
      }
    }
    auto service = schema::startSchemaService(
        *config_, link,
        [naming = std::move(*selector)](const std::string& topic) {
          return naming.targetTopic(topic);
        },
        schemas_->countersFor(link.name), derivedSchemas(link, shapes));
    if (!service) {
      return service.error();
    }
    if (*service) {
      schemas_->started(link.name, *service);
    }
    {
      std::lock_guard lock(mu_);
      services_[link.name] = *service;  // null when the link has no schema stages
    }
    std::vector<pipeline::StagePtr> stages =
        schema::makeSchemaStages(*config_, link, std::move(*service));
    auto policy_stages =
        policies::makePolicyStages(*config_, link, *runtime_, shapes.avro, shapes.protobuf);
    if (!policy_stages) {
      return policy_stages.error();
    }
    for (auto& stage : *policy_stages) {
      stages.push_back(std::move(stage));
    }
    return stages;
  }

  // For the target registry, when the link translates IDs: the schema of what the link's
  // partner policy makes of a writer's records, so that the ID in front of an edited record
  // names a schema that describes it. JSON: policies/derived_schema.h. Avro (formats.value:
  // avro): policies/avro_policy_schema.h, Protobuf: policies/protobuf_policy_schema.h; the
  // writer's schema with the policy's shape of it goes into `shapes` for the policy stage,
  // which reads the records with it.
  schema::DeriveSchema derivedSchemas(const config::LinkConfig& link,
                                      const WriterShapes& shapes) const {
    auto policy = config_->policies.find(link.policy);
    if (link.policy.empty() || policy == config_->policies.end()) {
      return {};
    }
    const bool enforce = policy->second.mode == config::PolicyMode::kEnforce;
    const bool by_writer = shapes.avro != nullptr || shapes.protobuf != nullptr;
    if (!by_writer && (!enforce || policy->second.fields.empty())) {
      return {};
    }
    policies::PolicyPtr compiled = runtime_->policy(link.policy);
    if (by_writer && compiled == nullptr) {
      return {};  // makePolicyStages says why
    }
    // Once per writer schema, on the schema service's thread: what the derivation could not
    // describe is logged (a path through a reference to another subject, a field the schema
    // does not declare), since the registered schema may then not fit every edited record.
    return [policy = policy->second, link_name = link.name, shapes, compiled,
            enforce](const std::string& topic, schema::Side side, const schema::SchemaRef& ref,
                     const schema::ResolvedSchema& resolved) -> std::optional<std::string> {
      const schema::Schema& writer = resolved.schema;
      if (shapes.avro != nullptr || shapes.protobuf != nullptr) {
        if (side != schema::Side::kValue || ref.isGuid()) {
          return std::nullopt;
        }
        if (shapes.avro != nullptr && writer.type == schema::SchemaType::kAvro) {
          return avroShape(*shapes.avro, *compiled, link_name, topic, ref.id, resolved, enforce);
        }
        if (shapes.protobuf != nullptr && writer.type == schema::SchemaType::kProtobuf) {
          return protobufShape(*shapes.protobuf, *compiled, link_name, topic, ref.id, resolved,
                               enforce);
        }
        return std::nullopt;
      }
      if (writer.type != schema::SchemaType::kJson) {
        return std::nullopt;
      }
      const char* side_name = side == schema::Side::kKey ? "key" : "value";
      auto derived = policies::deriveJsonSchema(
          writer.text, policy,
          side == schema::Side::kKey ? policies::PathRoot::kKey : policies::PathRoot::kValue);
      if (!derived) {
        spdlog::warn("link '{}': the {} schema for the target is registered as written: policy "
                     "'{}' cannot be applied to it ({})",
                     link_name, side_name, policy.name, derived.error().message);
        return std::nullopt;
      }
      for (const std::string& problem : derived->problems) {
        spdlog::warn("link '{}': the {} schema policy '{}' derives for the target may not fit "
                     "every edited record: {}",
                     link_name, side_name, policy.name, problem);
      }
      if (!derived->changed) {
        return std::nullopt;
      }
      return std::move(derived->schema);
    };
  }

  // The policy's shape of an Avro writer schema, for the policy stage; the derived schema's
  // text when it differs from the writer's (and the policy is enforced).
  static std::optional<std::string> avroShape(policies::AvroShapes& shapes,
                                              const policies::Policy& policy,
                                              const std::string& link_name,
                                              const std::string& topic, uint32_t id,
                                              const schema::ResolvedSchema& writer, bool enforce) {
    // Named types from references are defined by the references' texts, in the order the
    // service resolved them (each after the ones it uses).
    std::vector<std::string_view> references;
    for (const auto& [name, referenced] : writer.references) {
      references.push_back(referenced.text);
    }
    return learned(shapes,
                   policies::makeAvroShape(writer.schema.text, references, policy.rules(),
                                           policy.slots().size()),
                   policy, link_name, topic, id, enforce);
  }

  // The same for a Protobuf writer schema (its .proto file, with the files it imports).
  static std::optional<std::string>
  protobufShape(policies::ProtobufShapes& shapes, const policies::Policy& policy,
                const std::string& link_name, const std::string& topic, uint32_t id,
                const schema::ResolvedSchema& writer, bool enforce) {
    return learned(shapes,
                   policies::makeProtobufShape(writer, policy.rules(), policy.slots().size()),
                   policy, link_name, topic, id, enforce);
  }

  // Puts a writer schema's shape where the policy stage finds it (a shape whose only problem
  // is that the schema cannot be read, when it cannot), logs what the policy cannot do to its
  // records, and returns the derived schema's text for the target registry.
  template <class Shape>
  static std::optional<std::string>
  learned(policies::ShapeTable<Shape>& shapes, Result<std::shared_ptr<const Shape>> shape,
          const policies::Policy& policy, const std::string& link_name, const std::string& topic,
          uint32_t id, bool enforce) {
    if (!shape) {
      // The stage dead-letters (or skips, or stops on) the records of this schema, saying so.
      auto failed = std::make_shared<Shape>();
      failed->derived.problems.push_back("writer schema id " + std::to_string(id) +
                                         " cannot be read: " + shape.error().message);
      spdlog::warn("link '{}': policy '{}' cannot read records of value schema id {}: {}",
                   link_name, policy.name(), id, failed->derived.problems.front());
      shapes.put(topic, id, std::move(failed));
      return std::nullopt;
    }
    for (const std::string& problem : (*shape)->derived.problems) {
      spdlog::warn("link '{}': policy '{}' cannot edit records of value schema id {}, which "
                   "go to the dead-letter queue (or as on_violation says): {}",
                   link_name, policy.name(), id, problem);
    }
    std::optional<std::string> text;
    if (enforce && (*shape)->derived.changed && (*shape)->derived.problems.empty()) {
      text = (*shape)->derived.schema;
    }
    shapes.put(topic, id, std::move(*shape));
    return text;
  }

  // The schema service's topic status: why a topic's records wait (a registry that does not
  // answer, a target subject that would not take the schema) or are refused.
  std::map<std::string, std::string> topicNotes(const config::LinkConfig& link) const override {
    std::shared_ptr<schema::SchemaService> service;
    {
      std::lock_guard lock(mu_);
      if (auto it = services_.find(link.name); it != services_.end()) {
        service = it->second.lock();
      }
    }
    return service ? service->topicStatus() : std::map<std::string, std::string>{};
  }

  bool allowsTopic(const config::LinkConfig& link, std::string_view topic) const override {
    return runtime_->allowsTopic(link, topic);
  }

  // Conservative: any domain may cover the link's topics (a new one may start to), and a
  // catalog's files or a policy's key files may have changed under the same configuration.
  bool restartsOnReload(const config::LinkConfig& link) const override {
    return !link.policy.empty() || link.schemas.translate_ids ||
           (link.schemas.check_contracts && !config_->domains.empty());
  }

private:
  std::shared_ptr<const config::Config> config_;
  std::shared_ptr<policies::PolicyRuntime> runtime_;
  std::shared_ptr<SchemaServices> schemas_;
  mutable std::mutex mu_;
  // The schema service of each link's latest start with these extensions (the link's stages own
  // it: it goes away with them).
  std::map<std::string, std::weak_ptr<schema::SchemaService>> services_;
};

}  // namespace

LinkExtensionsHub::LinkExtensionsHub() : schemas_(std::make_shared<SchemaServices>()) {}

LinkExtensionsHub::~LinkExtensionsHub() = default;

replicator::LinkExtensionsFactory LinkExtensionsHub::factory() {
  return [this](const config::Config& config) -> Result<replicator::LinkExtensionsPtr> {
    // What needs the subsystems (catalog schemas compile, policy filters and keys), with the
    // configuration's line:col, before any link starts.
    std::vector<config::ConfigError> errors = schema::checkConfig(config);
    if (errors.empty()) {
      // A reloaded configuration too: policy paths against the contracts of the topics, with
      // the schemas of REST registries (which check-config does not connect to).
      auto paths =
          egress::checkPolicyPaths(config, egress::ContractSchemas::kCatalogsAndRegistries);
      for (const std::string& warning : paths.warnings) {
        spdlog::warn("{}", warning);
      }
      errors = std::move(paths.errors);
    }
    std::shared_ptr<policies::PolicyRuntime> runtime =
        errors.empty()
            ? policies::PolicyRuntime::create(config, errors, {}, policies::auditTopicFactory())
            : nullptr;
    if (!runtime) {
      std::string text;
      for (const auto& error : errors) {
        text += (text.empty() ? "" : "\n") + error.str();
      }
      return Error{text.empty() ? "the partner policies could not be compiled" : text};
    }
    runtime->startAudit();
    {
      std::lock_guard lock(mu_);
      current_ = runtime;
    }
    return replicator::LinkExtensionsPtr(std::make_shared<PolicyExtensions>(
        std::make_shared<const config::Config>(config), std::move(runtime), schemas_));
  };
}

void LinkExtensionsHub::addEgressPolicies(std::shared_ptr<policies::PolicyRuntime> runtime) {
  runtime->startAudit();
  std::lock_guard lock(mu_);
  egress_ = std::move(runtime);
}

void LinkExtensionsHub::addMetrics(monitoring::ExpositionWriter& writer) const {
  std::shared_ptr<policies::PolicyRuntime> runtime;
  std::shared_ptr<policies::PolicyRuntime> egress;
  {
    std::lock_guard lock(mu_);
    runtime = current_;
    egress = egress_;
  }
  // One family per metric name: the links' and egress's counters are rendered together (their
  // `link` labels differ: egress counts under "egress/<partner>/<product>").
  std::vector<policies::PolicyCountsSnapshot> counts;
  if (runtime) {
    counts = runtime->snapshot();
  }
  if (egress && egress != runtime) {
    for (auto& snapshot : egress->snapshot()) {
      counts.push_back(std::move(snapshot));
    }
  }
  if (runtime || egress) {
    policies::addPolicyMetrics(writer, counts);
  }
  schema::addSchemaMetrics(writer, schemas_->metrics());
}

}  // namespace causeway::app
