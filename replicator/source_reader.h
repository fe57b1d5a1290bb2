#pragma once

#include "common/result.h"
#include "config/config.h"
#include "kafka/handles.h"
#include "pipeline/record.h"
#include "replicator/held_record.h"
#include "replicator/offset_tracker.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace causeway::replicator {

struct MirrorPartition;  // the sink's side of a partition (target_writer.h)

// One source partition assigned to this worker, as the reader keeps it: where its records stand
// (the OffsetTracker: dispatched, acknowledged, the commit point) and why fetching it is held. The
// sink's side of the same partition hangs off `mirror`.
struct SourcePartition {
  std::string topic;
  int32_t partition = 0;
  OffsetTracker tracker{this};  // delivery reports find the partition through it
  int64_t committed = -1;       // last offset committed for the group
  // Owned here so it lives exactly as long as the partition (detached ones included); created by
  // the link (the deleter is bound there, so this header needs no complete type).
  std::shared_ptr<MirrorPartition> mirror;
  // Set by the listener in onAssigned(): where fetching starts (a librdkafka logical offset when
  // negative: RD_KAFKA_OFFSET_INVALID means the group's committed offset).
  int64_t start_offset = -1001;

  // Reasons to hold fetching; any of them pauses the partition.
  bool waiting_for_target = false;    // its mirror partition does not exist yet
  bool waiting_for_position = false;  // exactly-once: the resume offset is being looked up
  // Exactly-once: lookups that failed because the target did not answer, and when the link asks
  // again (zero: not waiting to ask).
  uint32_t position_attempts = 0;
  std::chrono::steady_clock::time_point ask_position_at{};
  std::chrono::steady_clock::time_point retry_at{};  // a stage asked to look again later
  // No committed offset when assigned: the position the consumer starts from is committed at the
  // next commit even if no record arrives, so a restart starts there too.
  bool commit_start = false;
  // Every source offset below this was seen by the reader (records, or the partition's end reached
  // past transaction markers and compacted gaps); -1 before anything.
  int64_t seen_end = -1;
  // The partition's end offset from an end-of-partition event after the last record handed out,
  // when no record was discarded since and no rewind happened (-1, -2: none). Every record below
  // it was handed out by next() (source_accounting.h).
  int64_t end_reached = -1;

  // Exactly-once links keep the target and the dead-letter queue in source order: a record goes to
  // one of them only once every earlier record of the partition sent to the other was acknowledged,
  // so what a crash leaves on both is a prefix of the partition.
  bool waiting_for_barrier = false;
  uint64_t in_flight_dead_letters = 0;
  // A record bound for the dead-letter queue that waits for that barrier (stages already ran).
  std::unique_ptr<HeldRecord> held_dead_letter;

  bool held(std::chrono::steady_clock::time_point now) const {
    return waiting_for_target || waiting_for_position || waiting_for_barrier || now < retry_at;
  }
  // held() at this moment, reading the clock only while a retry time is set (once it has passed
  // it is cleared): the reader asks this for every record.
  bool heldNow() {
    constexpr std::chrono::steady_clock::time_point kUnset{};
    const auto now = retry_at == kUnset ? kUnset : std::chrono::steady_clock::now();
    if (retry_at != kUnset && now >= retry_at) {
      retry_at = kUnset;
    }
    return held(now);
  }
  bool fetch_paused = false;  // as last applied to the consumer
  // librdkafka answered for the partition since it was assigned (a record, its end): its fetcher
  // runs. Until then the reader neither pauses nor seeks it (SourceReader::updateFetching).
  bool fetch_started = false;
  // A rewind asked for before that: its seek is made at the first answer.
  bool seek_deferred = false;
  // librdkafka reported giving up its committed-offset lookup while the partition had not
  // answered: it is assigned again (SourceReader::restartUnstarted).
  bool start_abandoned = false;
  // When the reader last resumed the partition, while no answer came since (zero: none pending),
  // and how many resumes in a row went unanswered.
  std::chrono::steady_clock::time_point resumed_at{};
  uint8_t resumes_unanswered = 0;
  // Rewound while held: what was fetched before is discarded, so the first record that arrives
  // during the hold is not where the partition goes on.
  bool hold_rewound = false;
  // Where the last rewind put the partition (-1: none). The partition never goes back below it by
  // itself: a record fetched below it is one librdkafka fetched again after resetting the position
  // (see SourceReader::next), never a record still to process.
  int64_t rewound_to = -1;
  // No record was handed out since the last rewind: the first one must be at `rewound_to` (or
  // past offsets without a record). See SourceReader::next.
  bool rewind_unconfirmed = false;
  // Seeks back to nextOffset() since the last record handed out (bounded: a source whose log
  // now ends below it would answer each one by going back again).
  uint8_t seeks_back = 0;
  uint64_t epoch = 0;  // set by the listener per assignment
};

