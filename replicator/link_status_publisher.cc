// Link's status snapshot (published 4 times a second by the data plane) and the librdkafka
// callbacks that feed it: errors and statistics.

#include "replicator/link.h"
#include "replicator/link_internal.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <map>

namespace causeway::replicator {

using namespace link_internal;

void Link::publishStatus() {
  std::vector<PartitionStatus> partitions;
  const int64_t now_ms = wallClockMs();
  fetching_paused_.store(backpressure_paused_ || user_paused_);
  std::map<PartitionKey, int64_t> queried_high;
  {
    std::lock_guard lock(ready_mu_);
    queried_high = queried_high_;
  }
  if (consumer_ && !partitions_.empty()) {
    auto list = makeList(partitions_.size());
    for (auto& [key, state] : partitions_) {
      rd_kafka_topic_partition_list_add(list.get(), key.first.c_str(), key.second);
    }
    rd_kafka_position(consumer_.get(), list.get());
    int i = 0;
    for (auto& [key, state] : partitions_) {
      PartitionStatus p;
      p.source_topic = key.first;
      p.partition = key.second;
      p.target_topic = state->target != nullptr ? state->target->name : "";
      if (auto oldest = state->tracker.oldestUnacked()) {
        p.next_offset = *oldest;
      } else if (list->elems[i].offset >= 0) {
        p.next_offset = list->elems[i].offset;
      } else if (state->committed >= 0) {
        p.next_offset = state->committed;
      }
      int64_t low = -1;
      int64_t high = -1;
      if (rd_kafka_get_watermark_offsets(consumer_.get(), key.first.c_str(), key.second, &low,
                                         &high) == RD_KAFKA_RESP_ERR_NO_ERROR &&
          high >= 0) {
        if (auto q = queried_high.find(key); q != queried_high.end()) {
          high = std::max(high, q->second);  // fresher while fetching is paused
        }
        p.high_watermark = high;
        if (p.next_offset < 0 && low >= 0 && low == high) {
          p.next_offset = high;  // empty partition: nothing to replicate
        }
      }
      if (p.high_watermark >= 0 && p.next_offset >= 0) {
        p.lag = std::max<int64_t>(0, p.high_watermark - p.next_offset);
      }
      p.last_replicated_timestamp_ms = state->last_replicated_timestamp;
      if (p.lag == 0) {
        p.time_lag_ms = 0;
      } else if (const auto* pending = state->tracker.oldestPending()) {
        const int64_t ts = rd_kafka_message_timestamp(
            static_cast<const rd_kafka_message_t*>(pending->source), nullptr);
        p.time_lag_ms = ts >= 0 ? std::max<int64_t>(0, now_ms - ts) : -1;
      } else if (state->last_replicated_timestamp >= 0) {
        p.time_lag_ms = std::max<int64_t>(0, now_ms - state->last_replicated_timestamp);
      }
      if (tail_) {
        p.offset_runs = static_cast<int64_t>(state->runs.runs().size());
      }
      p.records_replicated = state->records_replicated;
      p.bytes_replicated = state->bytes_replicated;
      p.paused = backpressure_paused_ || user_paused_ || state->waiting_for_target;
      partitions.push_back(std::move(p));
      ++i;
    }
  }
  std::vector<std::string> topics;
  std::string problems;
  {
    std::lock_guard lock(ready_mu_);
    for (const auto& [topic, ready] : ready_topics_) {
      topics.push_back(topic);
    }
    for (const auto& [topic, problem] : topic_problems_) {
      problems += (problems.empty() ? "" : "; ") + problem;
    }
  }
  std::lock_guard lock(status_mu_);
  status_.partitions = std::move(partitions);
  status_.topics = std::move(topics);
  status_.records_replicated = records_replicated_;
  status_.bytes_replicated = bytes_replicated_;
  status_.in_flight_records = in_flight_records_;
  status_.in_flight_bytes = in_flight_bytes_;
  status_.rebalances = rebalances_;
  status_.records_skipped_loop = records_skipped_loop_;
  status_.produce_retries = produce_retries_;
  status_.replication_latency = replication_latency_;
  status_.record_age_at_poll = record_age_at_poll_;
  status_.errors = errors_;
  if (!problems.empty()) {
    status_.last_error = problems;
  }
  status_.updated_at = Clock::now();
}

int Link::statsCallback(rd_kafka_t*, char* json, size_t json_len, void* opaque) {
  // librdkafka's statistics: sum the retried produce requests over the target's brokers.
  auto* self = static_cast<Link*>(opaque);
  const auto stats = nlohmann::json::parse(json, json + json_len, nullptr, false);
  if (stats.is_discarded() || !stats.contains("brokers") || !stats["brokers"].is_object()) {
    return 0;
  }
  uint64_t retries = 0;
  for (const auto& [name, broker] : stats["brokers"].items()) {
    if (broker.contains("txretries") && broker["txretries"].is_number_unsigned()) {
      retries += broker["txretries"].get<uint64_t>();
    }
  }
  // Brokers come and go from the statistics: never let the counter go back.
  self->produce_retries_ = std::max(self->produce_retries_, retries);
  return 0;  // librdkafka frees the JSON
}

void Link::errorCallback(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* self = static_cast<Link*>(opaque);
  const bool is_producer = rd_kafka_type(rk) == RD_KAFKA_PRODUCER;
  const config::ClusterConfig& cluster = is_producer ? self->target_ : self->source_;
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    char fatal[512];
    rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
    self->fail("link '" + self->link_.name + "': fatal error from " +
               kafka::describeCluster(cluster) + ": " + fatal);
    return;
  }
  self->countError("client", static_cast<rd_kafka_resp_err_t>(err));
  // Everything else is retried by librdkafka (brokers down, timeouts): report, keep going.
  std::string text = kafka::describeCluster(cluster) + ": " +
                     rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(err)) + ": " + reason;
  std::lock_guard lock(self->status_mu_);
  if (self->status_.last_error != text) {
    spdlog::warn("link '{}': {}", self->link_.name, text);
    self->status_.last_error = std::move(text);
  }
}

} // namespace causeway::replicator
