#include "egress/contract_stages.h"

#include "schema/schema_stages.h"

namespace causeway::egress {

Result<std::shared_ptr<schema::SchemaService>>
ProductContractStages::serviceOf(const config::ProductConfig& product) {
  std::lock_guard lock(mu_);
  if (auto it = services_.find(product.name); it != services_.end()) {
    return it->second;
  }
  // Started under the lock: building a registry client does no I/O (schema_service.h).
  auto started = schema::startProductSchemaService(config_, product);
  if (!started) {
    return Error{"product '" + product.name + "': its contracts cannot be checked: " +
                 started.error().message};
  }
  services_.emplace(product.name, *started);
  return *started;
}

PartnerStageFactory ProductContractStages::factory(PartnerStageFactory then) {
  return [self = shared_from_this(), then = std::move(then)](
             const config::Config& config, const config::PartnerConfig& partner,
             const config::ProductConfig& product) -> Result<pipeline::StageChain> {
    auto service = self->serviceOf(product);
    if (!service) {
      return service.error();
    }
    auto chain = then(config, partner, product);
    if (!chain) {
      return chain.error();
    }
    if (*service != nullptr) {
      chain->prepend(std::make_unique<schema::ContractStage>(
          *service, schema::ContractStage::Output::kJson,
          self->countersOf(partner.name, product.name)));
    }
    return chain;
  };
}

std::shared_ptr<schema::ViolationCounters>
ProductContractStages::countersOf(const std::string& partner, const std::string& product) {
  std::lock_guard lock(mu_);
  auto& counters = counters_[{partner, product}];
  if (!counters) {
    counters = std::make_shared<schema::ViolationCounters>();
  }
  return counters;
}

std::vector<schema::LinkSchemaMetrics> ProductContractStages::metrics() const {
  std::lock_guard lock(mu_);
  std::vector<schema::LinkSchemaMetrics> out;
  for (const auto& [key, counters] : counters_) {
    const auto& [partner, product] = key;
    auto service = services_.find(product);
    if (service == services_.end() || service->second == nullptr) {
      continue;
    }
    schema::LinkSchemaMetrics metrics;
    metrics.link = "egress/" + partner + "/" + product;
    metrics.violations = counters->counts();
    metrics.waiting = service->second->waitingTopics();
    out.push_back(std::move(metrics));
  }
  return out;
}

} // namespace causeway::egress
