#pragma once

#include "common/histogram.h"

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace causeway::replicator {

enum class LinkState {
  kStarting,    // connecting to the clusters, first topic discovery
  kRunning,     // replicating (possibly with nothing assigned to this worker)
  kPaused,      // fetching paused by an operator; in-flight records still complete
  kStopping,    // draining in-flight records and committing
  kStopped,     // stopped cleanly
  kFailed,      // stopped by a fatal error: see LinkStatus::error
  kFailedOver,  // stopped because the link was failed over (its mark): see LinkStatus::error
};

const char* toString(LinkState state);

// One source partition assigned to this worker.
struct PartitionStatus {
  std::string source_topic;
  std::string target_topic;
  int32_t partition = 0;
  // Next source offset not yet acknowledged by the target (-1 before the first fetch).
  int64_t next_offset = -1;
  // Source high watermark as last seen by the consumer (-1 if unknown).
  int64_t high_watermark = -1;
  // high_watermark - next_offset, or -1 when either is unknown.
  int64_t lag = -1;
  uint64_t records_replicated = 0;  // acknowledged by the target, since this worker got it
  uint64_t bytes_replicated = 0;    // key + value bytes
  bool paused = false;              // fetching paused (backpressure or target not ready)
  // Age of the oldest source record not yet replicated, from record timestamps (not from
  // offsetsForTimes): 0 when caught up; while nothing is in flight but the partition lags, an
  // upper bound (now minus the last replicated record's timestamp). -1 when unknown.
  int64_t time_lag_ms = -1;
  // Timestamp of the last record the target acknowledged (-1 before the first).
  int64_t last_replicated_timestamp_ms = -1;
  // Exactly-once links: source -> target offset runs kept for the mirror partition (the size of
  // its translation state: 1 when nothing was skipped); -1 for at-least-once links.
  int64_t offset_runs = -1;
};

// Latency histograms by the source record's timestamp type (index: 0 create time,
// 1 log-append time); records without a timestamp are not counted.
struct TimestampedHistograms {
  std::array<MillisHistogram, 2> by_type;
  static const char* typeName(size_t index) {
    return index == 0 ? "create_time" : "log_append_time";
  }
};

// Consumer-group offset sync of one group (exactly-once links with `groups`).
struct GroupStatus {
  std::string group;
  bool synced = false;          // the last cycle committed the translated offsets (or had none new)
  std::string problem;          // why the last cycle did not, else empty
  int64_t last_synced_ms = -1;  // wall clock of the last successful sync (the checkpoint's age)
  // Records past the group's position not yet on the target: what failing over now would
  // leave behind (the RPO), summed over partitions; -1 when unknown.
  int64_t rpo_records = -1;
  // Another worker of the link holds the group-sync lease and syncs the group (this worker's
  // synced/problem say nothing about the group then).
  bool synced_elsewhere = false;
  // At-least-once link: the group is synced to the first copy of its next record, so its
  // consumers may read records again after a failover (never skip one).
  bool rereads_possible = false;
};

// Records kept off the target by a decision, by who decided and why: a stage's drop or
// dead-letter verdict, or the target's refusal sent to the dead-letter queue (on_reject: dlq).
struct RecordDecision {
  std::string outcome;  // "dropped" or "dead_lettered"
  std::string stage;    // the stage that decided ("loop-prevention", "contract", ...; "target")
  std::string reason;   // short and stable ("loop", "filtered", "rejected:INVALID_RECORD")
  std::string rule;     // the configured rule ("on_reject", "partner-acme.filter"), may be empty
  uint64_t records = 0;
};

// A consistent snapshot of one link in this worker process, refreshed a few times a second.
struct LinkStatus {
  std::string name;
  std::string source_cluster;
  std::string target_cluster;
  LinkState state = LinkState::kStarting;
  std::string error;                // why the link failed (kFailed) or was failed over, else empty
  std::string last_error;           // last non-fatal problem (retrying), else empty
  std::vector<std::string> topics;  // source topics currently selected
  std::vector<PartitionStatus> partitions;  // sorted by topic, partition
  uint64_t records_replicated = 0;          // since start of this process
  uint64_t bytes_replicated = 0;
  // Records not written because the target cluster is already on their causeway-origin path
  // (they came from there): the loop prevention of active-active links.
  uint64_t records_skipped_loop = 0;
  // Every drop and dead-letter decision, sorted by outcome, stage, reason and rule.
  std::vector<RecordDecision> decisions;
  uint64_t in_flight_records = 0;
  uint64_t in_flight_bytes = 0;
  uint64_t rebalances = 0;
  // Produce requests the target producer retried (librdkafka statistics, every 5 s by default).
  uint64_t produce_retries = 0;
  // Transactional links: commits with transactions to end (failed ones too), and the time the
  // data plane spent in them (rate of the second over the first: how long a commit holds the data plane).
  uint64_t transaction_commits = 0;
  double transaction_commit_seconds = 0;
  // Target acknowledgement time minus the source record's timestamp.
  TimestampedHistograms replication_latency;
  // Poll time minus the source record's timestamp (how old records are when read).
  TimestampedHistograms record_age_at_poll;
  // Problems by kind, e.g. "consume:UNKNOWN_TOPIC_OR_PART", "produce:MSG_SIZE_TOO_LARGE",
  // "client:_TRANSPORT" (reported by the client; retried), "commit:REBALANCE_IN_PROGRESS".
  std::map<std::string, uint64_t> errors;
  std::vector<GroupStatus> groups;  // sorted by group
  // Topic configuration sync (links[].topic_configs): by source topic ("*": the sync as a
  // whole, e.g. a cluster without DescribeConfigs), why its mirror topic's configs are not (all)
  // the source's; empty when they are or the sync is off. Never stops the link.
  std::map<std::string, std::string> topic_config_problems;
  // Config values the sync set on mirror topics since this worker started.
  uint64_t topic_config_updates = 0;
  // What the link's stages say about source topics (LinkExtensions::topicNotes): why a topic's
  // records wait (a schema that cannot cross yet, a registry that does not answer) or are
  // refused. Its partitions show `paused` while a stage holds them back.
  std::map<std::string, std::string> topic_notes;
  std::chrono::steady_clock::time_point updated_at{};
};

}  // namespace causeway::replicator
