#pragma once

// Owning handles for every librdkafka object Causeway holds: take ownership on the line that
// receives the pointer. Header-only so modules that only read topics (verify/, embedded/) can
// use them without the rest of kafka/.

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <cstddef>
#include <memory>
#include <string>

namespace causeway::kafka {

// Calls `Destroy` on the pointer: one deleter for every librdkafka type.
template <auto Destroy> struct Destroyer {
  template <typename T> void operator()(T* p) const { Destroy(p); }
};

using HandlePtr = std::unique_ptr<rd_kafka_t, Destroyer<rd_kafka_destroy>>;
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, Destroyer<rd_kafka_conf_destroy>>;
using MessagePtr = std::unique_ptr<rd_kafka_message_t, Destroyer<rd_kafka_message_destroy>>;
using TopicPtr = std::unique_ptr<rd_kafka_topic_t, Destroyer<rd_kafka_topic_destroy>>;
using PartitionListPtr = std::unique_ptr<rd_kafka_topic_partition_list_t,
                                         Destroyer<rd_kafka_topic_partition_list_destroy>>;
using MetadataPtr =
    std::unique_ptr<const rd_kafka_metadata_t, Destroyer<rd_kafka_metadata_destroy>>;
using HeadersPtr = std::unique_ptr<rd_kafka_headers_t, Destroyer<rd_kafka_headers_destroy>>;
using ErrorPtr = std::unique_ptr<rd_kafka_error_t, Destroyer<rd_kafka_error_destroy>>;
using QueuePtr = std::unique_ptr<rd_kafka_queue_t, Destroyer<rd_kafka_queue_destroy>>;
using EventPtr = std::unique_ptr<rd_kafka_event_t, Destroyer<rd_kafka_event_destroy>>;
using AdminOptionsPtr =
    std::unique_ptr<rd_kafka_AdminOptions_t, Destroyer<rd_kafka_AdminOptions_destroy>>;
using NewTopicPtr = std::unique_ptr<rd_kafka_NewTopic_t, Destroyer<rd_kafka_NewTopic_destroy>>;
using NewPartitionsPtr =
    std::unique_ptr<rd_kafka_NewPartitions_t, Destroyer<rd_kafka_NewPartitions_destroy>>;
using MockClusterPtr =
    std::unique_ptr<rd_kafka_mock_cluster_t, Destroyer<rd_kafka_mock_cluster_destroy>>;

// A partition list with room for `capacity` entries (at least one, as librdkafka wants).
inline PartitionListPtr newPartitionList(size_t capacity) {
  return PartitionListPtr(
      rd_kafka_topic_partition_list_new(static_cast<int>(std::max<size_t>(capacity, 1))));
}

// The error's text. Takes ownership: the error is destroyed.
inline std::string takeErrorText(rd_kafka_error_t* error) {
  ErrorPtr owned(error);
  return rd_kafka_error_string(error);
}

} // namespace causeway::kafka
