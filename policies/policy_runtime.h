#pragma once

// What a worker needs to apply the policies of its configuration, and what the rest of
// Causeway calls. Exact API, for the lead wiring it in (policies/README.md says the same):
//
//   std::vector<config::ConfigError> policies::checkConfig(const config::Config&);
//       check-config and worker start: every filter and path compiles and type-checks, every
//       key file or variable exists and holds valid keys; errors at the YAML line:col.
//   std::vector<config::ConfigError> policies::configWarnings(const config::Config&);
//       check-config: a link whose topics.include may match topics its policy does not allow.
//   std::unique_ptr<PolicyRuntime> PolicyRuntime::create(config, errors);
//       once per worker (and per reload): compiles every policy, opens the audit logs.
//   Result<std::vector<pipeline::StagePtr>> policies::makePolicyStages(config, link, runtime);
//       once per link and data-plane thread: the stages to add to the link's StageChain (empty
//       when the link has no policy).
//   bool PolicyRuntime::allowsTopic(link, topic)
//       topic discovery: keep topics the link's policy does not allow off the link entirely.
//   std::vector<PolicyCountsSnapshot> PolicyRuntime::snapshot()
//       metrics (policies/policy_metrics.h renders them) and status.

#include "config/config.h"
#include "config/yaml_reader.h"
#include "pipeline/stage.h"
#include "policies/audit_log.h"
#include "policies/avro_payload.h"
#include "policies/policy.h"
#include "policies/policy_counters.h"
#include "policies/protobuf_payload.h"

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace causeway::policies {

std::vector<config::ConfigError> checkConfig(const config::Config& config,
                                             const CompileOptions& options = {});
std::vector<config::ConfigError> configWarnings(const config::Config& config);

// Opens the sink of an audit topic (`audit: {topic, cluster}`): Kafka lives outside the
// policies core (policies/audit_topic_sink.h has the real one).
using AuditTopicFactory = std::function<Result<std::unique_ptr<AuditSink>>(
    const config::ClusterConfig& cluster, const std::string& topic)>;

// Compiled policies, their counters per link, and their audit logs. Thread-safe; lives as long
// as the links that use its stages (the stages share its policies and counters).
class PolicyRuntime {
public:
  // nullptr with `errors` when a policy does not compile or an audit log cannot be opened.
  // Without `audit_topics`, a policy with an audit topic is an error.
  static std::unique_ptr<PolicyRuntime> create(const config::Config& config,
                                               std::vector<config::ConfigError>& errors,
                                               const CompileOptions& options = {},
                                               const AuditTopicFactory& audit_topics = {});
  ~PolicyRuntime();

  PolicyPtr policy(const std::string& name) const;
  // True when the link has no policy, its policy allows the topic, or it is in shadow mode.
  bool allowsTopic(const config::LinkConfig& link, std::string_view topic) const;
  // The counters of (link, policy), created on first use and shared by the link's stages.
  PolicyCountersPtr counters(const std::string& link, const std::string& policy);
  std::vector<PolicyCountsSnapshot> snapshot() const;

  // Starts the thread that writes each audit log every interval; stopAudit() (and the
  // destructor) writes the last window and joins it. Write errors are logged once per minute.
  void startAudit();
  void stopAudit();
  // Writes every audit log's window now (tests, shutdown).
  void flushAudit();

private:
  PolicyRuntime() = default;
  void auditLoop();

  std::map<std::string, PolicyPtr> policies_;
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, PolicyCountersPtr> counters_;
  std::map<std::string, std::vector<std::shared_ptr<AuditLog>>> audit_by_policy_;
  std::vector<std::shared_ptr<AuditLog>> audit_logs_;
  std::thread audit_thread_;
  std::condition_variable wake_;
  bool stopping_ = false;
};

// `avro`, `protobuf`: the link's writer schemas, for a policy whose value format is avro or
// protobuf (the link's schema service fills them as it translates schema IDs:
// app/link_extensions.cc).
Result<std::vector<pipeline::StagePtr>>
makePolicyStages(const config::Config& config, const config::LinkConfig& link,
                 PolicyRuntime& runtime, std::shared_ptr<const AvroShapes> avro = nullptr,
                 std::shared_ptr<const ProtobufShapes> protobuf = nullptr);

}  // namespace causeway::policies
