#include "egress/policy_paths.h"

#include "egress/product_contracts.h"
#include "policies/json_schema_types.h"
#include "policies/policy.h"
#include "schema/contracts.h"
#include "schema/schema_service.h"

#include <algorithm>
#include <cctype>
#include <chrono>
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
  Checker(const config::Config& config, ContractSchemas schemas)
      : config_(config), schemas_(schemas), contracts_(config) {}

  // Checks `policy` against the key and value contracts of the plain topics among `topics` of
  // `cluster`. `decoded`: records reach the policy decoded to JSON (partner streams).
  void check(const config::PolicyConfig& policy, const std::string& cluster,
             const std::vector<std::string>& topics, bool decoded) {
    Source* registry = registryOf(cluster);
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

  PolicyPathsCheck take() { return {std::move(errors_), std::move(warnings_)}; }

private:
  // A registry the schemas are read from; `failed` once it did not answer (it is not asked
  // again: one warning per registry, and a registry that is down costs one timeout).
  struct Source {
    schema::RegistryPtr registry;
    bool catalog = false;
    bool failed = false;
    // Schema texts by subject and version (a subject is seen by a product and a link, or by
    // several policies); nullopt: the registry does not have it.
    std::map<std::pair<std::string, int>, std::optional<std::string>> texts;
  };

  // The text of `subject`'s `version` (0: latest) in `source`, or nullopt.
  const std::optional<std::string>& schemaText(Source& source, const std::string& subject,
                                               int version) {
    auto [it, inserted] = source.texts.try_emplace({subject, version});
    if (!inserted || source.failed) {
      return it->second;
    }
    if (!source.catalog && std::chrono::steady_clock::now() >= deadline_) {
      // A registry that answers, but slowly, must not hold a start or a reload for long.
      if (!out_of_time_) {
        out_of_time_ = true;
        warnings_.push_back("the partner policies' paths were checked against REST registries "
                            "for " +
                            std::to_string(kRegistryBudget.count()) +
                            " s; the contracts not asked for by then (first: " + subject +
                            ") are not checked");
      }
      return it->second;
    }
    auto fetched = source.registry->subjectVersion(subject, version);
    if (fetched) {
      it->second = std::move(fetched->schema.text);
    } else if (fetched.error().code != schema::RegistryErrc::kNotFound && !source.catalog) {
      // A catalog that does not load is reported by schema::checkConfig; a subject the
      // registry does not have, by the contract stage at run time. A registry that does not
      // answer is not asked again; another refusal (credentials, a bad answer) concerns the
      // subject only.
      const bool unavailable = fetched.error().code == schema::RegistryErrc::kUnavailable;
      source.failed = unavailable;
      warnings_.push_back("registry '" + source.registry->name() + "' " +
                          (unavailable ? "did not answer" : "refused") + " the contract subject " +
                          subject + " (" + fetched.error().message +
                          "): the partner policies' paths are not checked against " +
                          (unavailable ? "the contracts whose schemas it holds" : "it"));
    }
    return it->second;
  }

  // What one side's contract schema says about the fields the policy reads, when the registry
  // has the schema and records reach the policy in its shape; null otherwise.
  std::unique_ptr<policies::JsonSchemaTypes> typesOf(Source& source,
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
    const std::optional<std::string>& text = schemaText(source, subject, side.version);
    if (!text) {
      return nullptr;
    }
    auto json_schema = decodedJsonSchema(side.format, *text);
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

  Source* registryOf(const std::string& cluster) {
    auto c = config_.clusters.find(cluster);
    if (c == config_.clusters.end() || c->second.registry.empty()) {
      return nullptr;
    }
    auto r = config_.registries.find(c->second.registry);
    if (r == config_.registries.end() ||
        (!r->second.isCatalog() && schemas_ != ContractSchemas::kCatalogsAndRegistries)) {
      return nullptr;
    }
    auto [it, inserted] = sources_.try_emplace(r->first);
    if (inserted) {
      config::RegistryConfig once = r->second;
      once.retries = 0;  // a check at start-up: one attempt, within the registry's timeout
      if (auto made = schema::makeRegistry(once)) {
        it->second.registry = std::move(*made);
        it->second.catalog = r->second.isCatalog();
      }
    }
    return it->second.registry ? &it->second : nullptr;
  }

  // How long REST registries are asked, in all.
  static constexpr std::chrono::seconds kRegistryBudget{15};

  const config::Config& config_;
  const ContractSchemas schemas_;
  const std::chrono::steady_clock::time_point deadline_ =
      std::chrono::steady_clock::now() + kRegistryBudget;
  bool out_of_time_ = false;
  schema::ContractSet contracts_;
  std::map<std::string, Source> sources_;
  std::map<std::string, std::set<std::string>> baseline_;
  std::set<std::string> reported_;
  std::vector<config::ConfigError> errors_;
  std::vector<std::string> warnings_;
};

}  // namespace

PolicyPathsCheck checkPolicyPaths(const config::Config& config, ContractSchemas schemas) {
  Checker checker(config, schemas);
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
