#include "control/convert.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>

namespace causeway::control {

using std::chrono::milliseconds;

v1::LinkState toProto(replicator::LinkState state) {
  switch (state) {
  case replicator::LinkState::kStarting:
    return v1::LINK_STATE_STARTING;
  case replicator::LinkState::kRunning:
    return v1::LINK_STATE_RUNNING;
  case replicator::LinkState::kPaused:
    return v1::LINK_STATE_PAUSED;
  case replicator::LinkState::kStopping:
    return v1::LINK_STATE_STOPPING;
  case replicator::LinkState::kStopped:
    return v1::LINK_STATE_STOPPED;
  case replicator::LinkState::kFailed:
    return v1::LINK_STATE_FAILED;
  case replicator::LinkState::kFailedOver:
    return v1::LINK_STATE_FAILED_OVER;
  }
  return v1::LINK_STATE_UNSPECIFIED;
}

void setDuration(milliseconds value, google::protobuf::Duration& out) {
  out = google::protobuf::util::TimeUtil::MillisecondsToDuration(value.count());
}

milliseconds fromDuration(const google::protobuf::Duration& value) {
  return milliseconds(google::protobuf::util::TimeUtil::DurationToMilliseconds(value));
}

namespace {

void setTimestamp(int64_t epoch_ms, google::protobuf::Timestamp& out) {
  out = google::protobuf::util::TimeUtil::MillisecondsToTimestamp(epoch_ms);
}

}  // namespace

void fillSummary(const config::LinkConfig& config, const replicator::LinkStatus* status,
                 const SecretRedactor& redactor, v1::LinkSummary& out) {
  out.set_name(config.name);
  out.set_source_cluster(config.source);
  out.set_target_cluster(config.target);
  out.set_delivery(config.delivery == config::DeliveryMode::kExactlyOnce
                       ? v1::DELIVERY_MODE_EXACTLY_ONCE
                       : v1::DELIVERY_MODE_AT_LEAST_ONCE);
  if (status == nullptr) {
    out.set_state(v1::LINK_STATE_STARTING);
    out.set_offset_lag_complete(false);
    return;
  }
  out.set_state(toProto(status->state));
  for (const auto& topic : status->topics) {
    out.add_topics(topic);
  }
  out.set_assigned_partitions(static_cast<uint32_t>(status->partitions.size()));
  out.set_records_replicated(status->records_replicated);
  out.set_bytes_replicated(status->bytes_replicated);
  int64_t lag = 0;
  bool complete = true;
  int64_t time_lag = -1;
  for (const auto& p : status->partitions) {
    if (p.lag < 0) {
      complete = false;
    } else {
      lag += p.lag;
    }
    time_lag = std::max(time_lag, p.time_lag_ms);
  }
  out.set_offset_lag(lag);
  out.set_offset_lag_complete(complete);
  if (time_lag >= 0) {
    setDuration(milliseconds(time_lag), *out.mutable_time_lag());
  }
  out.set_in_flight_records(status->in_flight_records);
  out.set_error(redactor.redact(status->error));
  out.set_last_error(redactor.redact(status->last_error));
  out.set_noted_topics(static_cast<uint32_t>(status->topic_notes.size()));
}

void fillStatus(const config::LinkConfig& config, const replicator::LinkStatus& status,
                const SecretRedactor& redactor, std::chrono::steady_clock::time_point now,
                v1::GetLinkStatusResponse& out) {
  fillSummary(config, &status, redactor, *out.mutable_link());
  for (const auto& p : status.partitions) {
    auto* partition = out.add_partitions();
    partition->set_source_topic(p.source_topic);
    partition->set_target_topic(p.target_topic);
    partition->set_partition(p.partition);
    partition->set_next_offset(p.next_offset);
    partition->set_high_watermark(p.high_watermark);
    partition->set_lag(p.lag);
    if (p.time_lag_ms >= 0) {
      setDuration(milliseconds(p.time_lag_ms), *partition->mutable_time_lag());
    }
    partition->set_records_replicated(p.records_replicated);
    partition->set_bytes_replicated(p.bytes_replicated);
    partition->set_paused(p.paused);
    if (p.last_replicated_timestamp_ms >= 0) {
      setTimestamp(p.last_replicated_timestamp_ms, *partition->mutable_last_replicated_time());
    }
  }
  for (const auto& g : status.groups) {
    auto* group = out.add_groups();
    group->set_group(g.group);
    group->set_synced(g.synced);
    group->set_problem(redactor.redact(g.problem));
    if (g.last_synced_ms >= 0) {
      setTimestamp(g.last_synced_ms, *group->mutable_last_synced_time());
    }
    group->set_rpo_records(g.rpo_records);
  }
  for (const auto& [kind, count] : status.errors) {
    auto* error = out.add_error_counts();
    error->set_kind(kind);
    error->set_count(count);
  }
  out.set_rebalances(status.rebalances);
  out.set_records_skipped_loop(status.records_skipped_loop);
  for (const auto& d : status.decisions) {
    auto* decision = out.add_decisions();
    decision->set_outcome(d.outcome);
    decision->set_stage(d.stage);
    decision->set_reason(d.reason);
    decision->set_rule(d.rule);
    decision->set_records(d.records);
  }
  for (const auto& [topic, note] : status.topic_notes) {
    auto* topic_note = out.add_topic_notes();
    topic_note->set_topic(topic);
    topic_note->set_note(redactor.redact(note));
  }
  out.set_in_flight_bytes(status.in_flight_bytes);
  if (status.updated_at != std::chrono::steady_clock::time_point{}) {
    setDuration(std::max(milliseconds(0),
                         std::chrono::duration_cast<milliseconds>(now - status.updated_at)),
                *out.mutable_snapshot_age());
  }
}

void fillTranslation(const replicator::PartitionTranslation& in, v1::OffsetTranslation& out) {
  out.set_source_topic(in.source_topic);
  out.set_target_topic(in.target_topic);
  out.set_partition(in.partition);
  out.set_source_offset(in.source_offset);
  out.set_target_offset(in.target_offset);
  out.set_target_end(in.target_end);
  out.set_not_yet_replicated(in.not_yet_replicated);
}

void fillPlan(const replicator::FailoverPlan& in, const SecretRedactor& redactor,
              v1::FailoverPlan& out) {
  out.set_link(in.link);
  for (const auto& p : in.partitions) {
    auto* lag = out.add_partitions();
    lag->set_source_topic(p.source_topic);
    lag->set_target_topic(p.target_topic);
    lag->set_partition(p.partition);
    lag->set_source_high(p.source_high);
    lag->set_next_source_offset(p.next_source_offset);
    lag->set_lag(p.lag);
  }
  out.set_total_lag(in.total_lag);
  for (const auto& g : in.groups) {
    auto* group = out.add_groups();
    group->set_group(g.group);
    for (const auto& t : g.offsets) {
      fillTranslation(t, *group->add_offsets());
    }
    group->set_rpo_records(g.rpo_records);
    group->set_problem(redactor.redact(g.problem));
  }
}

grpc::Status checkName(const std::string& field, const std::string& value) {
  if (value.empty()) {
    return toGrpcStatus(ErrorKind::kInvalidArgument, field + " is required");
  }
  if (value.size() > 249) {
    return toGrpcStatus(ErrorKind::kInvalidArgument, field + " is longer than 249 characters");
  }
  for (unsigned char c : value) {
    if (c < 0x20 || c == 0x7f) {
      return toGrpcStatus(ErrorKind::kInvalidArgument, field + " contains a control character");
    }
  }
  return grpc::Status::OK;
}

grpc::Status durationArg(const std::string& field, bool has,
                         const google::protobuf::Duration& value, milliseconds fallback,
                         milliseconds max, milliseconds& out) {
  if (!has) {
    out = fallback;
    return grpc::Status::OK;
  }
  if (value.seconds() < 0 || value.nanos() < 0 || (value.seconds() == 0 && value.nanos() == 0)) {
    return toGrpcStatus(ErrorKind::kInvalidArgument, field + " must be positive");
  }
  if (value.seconds() > max.count() / 1000 + 1 || fromDuration(value) > max) {
    return toGrpcStatus(ErrorKind::kInvalidArgument,
                        field + " must be at most " + std::to_string(max.count() / 1000) + " s");
  }
  out = std::max(milliseconds(1), fromDuration(value));
  return grpc::Status::OK;
}

}  // namespace causeway::control
