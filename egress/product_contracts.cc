#include "egress/product_contracts.h"

#include "policies/derived_schema.h"
#include "policies/predicate.h"
#include "schema/avro_json_schema.h"
#include "schema/contracts.h"
#include "schema/protobuf_json_schema.h"
#include "schema/protobuf_validator.h"
#include "schema/schema_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace causeway::egress {
namespace {

using Clock = std::chrono::steady_clock;

// The registry client for listings: a lookup waits at most `timeout`, with no retries (a
// listing answers "registry unavailable" rather than waiting).
std::function<Result<schema::RegistryPtr>(const config::RegistryConfig&)>
cappedFactory(std::chrono::milliseconds timeout) {
  return [timeout](const config::RegistryConfig& config) {
    config::RegistryConfig capped = config;
    capped.timeout = std::min(capped.timeout, timeout);
    capped.connect_timeout = std::min(capped.connect_timeout, timeout);
    capped.retries = 0;
    return schema::makeRegistry(capped);
  };
}

// What a partner reads about a failed lookup: the kind of failure, never the registry's
// address or its own message (those go to the worker's log).
std::string listingError(const schema::RegistryError& error) {
  switch (error.code) {
  case schema::RegistryErrc::kNotFound:
    return "subject not found";
  case schema::RegistryErrc::kUnavailable:
    return "registry unavailable";
  case schema::RegistryErrc::kUnauthorized:
    return "registry refused the worker's credentials";
  default:
    return "registry error";
  }
}

// Does the policy's enforce-mode field rules reach into this side's payload?
bool rulesTouch(const config::PolicyConfig& policy, policies::PathRoot root) {
  if (policy.mode != config::PolicyMode::kEnforce) {
    return false;
  }
  return std::any_of(policy.fields.begin(), policy.fields.end(), [root](const auto& rule) {
    policies::PredicateError error;
    auto path = policies::parseFieldPath(rule.path.text, error);
    return path && path->root == root;
  });
}

std::vector<std::string> headersFor(const config::ProductConfig& product,
                                    const config::PolicyConfig* policy) {
  std::vector<std::string> out;
  for (const auto& name : product.headers) {
    if (policy != nullptr) {
      const auto& allow = policy->headers_allow;
      const auto& deny = policy->headers_deny;
      if (policy->headers_allow_set && std::find(allow.begin(), allow.end(), name) == allow.end()) {
        continue;
      }
      if (std::find(deny.begin(), deny.end(), name) != deny.end()) {
        continue;
      }
    }
    out.push_back(name);
  }
  return out;
}

nlohmann::json sideJson(const ContractSide& side) {
  nlohmann::json out = {{"format", side.format}};
  if (side.format == "json" || side.format == "avro" || side.format == "protobuf") {
    out["subject"] = side.subject.empty() ? nlohmann::json(nullptr) : nlohmann::json(side.subject);
  }
  if (side.schema_id) {
    out["schema_id"] = *side.schema_id;
    out["version"] = side.version;
  }
  if (!side.error.empty()) {
    out["error"] = side.error;
  }
  if (side.derived_schema) {
    out["derived_schema"] = nlohmann::json::parse(*side.derived_schema, nullptr, false);
  }
  if (!side.derived_schema_unavailable.empty()) {
    out["derived_schema_unavailable"] = side.derived_schema_unavailable;
  }
  if (!side.derived_schema_problems.empty()) {
    out["derived_schema_problems"] = side.derived_schema_problems;
  }
  return out;
}

}  // namespace

ProductContracts::ProductContracts(const config::Config& config)
    : ProductContracts(config, Options()) {}

ProductContracts::ProductContracts(const config::Config& config, Options options)
    : config_(config), options_(std::move(options)),
      contracts_(std::make_unique<schema::ContractSet>(config)) {
  if (!options_.registry_factory) {
    options_.registry_factory = cappedFactory(options_.timeout);
  }
}

ProductContracts::~ProductContracts() = default;

void ProductContracts::interrupt() {
  std::lock_guard lock(built_mu_);
  for (const auto& registry : built_) {
    registry->interrupt();
  }
}

