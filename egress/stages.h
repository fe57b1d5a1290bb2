#pragma once

// The seam between egress and the stages that decide what a partner sees. Egress never
// interprets a policy itself: it asks a factory for a StageChain per reader (the shared tail of
// a (product, partner), and each catch-up reader; stages are single-threaded) and for a stage
// per `?filter=`.

#include "common/result.h"
#include "config/config.h"
#include "pipeline/stage_chain.h"

#include <functional>
#include <string_view>

namespace causeway::egress {

// The stages every record of `product` passes before `partner` sees it.
using PartnerStageFactory = std::function<Result<pipeline::StageChain>(
    const config::Config& config, const config::PartnerConfig& partner,
    const config::ProductConfig& product)>;

// A stage for a client's `?filter=` predicate, evaluated after the partner's stages; it may
// only drop records (a filter narrows, never widens). An error says what is wrong with the
// predicate (shown to the client as a 400).
using FilterFactory = std::function<Result<pipeline::StagePtr>(
    std::string_view predicate, const config::ProductConfig& product)>;

// The factories this build has. The partner factory passes records unchanged for a partner
// without a policy and refuses a partner that names one while no policy engine is linked in
// (a partner must never see more than its policy allows). The default filter factory refuses
// every filter. EgressServer::Options take replacements: policyStageFactory (policy_stages.h)
// and predicateFilterFactory (filter_stages.h).
PartnerStageFactory defaultPartnerStageFactory();
FilterFactory defaultFilterFactory();

} // namespace causeway::egress