// The record the reader hands out: the view stages read, the partition it belongs to, and the
// consumed message behind it (opaque here; the Kafka sink moves its headers). Both are valid until
// the next next() call, which frees the message: sinks copy what they keep.
struct SourceRecord {
  pipeline::RecordView view;
  SourcePartition* partition = nullptr;
  void* handle = nullptr;
  uint32_t bytes = 0;  // key + value
};

// The consumer side of a link: joins the source group causeway.<link> (cooperative-sticky), follows
// the subscription, keeps one SourcePartition per assigned partition, hands out records in
// partition order, pauses and resumes fetching (backpressure, operator pause, per-partition holds),
// rewinds a partition on request, and commits each partition's commit point.
//
// Rebalances arrive inside next() (librdkafka serves them from the consumer queue) and are passed
// to the Listener: onAssigned() may set holds on the new partitions before fetching starts;
// onRevoking() must finish what it needs (flush, commit, save) before the partitions go. Partitions
// revoked with records still in flight are kept, detached, until those records are reported (their
// commit point is never committed again).
//
// Not thread-safe: owned by the link's data-plane thread, like every callback it serves.
class SourceReader {
public:
  class Listener {
  public:
    virtual ~Listener() = default;
    virtual void onAssigned(const std::vector<SourcePartition*>& partitions) = 0;
    virtual void onRevoking(const std::vector<SourcePartition*>& partitions, bool lost) = 0;
    // A fatal consumer error (or a failed assignment): the link stops with `message`.
    virtual void onFatal(const std::string& message) = 0;
    // A non-fatal problem worth showing (retried by librdkafka): counted by `kind`.
    virtual void onProblem(const std::string& kind, const std::string& message) = 0;
    // A commit went through (clears a shown commit problem).
    virtual void onCommitted() {}
  };

  SourceReader(const config::LinkConfig& link, const config::ClusterConfig& source,
               Listener& listener);
  ~SourceReader();

  SourceReader(const SourceReader&) = delete;
  SourceReader& operator=(const SourceReader&) = delete;

  // Builds the consumer. `configure` may set more callbacks (statistics) on its conf.
  Status open();
  // The consumer, for metadata and watermark queries from other threads (thread-safe calls in
  // librdkafka). Null before open().
  rd_kafka_t* client() const { return consumer_.get(); }

  // `start: latest`: partitions of these topics that have no committed offset start at their end;
  // every other partition without one starts at its beginning. The link passes the topics that
  // existed when it first started (a link whose group already committed anything passes none), so
  // topics and partitions created later are replicated from their first record.
  void setStartAtEnd(std::vector<std::string> topics) { start_at_end_ = std::move(topics); }

  // Topics to follow; an empty list unsubscribes. Same list: no-op.
  Status subscribe(const std::vector<std::string>& topics);
  const std::vector<std::string>& subscribed() const { return subscribed_; }

  // The next record to process, or null when none arrived within `timeout_ms`. Serves rebalances
  // and consumer errors. Records of partitions held or no longer assigned are skipped (and re-read
  // later: the partition is rewound to them). Records behind where a partition is (at or below
  // what it dispatched, or below where it was last rewound to) came again after librdkafka reset
  // its position: they are skipped and the partition is sought back to where it is. The first
  // record after a rewind must be at the rewind's offset: past it, the partition is sought back
  // once more (librdkafka may have moved it forward over the seek).
  const SourceRecord* next(int timeout_ms);

  // Fetching of every partition (backpressure, operator pause). Applied by updateFetching().
  void setGloballyPaused(bool paused);
  bool globallyPaused() const { return globally_paused_; }
  // Re-evaluates which partitions fetch (after holds changed, or when a retry is due), resumes
  // again a partition that answered nothing for a while after it was resumed, and assigns again
  // the partitions librdkafka gave up starting. Call it often (the link does every 100 ms).
  void updateFetching();
  // Reads `partition` again from `offset` (a retry, or a resume position found late).
  Status rewind(SourcePartition& partition, int64_t offset);

  // Commits every assigned partition's commit point that moved (async unless `sync`). Held after a
  // REBALANCE_IN_PROGRESS answer until the next rebalance (librdkafka 2.0.2 drops the whole
  // assignment when a commit comes back with a stale generation).
  void commit(bool sync);
  void commit(const std::vector<SourcePartition*>& partitions, bool sync);
  bool commitsHeld(std::chrono::steady_clock::time_point now) const {
    return now < commits_held_until_;
  }

