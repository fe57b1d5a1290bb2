// Link's rebalance handling and source commits: partitions arriving (exactly-once links start
// them after the last record on the target) and leaving (in-flight records awaited, committed,
// handed over). Runs on the data-plane thread, inside librdkafka's rebalance callback.

#include "replicator/link.h"
#include "replicator/link_internal.h"

#include <spdlog/spdlog.h>

#include <cstring>

namespace causeway::replicator {

using namespace link_internal;

void Link::onRebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions) {
  rebalances_ += 1;
  commits_held_until_ = {};
  last_rkt_ = nullptr;
  last_state_ = nullptr;
  last_partition_ = -1;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    assignPartitions(partitions);
  } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
    revokePartitions(partitions);
  } else {
    spdlog::error("link '{}': rebalance error: {}", link_.name, rd_kafka_err2str(err));
    std::vector<PartitionState*> all;
    for (auto& [key, state] : partitions_) {
      all.push_back(state.get());
    }
    waitForDeliveries(all, kRevokeFlushLimit);
    for (auto& [key, state] : partitions_) {
      if (state->tracker.inFlightRecords() > 0) {
        detached_.push_back(std::move(state));
      }
    }
    partitions_.clear();
    rd_kafka_assign(consumer_.get(), nullptr);
  }
}

Link::TargetTopic* Link::targetFor(const std::string& source_topic) {
  auto it = target_topics_.find(source_topic);
  if (it != target_topics_.end()) {
    return &it->second;
  }
  ReadyTopic ready;
  {
    std::lock_guard lock(ready_mu_);
    auto found = ready_topics_.find(source_topic);
    if (found == ready_topics_.end()) {
      return nullptr;
    }
    ready = found->second;
  }
  TargetTopic target;
  target.name = ready.target_topic;
  target.partitions = ready.target_partitions;
  target.handle.reset(rd_kafka_topic_new(producer_.get(), target.name.c_str(), nullptr));
  if (!target.handle) {
    return nullptr;
  }
  return &target_topics_.emplace(source_topic, std::move(target)).first->second;
}

void Link::assignPartitions(rd_kafka_topic_partition_list_t* partitions) {
  std::vector<PartitionState*> waiting;
  std::vector<PartitionState*> assigned;
  for (int i = 0; i < partitions->cnt; ++i) {
    const auto& tp = partitions->elems[i];
    auto& slot = partitions_[PartitionKey{tp.topic, tp.partition}];
    if (!slot) {
      slot = std::make_unique<PartitionState>();
    }
    slot->source_topic = tp.topic;
    slot->partition = tp.partition;
    slot->target = targetFor(tp.topic);
    slot->waiting_for_target = slot->target == nullptr || tp.partition >= slot->target->partitions;
    (slot->waiting_for_target ? waiting : assigned).push_back(slot.get());
  }
  if (tail_) {
    // Exactly-once: start each partition right after the last record this link actually wrote
    // to the target, whatever the source group says (its commits are advisory here).
    for (int i = 0; i < partitions->cnt; ++i) {
      auto& tp = partitions->elems[i];
      PartitionState& state = *partitions_[PartitionKey{tp.topic, tp.partition}];
      if (state.waiting_for_target) {
        continue;  // scanned when its mirror partition appears
      }
      auto resume = resumeOffset(state);
      if (!resume) {
        fail("link '" + link_.name + "': cannot find where " + tp.topic + "[" +
             std::to_string(tp.partition) + "] stopped on the target, so exactly-once " +
             "cannot be kept; not starting it: " + resume.error().message);
        return;
      }
      if (*resume) {
        tp.offset = **resume;
      }
    }
  }
  const bool cooperative =
      std::strcmp(rd_kafka_rebalance_protocol(consumer_.get()), "COOPERATIVE") == 0;
  if (cooperative) {
    if (rd_kafka_error_t* error = rd_kafka_incremental_assign(consumer_.get(), partitions)) {
      fail("link '" + link_.name + "': assigning partitions failed: " + errorText(error));
      return;
    }
  } else {
    rd_kafka_resp_err_t err = rd_kafka_assign(consumer_.get(), partitions);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      fail("link '" + link_.name + "': assigning partitions failed: " + rd_kafka_err2str(err));
      return;
    }
  }
  setPaused(waiting, true);
  if (backpressure_paused_ || user_paused_) {
    setPaused(assigned, true);
  }
  if (!waiting.empty()) {
    spdlog::warn("link '{}': {} assigned partition(s) wait for their mirror topic partitions",
                 link_.name, waiting.size());
  }
  spdlog::info("link '{}': assigned {} partition(s), {} in total", link_.name, partitions->cnt,
               partitions_.size());
}

