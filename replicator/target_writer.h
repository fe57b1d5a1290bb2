#pragma once

#include "common/result.h"
#include "config/config.h"
#include "kafka/client_factory.h"
#include "kafka/handles.h"
#include "pipeline/record.h"
#include "replicator/offset_runs.h"
#include "replicator/offset_tracker.h"
#include "replicator/producer_slot.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace causeway::replicator {

struct SourceRecord;

// A mirror topic on the target as the writer knows it.
struct TargetTopic {
  std::string name;
  kafka::TopicPtr handle;  // on the producer
  int32_t partitions = 0;  // partitions the mirror topic is known to have
};

// The sink's side of one assigned partition: where its records go and what landed there.
struct MirrorPartition {
  TargetTopic* topic = nullptr;  // null until the mirror topic is ready
  int32_t partition = 0;
  // Transactional links: the partition's own producer, from adopt() until release(); null while
  // this worker does not own the partition, and nothing is written for it then.
  ProducerSlot* slot = nullptr;
  uint64_t records_replicated = 0;  // acknowledged by the target, since this worker got it
  uint64_t bytes_replicated = 0;
  int64_t last_replicated_timestamp = -1;
  // Exactly-once links: where each delivered record landed (source -> target offset runs), saved to
  // the state topic when it changed.
  OffsetRuns runs;
  bool runs_dirty = false;
  // The runs may be saved: false when the saved ones could not be read at assignment (saving would
  // overwrite a history this worker did not see).
  bool runs_saveable = true;
  size_t runs_saved_count = 0;  // runs().size() at the last save
  std::chrono::steady_clock::time_point runs_saved_at{};
};

// What a record sink reports for each record it was given.
class DeliveryListener {
public:
  virtual ~DeliveryListener() = default;
  // The target has the record at `target_offset`.
  virtual void onDelivered(OffsetTracker::Entry& entry, int64_t target_offset) = 0;
  // The target did not take it: `error` says why; `report` is the refused record as it was produced
  // (key, value, headers; valid during the call).
  virtual void onNotDelivered(OffsetTracker::Entry& entry, rd_kafka_resp_err_t error,
                              const rd_kafka_message_t& report) = 0;
};

// True for the errors with which a cluster refuses one record for good (retrying cannot help:
// it is too large, malformed for the topic, outside the timestamp window, or refused by a broker
// policy), as opposed to errors about the cluster or the client.
bool isRecordRejection(rd_kafka_resp_err_t error);

// The producer side of a link: writes each record to the same partition of its mirror topic on the
// target, without copying what no stage changed (key and value point into the consumed message,
// whose headers move over), serves delivery reports, runs transactions on transactional links, and
// saves the exactly-once offset runs to the state topic.
//
// Non-transactional links write through one producer. Transactional links write each source
// partition through a producer of its own (ProducerSlot), made by fence() when the partition is
// assigned and before its position on the target is read, and dropped by release() when it is
// revoked: the ownership of a partition and its transactional.id move together, so the next owner
// fences a worker that lost the partition but does not know it yet (docs/failover.md).
//
// Not thread-safe: owned by the link's data-plane thread; delivery reports are served by poll() on
// that thread.
class TargetWriter {
public:
  TargetWriter(const config::LinkConfig& link, const config::ClusterConfig& source,
               const config::ClusterConfig& target, DeliveryListener& listener);
  ~TargetWriter();

  TargetWriter(const TargetWriter&) = delete;
  TargetWriter& operator=(const TargetWriter&) = delete;

  // Builds the producer (transactional links: checks that the target answers; their producers
  // come from fence()). `on_error` sees client errors; RD_KAFKA_RESP_ERR__FATAL ones (also failed
  // transactions and a fenced producer) stop the link.
  Status open(std::function<void(int err, const std::string& text)> on_error);

  // --- Ownership (transactional links) ---
  // Makes the producer of one source partition and initializes its transactions, which fences any
  // earlier owner of the partition's transactional.id (Kafka aborts its open transaction and
  // refuses its later writes and commits). Thread-safe: called on the resume finder's thread,
  // after open() and openState().
  Result<std::unique_ptr<ProducerSlot>> fence(const std::string& source_topic, int32_t partition,
                                              const std::string& mirror_topic) const;
  // The partition's records go through `slot` from now on.
  void adopt(MirrorPartition& mirror, std::unique_ptr<ProducerSlot> slot);
  // The partition is no longer this worker's: a transaction still open is aborted, its producer is
  // closed (its delivery reports served first, for up to `reports`), and nothing more is written
  // for it. Fatal errors of the producer from here on (the next owner fenced it) are expected.
  void release(MirrorPartition& mirror, std::chrono::milliseconds reports);
  // A producer taken over for a partition that is no longer assigned: closed off the data plane.
  void discard(std::unique_ptr<ProducerSlot> slot);
  size_t ownedPartitions() const { return owned_.size(); }

  // The handle for a mirror topic (created on first use).
  TargetTopic* topic(const std::string& source_topic, const std::string& target_name,
                     int32_t partitions);
  TargetTopic* findTopic(const std::string& source_topic);

  // Writes `record` (the stages' result) for `source`. The source message stays alive until the
  // delivery report, which reaches the listener with `entry`. An error when the producer refuses it
  // outright (not a retriable queue-full:
  // that is waited out here).
  Status write(const pipeline::Record& record, const SourceRecord& source, MirrorPartition& mirror,
               OffsetTracker::Entry& entry);

