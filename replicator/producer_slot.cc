#include "replicator/producer_slot.h"

namespace causeway::replicator {

std::string transactionalId(const std::string& link, const std::string& source_topic,
                            int32_t partition) {
  return "causeway:" + link + ":" + source_topic + ":" + std::to_string(partition);
}

}  // namespace causeway::replicator
