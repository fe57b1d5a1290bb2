#include "egress/policy_stages.h"

namespace causeway::egress {

PartnerStageFactory policyStageFactory(std::shared_ptr<policies::PolicyRuntime> runtime) {
  return [runtime](const config::Config& config, const config::PartnerConfig& partner,
                   const config::ProductConfig& product) -> Result<pipeline::StageChain> {
    // makePolicyStages reads only the link's name (counters) and policy.
    config::LinkConfig link;
    link.name = "egress/" + partner.name + "/" + product.name;
    link.policy = partner.policy;
    auto stages = policies::makePolicyStages(config, link, *runtime);
    if (!stages) {
      return stages.error();
    }
    return pipeline::StageChain(std::move(*stages));
  };
}

}  // namespace causeway::egress
