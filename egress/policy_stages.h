#pragma once

// Partner policies (policies/) as the stages egress runs for a partner: the same compiled policy
// a link applies, so what a partner receives over HTTP or gRPC is what it would receive in its
// own cluster. Counted per (link, policy) in the runtime under the name
// "egress/<partner>/<product>".

#include "egress/stages.h"
#include "policies/policy_runtime.h"

#include <memory>

namespace causeway::egress {

// A factory for EgressServer::Options::stages. `runtime` must be created from the same
// configuration (PolicyRuntime::create); the factory and the stages it makes keep it alive.
// A partner without a policy gets an empty chain.
PartnerStageFactory policyStageFactory(std::shared_ptr<policies::PolicyRuntime> runtime);

}  // namespace causeway::egress
