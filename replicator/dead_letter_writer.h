#pragma once

#include "common/result.h"
#include "config/config.h"
#include "kafka/handles.h"
#include "kafka/topic_admin.h"
#include "pipeline/record.h"
#include "replicator/offset_tracker.h"
#include "replicator/target_writer.h"

#include <chrono>
#include <string>
#include <string_view>

namespace causeway::replicator {

// Headers a dead-lettered record carries besides its own.
inline constexpr std::string_view kDlqReasonHeader = "causeway-dlq-reason";
inline constexpr std::string_view kDlqRuleHeader = "causeway-dlq-rule";
inline constexpr std::string_view kDlqLinkHeader = "causeway-dlq-link";
inline constexpr std::string_view kDlqSourceTopicHeader = "causeway-src-topic";
inline constexpr std::string_view kDlqSourcePartitionHeader = "causeway-src-partition";
inline constexpr std::string_view kDlqSourceOffsetHeader = "causeway-src-offset";

// Why a record was dead-lettered. None of it may hold a raw field value of the record.
struct DeadLetterReason {
  std::string_view reason;  // short and stable ("contract", "rejected:MSG_SIZE_TOO_LARGE")
  std::string_view rule;    // the configured rule that decided ("on_reject", "payments.value")
  std::string_view detail;  // for people ("value.amount: expected number")
};

// The dead-letter queue of a link: a topic on the source or the target cluster that receives the
// records a stage dead-lettered or the target refused, as they were read (key, value, headers,
// timestamp) plus the headers above. Source partition p goes to DLQ partition p % partitions, so
// one source partition's dead letters keep their order. The copy counts as done only once the DLQ
// cluster acknowledged it (the listener gets the delivery report).
//
// Not thread-safe: owned by the link's data-plane thread.
class DeadLetterWriter {
public:
  DeadLetterWriter(const config::LinkConfig& link, const config::ClusterConfig& cluster,
                   DeliveryListener& listener);
  ~DeadLetterWriter();

  // Builds the producer and makes sure the topic exists (created with one partition if not).
  Status open(kafka::TopicAdmin& admin, std::chrono::milliseconds timeout);

  const std::string& topic() const { return topic_; }
  const config::ClusterConfig& cluster() const { return cluster_; }

  // The record as read (`view`); key and value are copied.
  Status write(const pipeline::RecordView& view, const DeadLetterReason& why,
               OffsetTracker::Entry& entry);
  // The same for a record the target refused: its headers come from the refused message (`headers`
  // is copied; may be null).
  Status write(const pipeline::RecordView& view, const rd_kafka_headers_t* headers,
               const DeadLetterReason& why, OffsetTracker::Entry& entry);

  void poll(int timeout_ms);
  void purge();
  uint64_t inFlight() const { return in_flight_; }

private:
  Status produce(const pipeline::RecordView& view, rd_kafka_headers_t* headers,
                 const DeadLetterReason& why, OffsetTracker::Entry& entry);
  static void deliveryCallback(rd_kafka_t* rk, const rd_kafka_message_t* message, void* opaque);

  const config::LinkConfig& link_;
  const config::ClusterConfig& cluster_;
  DeliveryListener& listener_;
  std::string topic_;
  int32_t partitions_ = 1;
  kafka::HandlePtr producer_;
  kafka::TopicPtr handle_;
  uint64_t in_flight_ = 0;
  std::string number_buffer_;
};

}  // namespace causeway::replicator
