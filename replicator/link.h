#pragma once

#include "common/result.h"
#include "config/config.h"
#include "kafka/client_factory.h"
#include "kafka/topic_admin.h"
#include "replicator/link_status.h"
#include "replicator/offset_runs.h"
#include "replicator/offset_state.h"
#include "replicator/offset_tracker.h"
#include "replicator/target_tail.h"
#include "replicator/topic_discovery.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace causeway::replicator {

// One link in this worker process: source cluster -> target cluster for the selected topics,
// at-least-once.
//
// Threads:
//  - the data-plane thread owns the consumer (group "causeway.<link>", cooperative-sticky), the
//    producer, every PartitionState and OffsetTracker. It polls records, produces them to the
//    same partition of the mirror topic without copying key or value, serves delivery reports
//    (which advance the commit point), commits, applies backpressure and rebalances. Everything
//    librdkafka calls back (rebalance, delivery) runs on this thread.
//  - the discovery thread runs TopicDiscovery every discovery_interval and hands the ready
//    topic set to the data plane.
// Other threads only call status() and requestStop().
//
// Lifecycle: start() (connects, first discovery, starts threads) -> requestStop() -> join().
// join() drains: stops fetching, waits for in-flight records up to the drain timeout, commits,
// and leaves the group (handing partitions to other workers).
class Link {
public:
  Link(config::LinkConfig link, config::ClusterConfig source, config::ClusterConfig target,
       kafka::TopicAdminPtr target_admin);
  ~Link();

  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;

  // Builds the clients, checks both clusters answer within their connect_timeout, runs the
  // first topic discovery and starts the threads. On error the link is kFailed.
  Status start();

  // Operator pause: fetching stops (records in flight complete and are committed), the
  // status says paused and the lag grows; resume() continues where it stopped. Any thread.
  void pause() { pause_requested_.store(true); }
  void resume() { pause_requested_.store(false); }

  void requestStop(std::chrono::milliseconds drain_timeout);
  void join();

  LinkStatus status() const;
  const std::string& name() const { return link_.name; }

private:
  struct TargetTopic {
    std::string name;
    kafka::TopicPtr handle;  // on the producer
    int32_t partitions = 0;  // partitions the mirror topic is known to have
  };
  struct PartitionState {
    std::string source_topic;
    int32_t partition = 0;
    TargetTopic* target = nullptr;
    OffsetTracker tracker{this};  // delivery reports find the state through it
    int64_t committed = -1;        // last offset committed for the group
    uint64_t records_replicated = 0;
    uint64_t bytes_replicated = 0;
    int64_t last_replicated_timestamp = -1;
    bool waiting_for_target = false;  // paused until the mirror topic has this partition
    // Exactly-once links: where each delivered record landed (source -> target offset runs),
    // saved to the state topic when it changed.
    OffsetRuns runs;
    bool runs_dirty = false;
    // The runs may be saved: false when the saved ones could not be read at assignment (saving
    // would overwrite a history this worker did not see).
    bool runs_saveable = true;
    size_t runs_saved_count = 0;  // runs().size() at the last save
    std::chrono::steady_clock::time_point runs_saved_at{};
  };
  using PartitionKey = std::pair<std::string, int32_t>;

