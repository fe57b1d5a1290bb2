// Link's flow control: pausing and resuming fetching for backpressure, for an operator's pause,
// and for partitions whose mirror partition does not exist yet. Data-plane thread only.

#include "replicator/link.h"
#include "replicator/link_internal.h"

#include <spdlog/spdlog.h>

namespace causeway::replicator {

using namespace link_internal;

void Link::setPaused(const std::vector<PartitionState*>& states, bool paused) {
  if (states.empty()) {
    return;
  }
  auto list = makeList(states.size());
  for (PartitionState* state : states) {
    rd_kafka_topic_partition_list_add(list.get(), state->source_topic.c_str(), state->partition);
  }
  if (paused) {
    rd_kafka_pause_partitions(consumer_.get(), list.get());
  } else {
    rd_kafka_resume_partitions(consumer_.get(), list.get());
  }
}

std::vector<Link::PartitionState*> Link::fetchablePartitions() {
  std::vector<PartitionState*> states;
  for (auto& [key, state] : partitions_) {
    if (!state->waiting_for_target) {
      states.push_back(state.get());
    }
  }
  return states;
}

void Link::applyOperatorPause() {
  const bool wanted = pause_requested_.load();
  if (wanted == user_paused_) {
    return;
  }
  user_paused_ = wanted;
  if (wanted) {
    setPaused(fetchablePartitions(), true);
  } else if (!backpressure_paused_) {
    setPaused(fetchablePartitions(), false);
  }
  spdlog::info("link '{}': {} by the operator", link_.name, wanted ? "paused" : "resumed");
  std::lock_guard lock(status_mu_);
  if (status_.state == LinkState::kRunning || status_.state == LinkState::kPaused) {
    status_.state = wanted ? LinkState::kPaused : LinkState::kRunning;
  }
}

void Link::applyBackpressure() {
  const bool over = in_flight_records_ > link_.max_in_flight_records ||
                    in_flight_bytes_ > link_.max_in_flight_bytes;
  const bool under = in_flight_records_ <= link_.max_in_flight_records / 2 &&
                     in_flight_bytes_ <= link_.max_in_flight_bytes / 2;
  if (backpressure_paused_ == over || (backpressure_paused_ && !under)) {
    return;
  }
  backpressure_paused_ = over;
  if (!user_paused_) {
    setPaused(fetchablePartitions(), backpressure_paused_);
  }
}

void Link::resumeReadyPartitions() {
  std::vector<PartitionState*> ready;
  for (auto& [key, state] : partitions_) {
    if (!state->waiting_for_target) {
      continue;
    }
    if (state->target == nullptr) {
      state->target = targetFor(state->source_topic);
    }
    if (state->target != nullptr && state->partition < state->target->partitions) {
      if (tail_) {
        auto resume = resumeOffset(*state);
        if (!resume) {
          fail("link '" + link_.name + "': cannot find where " + state->source_topic + "[" +
               std::to_string(state->partition) + "] stopped on the target: " +
               resume.error().message);
          return;
        }
        if (*resume) {
          auto list = makeList(1);
          rd_kafka_topic_partition_list_add(list.get(), state->source_topic.c_str(),
                                            state->partition)
              ->offset = **resume;
          if (rd_kafka_error_t* error = rd_kafka_seek_partitions(consumer_.get(), list.get(),
                                                                 5000)) {
            fail("link '" + link_.name + "': seeking " + state->source_topic + " failed: " +
                 errorText(error));
            return;
          }
        }
      }
      state->waiting_for_target = false;
      ready.push_back(state.get());
    }
  }
  if (!ready.empty() && !backpressure_paused_ && !user_paused_) {
    setPaused(ready, false);
  }
}

} // namespace causeway::replicator