Result<std::optional<int64_t>> Link::resumeOffset(PartitionState& state) {
  auto last = tail_->lastSourceOffset(state.target->name, state.partition,
                                      std::max(milliseconds(30000), target_.connect_timeout));
  if (!last) {
    return last.error();
  }
  seedRuns(state, *last);
  if (!*last) {
    return std::optional<int64_t>();
  }
  spdlog::info("link '{}': {}[{}] resumes at source offset {} (last one on the target)",
               link_.name, state.source_topic, state.partition, **last + 1);
  return std::optional<int64_t>(**last + 1);
}

void Link::recordRun(PartitionState& state, int64_t source, int64_t target) {
  state.runs_dirty = true;
  if (state.runs.add(source, target)) {
    return;
  }
  if (target <= state.runs.lastTarget() || source <= state.runs.lastSource()) {
    state.runs.clear();  // the target went back: the saved history describes another log
  }
  state.runs.markUnknownGap();
  state.runs.add(source, target);  // refused only for offsets no record has (-1)
}

void Link::seedRuns(PartitionState& state, std::optional<int64_t> last_source) {
  state.runs.clear();
  state.runs_dirty = false;
  state.runs_saved_count = 0;
  state.runs_saved_at = Clock::now();
  if (state_read_at_rebalance_ != rebalances_) {
    // Once per rebalance: the reader only reads what was saved since its last refresh.
    state_read_at_rebalance_ = rebalances_;
    auto refreshed = state_reader_->refresh(Clock::now() + std::max(milliseconds(10000),
                                                                    target_.connect_timeout));
    state_read_ok_ = refreshed.ok();
    if (!refreshed) {
      spdlog::warn("link '{}': saved offset runs not available, starting new ones: {}",
                   link_.name, refreshed.message());
    }
  }
  state.runs_saveable = state_read_ok_;
  const OffsetStateReader::Entry* saved =
      state_read_ok_ ? state_reader_->find(state.target->name, state.partition) : nullptr;
  if (saved != nullptr && saved->error.empty() && !saved->runs.empty()) {
    if (last_source && saved->runs.lastSource() <= *last_source) {
      state.runs = saved->runs;
      state.runs_saved_count = state.runs.runs().size();
    } else {
      // Runs past what the mirror partition holds: it was truncated or recreated.
      spdlog::warn("link '{}': saved offset runs of {}[{}] reach source offset {} but the "
                   "target holds up to {}; starting new ones",
                   link_.name, state.target->name, state.partition, saved->runs.lastSource(),
                   last_source.value_or(-1));
      state.runs_dirty = true;  // overwrite them
    }
  }
  if (last_source && state.runs.lastSource() != *last_source) {
    // Records of ours after the saved runs (a worker died before saving): leave a hole that
    // translation searches on the target.
    state.runs.markUnknownGap();
  }
}

void Link::saveRuns(const std::vector<PartitionState*>& states, bool force) {
  const auto now = Clock::now();
  for (PartitionState* state : states) {
    if (!state->runs_dirty || !state->runs_saveable || state->target == nullptr || failed_) {
      continue;
    }
    // A growing last run needs no save every commit: translation searches the few records
    // past the saved runs. A new run (a skip, foreign records) is saved at the next commit.
    if (!force && state->runs.runs().size() == state->runs_saved_count &&
        now - state->runs_saved_at < kRunsSaveInterval) {
      continue;
    }
    if (!beginTransactionIfNeeded()) {
      return;
    }
    const std::string key = stateKey(state->target->name, state->partition);
    state->runs.encodeInto(state_buffer_);
    rd_kafka_resp_err_t err = rd_kafka_producev(
        producer_.get(), RD_KAFKA_V_RKT(state_handle_.get()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key.data(), key.size()),
        RD_KAFKA_V_VALUE(state_buffer_.data(), state_buffer_.size()), RD_KAFKA_V_OPAQUE(nullptr),
        RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      countError("state", err);  // queue full: saved at the next commit
      return;
    }
    state->runs_dirty = false;
    state->runs_saved_count = state->runs.runs().size();
    state->runs_saved_at = now;
  }
}

