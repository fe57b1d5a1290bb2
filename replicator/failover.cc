#include "replicator/failover.h"

#include "kafka/client_factory.h"
#include "replicator/offset_state.h"
#include "replicator/target_tail.h"
#include "replicator/topic_selector.h"

#include <algorithm>
#include <set>
#include <thread>

namespace causeway::replicator {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

} // namespace

struct Failover::Clients {
  Clients(const config::ClusterConfig& target, const std::string& link) : tail(target, link) {}
  kafka::HandlePtr source_admin;
  TargetTail tail;
  std::optional<TopicSelector> selector;
};

Failover::Failover(const config::Config& config, std::string link,
                   std::vector<std::string> groups)
    : config_(config), link_name_(std::move(link)), groups_(std::move(groups)) {}

Failover::~Failover() = default;

Status Failover::open() {
  link_ = config_.findLink(link_name_);
  if (link_ == nullptr) {
    return Error{"unknown link '" + link_name_ + "'; the config has: " + config_.linkNames()};
  }
  std::set<std::string> groups(groups_.begin(), groups_.end());
  groups.insert(link_->groups.names.begin(), link_->groups.names.end());
  groups_.assign(groups.begin(), groups.end());
  if (groups_.empty()) {
    return Error{"link '" + link_name_ +
                 "' names no consumer group to fail over: add groups.names to the link or "
                 "--group to the command"};
  }
  const auto& source = config_.clusters.at(link_->source);
  const auto& target = config_.clusters.at(link_->target);
  // GroupSync owns the translator the plan uses too: one set of clients, not two.
  sync_ = std::make_unique<GroupSync>(*link_, source, target);
  if (auto opened = sync_->open(); !opened) {
    return opened;
  }
  auto clients = std::make_unique<Clients>(target, link_name_);
  auto selector = TopicSelector::create(*link_);
  if (!selector) {
    return selector.error();
  }
  clients->selector = std::move(*selector);
  kafka::ClientSpec spec;
  spec.type = RD_KAFKA_PRODUCER;  // metadata and watermarks only
  spec.cluster = &source;
  spec.client_id = "causeway-failover";
  auto admin = kafka::makeClient(spec);
  if (!admin) {
    return admin.error();
  }
  clients->source_admin = std::move(*admin);
  if (auto opened = clients->tail.open(); !opened) {
    return opened;
  }
  clients_ = std::move(clients);
  return {};
}

Result<std::vector<PartitionLag>> Failover::lags(milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  const auto& source = config_.clusters.at(link_->source);
  auto md = kafka::fetchAllTopics(clients_->source_admin.get(), source, timeout);
  if (!md) {
    return md.error();
  }
  std::vector<PartitionLag> out;
  for (int i = 0; i < (*md)->topic_cnt; ++i) {
    const auto& topic = (*md)->topics[i];
    if (topic.err != RD_KAFKA_RESP_ERR_NO_ERROR || !clients_->selector->selects(topic.topic)) {
      continue;
    }
    for (int p = 0; p < topic.partition_cnt; ++p) {
      PartitionLag lag;
      lag.source_topic = topic.topic;
      lag.target_topic = clients_->selector->targetTopic(topic.topic);
      lag.partition = p;
      int64_t low = 0;
      const int remaining = static_cast<int>(std::max<int64_t>(
          1, std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count()));
      if (rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
              clients_->source_admin.get(), topic.topic, p, &low, &lag.source_high, remaining)) {
        return Error{kafka::describeCluster(source) + " " + lag.source_topic + "[" +
                     std::to_string(p) + "]: " + rd_kafka_err2str(err)};
      }
      auto last = clients_->tail.lastSourceOffset(
          lag.target_topic, p, std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
      if (!last) {
        return last.error();
      }
      lag.next_source_offset = last->has_value() ? **last + 1 : low;
      lag.lag = std::max<int64_t>(0, lag.source_high - lag.next_source_offset);
      out.push_back(std::move(lag));
    }
  }
  return out;
}

Result<FailoverPlan> Failover::plan(milliseconds timeout) {
  FailoverPlan plan;
  plan.link = link_name_;
  auto partitions = lags(timeout);
  if (!partitions) {
    return partitions.error();
  }
  plan.partitions = std::move(*partitions);
  for (const auto& p : plan.partitions) {
    plan.total_lag += p.lag;
  }
  for (const auto& group : groups_) {
    GroupPlan g;
    g.group = group;
    auto offsets = sync_->translator().translate(group, timeout);
    if (!offsets) {
      g.problem = offsets.error().message;
    } else {
      g.offsets = std::move(*offsets);
      for (const auto& t : g.offsets) {
        g.rpo_records += std::max<int64_t>(0, t.not_yet_replicated);
      }
    }
    plan.groups.push_back(std::move(g));
  }
  return plan;
}

Result<FailoverPlan> Failover::drain(milliseconds timeout,
                                     const std::function<void(const FailoverPlan&)>& progress) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    auto current = plan(std::max(milliseconds(10000), timeout / 10));
    if (!current) {
      return current.error();
    }
    if (progress) {
      progress(*current);
    }
    if (current->total_lag == 0 || Clock::now() >= deadline) {
      return current;
    }
    std::this_thread::sleep_for(milliseconds(1000));
  }
}

std::vector<GroupSyncOutcome> Failover::moveGroups(milliseconds timeout, bool force) {
  std::vector<GroupSyncOutcome> outcomes;
  for (const auto& group : groups_) {
    outcomes.push_back(sync_->syncGroup(group, timeout, force));
  }
  return outcomes;
}

} // namespace causeway::replicator

namespace causeway::replicator {

Status Failover::markFailedOver(bool forced, int64_t left_behind, const std::string& by,
                                milliseconds timeout) {
  FailoverMark mark;
  mark.at_ms = std::chrono::duration_cast<milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  mark.forced = forced;
  mark.left_behind = left_behind;
  mark.by = by;
  return writeFailoverMark(config_.clusters.at(link_->target), link_name_, mark, timeout);
}

Status Failover::clearFailoverMark(const config::Config& config, const std::string& link,
                                   milliseconds timeout) {
  const config::LinkConfig* found = config.findLink(link);
  if (found == nullptr) {
    return Error{"unknown link '" + link + "'; the config has: " + config.linkNames()};
  }
  return writeFailoverMark(config.clusters.at(found->target), link, std::nullopt, timeout);
}

} // namespace causeway::replicator
