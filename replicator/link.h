#pragma once

#include "common/result.h"
#include "config/config.h"
#include "kafka/topic_admin.h"
#include "pipeline/record.h"
#include "pipeline/stage_chain.h"
#include "replicator/dead_letter_writer.h"
#include "replicator/link_extensions.h"
#include "replicator/link_status.h"
#include "replicator/offset_state.h"
#include "replicator/resume_finder.h"
#include "replicator/source_reader.h"
#include "replicator/target_writer.h"
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
#include <vector>

namespace causeway::replicator {

// One link in this worker process: source cluster -> target cluster for the selected topics. A
// record's way (all on the data-plane thread):
//
//   SourceReader::next() --RecordView--> StageChain (loop prevention, ...,
//   provenance)
//     --pass--> TargetWriter::write() --delivery report--> OffsetTracker ack
//     --> commit
//     --drop--> a known skip: acknowledged at once
//     --stop--> the link fails naming the partition and offset
//     --retry-> the partition is rewound to the record and paused for a while
//
// Link orchestrates the three parts and owns the control-plane threads:
//  - the data-plane thread runs the loop above, rebalances
//  (SourceReader::Listener), delivery
//    reports (DeliveryListener), backpressure, commits and the status snapshot.
//  - the discovery thread runs TopicDiscovery every discovery_interval and
//  hands the ready
//    topic set to the data plane; it also watches for a failover mark.
//  - the group-sync thread (links with `groups`) syncs consumer-group offsets.
// Other threads only call status(), pause()/resume() and requestStop().
//
// Lifecycle: start() (connects, first discovery, starts threads) -> requestStop() -> join(). join()
// drains: stops fetching, waits for in-flight records up to the drain timeout, commits, and leaves
// the group (handing partitions to other workers).
class Link : private SourceReader::Listener, private DeliveryListener {
public:
  // `extensions` (may be null) adds stages and narrows the topics; the link keeps it alive.
  Link(config::LinkConfig link, config::ClusterConfig source, config::ClusterConfig target,
       kafka::TopicAdminPtr target_admin, LinkExtensionsPtr extensions = nullptr);
  ~Link() override;

  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;

  // Builds the clients, checks both clusters answer within their connect_timeout, runs the first
  // topic discovery and starts the threads. On error the link is kFailed.
  Status start();

  // Operator pause: fetching stops (records in flight complete and are committed), the status says
  // paused and the lag grows; resume() continues where it stopped. Any thread.
  void pause() { pause_requested_.store(true); }
  void resume() { pause_requested_.store(false); }

  void requestStop(std::chrono::milliseconds drain_timeout);
  void join();

  LinkStatus status() const;
  const std::string& name() const { return link_.name; }

private:
  // --- Data plane (data-plane thread only) ---
  void runDataPlane();
  void applySubscription();
  void pollSource();
  void process(const SourceRecord& record);
  void writeToTarget(const SourceRecord& record);
  // A record no sink gets (dropped by a stage, loop-skipped): accounted for at once.
  void skip(const SourceRecord& record);
  // A tracker entry for a record going to a sink.
  OffsetTracker::Entry& dispatchEntry(const SourceRecord& record);
  // To the dead-letter queue instead of the target (on exactly-once links, held until the
  // partition's records in flight to the target are acknowledged).
  void deadLetter(const SourceRecord& record, const pipeline::Verdict& verdict);
  void writeDeadLetter(const SourceRecord& record, const DeadLetterReason& why);
  // Exactly-once: false (and the partition is held, rewound to the record) while records of the
  // partition are in flight to the dead-letter queue. The other direction (a dead letter waiting
  // for records in flight to the target) is deadLetter()'s hold.
  bool passBarrier(const SourceRecord& record);
  void releaseBarriers();
  void retryLater(const SourceRecord& record, std::chrono::milliseconds after);
  // Saves the runs and commits the target transaction; commits the source group unless held.
  void commitCycle(std::chrono::steady_clock::time_point now);
  void drainAndClose();
  void waitForDeliveries(const std::vector<SourcePartition*>& partitions,
                         std::chrono::milliseconds timeout);
  // The mirror partitions whose offset runs are about to be saved, each told first how far its
  // source partition is accounted for (source_accounting.h).
  std::vector<MirrorPartition*> runsToSave(const std::vector<SourcePartition*>& partitions) const;
  std::vector<SourcePartition*> assignedPartitions() const;
  void commitTransaction(const std::vector<SourcePartition*>& partitions);
  void fail(const std::string& message);
  void countError(const std::string& kind);

  // Flow control.
  void applyBackpressure();
  void applyOperatorPause();
  void resumeReadyPartitions();

  // Rebalances (SourceReader::Listener, inside SourceReader::next()).
  void onAssigned(const std::vector<SourcePartition*>& partitions) override;
  void onRevoking(const std::vector<SourcePartition*>& partitions, bool lost) override;
  void onFatal(const std::string& message) override;
  void onProblem(const std::string& kind, const std::string& message) override;
  void onCommitted() override;
  // Finds a mirror topic for the partition, or marks it waiting for one.
  void attachMirror(SourcePartition& partition);
  // Exactly-once: holds the partition and asks the finder where it goes on (after the last source
  // record this link wrote to the mirror partition).
  void findResumePosition(SourcePartition& partition);
  // How long an exactly-once revoke may wait for acknowledgements.
  std::chrono::milliseconds revokeWaitLimit() const;
  // Starts the partitions whose position the finder found, and picks up their saved offset runs
  // so translation stays cheap across owners.
  void applyResumePositions();
  // Asks the finder again for partitions whose lookup failed because the target did not answer,
  // once their backoff is over.
  void askPositionsAgain(std::chrono::steady_clock::time_point now);
  void seedRuns(MirrorPartition& mirror, std::optional<int64_t> last_source,
                const ResumeFinder::Answer& answer);

