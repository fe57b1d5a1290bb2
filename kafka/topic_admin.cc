#include "kafka/topic_admin.h"

#include "kafka/embedded_topic_admin.h"
#include "kafka/kafka_topic_admin.h"

namespace causeway::kafka {

TopicAdminPtr makeTopicAdmin(const config::ClusterConfig& cluster) {
  if (!cluster.embedded_control.empty()) {
    return std::make_unique<EmbeddedTopicAdmin>(cluster);
  }
  return std::make_unique<KafkaTopicAdmin>(cluster);
}

} // namespace causeway::kafka
