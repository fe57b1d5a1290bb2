#include "egress/contract_stages.h"

#include "schema/schema_stages.h"

#include <map>
#include <memory>
#include <mutex>

namespace causeway::egress {
namespace {

// The products' schema services, started on first use.
class ProductServices {
public:
  explicit ProductServices(const config::Config& config) : config_(config) {}

  Result<std::shared_ptr<schema::SchemaService>> of(const config::ProductConfig& product) {
    std::lock_guard lock(mu_);
    auto it = services_.find(product.name);
    if (it != services_.end()) {
      return it->second;
    }
    auto started = schema::startProductSchemaService(config_, product);
    if (!started) {
      // Not kept: a registry that could not be built is tried again by the next stream.
      return Error{"product '" + product.name + "': its contracts cannot be checked: " +
                   started.error().message};
    }
    services_.emplace(product.name, *started);
    return *started;
  }

private:
  const config::Config& config_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<schema::SchemaService>> services_;
};

} // namespace

PartnerStageFactory contractStageFactory(const config::Config& config, PartnerStageFactory then) {
  auto services = std::make_shared<ProductServices>(config);
  return [services, then = std::move(then)](const config::Config& config,
                                            const config::PartnerConfig& partner,
                                            const config::ProductConfig& product)
             -> Result<pipeline::StageChain> {
    auto service = services->of(product);
    if (!service) {
      return service.error();
    }
    auto chain = then(config, partner, product);
    if (!chain) {
      return chain.error();
    }
    if (*service != nullptr) {
      chain->prepend(std::make_unique<schema::ContractStage>(
          *service, schema::ContractStage::Output::kJson));
    }
    return chain;
  };
}

} // namespace causeway::egress
