// Link's control-plane threads: topic discovery (and, while fetching is paused, watermark queries)
// and consumer-group offset sync. See link.h for the threading model.

#include "replicator/link.h"
#include "replicator/link_internal.h"

#include "replicator/group_sync.h"

#include <spdlog/spdlog.h>

#include <map>

namespace causeway::replicator {

using namespace link_internal;

void Link::runDiscovery() {
  std::unique_lock lock(stop_mu_);
  while (!stop_requested_.load()) {
    if (stop_cv_.wait_for(lock, link_.discovery_interval,
                          [this] { return stop_requested_.load(); })) {
      break;
    }
    lock.unlock();
    checkFailoverMark();  // first: discovery can take long while a cluster is
                          // down
    if (!failed_over_.load()) {
      discoverOnce();
      refreshPausedWatermarks();
    }
    lock.lock();
  }
}

std::string Link::failedOverText(const FailoverMark& mark) const {
  return "link '" + link_.name + "' was " + describeFailoverMark(mark) +
         ": it does not replicate into the promoted target any more (a drill? "
         "`causeway "
         "failover --link " +
         link_.name + " --undo` clears the mark)";
}

void Link::checkFailoverMark() {
  if (!mark_reader_ || failed_over_.load()) {
    return;
  }
  auto read =
      mark_reader_->refresh(Clock::now() + std::max(milliseconds(10000), target_.connect_timeout));
  if (!read) {
    if (read.message() != mark_check_problem_) {  // once per distinct problem, not per cycle
      spdlog::warn("link '{}': cannot check for a failover mark: {}", link_.name, read.message());
      mark_check_problem_ = read.message();
    }
    return;  // the next discovery cycle tries again
  }
  mark_check_problem_.clear();
  const auto& mark = mark_reader_->failoverMark();
  if (!mark) {
    return;
  }
  const std::string text = failedOverText(*mark);
  spdlog::warn("{}; stopping", text);
  {
    std::lock_guard lock(status_mu_);
    status_.error = text;
  }
  failed_over_.store(true);
  requestStop(milliseconds(drain_timeout_ms_.load()));
}

void Link::runGroupSync() {
  std::unique_ptr<GroupSync> sync;
  std::unique_lock lock(stop_mu_);
  while (!stop_requested_.load()) {
    lock.unlock();
    std::vector<GroupSyncOutcome> outcomes;
    std::string problem;
    if (!sync) {
      sync = std::make_unique<GroupSync>(link_, source_, target_);
      if (auto opened = sync->open(); !opened) {
        problem = opened.message();
        sync.reset();
      }
    }
    if (sync) {
      outcomes = sync->runOnce(milliseconds(30000));
    }
    {
      std::lock_guard status_lock(status_mu_);
      std::map<std::string, GroupStatus> previous;
      for (auto& g : status_.groups) {
        previous[g.group] = g;
      }
      if (!problem.empty()) {
        for (const auto& name : link_.groups.names) {
          previous[name].group = name;
          previous[name].synced = false;
          previous[name].problem = problem;
        }
      }
      for (const auto& outcome : outcomes) {
        GroupStatus& g = previous[outcome.group];
        if (outcome.committed && !g.synced) {
          spdlog::info("link '{}': group '{}' synced to {}", link_.name, outcome.group,
                       target_.name);
        } else if (!outcome.committed && g.problem != outcome.problem) {
          spdlog::warn("link '{}': group '{}' not synced: {}", link_.name, outcome.group,
                       outcome.problem);
        }
        g.group = outcome.group;
        g.synced = outcome.committed;
        g.problem = outcome.problem;
        if (outcome.committed) {
          g.last_synced_ms =
              std::chrono::duration_cast<milliseconds>(outcome.at.time_since_epoch()).count();
        }
        int64_t rpo = 0;
        for (const auto& t : outcome.offsets) {
          if (t.source_offset >= 0) {
            rpo = (rpo < 0 || t.not_yet_replicated < 0) ? -1 : rpo + t.not_yet_replicated;
          }
        }
        g.rpo_records = outcome.offsets.empty() ? -1 : rpo;
      }
      status_.groups.clear();
      for (auto& [name, g] : previous) {
        status_.groups.push_back(std::move(g));
      }
    }
    lock.lock();
    stop_cv_.wait_for(lock, link_.groups.sync_interval, [this] { return stop_requested_.load(); });
  }
}

void Link::refreshPausedWatermarks() {
  if (!fetching_paused_.load()) {
    return;
  }
  std::vector<std::pair<std::string, int32_t>> partitions;
  {
    std::lock_guard lock(ready_mu_);
    for (const auto& [topic, ready] : ready_topics_) {
      for (int32_t p = 0; p < ready.source_partitions; ++p) {
        partitions.emplace_back(topic, p);
      }
    }
  }
  std::map<std::pair<std::string, int32_t>, int64_t> highs;
  for (const auto& [topic, partition] : partitions) {
    int64_t low = 0;
    int64_t high = 0;
    if (rd_kafka_query_watermark_offsets(reader_->client(), topic.c_str(), partition, &low, &high,
                                         5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      highs[{topic, partition}] = high;
    }
  }
  std::lock_guard lock(ready_mu_);
  queried_high_ = std::move(highs);
}

void Link::discoverOnce() {
  auto result = discovery_->run(reader_->client());
  std::lock_guard lock(ready_mu_);
  if (!result) {
    topic_problems_["*"] = result.error().message;
    spdlog::warn("link '{}': {}", link_.name, result.error().message);
    return;
  }
  for (const auto& [topic, problem] : result->problems) {
    if (topic_problems_[topic] != problem) {
      spdlog::error("link '{}': topic '{}' is not replicated: {}", link_.name, topic, problem);
    }
  }
  topic_problems_ = result->problems;
  bool changed = result->ready.size() != ready_topics_.size();
  if (!changed) {
    for (const auto& [topic, ready] : result->ready) {
      auto it = ready_topics_.find(topic);
      if (it == ready_topics_.end() || it->second.target_partitions != ready.target_partitions ||
          it->second.source_partitions != ready.source_partitions) {
        changed = true;
        break;
      }
    }
  }
  if (changed) {
    ready_topics_ = std::move(result->ready);
    ready_changed_ = true;
  }
}

}  // namespace causeway::replicator
