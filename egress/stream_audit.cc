#include "egress/stream_audit.h"

#include "egress/stream_hub.h"

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

namespace causeway::egress {

void StreamAudit::finish(StreamHub& hub, Subscription& subscription, uint64_t bytes) const {
  const EndReason reason = subscription.endReason() == EndReason::kNone ? EndReason::kClientGone
                                                                        : subscription.endReason();
  hub.recordDisconnect(who.partner, product, reason);
  nlohmann::json line = {
      {"audit", "egress_stream"},
      {"partner", who.partner},
      {"identity", who.token_id},
      {"auth", who.method},
      {"product", product},
      {"transport", transport},
      {"peer", peer},
      {"from", from},
      {"to", subscription.token()},
      {"events", subscription.eventsSent()},
      {"bytes", bytes},
      {"reason", toString(reason)},
      {"seconds",
       std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()},
  };
  spdlog::info("egress audit: {}", line.dump());
}

} // namespace causeway::egress
