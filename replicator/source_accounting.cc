#include "replicator/source_accounting.h"

#include <algorithm>

namespace causeway::replicator {

int64_t accountedEnd(const OffsetTracker& tracker, int64_t end_reached) {
  const std::optional<int64_t> point = tracker.commitPoint();
  if (!point) {
    return -1;  // nothing dispatched yet: what lies below the start is the saved state's to say
  }
  if (tracker.hasFailed() || *point != tracker.lastDispatched() + 1) {
    return *point;  // records in flight (or refused) stop it there
  }
  return std::max(*point, end_reached);
}

}  // namespace causeway::replicator
