#include "egress/stages.h"

namespace causeway::egress {

PartnerStageFactory defaultPartnerStageFactory() {
  return [](const config::Config&, const config::PartnerConfig& partner,
            const config::ProductConfig&) -> Result<pipeline::StageChain> {
    if (!partner.policy.empty()) {
      return Error{"partner '" + partner.name + "' names policy '" + partner.policy +
                   "', but this build has no policy engine to enforce it"};
    }
    return pipeline::StageChain();
  };
}

FilterFactory defaultFilterFactory() {
  return [](std::string_view, const config::ProductConfig&) -> Result<pipeline::StagePtr> {
    return Error{"filters are not available: this build has no policy predicate language"};
  };
}

} // namespace causeway::egress
