#pragma once

// Conversions between the replicator's types and the causeway.v1 messages, and the checks of
// request fields. No I/O; every string bound for a client goes through a SecretRedactor.

#include "causeway/v1/control.pb.h"
#include "config/config.h"
#include "control/errors.h"
#include "replicator/failover.h"
#include "replicator/link_status.h"
#include "replicator/offset_translation.h"

#include <google/protobuf/duration.pb.h>
#include <grpcpp/support/status.h>

#include <chrono>
#include <string>

namespace causeway::control {

v1::LinkState toProto(replicator::LinkState state);

// `status` may be null (a configured link with no status yet: shown as starting).
void fillSummary(const config::LinkConfig& config, const replicator::LinkStatus* status,
                 const SecretRedactor& redactor, v1::LinkSummary& out);

void fillStatus(const config::LinkConfig& config, const replicator::LinkStatus& status,
                const SecretRedactor& redactor, std::chrono::steady_clock::time_point now,
                v1::GetLinkStatusResponse& out);

void fillTranslation(const replicator::PartitionTranslation& in, v1::OffsetTranslation& out);
void fillPlan(const replicator::FailoverPlan& in, const SecretRedactor& redactor,
              v1::FailoverPlan& out);

void setDuration(std::chrono::milliseconds value, google::protobuf::Duration& out);
std::chrono::milliseconds fromDuration(const google::protobuf::Duration& value);

// A required name field ("link", "group"): non-empty, at most 249 characters (Kafka's limit for
// names), no control characters. OK or INVALID_ARGUMENT naming the field.
grpc::Status checkName(const std::string& field, const std::string& value);

// An optional duration field: `fallback` when unset; INVALID_ARGUMENT when not positive or
// above `max`.
grpc::Status durationArg(const std::string& field, bool has,
                         const google::protobuf::Duration& value,
                         std::chrono::milliseconds fallback, std::chrono::milliseconds max,
                         std::chrono::milliseconds& out);

} // namespace causeway::control