  // Delivery reports (DeliveryListener, inside TargetWriter::poll()).
  void onDelivered(OffsetTracker::Entry& entry, int64_t target_offset) override;
  void onNotDelivered(OffsetTracker::Entry& entry, rd_kafka_resp_err_t error,
                      const rd_kafka_message_t& report) override;
  // Dead-letter queue delivery reports.
  void onDeadLettered(OffsetTracker::Entry& entry);
  void onDeadLetterFailed(OffsetTracker::Entry& entry, rd_kafka_resp_err_t error);
  // A record the target refused for good goes to the dead-letter queue (on_reject: dlq); false when
  // it cannot (then the link stops).
  bool deadLetterRefused(OffsetTracker::Entry& entry, rd_kafka_resp_err_t error,
                         const rd_kafka_message_t& report);

  // --- Control-plane threads ---
  void runDiscovery();
  void discoverOnce();
  void refreshPausedWatermarks();
  // Stops the link when a failover has marked it (see FailoverMark).
  void checkFailoverMark();
  std::string failedOverText(const FailoverMark& mark) const;
  void runGroupSync();

  // --- Status (link_status_publisher.cc) ---
  void publishStatus();

  const config::LinkConfig link_;
  const config::ClusterConfig source_;
  const config::ClusterConfig target_;
  kafka::TopicAdminPtr target_admin_;

  // The three parts of the data plane. Destruction order matters: the reader (whose consumer must
  // outlive no consumed message) goes after the writer, whose delivery reports free them.
  std::unique_ptr<SourceReader> reader_;
  LinkExtensionsPtr extensions_;
  pipeline::StageChain chain_;
  pipeline::Record record_;  // the record on its way; buffers reused across records
  std::unique_ptr<TargetWriter> writer_;

  // The dead-letter queue (links with `dlq`); its delivery reports come through the adapter.
  struct DeadLetterDeliveries : DeliveryListener {
    explicit DeadLetterDeliveries(Link* owner) : link(owner) {}
    void onDelivered(OffsetTracker::Entry& entry, int64_t) override { link->onDeadLettered(entry); }
    void onNotDelivered(OffsetTracker::Entry& entry, rd_kafka_resp_err_t error,
                        const rd_kafka_message_t&) override {
      link->onDeadLetterFailed(entry, error);
    }
    Link* link;
  };
  DeadLetterDeliveries dlq_deliveries_{this};
  kafka::TopicAdminPtr dlq_admin_;  // the source cluster's, when the queue lives there
  std::unique_ptr<DeadLetterWriter> dlq_;
  pipeline::RecordView dlq_view_;  // reused for refused records
  // Records the target refused that went to the dead-letter queue, by error name.
  std::map<std::string, uint64_t> refused_dead_lettered_;

  // Exactly-once links.
  const bool exactly_once_ = link_.delivery == config::DeliveryMode::kExactlyOnce;
  std::unique_ptr<ResumeFinder> finder_;            // where each partition resumes
  std::unique_ptr<OffsetStateReader> mark_reader_;  // the failover mark (discovery thread)
  std::string mark_check_problem_;                  // discovery thread: last one logged
  std::atomic<bool> failed_over_{false};
  uint64_t assignment_epoch_ = 0;  // tells answers for a partition assigned again apart

  // Data-plane counters and state.
  uint64_t in_flight_records_ = 0;
  uint64_t in_flight_bytes_ = 0;
  uint64_t records_replicated_ = 0;
  uint64_t bytes_replicated_ = 0;
  TimestampedHistograms replication_latency_;
  TimestampedHistograms record_age_at_poll_;
  std::map<std::string, uint64_t> errors_;  // by kind; see LinkStatus::errors
  int64_t poll_time_ms_ = 0;                // wall clock of the current poll batch
  bool backpressure_paused_ = false;
  bool user_paused_ = false;  // the operator pause currently applied
  bool failed_ = false;
  // Records the target refused, aggregated per partition for one log line each (never one line per
  // record).
  struct Refusal {
    int64_t first = -1;
    int64_t last = -1;
    uint64_t count = 0;
    std::string error;
  };
  std::map<std::pair<std::string, int32_t>, Refusal> refusals_;
  std::chrono::steady_clock::time_point next_commit_{};
  std::chrono::steady_clock::time_point next_status_{};
  std::chrono::steady_clock::time_point next_retry_check_{};
  // The earliest ask_position_at of any partition (max: none).
  std::chrono::steady_clock::time_point next_position_ask_ =
      std::chrono::steady_clock::time_point::max();

  // Shared between threads.
  std::unique_ptr<TopicDiscovery> discovery_;  // discovery thread after start()
  std::mutex ready_mu_;
  std::map<std::string, ReadyTopic> ready_topics_;     // guarded by ready_mu_
  bool ready_changed_ = false;                         // guarded by ready_mu_
  std::map<std::string, std::string> topic_problems_;  // guarded by ready_mu_
  // Source high watermarks queried by the discovery thread while fetching is paused (a paused
  // partition gets no fetch responses, so the consumer's cached watermark would go stale and hide
  // the growing lag). Guarded by ready_mu_.
  std::map<std::pair<std::string, int32_t>, int64_t> queried_high_;
  std::atomic<bool> fetching_paused_{false};

  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> pause_requested_{false};
  std::atomic<int64_t> drain_timeout_ms_{30000};
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;

  mutable std::mutex status_mu_;
  LinkStatus status_;  // guarded by status_mu_

  std::thread data_plane_;
  std::thread discovery_thread_;
  std::thread group_sync_thread_;
};

}  // namespace causeway::replicator
