#pragma once

#include "common/result.h"
#include "config/config.h"
#include "kafka/handles.h"
#include "pipeline/record.h"
#include "replicator/offset_runs.h"
#include "replicator/offset_tracker.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
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
// Not thread-safe: owned by the link's data-plane thread; delivery reports are served by poll() on
// that thread.
class TargetWriter {
public:
  TargetWriter(const config::LinkConfig& link, const config::ClusterConfig& source,
               const config::ClusterConfig& target, DeliveryListener& listener);
  ~TargetWriter();

  TargetWriter(const TargetWriter&) = delete;
  TargetWriter& operator=(const TargetWriter&) = delete;

  // Builds the producer (and initializes transactions on transactional links). `on_error` sees
  // client errors; RD_KAFKA_RESP_ERR__FATAL ones (also failed transactions) stop the link.
  Status open(std::function<void(int err, const std::string& text)> on_error);
  rd_kafka_t* client() const { return producer_.get(); }

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
  // Opens a transaction if none is open (kOpen; also when the link is not transactional). kRetry: a
  // retriable error, try again later; kFailed: the link must stop (reported through on_error as
  // fatal).
  enum class Begin { kOpen, kRetry, kFailed };
  Begin beginTransactionIfNeeded();
  // Commits the open transaction (the records and the offset runs saved in it). Errors are
  // classified (see transactionError); an error that stops the link is also reported through
  // on_error as fatal.
  Status commitTransaction();
  void abortTransaction(const std::string& why);
  bool inTransaction() const { return in_transaction_; }

  uint64_t produceRetries() const { return produce_retries_; }
  uint64_t stateErrors() const { return state_errors_; }

private:
  static void deliveryCallback(rd_kafka_t* rk, const rd_kafka_message_t* message, void* opaque);
  static int statsCallback(rd_kafka_t* rk, char* json, size_t json_len, void* opaque);
  static void errorCallback(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  Status transactionError(const std::string& what, rd_kafka_error_t* error);

  const config::LinkConfig& link_;
  const config::ClusterConfig& source_;
  const config::ClusterConfig& target_;
  DeliveryListener& listener_;
  std::function<void(int, const std::string&)> on_error_;
  // Destruction order: topic handles before the producer.
  kafka::HandlePtr producer_;
  std::map<std::string, TargetTopic> topics_;  // by source topic
  std::string state_topic_;
  kafka::TopicPtr state_handle_;
  std::string state_buffer_;  // reused for encoding offset runs
  bool in_transaction_ = false;
  uint64_t produce_retries_ = 0;
  uint64_t state_errors_ = 0;
};

}  // namespace causeway::replicator
