#include "replicator/link_status.h"

namespace causeway::replicator {

const char* toString(LinkState state) {
  switch (state) {
  case LinkState::kStarting:
    return "starting";
  case LinkState::kRunning:
    return "running";
  case LinkState::kPaused:
    return "paused";
  case LinkState::kStopping:
    return "stopping";
  case LinkState::kStopped:
    return "stopped";
  case LinkState::kFailed:
    return "failed";
  case LinkState::kFailedOver:
    return "failed_over";
  }
  return "unknown";
}

} // namespace causeway::replicator
