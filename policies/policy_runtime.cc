#include "policies/policy_runtime.h"

#include "common/log.h"
#include "policies/policy_stage.h"

#include <regex>

namespace causeway::policies {
namespace {

// A regex that is a literal name (with escaped dots), optionally followed by ".*".
struct SimpleRegex {
  std::string prefix;
  bool wildcard = false;
};

std::optional<SimpleRegex> simpleRegex(const std::string& pattern) {
  SimpleRegex out;
  std::string_view p = pattern;
  if (p.size() >= 2 && p.substr(p.size() - 2) == ".*") {
    out.wildcard = true;
    p.remove_suffix(2);
  }
  for (size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\' && i + 1 < p.size() && (p[i + 1] == '.' || p[i + 1] == '-')) {
      out.prefix += p[++i];
    } else if (config::isNameChar(c) && c != '.') {
      out.prefix += c;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

std::vector<std::string> ruleNames(const Policy& policy) {
  std::vector<std::string> names;
  for (const TransformRule& rule : policy.rules()) {
    names.push_back(rule.name);
  }
  return names;
}

bool readsWithWriterSchema(const config::PolicyConfig& policy) {
  return policy.value_format == "avro" || policy.value_format == "protobuf";
}

const char* formatTitle(const config::PolicyConfig& policy) {
  return policy.value_format == "avro" ? "Avro" : "Protobuf";
}

}  // namespace

std::vector<config::ConfigError> checkConfig(const config::Config& config,
                                             const CompileOptions& options) {
  std::vector<config::ConfigError> errors;
  for (const auto& [name, policy] : config.policies) {
    CompileResult result = Policy::compile(policy, options);
    errors.insert(errors.end(), result.errors.begin(), result.errors.end());
    if (!policy.audit_cluster.empty() && config.clusters.count(policy.audit_cluster) == 0) {
      errors.push_back(config::ConfigError{
          policy.audit_cluster_location,
          "policies." + name + ".audit: unknown cluster " + config::quoted(policy.audit_cluster) +
              " (the audit topic must be on a cluster under `clusters:`)"});
    }
  }
  // Avro and Protobuf records are read with the writer's schema, which a link learns as it
  // translates schema IDs (and the edited records need the derived schema's ID in front).
  for (const config::LinkConfig& link : config.links) {
    auto it = config.policies.find(link.policy);
    if (!link.policy.empty() && it != config.policies.end() && readsWithWriterSchema(it->second) &&
        !link.schemas.translate_ids) {
      errors.push_back(config::ConfigError{
          link.policy_location,
          "links." + link.name + ": policy " + config::quoted(link.policy) + " edits " +
              formatTitle(it->second) + " records (formats.value: " + it->second.value_format +
              "), which needs the link to translate schema IDs (schemas: {translate_ids: "
              "true}): the partner's registry must hold the schema of what it receives"});
    }
  }
  // Partner streams decode contracted records to JSON before the policy runs.
  for (const auto& [name, partner] : config.partners) {
    auto it = config.policies.find(partner.policy);
    if (!partner.policy.empty() && it != config.policies.end() &&
        readsWithWriterSchema(it->second)) {
      errors.push_back(config::ConfigError{
          partner.location,
          "partners." + name + ": policy " + config::quoted(partner.policy) + " reads " +
              formatTitle(it->second) + " records (formats.value: " + it->second.value_format +
              "), but partner streams decode records to JSON before the policy runs: give "
              "partners a policy with formats.value json"});
    }
  }
  // Where a policy's violations go. A dead-lettered record is the record as read, with the
  // values the policy exists to protect: it may only go to the domain's own cluster.
  for (const config::LinkConfig& link : config.links) {
    auto it = config.policies.find(link.policy);
    if (link.policy.empty() || it == config.policies.end() ||
        it->second.on_violation != config::OnViolation::kDeadLetter ||
        it->second.mode == config::PolicyMode::kShadow) {
      continue;
    }
    if (!link.dlq.enabled) {
      errors.push_back(config::ConfigError{
          link.policy_location,
          "links." + link.name + ": policy " + config::quoted(link.policy) +
              " sends records it cannot apply to the dead-letter queue (on_violation: dlq), but "
              "the link has none; add dlq: {cluster: source}, or set the policy's on_violation "
              "to skip or stop"});
    } else if (!link.dlq.on_source) {
      errors.push_back(config::ConfigError{
          link.policy_location,
          "links." + link.name + ": policy " + config::quoted(link.policy) +
              " dead-letters records as they were read, protected fields included; a dead-letter "
              "queue on the target (the partner's cluster) would hand them over: use dlq: "
              "{cluster: source}"});
    }
  }
  return errors;
}

std::vector<config::ConfigError> configWarnings(const config::Config& config) {
  std::vector<config::ConfigError> warnings;
  for (const config::LinkConfig& link : config.links) {
    auto it = config.policies.find(link.policy);
    if (link.policy.empty() || it == config.policies.end()) {
      continue;
    }
    const config::PolicyConfig& policy = it->second;
    std::vector<std::regex> allow;
    for (const std::string& pattern : policy.topics_allow) {
      try {
        allow.emplace_back(pattern, std::regex::ECMAScript);
      } catch (const std::regex_error&) {
      }
    }
    for (const std::string& include : link.topics.include) {
      bool covered = false;
      bool certain_miss = false;
      const std::optional<SimpleRegex> simple = simpleRegex(include);
      for (size_t i = 0; i < policy.topics_allow.size() && !covered; ++i) {
        if (policy.topics_allow[i] == include) {
          covered = true;
        } else if (simple && !simple->wildcard) {
          covered = i < allow.size() && std::regex_match(simple->prefix, allow[i]);
        } else if (simple) {
          const std::optional<SimpleRegex> a = simpleRegex(policy.topics_allow[i]);
          covered = a && a->wildcard && simple->prefix.starts_with(a->prefix);
        }
      }
      certain_miss = !covered && simple && !simple->wildcard;
      if (!covered) {
        warnings.push_back(config::ConfigError{
            link.policy_location,
            "links." + link.name + ": topics.include " + config::quoted(include) +
                (certain_miss ? " names a topic" : " may match topics") + " that policy " +
                config::quoted(link.policy) + " does not allow (it allows " +
                config::join(policy.topics_allow) +
                "); such topics are never replicated by this link"});
      }
    }
  }
  return warnings;
}

std::unique_ptr<PolicyRuntime> PolicyRuntime::create(const config::Config& config,
                                                     std::vector<config::ConfigError>& errors,
                                                     const CompileOptions& options,
                                                     const AuditTopicFactory& audit_topics) {
  std::unique_ptr<PolicyRuntime> runtime(new PolicyRuntime());
  // Policies sharing a file or a topic share its log (and its sink); each destination keeps its
  // own windows, so a topic that is down does not hold back the file.
  std::map<std::string, std::shared_ptr<AuditLog>> logs_by_destination;
  auto attach = [&](const std::string& policy, const std::string& destination,
                    std::chrono::milliseconds interval,
                    const std::function<Result<std::unique_ptr<AuditSink>>()>& open) {
    auto it = logs_by_destination.find(destination);
    if (it == logs_by_destination.end()) {
      Result<std::unique_ptr<AuditSink>> sink = open();
      if (!sink) {
        errors.push_back(config::ConfigError{config.policies.at(policy).location,
                                             "policies." + policy + ": " + sink.error().message});
        return;
      }
      auto log = std::make_shared<AuditLog>(std::move(*sink), interval);
      it = logs_by_destination.emplace(destination, log).first;
      runtime->audit_logs_.push_back(log);
    }
    runtime->audit_by_policy_[policy].push_back(it->second);
  };
  for (const auto& [name, policy_config] : config.policies) {
    CompileResult result = Policy::compile(policy_config, options);
    errors.insert(errors.end(), result.errors.begin(), result.errors.end());
    if (!result.policy) {
      continue;
    }
    runtime->policies_.emplace(name, result.policy);
    const auto& file = policy_config.audit_file;
    if (!file.empty()) {
      attach(name, "file:" + file, policy_config.audit_interval,
             [&]() -> Result<std::unique_ptr<AuditSink>> {
               Result<std::unique_ptr<FileAuditSink>> sink = FileAuditSink::open(file);
               if (!sink) {
                 return sink.error();
               }
               return std::unique_ptr<AuditSink>(std::move(*sink));
             });
    }
    if (!policy_config.audit_topic.empty()) {
      auto cluster = config.clusters.find(policy_config.audit_cluster);
      if (cluster == config.clusters.end() || !audit_topics) {
        errors.push_back(config::ConfigError{
            policy_config.audit_cluster_location,
            "policies." + name + ".audit: " +
                (!audit_topics
                     ? std::string("this command writes no audit topics")
                     : "unknown cluster " + config::quoted(policy_config.audit_cluster))});
        continue;
      }
      // A named reference: clang (the fuzz build) does not capture structured bindings.
      const std::string& audit_topic = policy_config.audit_topic;
      attach(name, "topic:" + policy_config.audit_cluster + "/" + audit_topic,
             policy_config.audit_interval,
             [&] { return audit_topics(cluster->second, audit_topic); });
    }
  }
  if (!errors.empty()) {
    return nullptr;
  }
  return runtime;
}

PolicyRuntime::~PolicyRuntime() { stopAudit(); }

PolicyPtr PolicyRuntime::policy(const std::string& name) const {
  auto it = policies_.find(name);
  return it == policies_.end() ? nullptr : it->second;
}

bool PolicyRuntime::allowsTopic(const config::LinkConfig& link, std::string_view topic) const {
  if (link.policy.empty()) {
    return true;
  }
  // Shadow mode changes nothing: a denied topic is replicated, its records counted not-allowed.
  PolicyPtr p = policy(link.policy);
  return p != nullptr && (p->shadow() || p->allowsTopic(topic));
}

PolicyCountersPtr PolicyRuntime::counters(const std::string& link, const std::string& name) {
  std::lock_guard lock(mutex_);
  auto key = std::make_pair(link, name);
  auto it = counters_.find(key);
  if (it != counters_.end()) {
    return it->second;
  }
  PolicyPtr p = policy(name);
  if (p == nullptr) {
    return nullptr;
  }
  auto counters = std::make_shared<PolicyCounters>(name, link, p->shadow(), ruleNames(*p));
  counters_.emplace(key, counters);
  auto logs = audit_by_policy_.find(name);
  if (logs != audit_by_policy_.end()) {
    for (const auto& log : logs->second) {
      log->add(counters);
    }
  }
  return counters;
}

std::vector<PolicyCountsSnapshot> PolicyRuntime::snapshot() const {
  std::lock_guard lock(mutex_);
  std::vector<PolicyCountsSnapshot> out;
  for (const auto& [key, counters] : counters_) {
    out.push_back(counters->snapshot());
  }
  return out;
}

void PolicyRuntime::flushAudit() {
  for (const auto& log : audit_logs_) {
    Status status = log->flush();
    if (!status.ok()) {
      spdlog::warn("policy audit log: {}", status.message());
    }
  }
}

void PolicyRuntime::startAudit() {
  std::lock_guard lock(mutex_);
  if (audit_thread_.joinable() || audit_logs_.empty()) {
    return;
  }
  stopping_ = false;
  audit_thread_ = std::thread([this] { auditLoop(); });
}

void PolicyRuntime::stopAudit() {
  {
    std::lock_guard lock(mutex_);
    if (!audit_thread_.joinable()) {
      return;
    }
    stopping_ = true;
  }
  wake_.notify_all();
  audit_thread_.join();
  flushAudit();
}

void PolicyRuntime::auditLoop() {
  std::vector<std::chrono::steady_clock::time_point> due(audit_logs_.size(),
                                                         std::chrono::steady_clock::now());
  for (size_t i = 0; i < audit_logs_.size(); ++i) {
    due[i] += audit_logs_[i]->interval();
  }
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    const auto next = *std::min_element(due.begin(), due.end());
    wake_.wait_until(lock, next, [this] { return stopping_; });
    if (stopping_) {
      break;
    }
    const auto now = std::chrono::steady_clock::now();
    lock.unlock();
    for (size_t i = 0; i < audit_logs_.size(); ++i) {
      if (due[i] <= now) {
        Status status = audit_logs_[i]->flush();
        if (!status.ok()) {
          spdlog::warn("policy audit log: {}", status.message());
        }
        due[i] = now + audit_logs_[i]->interval();
      }
    }
    lock.lock();
  }
}

Result<std::vector<pipeline::StagePtr>>
makePolicyStages(const config::Config& config, const config::LinkConfig& link,
                 PolicyRuntime& runtime, std::shared_ptr<const AvroShapes> avro,
                 std::shared_ptr<const ProtobufShapes> protobuf) {
  std::vector<pipeline::StagePtr> stages;
  if (link.policy.empty()) {
    return stages;
  }
  PolicyPtr policy = runtime.policy(link.policy);
  if (policy == nullptr) {
    return Error{"link " + link.name + ": policy " + link.policy + " is not compiled" +
                 (config.policies.count(link.policy) == 0 ? " (not in the configuration)" : "")};
  }
  Result<std::unique_ptr<PolicyStage>> stage = PolicyStage::create(
      policy, runtime.counters(link.name, link.policy), std::move(avro), std::move(protobuf));
  if (!stage) {
    return Error{"link " + link.name + ": policy " + link.policy + ": " + stage.error().message};
  }
  stages.push_back(std::move(*stage));
  return stages;
}

}  // namespace causeway::policies