ProductContractView
ProductContracts::describe(const config::ProductConfig& product,
                           const config::PartnerConfig* partner,
                           const std::optional<std::vector<std::string>>& topics) {
  const config::PolicyConfig* policy = nullptr;
  if (partner != nullptr && !partner->policy.empty()) {
    if (auto it = config_.policies.find(partner->policy); it != config_.policies.end()) {
      policy = &it->second;
    }
  }
  ProductContractView view;
  view.headers = headersFor(product, policy);
  if (!topics) {
    return view;
  }
  std::string registry;
  if (auto cluster = config_.clusters.find(product.source); cluster != config_.clusters.end()) {
    registry = cluster->second.registry;
  }
  view.topics.emplace();
  for (const auto& topic : *topics) {
    TopicContract out;
    out.topic = topic;
    if (const schema::Contract* contract = contracts_->find(topic)) {
      out.has_contract = true;
      out.name = contract->name;
      out.domain = contract->domain->name;
      if (contract->config->key.present) {
        out.key = side(topic, registry, contract->config->key, true, policy);
      }
      if (contract->config->value.present) {
        out.value = side(topic, registry, contract->config->value, false, policy);
      }
    }
    view.topics->push_back(std::move(out));
  }
  return view;
}

ContractSide ProductContracts::side(const std::string& topic, const std::string& registry,
                                    const config::ContractSideConfig& config, bool is_key,
                                    const config::PolicyConfig* policy) {
  ContractSide out;
  out.format = config::payloadFormatName(config.format);
  if (!config.usesRegistry()) {
    return out;
  }
  const schema::Side which = is_key ? schema::Side::kKey : schema::Side::kValue;
  std::optional<std::string> schema_text;  // copied: the cache may change once unlocked
  if (config.subject_strategy != config::SubjectStrategy::kTopic) {
    out.error = std::string("the subject follows the record name (") +
                config::subjectStrategyName(config.subject_strategy) +
                " strategy): known from the records only";
  } else if (registry.empty()) {
    out.subject = schema::subjectName(config.subject_strategy, topic, which, "");
    out.error = "the source cluster has no schema registry";
  } else {
    out.subject = schema::subjectName(config.subject_strategy, topic, which, "");
    std::lock_guard lock(mu_);
    const Cached& found = lookup(registry, out.subject, config.version);
    if (found.schema) {
      out.schema_id = found.schema->id;
      out.version = found.schema->version;
      schema_text = found.schema->schema.text;
    } else {
      out.error = found.error;
    }
  }
  const auto root = is_key ? policies::PathRoot::kKey : policies::PathRoot::kValue;
  if (config.format == config::PayloadFormat::kAvro ||
      config.format == config::PayloadFormat::kProtobuf) {
    decodedSide(config, schema_text, policy, root, out);
    return out;
  }
  if (policy == nullptr || !rulesTouch(*policy, root)) {
    return out;
  }
  if (!schema_text) {
    out.derived_schema_unavailable = "the contract's schema is unknown (" + out.error + ")";
    return out;
  }
  auto derived = policies::deriveJsonSchema(*schema_text, *policy, root);
  if (!derived) {
    out.derived_schema_unavailable = derived.error().message;
    return out;
  }
  if (derived->changed) {
    out.derived_schema = std::move(derived->schema);
  }
  out.derived_schema_problems = std::move(derived->problems);
  return out;
}

Result<std::string> decodedJsonSchema(config::PayloadFormat format, const std::string& text) {
  if (format == config::PayloadFormat::kJson) {
    return text;
  }
  if (format == config::PayloadFormat::kAvro) {
    auto model = schema::AvroModel::parse(text);
    if (!model) {
      // Named types from references are not fetched for the listing.
      return Error{"the contract's Avro schema does not parse on its own: " +
                   model.error().message};
    }
    return schema::avroJsonSchema(**model);
  }
  // Imports of other subjects are not fetched for the listing; protobuf's well-known types are
  // built in.
  auto file = schema::compileProto(
      schema::ResolvedSchema{schema::Schema{schema::SchemaType::kProtobuf, text, {}, {}, {}}, {}});
  if (!file) {
    return Error{"the contract's .proto does not compile on its own: " + file.error().message};
  }
  return schema::protobufJsonSchema(*(*file)->file);
}

