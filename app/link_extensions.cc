#include "app/link_extensions.h"

#include "policies/policy_metrics.h"
#include "policies/policy_runtime.h"

namespace causeway::app {
namespace {

class PolicyExtensions final : public replicator::LinkExtensions {
public:
  PolicyExtensions(std::shared_ptr<const config::Config> config,
                   std::shared_ptr<policies::PolicyRuntime> runtime)
      : config_(std::move(config)), runtime_(std::move(runtime)) {}

  Result<std::vector<pipeline::StagePtr>> makeStages(const config::LinkConfig& link) override {
    return policies::makePolicyStages(*config_, link, *runtime_);
  }

  bool allowsTopic(const config::LinkConfig& link, std::string_view topic) const override {
    return runtime_->allowsTopic(link, topic);
  }

private:
  std::shared_ptr<const config::Config> config_;
  std::shared_ptr<policies::PolicyRuntime> runtime_;
};

}  // namespace

LinkExtensionsHub::~LinkExtensionsHub() = default;

replicator::LinkExtensionsFactory LinkExtensionsHub::factory() {
  return [this](const config::Config& config) -> Result<replicator::LinkExtensionsPtr> {
    std::vector<config::ConfigError> errors;
    std::shared_ptr<policies::PolicyRuntime> runtime =
        policies::PolicyRuntime::create(config, errors);
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
        std::make_shared<const config::Config>(config), std::move(runtime)));
  };
}

void LinkExtensionsHub::addMetrics(monitoring::ExpositionWriter& writer) const {
  std::shared_ptr<policies::PolicyRuntime> runtime;
  {
    std::lock_guard lock(mu_);
    runtime = current_;
  }
  if (runtime) {
    policies::addPolicyMetrics(writer, runtime->snapshot());
  }
}

}  // namespace causeway::app