void Link::revokePartitions(rd_kafka_topic_partition_list_t* partitions) {
  std::vector<PartitionState*> states;
  for (int i = 0; i < partitions->cnt; ++i) {
    const auto& tp = partitions->elems[i];
    auto it = partitions_.find(PartitionKey{tp.topic, tp.partition});
    if (it != partitions_.end()) {
      states.push_back(it->second.get());
    }
  }
  const bool lost = rd_kafka_assignment_lost(consumer_.get()) != 0;
  if (!lost) {
    // Hand over cleanly: what was read is written and committed before the next owner starts,
    // so it re-reads as little as possible.
    const auto limit = std::min(kRevokeFlushLimit, milliseconds(drain_timeout_ms_.load()));
    waitForDeliveries(states, limit);
    if (tail_) {
      saveRuns(states, /*force=*/true);
    }
    commitTransaction();  // transactional links: what was written becomes visible now
    commit(states, /*sync=*/true);
  } else if (tail_ && states.size() < partitions_.size()) {
    // Aborting or purging acts on every partition's records, including those of partitions
    // that stay assigned; their bookkeeping would then be wrong. Stop instead: a restart
    // resumes every partition from the target.
    fail("link '" + link_.name + "': part of the assignment was lost (" +
         std::to_string(states.size()) + " of " + std::to_string(partitions_.size()) +
         " partitions); stopping so that nothing is written after their next owner");
  } else if (tail_) {
    // Lost: this worker was out of its group longer than session.timeout.ms (frozen, cut off),
    // and another worker may be writing these partitions already. Nothing more of ours may
    // land there: the open transaction is aborted (on Kafka its records are never visible;
    // committing it later without offsets would publish them), and records not yet sent are
    // dropped. The next owner resumes from what is on the target.
    if (link_.transactional) {
      abortTransaction("the assignment was lost (out of the group for longer than "
                       "session.timeout.ms)");
    } else {
      rd_kafka_purge(producer_.get(), RD_KAFKA_PURGE_F_QUEUE);
    }
  }
  for (PartitionState* state : states) {
    auto it = partitions_.find(PartitionKey{state->source_topic, state->partition});
    if (state->tracker.inFlightRecords() > 0) {
      spdlog::warn("link '{}': {}[{}] revoked with {} record(s) still in flight; the next "
                   "owner may write them again",
                   link_.name, state->source_topic, state->partition,
                   state->tracker.inFlightRecords());
      detached_.push_back(std::move(it->second));
    }
    partitions_.erase(it);
  }
  const bool cooperative =
      std::strcmp(rd_kafka_rebalance_protocol(consumer_.get()), "COOPERATIVE") == 0;
  if (cooperative) {
    if (rd_kafka_error_t* error = rd_kafka_incremental_unassign(consumer_.get(), partitions)) {
      spdlog::error("link '{}': unassign failed: {}", link_.name, errorText(error));
    }
  } else {
    rd_kafka_assign(consumer_.get(), nullptr);
  }
  spdlog::info("link '{}': revoked {} partition(s){}, {} left", link_.name, partitions->cnt,
               lost ? " (lost)" : "", partitions_.size());
}

void Link::waitForDeliveries(const std::vector<PartitionState*>& states, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  auto pending = [&] {
    return std::any_of(states.begin(), states.end(),
                       [](PartitionState* s) { return s->tracker.inFlightRecords() > 0; });
  };
  while (pending() && Clock::now() < deadline) {
    rd_kafka_poll(producer_.get(), 10);
  }
}

void Link::commit(const std::vector<PartitionState*>& states, bool sync) {
  auto list = makeList(states.size());
  std::vector<std::pair<PartitionState*, int64_t>> advanced;
  for (PartitionState* state : states) {
    const auto point = state->tracker.commitPoint();
    if (point && *point > state->committed) {
      rd_kafka_topic_partition_list_add(list.get(), state->source_topic.c_str(), state->partition)
          ->offset = *point;
      advanced.emplace_back(state, *point);
    }
  }
  if (list->cnt == 0) {
    return;
  }
  rd_kafka_resp_err_t err = rd_kafka_commit(consumer_.get(), list.get(), sync ? 0 : 1);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    countError("commit", err);
    // Not fatal: the next commit carries the same or a later offset.
    std::lock_guard lock(status_mu_);
    status_.last_error = "committing source offsets to " + kafka::describeCluster(source_) +
                         " failed: " + rd_kafka_err2str(err);
    return;
  }
  for (auto [state, offset] : advanced) {
    state->committed = offset;
  }
}

void Link::commitAll(bool sync) {
  std::vector<PartitionState*> states;
  states.reserve(partitions_.size());
  for (auto& [key, state] : partitions_) {
    states.push_back(state.get());
  }
  commit(states, sync);
}

void Link::commitCallback(rd_kafka_t*, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t* offsets, void* opaque) {
  auto* self = static_cast<Link*>(opaque);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__NO_OFFSET) {
    std::lock_guard lock(self->status_mu_);
    if (self->status_.last_error.starts_with("committing")) {
      self->status_.last_error.clear();  // a later commit went through
    }
    return;
  }
  self->countError("commit", err);
  if (err == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS) {
    self->commits_held_until_ = Clock::now() + std::chrono::seconds(10);
  }
  // Forget what we believed committed so the next cycle commits these partitions again.
  for (int i = 0; offsets != nullptr && i < offsets->cnt; ++i) {
    auto it = self->partitions_.find(
        PartitionKey{offsets->elems[i].topic, offsets->elems[i].partition});
    if (it != self->partitions_.end()) {
      it->second->committed = -1;
    }
  }
  std::lock_guard lock(self->status_mu_);
  self->status_.last_error = "committing source offsets to " +
                             kafka::describeCluster(self->source_) +
                             " failed: " + rd_kafka_err2str(err);
}

} // namespace causeway::replicator
