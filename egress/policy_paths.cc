#include "egress/policy_paths.h"

#include "egress/product_contracts.h"
#include "policies/json_schema_types.h"
#include "policies/policy.h"
#include "schema/contracts.h"
#include "schema/schema_service.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <set>

namespace causeway::egress {
namespace {

// The topic name a regex matches when it matches exactly one: letters, digits, '_', '-' and
// escaped dots only.
std::optional<std::string> plainTopic(const std::string& regex) {
  std::string out;
  for (size_t i = 0; i < regex.size(); ++i) {
    const char c = regex[i];
    if (c == '\\' && i + 1 < regex.size() && regex[i + 1] == '.') {
      out.push_back('.');
      ++i;
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-') {
      out.push_back(c);
    } else {
      return std::nullopt;
    }
  }
  return out.empty() ? std::nullopt : std::optional<std::string>(out);
}

class Checker {
public:
  explicit Checker(const config::Config& config) : config_(config), contracts_(config) {}

  // Checks `policy` against the key and value contracts of the plain topics among `topics` of
  // `cluster`. `decoded`: records reach the policy decoded to JSON (partner streams).
  void check(const config::PolicyConfig& policy, const std::string& cluster,
             const std::vector<std::string>& topics, bool decoded) {
    schema::Registry* registry = catalogOf(cluster);
    if (registry == nullptr || contracts_.empty()) {
      return;
    }
    for (const std::string& regex : topics) {
      const std::optional<std::string> topic = plainTopic(regex);
      const schema::Contract* contract = topic ? contracts_.find(*topic) : nullptr;
      if (contract == nullptr) {
        continue;
      }
      const auto value_types =
          typesOf(*registry, contract->config->value, *topic, schema::Side::kValue, decoded);
      const auto key_types =
          typesOf(*registry, contract->config->key, *topic, schema::Side::kKey, decoded);
      if (!value_types && !key_types) {
        continue;
      }
      policies::CompileOptions options;
      options.value_types = value_types.get();
      options.key_types = key_types.get();
      options.load_keys = false;  // once per policy is enough: the baseline compile reads them
      for (config::ConfigError& error : newErrors(policy, options)) {
        if (reported_.insert(error.str()).second) {  // a policy shared by products and links
          errors_.push_back(std::move(error));
        }
      }
    }
  }

  std::vector<config::ConfigError> take() { return std::move(errors_); }

private:
  // What one side's contract schema says about the fields the policy reads, when the schema is
  // on disk and records reach the policy in its shape; null otherwise.
  std::unique_ptr<policies::JsonSchemaTypes> typesOf(schema::Registry& registry,
                                                     const config::ContractSideConfig& side,
                                                     const std::string& topic, schema::Side which,
                                                     bool decoded) {
    if (!side.present || !side.usesRegistry() ||
        side.subject_strategy != config::SubjectStrategy::kTopic) {
      return nullptr;
    }
    const bool json = side.format == config::PayloadFormat::kJson;
    if (!json && (!decoded || !config::contractReadsWriters(side.compatibility))) {
      return nullptr;  // producer's bytes on a link, or records in their writers' shapes
    }
    const std::string subject = schema::subjectName(side.subject_strategy, topic, which, "");
    auto fetched = registry.subjectVersion(subject, side.version);
    if (!fetched) {
      return nullptr;  // schema::checkConfig reports catalogs that do not load
    }
    auto json_schema = decodedJsonSchema(side.format, fetched->schema.text);
    if (!json_schema) {
      return nullptr;
    }
    auto types = policies::JsonSchemaTypes::make(
        *json_schema,
        which == schema::Side::kKey ? policies::PathRoot::kKey : policies::PathRoot::kValue,
        "the contract schema of topic " + topic + " (subject " + subject + ")");
    return types ? std::move(*types) : nullptr;
  }

  // Errors of compiling `policy` with `options` that it does not have without them (those
  // policies::checkConfig reports already).
  std::vector<config::ConfigError> newErrors(const config::PolicyConfig& policy,
                                             const policies::CompileOptions& options) {
    auto [it, inserted] = baseline_.try_emplace(policy.name);
    if (inserted) {
      for (const auto& error : policies::Policy::compile(policy).errors) {
        it->second.insert(error.message);
      }
    }
    std::vector<config::ConfigError> out;
    for (auto& error : policies::Policy::compile(policy, options).errors) {
      if (!it->second.count(error.message)) {
        out.push_back(std::move(error));
      }
    }
    return out;
  }

  schema::Registry* catalogOf(const std::string& cluster) {
    auto c = config_.clusters.find(cluster);
    if (c == config_.clusters.end() || c->second.registry.empty()) {
      return nullptr;
    }
    auto r = config_.registries.find(c->second.registry);
    if (r == config_.registries.end() || !r->second.isCatalog()) {
      return nullptr;
    }
    auto [it, inserted] = catalogs_.try_emplace(r->first);
    if (inserted) {
      if (auto made = schema::makeRegistry(r->second)) {
        it->second = std::move(*made);
      }
    }
    return it->second.get();
  }

  const config::Config& config_;
  schema::ContractSet contracts_;
  std::map<std::string, schema::RegistryPtr> catalogs_;
  std::map<std::string, std::set<std::string>> baseline_;
  std::set<std::string> reported_;
  std::vector<config::ConfigError> errors_;
};

}  // namespace

std::vector<config::ConfigError> checkPolicyPaths(const config::Config& config) {
  Checker checker(config);
  for (const auto& [name, partner] : config.partners) {
    auto policy = config.policies.find(partner.policy);
    if (partner.policy.empty() || policy == config.policies.end()) {
      continue;
    }
    for (const config::ProductConfig& product : config.products) {
      if (std::find(partner.products.begin(), partner.products.end(), product.name) !=
          partner.products.end()) {
        checker.check(policy->second, product.source, product.topics, true);
      }
    }
  }
  for (const config::LinkConfig& link : config.links) {
    auto policy = config.policies.find(link.policy);
    if (!link.policy.empty() && policy != config.policies.end()) {
      checker.check(policy->second, link.source, link.topics.include, false);
    }
  }
  return checker.take();
}

}  // namespace causeway::egress
