// Link's status snapshot, published 4 times a second by the data plane.

#include "replicator/link.h"
#include "replicator/link_internal.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <tuple>

namespace causeway::replicator {

using namespace link_internal;

void Link::publishStatus() {
  std::vector<PartitionStatus> partitions;
  const int64_t now_ms = wallClockMs();
  fetching_paused_.store(backpressure_paused_ || user_paused_);
  std::map<std::pair<std::string, int32_t>, int64_t> queried_high;
  {
    std::lock_guard lock(ready_mu_);
    queried_high = queried_high_;
  }
  uint64_t loop_skipped = 0;
  std::vector<RecordDecision> decisions;
  for (const auto& count : chain_.counts()) {
    if (count.reason == "loop") {
      loop_skipped += count.records;
    }
    if (count.outcome == pipeline::Outcome::kDrop ||
        count.outcome == pipeline::Outcome::kDeadLetter) {
      decisions.push_back(
          RecordDecision{count.outcome == pipeline::Outcome::kDrop ? "dropped" : "dead_lettered",
                         count.stage, count.reason, count.rule, count.records});
    }
  }
  for (const auto& [error, records] : refused_dead_lettered_) {
    decisions.push_back(
        RecordDecision{"dead_lettered", "target", "rejected:" + error, "on_reject", records});
  }
  std::sort(decisions.begin(), decisions.end(), [](const auto& a, const auto& b) {
    return std::tie(a.outcome, a.stage, a.reason, a.rule) <
           std::tie(b.outcome, b.stage, b.reason, b.rule);
  });
  const auto now = Clock::now();
  size_t asking_again = 0;  // partitions whose resume position is asked about again
  if (reader_ && reader_->client() != nullptr && !reader_->partitions().empty()) {
    const std::vector<int64_t> positions = reader_->positions();
    size_t i = 0;
    for (const auto& [key, state] : reader_->partitions()) {
      const int64_t position = positions[i++];
      const MirrorPartition* mirror = state->mirror.get();
      PartitionStatus p;
      p.source_topic = key.first;
      p.partition = key.second;
      p.target_topic = mirror != nullptr && mirror->topic != nullptr ? mirror->topic->name : "";
      if (auto oldest = state->tracker.oldestUnacked()) {
        p.next_offset = *oldest;
      } else if (position >= 0) {
        p.next_offset = position;
      } else if (state->committed >= 0) {
        p.next_offset = state->committed;
      }
      int64_t high = reader_->cachedHighWatermark(*state);
      if (high >= 0) {
        if (auto q = queried_high.find(key); q != queried_high.end()) {
          high = std::max(high, q->second);  // fresher while fetching is paused
        }
        p.high_watermark = high;
        if (p.next_offset < 0 && state->seen_end >= high) {
          p.next_offset = high;  // empty partition: nothing to replicate
        }
      }
      if (p.high_watermark >= 0 && p.next_offset >= 0) {
        p.lag = std::max<int64_t>(0, p.high_watermark - p.next_offset);
      }
      const int64_t last_ts = mirror != nullptr ? mirror->last_replicated_timestamp : -1;
      p.last_replicated_timestamp_ms = last_ts;
      if (p.lag == 0) {
        p.time_lag_ms = 0;
      } else if (const auto* pending = state->tracker.oldestPending()) {
        const int64_t ts = pending->timestamp;
        p.time_lag_ms = ts >= 0 ? std::max<int64_t>(0, now_ms - ts) : -1;
      } else if (last_ts >= 0) {
        p.time_lag_ms = std::max<int64_t>(0, now_ms - last_ts);
      }
      if (exactly_once_ && mirror != nullptr) {
        p.offset_runs = static_cast<int64_t>(mirror->runs.runs().size());
      }
      if (mirror != nullptr) {
        p.records_replicated = mirror->records_replicated;
        p.bytes_replicated = mirror->bytes_replicated;
      }
      p.paused = backpressure_paused_ || user_paused_ || state->held(now);
      if (state->waiting_for_position && state->position_attempts > 0) {
        asking_again += 1;
      }
      partitions.push_back(std::move(p));
    }
  }
  // Outside status_mu_: the extensions take their own locks.
  std::map<std::string, std::string> notes;
  if (extensions_) {
    notes = extensions_->topicNotes(link_);
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
  if (asking_again == 0 && status_.last_error.starts_with(kPositionRetryNote)) {
    status_.last_error.clear();  // every partition found where it resumes, or went
  }
  status_.partitions = std::move(partitions);
  status_.topics = std::move(topics);
  status_.records_replicated = records_replicated_;
  status_.bytes_replicated = bytes_replicated_;
  status_.in_flight_records = in_flight_records_;
  status_.in_flight_bytes = in_flight_bytes_;
  status_.rebalances = reader_ ? reader_->rebalances() : status_.rebalances;
  status_.records_skipped_loop = loop_skipped;
  status_.decisions = std::move(decisions);
  status_.topic_notes = std::move(notes);
  status_.produce_retries = writer_ ? writer_->produceRetries() : status_.produce_retries;
  if (writer_) {
    status_.transaction_commits = writer_->commits();
    status_.transaction_commit_seconds =
        std::chrono::duration<double>(writer_->commitTime()).count();
  }
  status_.replication_latency = replication_latency_;
  status_.record_age_at_poll = record_age_at_poll_;
  status_.errors = errors_;
  if (writer_ && writer_->stateErrors() > 0) {
    status_.errors["state:produce"] = writer_->stateErrors();
  }
  if (!problems.empty()) {
    status_.last_error = problems;
  }
  status_.updated_at = Clock::now();
}

}  // namespace causeway::replicator