  // Serves delivery reports for up to `timeout_ms`.
  void poll(int timeout_ms);
  // The wall clock (ms) for a delivery report being served: read once per poll() that serves
  // reports (they were acknowledged together), and at each call outside poll().
  int64_t reportTimeMs();
  // Withdraws every record not yet acknowledged (they are reported as purged).
  void purge(bool in_flight);
  // Waits for the state records just saved (non-transactional links).
  void flush(std::chrono::milliseconds timeout);

  // --- Exactly-once offset runs (state topic causeway.<link>.state) ---
  Status openState(const std::string& state_topic);
  // Produces the changed runs of `partitions` (inside the open transaction on transactional links).
  // Never blocks; a state record that fails to land is only counted.
  void saveRuns(const std::vector<MirrorPartition*>& partitions, bool force);
  // A delivered record for the runs. One that cannot extend them (the mirror topic was recreated, a
  // report without an offset) never leaves them claiming what is not true: the history is dropped
  // where it no longer matches and a hole is marked.
  static void recordRun(MirrorPartition& mirror, int64_t source, int64_t target);

  // --- Transactions (transactional links) ---
  bool transactional() const { return link_.transactional; }
  // Opens a transaction on the partition's producer if none is open (kOpen; also when the link is
  // not transactional). kRetry: a retriable error, try again later; kFailed: the link must stop
  // (reported through on_error as fatal), also when this worker does not own the partition.
  enum class Begin { kOpen, kRetry, kFailed };
  Begin beginTransactionIfNeeded(MirrorPartition& mirror);
  // Commits every open transaction (the records and the offset runs saved in each). Errors are
  // classified (see transactionError); an error that stops the link is also reported through
  // on_error as fatal.
  Status commitTransaction();
  void abortTransaction(const std::string& why);
  bool inTransaction() const;

  uint64_t produceRetries() const;
  // Transactional links: the commits with at least one open transaction to end (whether or not
  // every EndTxn succeeded), and the time the data plane spent in them (flushing, then the
  // EndTxn round trips).
  uint64_t commits() const { return commits_; }
  std::chrono::nanoseconds commitTime() const { return commit_time_; }
  uint64_t stateErrors() const { return state_errors_; }

private:
  static void deliveryCallback(rd_kafka_t* rk, const rd_kafka_message_t* message, void* opaque);
  static int statsCallback(rd_kafka_t* rk, char* json, size_t json_len, void* opaque);
  static void errorCallback(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  // While commits run on helper threads, callbacks (served by each producer's own commit) take
  // turns; otherwise they run on the data plane and need no lock.
  std::unique_lock<std::mutex> serializeCallbacks() {
    return committing_in_parallel_ ? std::unique_lock<std::mutex>(callback_mu_)
                                   : std::unique_lock<std::mutex>();
  }
  kafka::ClientSpec producerSpec(ProducerSlot& slot) const;
  Status transactionError(ProducerSlot& slot, const std::string& what, rd_kafka_error_t* error);
  // True when an open transaction was aborted.
  bool abort(ProducerSlot& slot, const std::string& why);
  // Serves the delivery reports of every partition's producer for up to `timeout_ms`.
  void pollOwned(int timeout_ms);
  // The producer `mirror`'s records go through: the shared one, or on transactional links the
  // partition's own (null when this worker does not own it).
  ProducerSlot* slotOf(MirrorPartition& mirror) {
    return link_.transactional ? mirror.slot : &shared_;
  }
  // Destroys `slot` on a thread of its own (rd_kafka_destroy joins the producer's threads).
  void close(std::unique_ptr<ProducerSlot> slot);

  const config::LinkConfig& link_;
  const config::ClusterConfig& source_;
  const config::ClusterConfig& target_;
  DeliveryListener& listener_;
  std::function<void(int, const std::string&)> on_error_;
  // Non-transactional links: the one producer (its slot's topic handles are unused; records go
  // through topics_' handles). Destruction order: topic handles before the producer.
  ProducerSlot shared_;
  std::map<std::string, TargetTopic> topics_;  // by source topic
  std::string state_topic_;
  std::string state_buffer_;  // reused for encoding offset runs
  // Transactional links: the producer of each owned partition, by (mirror topic, partition).
  std::map<std::pair<std::string, int32_t>, std::unique_ptr<ProducerSlot>> owned_;
  // Set on the data plane only around the helper threads of commitTransaction(), which it joins.
  bool committing_in_parallel_ = false;
  std::mutex callback_mu_;
  // Released producers are destroyed off the data plane (rd_kafka_destroy joins its threads).
  struct Closing {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  std::vector<Closing> closing_;
  uint64_t released_retries_ = 0;
  uint64_t commits_ = 0;
  std::chrono::nanoseconds commit_time_{0};
  // reportTimeMs() inside poll(): -1 until a report asks for it.
  bool in_poll_ = false;
  int64_t report_time_ms_ = -1;
  // Wakes pollOwned() when any owned producer has something to serve (a pipe; librdkafka writes a
  // byte to it when a producer's main queue gets work).
  int wake_fds_[2] = {-1, -1};
  uint64_t state_errors_ = 0;
};

}  // namespace causeway::replicator
