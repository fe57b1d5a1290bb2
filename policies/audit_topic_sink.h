#pragma once

// The audit log on a Kafka topic (`audit: {topic, cluster}`): one record per audit line, value
// the JSON line, key the policy's name, so a policy's lines stay in order on one partition. Apart
// from the policies core so that it needs no Kafka client.

#include "common/result.h"
#include "config/config.h"
#include "policies/audit_log.h"
#include "policies/policy_runtime.h"

#include <memory>
#include <string>

namespace causeway::policies {

// Makes sure the topic exists (one partition when created) and builds an idempotent producer
// (acks=all). Each write() waits for the cluster's acknowledgement (up to 10 s), so a line the
// cluster did not take is reported and its counts go into the next window's line.
Result<std::unique_ptr<AuditSink>> openAuditTopic(const config::ClusterConfig& cluster,
                                                  const std::string& topic);

// openAuditTopic as the factory PolicyRuntime::create takes.
AuditTopicFactory auditTopicFactory();

}  // namespace causeway::policies