  // Data plane (data-plane thread only).
  void runDataPlane();
  void applySubscription();
  void pollSource();
  void replicate(rd_kafka_message_t* message);
  void handleSourceError(const rd_kafka_message_t* message);
  PartitionState* lookup(const rd_kafka_message_t* message);
  void onDelivery(const rd_kafka_message_t* report);
  void onRebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions);
  void assignPartitions(rd_kafka_topic_partition_list_t* partitions);
  // Exactly-once: the offset after the last source record this link wrote to the mirror
  // partition, or nullopt when the target holds none of its records. Also picks up the
  // partition's saved offset runs so translation stays cheap across owners.
  Result<std::optional<int64_t>> resumeOffset(PartitionState& state);
  void seedRuns(PartitionState& state, std::optional<int64_t> last_source);
  // A delivered record for the runs. One that cannot extend them (the mirror topic was
  // recreated, a report without an offset) never leaves them claiming what is not true: the
  // history is dropped where it no longer matches and a hole is marked.
  void recordRun(PartitionState& state, int64_t source, int64_t target);
  // Produces the changed runs of `states` to the state topic (inside the open transaction on
  // transactional links). Never blocks; a state record that fails to land is only counted.
  void saveRuns(const std::vector<PartitionState*>& states, bool force = false);
  void revokePartitions(rd_kafka_topic_partition_list_t* partitions);
  void waitForDeliveries(const std::vector<PartitionState*>& states,
                         std::chrono::milliseconds timeout);
  void commit(const std::vector<PartitionState*>& states, bool sync);
  void commitAll(bool sync);
  void applyBackpressure();
  void applyOperatorPause();
  std::vector<PartitionState*> fetchablePartitions();
  void setPaused(const std::vector<PartitionState*>& states, bool paused);
  void resumeReadyPartitions();
  void drainAndClose();
  void publishStatus();
  void fail(const std::string& message);

  // Transactional exactly-once links (`transactional: true`). The data plane opens a transaction
  // before the first record it produces and commits it every commit_interval, on revoke and on
  // stop, with the source offsets attached together with the consumer group's metadata
  // (KIP-447): on Kafka the group coordinator then fences a worker whose group generation is
  // stale, so a zombie's records are aborted and never seen by read_committed consumers.
  bool beginTransactionIfNeeded();
  void commitTransaction();
  void abortTransaction(const std::string& why);
  // Classifies a transactional error: fatal (fenced) and abortable errors stop the link (a
  // restart resumes exactly after what is committed on the target); retriable ones are retried
  // at the next commit.
  void handleTransactionError(const std::string& what, rd_kafka_error_t* error);
  void countError(const char* where, rd_kafka_resp_err_t err);
  TargetTopic* targetFor(const std::string& source_topic);

  // Group-sync thread (exactly-once links with groups configured).
  void runGroupSync();

  // Discovery thread.
  void runDiscovery();
  // Stops the link when a failover has marked it (see FailoverMark).
  void checkFailoverMark();
  std::string failedOverText(const FailoverMark& mark) const;
  void discoverOnce();
  void refreshPausedWatermarks();

  static void deliveryCallback(rd_kafka_t* rk, const rd_kafka_message_t* message, void* opaque);
  static void rebalanceCallback(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                rd_kafka_topic_partition_list_t* partitions, void* opaque);
  static void errorCallback(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  static int statsCallback(rd_kafka_t* rk, char* json, size_t json_len, void* opaque);
  static void commitCallback(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                             rd_kafka_topic_partition_list_t* offsets, void* opaque);

  const config::LinkConfig link_;
  const config::ClusterConfig source_;
  const config::ClusterConfig target_;
  kafka::TopicAdminPtr target_admin_;
  std::unique_ptr<TargetTail> tail_;  // exactly-once links: where each partition resumes
  std::unique_ptr<OffsetStateReader> state_reader_;  // exactly-once links: saved offset runs
  std::unique_ptr<OffsetStateReader> mark_reader_;   // discovery thread: the failover mark
  std::string mark_check_problem_;                   // discovery thread: last one logged
  std::atomic<bool> failed_over_{false};
  uint64_t state_read_at_rebalance_ = UINT64_MAX;     // rebalances_ when last refreshed
  bool state_read_ok_ = false;

  // Destruction order matters: target topic handles before the producer, every source message
  // freed before the consumer is destroyed (librdkafka hangs otherwise).
  kafka::HandlePtr consumer_;
  kafka::HandlePtr producer_;
  std::map<std::string, TargetTopic> target_topics_;  // by source topic
  std::map<PartitionKey, std::unique_ptr<PartitionState>> partitions_;
  // Revoked partitions whose records were still in flight when the revocation completed:
  // kept until their delivery reports arrive (never committed again).
  std::vector<std::unique_ptr<PartitionState>> detached_;
  // Hot-path cache: the consumer's topic handle + partition -> state, reset on rebalance.
  const rd_kafka_topic_t* last_rkt_ = nullptr;
  int32_t last_partition_ = -1;
  PartitionState* last_state_ = nullptr;
  uint64_t in_flight_records_ = 0;
  uint64_t in_flight_bytes_ = 0;
  uint64_t records_replicated_ = 0;
  uint64_t bytes_replicated_ = 0;
  uint64_t rebalances_ = 0;
  uint64_t records_skipped_loop_ = 0;
  uint64_t produce_retries_ = 0;
  std::string origin_buffer_;  // reused for each record's causeway-origin value
  std::string source_buffer_;  // reused for each record's causeway-src value
  std::string state_buffer_;   // reused for encoding offset runs
  std::string state_topic_;    // causeway.<link>.state (exactly-once links)
  kafka::TopicPtr state_handle_;  // on the producer
  TimestampedHistograms replication_latency_;
  TimestampedHistograms record_age_at_poll_;
  std::map<std::string, uint64_t> errors_;  // by kind; see LinkStatus::errors
  int64_t poll_time_ms_ = 0;                // wall clock of the current poll batch
  bool backpressure_paused_ = false;
  bool in_transaction_ = false;
  bool failed_ = false;
  std::chrono::steady_clock::time_point next_commit_{};
  // Periodic commits pause from a REBALANCE_IN_PROGRESS answer until the next rebalance
  // callback (or this deadline): a commit queued behind a pending JoinGroup comes back with a
  // stale generation, which librdkafka 2.0.2 answers by dropping the whole assignment.
  std::chrono::steady_clock::time_point commits_held_until_{};
  std::chrono::steady_clock::time_point next_status_{};
  std::vector<std::string> subscribed_;

  // Shared between threads.
  std::unique_ptr<TopicDiscovery> discovery_;  // discovery thread after start()
  std::mutex ready_mu_;
  std::map<std::string, ReadyTopic> ready_topics_;  // guarded by ready_mu_
  bool ready_changed_ = false;                      // guarded by ready_mu_
  std::map<std::string, std::string> topic_problems_;  // guarded by ready_mu_
  // Source high watermarks queried by the discovery thread while fetching is paused (a paused
  // partition gets no fetch responses, so the consumer's cached watermark would go stale and
  // hide the growing lag). Guarded by ready_mu_.
  std::map<PartitionKey, int64_t> queried_high_;
  std::atomic<bool> fetching_paused_{false};

  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> pause_requested_{false};
  bool user_paused_ = false;  // data plane: the pause currently applied
  std::atomic<int64_t> drain_timeout_ms_{30000};
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;

  mutable std::mutex status_mu_;
  LinkStatus status_;  // guarded by status_mu_

  std::thread data_plane_;
  std::thread discovery_thread_;
  std::thread group_sync_thread_;
};

} // namespace causeway::replicator