  // The consumer's position of each assigned partition (-1 unknown), in partitions() order.
  std::vector<int64_t> positions() const;
  // Source high watermark as the consumer last saw it, -1 if unknown.
  int64_t cachedHighWatermark(const SourcePartition& partition) const;

  const std::map<std::pair<std::string, int32_t>, std::unique_ptr<SourcePartition>>&
  partitions() const {
    return partitions_;
  }
  SourcePartition* find(const std::string& topic, int32_t partition);
  // Revoked partitions whose records are still in flight.
  const std::vector<std::unique_ptr<SourcePartition>>& detached() const { return detached_; }
  void dropSettledDetached();
  uint64_t rebalances() const { return rebalances_; }

  // Leaves the group (revoking everything through the listener). Call after the last commit.
  // A consumer that joined the group but has not had its first assignment yet first waits for
  // it (bounded): librdkafka 2.0.2 asserts when a cooperative-sticky consumer is destroyed
  // between its JoinGroup and SyncGroup answers (the assignor has no state yet; fixed in 2.3.0).
  void close();

private:
  using Key = std::pair<std::string, int32_t>;

  void onRebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* list);
  void assign(rd_kafka_topic_partition_list_t* list);
  void awaitFirstAssignment();
  void revoke(rd_kafka_topic_partition_list_t* list);
  void handleError(const rd_kafka_message_t* message);
  SourcePartition* lookup(const rd_kafka_message_t* message);
  void fillView(rd_kafka_message_t* message, SourcePartition* partition);
  void setFetching(const std::vector<SourcePartition*>& partitions, bool paused);
  // librdkafka answered for `partition`. False: the answer predates the seek of a rewind that
  // waited for it (made now), so it is discarded.
  bool noteAnswer(SourcePartition& partition);
  void resumeAgain(const std::vector<SourcePartition*>& partitions);
  // librdkafka 2.0.2 gave up looking up the committed offset of `partition`, or of partitions it
  // does not name (null): marks the partitions it concerns and schedules restartUnstarted().
  void noteStartAbandoned(SourcePartition* partition);
  // Takes the marked partitions that have still not answered out of the assignment and assigns
  // them again, which looks their committed offsets up anew.
  void restartUnstarted(std::chrono::steady_clock::time_point now);
  // No fetched record or event waits in the consumer's queue.
  bool consumerQueueEmpty() const;
  void detach(std::map<Key, std::unique_ptr<SourcePartition>>::iterator it);
  void releaseCurrent();
  // Where `partition` goes on: past what it dispatched, and not below its last rewind.
  static int64_t nextOffset(const SourcePartition& partition);
  // Moves the consumer's position (what was fetched before is discarded by librdkafka).
  Status seek(SourcePartition& partition, int64_t offset);
  // seek() where librdkafka moved the partition by itself; a failure is reported, not fatal.
  void seekBack(SourcePartition& partition, int64_t offset);

  static void rebalanceCallback(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                rd_kafka_topic_partition_list_t* partitions, void* opaque);
  static void errorCallback(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  static void commitCallback(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                             rd_kafka_topic_partition_list_t* offsets, void* opaque);

  const config::LinkConfig& link_;
  const config::ClusterConfig& source_;
  Listener& listener_;
  kafka::HandlePtr consumer_;
  std::vector<std::string> subscribed_;
  std::vector<std::string> start_at_end_;
  std::map<Key, std::unique_ptr<SourcePartition>> partitions_;
  std::vector<std::unique_ptr<SourcePartition>> detached_;
  // Hot-path cache: the consumer's topic handle + partition -> state, reset on rebalance.
  const rd_kafka_topic_t* last_rkt_ = nullptr;
  int32_t last_partition_ = -1;
  SourcePartition* last_state_ = nullptr;
  SourceRecord current_;
  bool globally_paused_ = false;
  uint64_t rebalances_ = 0;
  bool closing_ = false;  // close() waits for a first assignment: take it without the listener
  bool in_rebalance_ = false;  // inside the rebalance callback
  std::chrono::steady_clock::time_point commits_held_until_{};
  std::chrono::steady_clock::time_point next_retry_check_{};
  // When to restart the partitions librdkafka has not started (zero: none due), and the wait
  // before the next restart (doubles while restarts keep being needed).
  std::chrono::steady_clock::time_point restart_unstarted_at_{};
  std::chrono::milliseconds restart_wait_{1000};  // kRestartWaitFirst
};

}  // namespace causeway::replicator