void ProductContracts::decodedSide(const config::ContractSideConfig& config,
                                   const std::optional<std::string>& schema_text,
                                   const config::PolicyConfig* policy, policies::PathRoot root,
                                   ContractSide& out) {
  // Streams send Avro and Protobuf decoded to JSON in the contract's shape (schema/avro_json.h,
  // schema/protobuf_json.h) where the contract reads the writers' schemas: the JSON Schema of
  // that, after the policy.
  if (!config::contractReadsWriters(config.compatibility)) {
    out.derived_schema_unavailable =
        std::string("records arrive in their writers' shapes (compatibility ") +
        config::compatibilityName(config.compatibility) + ")";
    return;
  }
  if (!schema_text) {
    out.derived_schema_unavailable = "the contract's schema is unknown (" + out.error + ")";
    return;
  }
  auto decoded = decodedJsonSchema(config.format, *schema_text);
  if (!decoded) {
    out.derived_schema_unavailable = decoded.error().message;
    return;
  }
  std::string json_schema = std::move(*decoded);
  if (policy == nullptr || !rulesTouch(*policy, root)) {
    out.derived_schema = std::move(json_schema);
    return;
  }
  auto derived = policies::deriveJsonSchema(json_schema, *policy, root);
  if (!derived) {
    out.derived_schema_unavailable = derived.error().message;
    return;
  }
  out.derived_schema = std::move(derived->schema);
  out.derived_schema_problems = std::move(derived->problems);
}

const ProductContracts::Cached& ProductContracts::lookup(const std::string& name,
                                                         const std::string& subject, int version) {
  RegistryState& state = registries_[name];
  Cached& cached = state.subjects[{subject, version}];
  const auto now = Clock::now();
  if (cached.at != Clock::time_point{} &&
      now - cached.at < (cached.schema ? options_.refresh : options_.retry)) {
    return cached;
  }
  if (!state.registry && state.build_error.empty()) {
    auto registry = config_.registries.find(name);
    if (registry == config_.registries.end()) {
      state.build_error = "no registry named '" + name + "'";
    } else if (auto built = options_.registry_factory(registry->second)) {
      state.registry = *built;
      std::lock_guard lock(built_mu_);
      built_.push_back(state.registry);
    } else {
      state.build_error = built.error().message;
    }
    if (!state.build_error.empty()) {
      spdlog::warn("products listing: registry '{}' cannot be used: {}", name, state.build_error);
    }
  }
  const auto keepStale = [&] {
    // A schema fetched before stays in the listing; the registry is asked again after `retry`.
    cached.at = now - options_.refresh + options_.retry;
  };
  if (!state.registry || now < state.down_until) {
    if (cached.schema) {
      keepStale();
    } else {
      cached.error = "registry unavailable";
      cached.at = now;
    }
    return cached;
  }
  auto fetched = state.registry->subjectVersion(subject, version);
  if (fetched) {
    cached.schema = std::move(*fetched);
    cached.error.clear();
    cached.at = now;
    return cached;
  }
  const schema::RegistryError& error = fetched.error();
  spdlog::warn("products listing: subject {} (version {}) in registry '{}': {}", subject,
               version == 0 ? std::string("latest") : std::to_string(version), name, error.message);
  if (error.retryable()) {
    state.down_until = now + options_.retry;  // the next subjects do not wait for it again
  }
  if (cached.schema && error.retryable()) {
    keepStale();
    return cached;
  }
  cached.schema.reset();
  cached.error = listingError(error);
  cached.at = now;
  return cached;
}

void addContractsJson(const ProductContractView& view, nlohmann::json& product) {
  if (!view.topics) {
    product["contracts"] = nullptr;
  } else {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& topic : *view.topics) {
      nlohmann::json contract = nullptr;
      if (topic.has_contract) {
        contract = {{"name", topic.name}, {"domain", topic.domain}};
        if (topic.value) {
          contract.update(sideJson(*topic.value));
        }
        if (topic.key) {
          contract["key"] = sideJson(*topic.key);
        }
      }
      list.push_back({{"topic", topic.topic}, {"contract", std::move(contract)}});
    }
    product["contracts"] = std::move(list);
  }
  product["headers"] = view.headers;
}

}  // namespace causeway::egress
