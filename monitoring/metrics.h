#pragma once

// Causeway's Prometheus metrics: LinkStatus snapshots rendered as exposition text. Pure: the
// snapshot, the process facts and "now" go in, text comes out; nothing here reads a clock, the
// worker or the configuration. Only names (links, clusters, topics) become label values, never
// cluster properties, so secrets such as sasl.password cannot appear.
//
// Series (all per link are labelled link="<name>"):
//   causeway_build_info{version}                                    gauge 1
//   process_start_time_seconds                                      gauge (Unix time)
//   causeway_link_info{link,source_cluster,target_cluster}          gauge 1
//   causeway_link_state{link,state}                                 gauge 1 for the current state,
//                                                                   0 for the others
//   causeway_link_selected_topics / _assigned_partitions / _paused_partitions     gauges
//   causeway_link_records_replicated_total / _bytes_replicated_total             counters
//   causeway_link_rebalances_total, causeway_link_errors_total{link,kind}        counters
//   causeway_link_in_flight_records / _in_flight_bytes                           gauges
//   causeway_link_offset_lag            sum of the known partition lags (all assigned partitions)
//   causeway_link_time_lag_seconds      largest known partition time lag
//   causeway_link_partitions_lag_unknown  partitions whose lag is not known yet
//   causeway_link_status_age_seconds    how old the snapshot is (a stuck data plane shows here)
//   causeway_link_partition_series_dropped  assigned partitions left out by the series cap
//   causeway_partition_offset_lag / _time_lag_seconds / _high_watermark / _next_offset
//       {link,topic,partition}: only for partitions assigned to this worker, only when known,
//       and for at most `max_partition_series_per_link` partitions per link
//   causeway_replication_latency_seconds{link,timestamp_type}    histogram
//   causeway_record_age_at_poll_seconds{link,timestamp_type}     histogram

#include "common/histogram.h"
#include "common/result.h"
#include "monitoring/prometheus_text.h"
#include "replicator/link_status.h"

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace causeway::monitoring {

// The version compiled into this build (the CMake project version).
const char* buildVersion();

struct MetricsOptions {
  // Per link, at most this many partitions get per-partition series (the first ones by topic
  // and partition, so the set is stable between scrapes); link-level aggregates still cover
  // every assigned partition.
  size_t max_partition_series_per_link = 10000;
};

// Unix time (seconds) at which this process loaded the monitoring library's static data: the
// process start time to within milliseconds.
double processStartTimeSeconds();

struct ProcessFacts {
  double start_time_seconds = processStartTimeSeconds();
  std::string version = buildVersion();
};

// Adds every Causeway family to `writer`. `now` is compared with each LinkStatus::updated_at.
void addLinkMetrics(ExpositionWriter& writer, const std::vector<replicator::LinkStatus>& links,
                    std::chrono::steady_clock::time_point now, const MetricsOptions& options);
void addProcessMetrics(ExpositionWriter& writer, const ProcessFacts& process);

// The whole /metrics page.
Result<std::string> renderMetrics(const std::vector<replicator::LinkStatus>& links,
                                  const ProcessFacts& process,
                                  std::chrono::steady_clock::time_point now,
                                  const MetricsOptions& options = {});

// MillisHistogram's bucket bounds in seconds (0.001 ... 300), for histogram exposition.
const std::vector<double>& millisHistogramBoundsSeconds();

} // namespace causeway::monitoring
