#include "monitoring/metrics.h"

#include "common/wall_clock.h"

#include <algorithm>
#include <array>

#ifndef CAUSEWAY_VERSION
#define CAUSEWAY_VERSION "unknown"
#endif

namespace causeway::monitoring {
namespace {

using replicator::LinkState;
using replicator::LinkStatus;
using replicator::PartitionStatus;
using replicator::TimestampedHistograms;

constexpr std::array<LinkState, 7> kStates = {
    LinkState::kStarting, LinkState::kRunning, LinkState::kPaused,    LinkState::kStopping,
    LinkState::kStopped,  LinkState::kFailed,  LinkState::kFailedOver};

double seconds(int64_t ms) { return static_cast<double>(ms) / 1000.0; }

const double kProcessStart =
    std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();

void addHistograms(ExpositionWriter::Family& family, const std::string& link,
                   const TimestampedHistograms& histograms) {
  for (size_t type = 0; type < histograms.by_type.size(); ++type) {
    const MillisHistogram& h = histograms.by_type[type];
    family.addHistogram({{"link", link}, {"timestamp_type", TimestampedHistograms::typeName(type)}},
                        millisHistogramBoundsSeconds(), h.counts(), seconds(h.sumMs()));
  }
}

}  // namespace

const char* buildVersion() { return CAUSEWAY_VERSION; }

double processStartTimeSeconds() { return kProcessStart; }

const std::vector<double>& millisHistogramBoundsSeconds() {
  static const std::vector<double> bounds = [] {
    std::vector<double> out;
    for (int64_t ms : MillisHistogram::kBoundsMs) {
      out.push_back(seconds(ms));
    }
    return out;
  }();
  return bounds;
}

void addProcessMetrics(ExpositionWriter& writer, const ProcessFacts& process) {
  writer.family("causeway_build_info", MetricType::kGauge, "Causeway build; the value is always 1.")
      .add({{"version", process.version}}, uint64_t{1});
  writer
      .family("process_start_time_seconds", MetricType::kGauge,
              "Start time of the process since the Unix epoch in seconds.")
      .add({}, process.start_time_seconds);
}

void addLinkMetrics(ExpositionWriter& writer, const std::vector<LinkStatus>& links,
                    std::chrono::steady_clock::time_point now, const MetricsOptions& options) {
  // Families are declared up front so their order in the page does not depend on the data.
  auto& info = writer.family("causeway_link_info", MetricType::kGauge,
                             "Links run by this worker; the value is always 1.");
  auto& state = writer.family(
      "causeway_link_state", MetricType::kGauge,
      "1 for the link's current state (starting, running, stopping, stopped, failed), else 0.");
  auto& topics = writer.family("causeway_link_selected_topics", MetricType::kGauge,
                               "Source topics currently selected by the link.");
  auto& assigned = writer.family("causeway_link_assigned_partitions", MetricType::kGauge,
                                 "Source partitions assigned to this worker.");
  auto& paused = writer.family("causeway_link_paused_partitions", MetricType::kGauge,
                               "Assigned partitions whose fetching is paused (backpressure or "
                               "mirror partition not ready).");
  auto& records = writer.family("causeway_link_records_replicated_total", MetricType::kCounter,
                                "Records acknowledged by the target since the process started.");
  auto& bytes = writer.family("causeway_link_bytes_replicated_total", MetricType::kCounter,
                              "Key and value bytes acknowledged by the target since the process "
                              "started.");
  auto& in_flight_records =
      writer.family("causeway_link_in_flight_records", MetricType::kGauge,
                    "Records produced to the target and not yet acknowledged.");
  auto& in_flight_bytes = writer.family("causeway_link_in_flight_bytes", MetricType::kGauge,
                                        "Bytes produced to the target and not yet acknowledged.");
  auto& rebalances = writer.family("causeway_link_rebalances_total", MetricType::kCounter,
                                   "Consumer group rebalances seen by this worker.");
  auto& commits = writer.family("causeway_link_transaction_commits_total", MetricType::kCounter,
                                "Transactional links: commits of the transactions of the "
                                "partitions written since the last one (failed ones too).");
  auto& commit_seconds = writer.family(
      "causeway_link_transaction_commit_seconds_total", MetricType::kCounter,
      "Transactional links: time the data plane spent committing (flushing, then the EndTxn "
      "round trips, up to 16 at once).");
  auto& errors = writer.family("causeway_link_errors_total", MetricType::kCounter,
                               "Problems by kind (operation:error code), fatal or retried.");
  auto& link_lag = writer.family(
      "causeway_link_offset_lag", MetricType::kGauge,
      "Sum over the assigned partitions of high watermark minus next offset to replicate "
      "(partitions with unknown lag are not included).");
  auto& link_time_lag = writer.family(
      "causeway_link_time_lag_seconds", MetricType::kGauge,
      "Largest age of the oldest not yet replicated record over the assigned partitions, "
      "from record timestamps.");
  auto& lag_unknown = writer.family("causeway_link_partitions_lag_unknown", MetricType::kGauge,
                                    "Assigned partitions whose offset lag is not known yet.");
  auto& status_age = writer.family("causeway_link_status_age_seconds", MetricType::kGauge,
                                   "Age of the link's status snapshot (refreshed 4 times a "
                                   "second while the data plane runs).");
  auto& dropped = writer.family(
      "causeway_link_partition_series_dropped", MetricType::kGauge,
      "Assigned partitions without per-partition series because of the per-link series cap.");
  auto& offset_lag = writer.family(
      "causeway_partition_offset_lag", MetricType::kGauge,
      "Source high watermark minus the next offset to replicate, per assigned partition.");
  auto& time_lag = writer.family(
      "causeway_partition_time_lag_seconds", MetricType::kGauge,
      "Age of the oldest source record not yet replicated (0 when caught up), from record "
      "timestamps, per assigned partition.");
  auto& high_watermark = writer.family("causeway_partition_high_watermark", MetricType::kGauge,
                                       "Source high watermark as last seen by the consumer.");
  auto& next_offset =
      writer.family("causeway_partition_next_offset", MetricType::kGauge,
                    "Next source offset not yet acknowledged by the target (the commit point).");
  auto& offset_runs = writer.family(
      "causeway_partition_offset_runs", MetricType::kGauge,
      "Exactly-once links: source-to-target offset runs kept for translation (1 when nothing "
      "was skipped; each filtered or foreign stretch adds one).");
  auto& latency = writer.family(
      "causeway_replication_latency_seconds", MetricType::kHistogram,
      "Target acknowledgement time minus the source record's timestamp, by timestamp type.");
  auto& age_at_poll = writer.family(
      "causeway_record_age_at_poll_seconds", MetricType::kHistogram,
      "Poll time minus the source record's timestamp (how old records are when read), by "
      "timestamp type.");
  auto& retries = writer.family(
      "causeway_link_produce_retries_total", MetricType::kCounter,
      "Produce requests to the target that the producer retried (librdkafka statistics).");
  auto& skipped_loop = writer.family(
      "causeway_link_records_skipped_loop_total", MetricType::kCounter,
      "Records not written because the target cluster is already on their causeway-origin path.");
  auto& dropped_records = writer.family(
      "causeway_link_records_dropped_total", MetricType::kCounter,
      "Records a stage dropped (not written anywhere; a known skip for offset translation), by "
      "stage, reason and rule.");
  auto& dead_lettered = writer.family(
      "causeway_link_records_dead_lettered_total", MetricType::kCounter,
      "Records written to the link's dead-letter queue instead of the target, by stage (target: "
      "refused by the target), reason and rule.");
  auto& group_synced = writer.family(
      "causeway_group_sync_ok", MetricType::kGauge,
      "1 when the last group offset sync committed the group's translated offsets on the "
      "target, 0 when it could not (see the worker's log for why).");
  auto& checkpoint_age =
      writer.family("causeway_group_checkpoint_age_seconds", MetricType::kGauge,
                    "Time since the group's offsets were last synced to the target.");
  auto& group_rpo = writer.family(
      "causeway_group_failover_rpo_records", MetricType::kGauge,
      "Records past the group's position not yet on the target: what failing over now would "
      "leave behind.");
  const int64_t now_wall_ms = wallClockMs();

  for (const LinkStatus& link : links) {
    const Labels l = {{"link", link.name}};
    info.add({{"link", link.name},
              {"source_cluster", link.source_cluster},
              {"target_cluster", link.target_cluster}},
             uint64_t{1});
    for (LinkState s : kStates) {
      state.add({{"link", link.name}, {"state", replicator::toString(s)}},
                uint64_t{link.state == s ? 1u : 0u});
    }
    topics.add(l, static_cast<uint64_t>(link.topics.size()));
    assigned.add(l, static_cast<uint64_t>(link.partitions.size()));
    records.add(l, link.records_replicated);
    bytes.add(l, link.bytes_replicated);
    in_flight_records.add(l, link.in_flight_records);
    in_flight_bytes.add(l, link.in_flight_bytes);
    rebalances.add(l, link.rebalances);
    if (link.transaction_commits > 0) {
      commits.add(l, link.transaction_commits);
      commit_seconds.add(l, link.transaction_commit_seconds);
    }
    for (const auto& [kind, count] : link.errors) {
      errors.add({{"link", link.name}, {"kind", kind}}, count);
    }
    if (link.updated_at != std::chrono::steady_clock::time_point{}) {
      const std::chrono::duration<double> age = now - link.updated_at;
      status_age.add(l, std::max(0.0, age.count()));
    }

    uint64_t paused_count = 0;
    uint64_t unknown = 0;
    int64_t lag_sum = 0;
    int64_t max_time_lag_ms = -1;
    size_t exported = 0;
    for (const PartitionStatus& p : link.partitions) {
      paused_count += p.paused ? 1 : 0;
      if (p.lag >= 0) {
        lag_sum += p.lag;
      } else {
        ++unknown;
      }
      max_time_lag_ms = std::max(max_time_lag_ms, p.time_lag_ms);
      if (exported >= options.max_partition_series_per_link) {
        continue;
      }
      ++exported;
      const Labels pl = {{"link", link.name},
                         {"topic", p.source_topic},
                         {"partition", std::to_string(p.partition)}};
      if (p.lag >= 0) {
        offset_lag.add(pl, p.lag);
      }
      if (p.time_lag_ms >= 0) {
        time_lag.add(pl, seconds(p.time_lag_ms));
      }
      if (p.high_watermark >= 0) {
        high_watermark.add(pl, p.high_watermark);
      }
      if (p.next_offset >= 0) {
        next_offset.add(pl, p.next_offset);
      }
      if (p.offset_runs >= 0) {
        offset_runs.add(pl, p.offset_runs);
      }
    }
    paused.add(l, paused_count);
    link_lag.add(l, lag_sum);
    lag_unknown.add(l, unknown);
    if (max_time_lag_ms >= 0) {
      link_time_lag.add(l, seconds(max_time_lag_ms));
    }
    dropped.add(l, static_cast<uint64_t>(link.partitions.size() - exported));
    addHistograms(latency, link.name, link.replication_latency);
    addHistograms(age_at_poll, link.name, link.record_age_at_poll);
    skipped_loop.add(l, link.records_skipped_loop);
    for (const auto& d : link.decisions) {
      (d.outcome == "dropped" ? dropped_records : dead_lettered)
          .add({{"link", link.name}, {"stage", d.stage}, {"reason", d.reason}, {"rule", d.rule}},
               d.records);
    }
    retries.add(l, link.produce_retries);
    for (const auto& g : link.groups) {
      const Labels gl = {{"link", link.name}, {"group", g.group}};
      group_synced.add(gl, uint64_t{g.synced ? 1u : 0u});
      if (g.last_synced_ms >= 0) {
        checkpoint_age.add(gl, seconds(std::max<int64_t>(0, now_wall_ms - g.last_synced_ms)));
      }
      if (g.rpo_records >= 0) {
        group_rpo.add(gl, g.rpo_records);
      }
    }
  }
}

Result<std::string> renderMetrics(const std::vector<LinkStatus>& links, const ProcessFacts& process,
                                  std::chrono::steady_clock::time_point now,
                                  const MetricsOptions& options) {
  ExpositionWriter writer;
  addProcessMetrics(writer, process);
  addLinkMetrics(writer, links, now, options);
  return writer.render();
}

}  // namespace causeway::monitoring
