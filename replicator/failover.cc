#include "replicator/failover.h"

#include "common/wall_clock.h"
#include "kafka/client_factory.h"
#include "replicator/offset_state.h"
#include "replicator/topic_selector.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>
#include <thread>

namespace causeway::replicator {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

}  // namespace

struct Failover::Clients {
  kafka::HandlePtr source_admin;
  std::optional<TopicSelector> selector;
};

Failover::Failover(const config::Config& config, std::string link, std::vector<std::string> groups)
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
                 "' names no consumer group to fail over: add groups.names to "
                 "the link or "
                 "--group to the command"};
  }
  const auto& source = config_.clusters.at(link_->source);
  const auto& target = config_.clusters.at(link_->target);
  // GroupSync owns the translator the plan uses too: one set of clients, not two.
  sync_ = std::make_unique<GroupSync>(*link_, source, target, GroupSyncRole::kFailover);
  if (auto opened = sync_->open(); !opened) {
    return opened;
  }
  auto clients = std::make_unique<Clients>();
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
  OffsetTranslator& translator = sync_->translator();
  if (auto refreshed = translator.refreshState(deadline); !refreshed) {
    return refreshed.error();
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
      auto view = translator.mirrorView(lag.target_topic, p, deadline);
      if (!view) {
        return view.error();
      }
      lag.next_source_offset = std::max(view->nextSource(), low);
      lag.lag = std::max<int64_t>(0, lag.source_high - lag.next_source_offset);
      lag.target_hidden = view->stable < view->high;
      out.push_back(std::move(lag));
    }
  }
  return out;
}

Result<FailoverPlan> Failover::plan(milliseconds timeout) {
  FailoverPlan plan;
  plan.link = link_name_;
  plan.rereads_possible = link_->delivery != config::DeliveryMode::kExactlyOnce;
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
    GroupSyncOutcome outcome = sync_->syncGroup(group, timeout, force);
    if (outcome.left_alone) {
      // Its consumers already run on the target past the translation: it has moved.
      outcome.committed = true;
      outcome.problem = "already consuming on the target past the translated position; left "
                        "as it is";
    }
    auto& moved = moved_[group];
    moved.insert(moved.end(), outcome.written.begin(), outcome.written.end());
    outcomes.push_back(std::move(outcome));
  }
  return outcomes;
}

}  // namespace causeway::replicator

namespace causeway::replicator {

Status Failover::markFailedOver(bool forced, int64_t left_behind, const std::string& by,
                                milliseconds timeout) {
  FailoverMark mark;
  mark.at_ms = wallClockMs();
  mark.forced = forced;
  mark.left_behind = left_behind;
  mark.by = by;
  if (auto written =
          writeFailoverMark(config_.clusters.at(link_->target), link_name_, mark, timeout);
      !written) {
    return written;
  }
  // Workers check the mark right before each commit, so none starts one from now on; one that
  // passed its check before the mark landed may have committed after the groups moved.
  for (const auto& [group, written] : moved_) {
    auto restored = sync_->reassert(group, written, timeout);
    if (!restored) {
      spdlog::warn("failover of link '{}': checking group '{}' after the mark: {}", link_name_,
                   group, restored.error().message);
    } else if (*restored > 0) {
      spdlog::warn("failover of link '{}': group '{}': {} partition(s) moved by a "
                   "worker's "
                   "sync after the failover were set back to the failover's offsets",
                   link_name_, group, *restored);
    }
  }
  return {};
}

Status Failover::clearFailoverMark(const config::Config& config, const std::string& link,
                                   milliseconds timeout) {
  const config::LinkConfig* found = config.findLink(link);
  if (found == nullptr) {
    return Error{"unknown link '" + link + "'; the config has: " + config.linkNames()};
  }
  return writeFailoverMark(config.clusters.at(found->target), link, std::nullopt, timeout);
}

}  // namespace causeway::replicator
