// SourceReader's control of what librdkafka fetches: pausing held partitions, resuming them,
// seeking back, and resuming again a partition whose resume librdkafka dropped.

#include "replicator/source_reader.h"

#include "kafka/client_factory.h"

#include <algorithm>
#include <limits>

namespace causeway::replicator {
namespace {

// A resumed partition that answered nothing (no record, not its end) for this long is resumed
// again; the wait doubles with each unanswered resume, up to 80 s.
constexpr std::chrono::seconds kResumeAnswerWait{10};
constexpr uint8_t kResumeAnswerDoublings = 3;
// The wait before partitions whose committed-offset lookup librdkafka gave up are assigned
// again; it doubles while that keeps happening, up to the second.
constexpr std::chrono::milliseconds kRestartWaitFirst{1000};
constexpr std::chrono::milliseconds kRestartWaitMax{30000};

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

}  // namespace

void SourceReader::setGloballyPaused(bool paused) {
  if (globally_paused_ != paused) {
    globally_paused_ = paused;
    updateFetching();
  }
}

void SourceReader::setFetching(const std::vector<SourcePartition*>& partitions, bool paused) {
  if (partitions.empty()) {
    return;
  }
  auto list = kafka::newPartitionList(partitions.size());
  const auto now = Clock::now();
  for (SourcePartition* state : partitions) {
    rd_kafka_topic_partition_list_add(list.get(), state->topic.c_str(), state->partition);
    state->fetch_paused = paused;
    state->resumed_at = paused ? Clock::time_point{} : now;
    state->resumes_unanswered = 0;
    if (!paused) {
      state->hold_rewound = false;
    }
  }
  if (paused) {
    rd_kafka_pause_partitions(consumer_.get(), list.get());
  } else {
    rd_kafka_resume_partitions(consumer_.get(), list.get());
  }
}

void SourceReader::updateFetching() {
  const auto now = Clock::now();
  std::vector<SourcePartition*> to_pause;
  std::vector<SourcePartition*> to_resume;
  std::vector<SourcePartition*> unanswered;
  size_t abandoned = 0;
  for (auto& [key, state] : partitions_) {
    abandoned += state->start_abandoned ? 1 : 0;
    if (!state->fetch_started) {
      // librdkafka 2.0.2 starts a newly assigned partition's fetcher on its own thread, once the
      // group's committed offset came back. Every pause, resume and seek takes a version number
      // when it is called and is dropped when a later-numbered operation reached the partition
      // first, so one of ours racing with that start loses the start or itself: the partition is
      // never fetched, or stays paused with no error (confluentinc/librdkafka#5591, #2190). Until
      // its first answer the partition is left alone: it fetches, and what arrives while it is held
      // is discarded and read again (next()).
      continue;
    }
    const bool paused = globally_paused_ || state->held(now);
    if (paused != state->fetch_paused) {
      (paused ? to_pause : to_resume).push_back(state.get());
    } else if (!paused && state->hold_rewound) {
      // Rewound during a hold that ended before it could be paused (it began before the first
      // answer): what came after the rewind was discarded, so read it again.
      state->hold_rewound = false;
      state->rewind_unconfirmed = true;
      seekBack(*state, state->rewound_to);
    } else if (!paused && state->resumed_at != Clock::time_point{} &&
               now - state->resumed_at >=
                   kResumeAnswerWait *
                       (1 << std::min(state->resumes_unanswered, kResumeAnswerDoublings))) {
      unanswered.push_back(state.get());
    }
  }
  setFetching(to_pause, true);
  setFetching(to_resume, false);
  if (!unanswered.empty() && consumerQueueEmpty()) {
    resumeAgain(unanswered);
  }
  if (restart_unstarted_at_ != Clock::time_point{} && now >= restart_unstarted_at_ &&
      !in_rebalance_ && consumerQueueEmpty()) {
    restartUnstarted(now);
  } else if (restart_unstarted_at_ == Clock::time_point{} && abandoned == 0) {
    restart_wait_ = kRestartWaitFirst;  // every partition whose lookup failed has answered
  }
}

void SourceReader::noteStartAbandoned(SourcePartition* partition) {
  // Only partitions whose start waits for the lookup: one with a start offset of its own (a
  // resume position, the end or the beginning) is started at once and never looked up.
  auto mark = [](SourcePartition& state) {
    if (!state.fetch_started && state.start_offset == RD_KAFKA_OFFSET_INVALID) {
      state.start_abandoned = true;
    }
  };
  if (partition != nullptr) {
    mark(*partition);
  } else {
    for (auto& [key, state] : partitions_) {
      mark(*state);
    }
  }
  if (restart_unstarted_at_ == Clock::time_point{}) {
    restart_unstarted_at_ = Clock::now() + restart_wait_;
  }
}

void SourceReader::restartUnstarted(Clock::time_point now) {
  // librdkafka 2.0.2 starts a newly assigned partition's fetcher once the group coordinator has
  // answered the partition's committed offset. An OffsetFetch answered with an error it does not
  // retry (NOT_COORDINATOR and COORDINATOR_NOT_AVAILABLE, as when the coordinator moves in a
  // broker restart, or any permanent error) ends that: a partition-level error leaves the
  // partition assigned and never started, and a request-level one (how Kafka answers with
  // OffsetFetch v2 and later: no partitions) leaves the queried partitions marked as being looked
  // up, which stops every later lookup too (rdkafka_assignment.c, "Do nothing for request-level
  // errors"). Only an unassign clears that, and a cooperative group does not revoke what stays
  // with this member, so the partitions would wait for good. Unassigning and assigning them again
  // asks anew. A partition that has not answered has handed out no record, so nothing is lost
  // or repeated.
  // Done only while nothing waits in the consumer's queue and outside the rebalance callback, so
  // no rebalance librdkafka has queued for the application waits for an assign or unassign call
  // (which these would answer).
  restart_unstarted_at_ = {};
  std::vector<SourcePartition*> abandoned;
  for (auto& [key, state] : partitions_) {
    if (state->start_abandoned && !state->fetch_started) {
      abandoned.push_back(state.get());
    }
  }
  if (abandoned.empty() || closing_) {
    return;
  }
  auto list = kafka::newPartitionList(abandoned.size());
  for (SourcePartition* state : abandoned) {
    rd_kafka_topic_partition_list_add(list.get(), state->topic.c_str(), state->partition);
  }
  const SourcePartition& first = *abandoned.front();
  const std::string what = "source " + kafka::describeCluster(source_) +
                           ": librdkafka gave up looking up the group's committed offset of " +
                           std::to_string(abandoned.size()) + " partition(s) it had not started, " +
                           "the first " + first.topic + "[" + std::to_string(first.partition) + "]";
  if (rd_kafka_error_t* error = rd_kafka_incremental_unassign(consumer_.get(), list.get())) {
    restart_unstarted_at_ = now + restart_wait_;
    listener_.onProblem("start:offset-lookup",
                        what + ": unassigning them to look again failed (" +
                            kafka::takeErrorText(error) + "); trying again in " +
                            std::to_string(restart_wait_.count() / 1000) + " s");
    return;
  }
  if (rd_kafka_error_t* error = rd_kafka_incremental_assign(consumer_.get(), list.get())) {
    listener_.onFatal(what + ": assigning them again failed: " + kafka::takeErrorText(error));
    return;
  }
  listener_.onProblem("start:offset-lookup",
                      what + ": assigned again, which looks it up anew (" +
                          std::to_string(restart_wait_.count() / 1000) +
                          " s after the error; the wait doubles while it repeats)");
  restart_wait_ = std::min(restart_wait_ * 2, kRestartWaitMax);
  for (SourcePartition* state : abandoned) {
    state->start_abandoned = false;
    state->fetch_paused = false;
    state->resumed_at = {};
    state->resumes_unanswered = 0;
  }
}

bool SourceReader::consumerQueueEmpty() const {
  // All partitions' fetched records wait in one queue, and librdkafka fetches no partition while
  // it holds queued.max.messages.kbytes: a partition resumed behind a backlog of others answers
  // only once that backlog is read. Resuming it again then would drop what it fetched meanwhile
  // (a resume moves the partition's version) and put it behind the backlog again.
  rd_kafka_queue_t* queue = rd_kafka_queue_get_consumer(consumer_.get());
  if (queue == nullptr) {
    return true;
  }
  const size_t queued = rd_kafka_queue_length(queue);
  rd_kafka_queue_destroy(queue);
  return queued == 0;
}

bool SourceReader::noteAnswer(SourcePartition& partition) {
  partition.resumed_at = {};
  partition.resumes_unanswered = 0;
  if (partition.fetch_started) {
    return true;
  }
  partition.fetch_started = true;
  partition.start_abandoned = false;
  if (!partition.seek_deferred) {
    return true;
  }
  partition.seek_deferred = false;
  seekBack(partition, partition.rewound_to);
  return false;
}

void SourceReader::resumeAgain(const std::vector<SourcePartition*>& partitions) {
  // A resume librdkafka dropped (see updateFetching: one racing with its own work on the partition
  // in a rebalance) leaves the partition paused with no error, and a resumed partition answers
  // soon (a record, or its end again: librdkafka reports the end anew after each resume) once
  // nothing else is queued before it. Resuming one that is not paused makes it fetch again from
  // where it was resumed (nothing came since), and next() skips a record below what it handed out.
  auto list = kafka::newPartitionList(partitions.size());
  const auto now = Clock::now();
  for (SourcePartition* state : partitions) {
    rd_kafka_topic_partition_list_add(list.get(), state->topic.c_str(), state->partition);
    state->resumed_at = now;
    state->resumes_unanswered = static_cast<uint8_t>(
        std::min<int>(state->resumes_unanswered + 1, std::numeric_limits<uint8_t>::max()));
  }
  rd_kafka_resume_partitions(consumer_.get(), list.get());
  const SourcePartition& first = *partitions.front();
  listener_.onProblem(
      "fetch:unanswered",
      "source " + kafka::describeCluster(source_) + ": " + std::to_string(partitions.size()) +
          " resumed partition(s) sent nothing (no record, not their end) for " +
          std::to_string(kResumeAnswerWait.count()) + " s or more, the first " + first.topic + "[" +
          std::to_string(first.partition) +
          "]: resumed again (librdkafka 2.0.2 can drop a resume that races with its own work on "
          "the partition), or the partition's leader does not answer");
}

int64_t SourceReader::nextOffset(const SourcePartition& partition) {
  return std::max(partition.rewound_to, partition.tracker.lastDispatched() + 1);
}

Status SourceReader::rewind(SourcePartition& partition, int64_t offset) {
  partition.hold_rewound = true;
  partition.rewound_to = offset;
  partition.rewind_unconfirmed = true;
  if (!partition.fetch_started) {
    partition.seek_deferred = true;  // made at the first answer (see updateFetching)
    partition.end_reached = -1;
    return {};
  }
  return seek(partition, offset);
}

void SourceReader::seekBack(SourcePartition& partition, int64_t offset) {
  if (auto sought = seek(partition, offset); !sought) {
    listener_.onProblem("seek", sought.message());  // the next record shows where it is
  }
}

Status SourceReader::seek(SourcePartition& partition, int64_t offset) {
  auto list = kafka::newPartitionList(1);
  rd_kafka_topic_partition_list_add(list.get(), partition.topic.c_str(), partition.partition)
      ->offset = offset;
  partition.end_reached = -1;
  if (rd_kafka_error_t* error = rd_kafka_seek_partitions(consumer_.get(), list.get(), 5000)) {
    // librdkafka 2.0.2 waits for the seek's answer `timeout` MICROseconds (5 ms here; fixed in
    // 2.1.0, confluentinc/librdkafka#4230), so on a busy machine the wait times out although the
    // seek is queued. The partition's version barrier moved before the call returned, so records
    // fetched before it are discarded already: a timed-out wait is not a failed seek. A queued
    // seek can still be refused (in the partition's error, __STATE while its fetcher has not
    // started after an assignment) or overtaken by librdkafka's own start-offset lookup; next()
    // checks where the partition's records really come from, so neither goes unnoticed.
    if (rd_kafka_error_code(error) != RD_KAFKA_RESP_ERR__TIMED_OUT) {
      return Error{"seeking " + partition.topic + "[" + std::to_string(partition.partition) +
                   "] to offset " + std::to_string(offset) +
                   " failed: " + kafka::takeErrorText(error)};
    }
    rd_kafka_error_destroy(error);
  }
  last_rkt_ = nullptr;  // messages fetched before the seek may still be queued
  return {};
}

}  // namespace causeway::replicator
