// Causeway's metrics rendered from hand-built LinkStatus snapshots: values, labels, the
// partition series cap, and what must never appear.

#include "monitoring/metrics.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

namespace causeway::monitoring {
namespace {

using replicator::LinkState;
using replicator::LinkStatus;
using replicator::PartitionStatus;
using namespace std::chrono_literals;

const auto kNow = std::chrono::steady_clock::time_point(1000s);

PartitionStatus partition(const std::string& topic, int32_t number, int64_t next, int64_t hwm,
                          int64_t time_lag_ms, bool paused = false) {
  PartitionStatus p;
  p.source_topic = topic;
  p.target_topic = topic;
  p.partition = number;
  p.next_offset = next;
  p.high_watermark = hwm;
  p.lag = (next < 0 || hwm < 0) ? -1 : hwm - next;
  p.time_lag_ms = time_lag_ms;
  p.paused = paused;
  return p;
}

LinkStatus eastToWest() {
  LinkStatus l;
  l.name = "east-to-west";
  l.source_cluster = "east";
  l.target_cluster = "west";
  l.state = LinkState::kRunning;
  l.topics = {"orders", "payments"};
  l.partitions = {partition("orders", 0, 100, 100, 0), partition("orders", 1, 90, 130, 2500, true),
                  partition("payments", 0, -1, -1, -1)};
  l.records_replicated = 12345;
  l.bytes_replicated = 987654321;
  l.in_flight_records = 7;
  l.in_flight_bytes = 700;
  l.rebalances = 2;
  l.errors = {{"produce:MSG_TIMED_OUT", 3}, {"client:_TRANSPORT", 1}};
  // create time: 1 ms, 4 ms, 4 ms, 700 ms, 400 s; log-append time: nothing
  for (int64_t ms : {1, 4, 4, 700, 400000}) {
    l.replication_latency.by_type[0].record(ms);
  }
  l.record_age_at_poll.by_type[1].record(30);
  l.updated_at = kNow - 250ms;
  return l;
}

std::string render(const std::vector<LinkStatus>& links, const MetricsOptions& options = {}) {
  ProcessFacts process;
  process.start_time_seconds = 1700000000.5;
  process.version = "1.2.3";
  auto text = renderMetrics(links, process, kNow, options);
  EXPECT_TRUE(text.ok()) << (text.ok() ? "" : text.error().message);
  return text.ok() ? *text : std::string();
}

// The value of the one line starting with `series` + " " (exact series, labels in order).
std::string valueOf(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  std::string found;
  int matches = 0;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) {
      found = line.substr(series.size() + 1);
      ++matches;
    }
  }
  EXPECT_LE(matches, 1) << series;
  return matches == 1 ? found : "<absent>";
}

TEST(PrometheusMetrics, LinkCountersAndGauges) {
  const std::string text = render({eastToWest()});
  const std::string l = "{link=\"east-to-west\"}";
  EXPECT_EQ(valueOf(text, "causeway_build_info{version=\"1.2.3\"}"), "1");
  EXPECT_EQ(valueOf(text, "process_start_time_seconds"), "1700000000.5");
  EXPECT_EQ(valueOf(text, "causeway_link_info{link=\"east-to-west\",source_cluster=\"east\","
                          "target_cluster=\"west\"}"),
            "1");
  EXPECT_EQ(valueOf(text, "causeway_link_records_replicated_total" + l), "12345");
  EXPECT_EQ(valueOf(text, "causeway_link_bytes_replicated_total" + l), "987654321");
  EXPECT_EQ(valueOf(text, "causeway_link_in_flight_records" + l), "7");
  EXPECT_EQ(valueOf(text, "causeway_link_in_flight_bytes" + l), "700");
  EXPECT_EQ(valueOf(text, "causeway_link_rebalances_total" + l), "2");
  EXPECT_EQ(valueOf(text, "causeway_link_selected_topics" + l), "2");
  EXPECT_EQ(valueOf(text, "causeway_link_assigned_partitions" + l), "3");
  EXPECT_EQ(valueOf(text, "causeway_link_paused_partitions" + l), "1");
  EXPECT_EQ(valueOf(text, "causeway_link_offset_lag" + l), "40");
  EXPECT_EQ(valueOf(text, "causeway_link_partitions_lag_unknown" + l), "1");
  EXPECT_EQ(valueOf(text, "causeway_link_time_lag_seconds" + l), "2.5");
  EXPECT_EQ(valueOf(text, "causeway_link_status_age_seconds" + l), "0.25");
  EXPECT_EQ(valueOf(text, "causeway_link_partition_series_dropped" + l), "0");
  EXPECT_EQ(valueOf(text, "causeway_link_errors_total{link=\"east-to-west\","
                          "kind=\"produce:MSG_TIMED_OUT\"}"),
            "3");
  EXPECT_EQ(valueOf(text, "causeway_link_errors_total{link=\"east-to-west\","
                          "kind=\"client:_TRANSPORT\"}"),
            "1");
}

TEST(PrometheusMetrics, TransactionCommitsOnlyForLinksThatCommitted) {
  LinkStatus transactional = eastToWest();
  transactional.transaction_commits = 4;
  transactional.transaction_commit_seconds = 0.5;
  LinkStatus plain = eastToWest();
  plain.name = "plain";
  const std::string text = render({transactional, plain});
  EXPECT_EQ(valueOf(text, "causeway_link_transaction_commits_total{link=\"east-to-west\"}"), "4");
  EXPECT_EQ(valueOf(text, "causeway_link_transaction_commit_seconds_total{link=\"east-to-west\"}"),
            "0.5");
  EXPECT_EQ(valueOf(text, "causeway_link_transaction_commits_total{link=\"plain\"}"), "<absent>");
}

TEST(PrometheusMetrics, StateIsOneForTheCurrentStateOnly) {
  auto link = eastToWest();
  link.state = LinkState::kFailed;
  const std::string text = render({link});
  for (const std::string state : {"starting", "running", "stopping", "stopped", "failed"}) {
    EXPECT_EQ(valueOf(text, "causeway_link_state{link=\"east-to-west\",state=\"" + state + "\"}"),
              state == "failed" ? "1" : "0")
        << state;
  }
}

TEST(PrometheusMetrics, PartitionSeriesOnlyWhereKnown) {
  const std::string text = render({eastToWest()});
  const std::string o1 = "{link=\"east-to-west\",topic=\"orders\",partition=\"1\"}";
  EXPECT_EQ(valueOf(text, "causeway_partition_offset_lag" + o1), "40");
  EXPECT_EQ(valueOf(text, "causeway_partition_time_lag_seconds" + o1), "2.5");
  EXPECT_EQ(valueOf(text, "causeway_partition_high_watermark" + o1), "130");
  EXPECT_EQ(valueOf(text, "causeway_partition_next_offset" + o1), "90");
  const std::string o0 = "{link=\"east-to-west\",topic=\"orders\",partition=\"0\"}";
  EXPECT_EQ(valueOf(text, "causeway_partition_offset_lag" + o0), "0");
  EXPECT_EQ(valueOf(text, "causeway_partition_time_lag_seconds" + o0), "0");
  // payments[0] has not been fetched yet: no made-up zeros
  EXPECT_EQ(text.find("topic=\"payments\""), std::string::npos) << text;
}

TEST(PrometheusMetrics, OffsetRunsOnlyForExactlyOnceLinks) {
  LinkStatus link = eastToWest();
  link.partitions[0].offset_runs = 3;  // exactly-once: translation state of 3 runs
  const std::string text = render({link});
  const std::string o0 = "{link=\"east-to-west\",topic=\"orders\",partition=\"0\"}";
  const std::string o1 = "{link=\"east-to-west\",topic=\"orders\",partition=\"1\"}";
  EXPECT_EQ(valueOf(text, "causeway_partition_offset_runs" + o0), "3");
  EXPECT_EQ(text.find("causeway_partition_offset_runs" + o1), std::string::npos) << text;
}

TEST(PrometheusMetrics, LatencyHistogramsInSecondsByTimestampType) {
  const std::string text = render({eastToWest()});
  const std::string ct = "link=\"east-to-west\",timestamp_type=\"create_time\"";
  const std::string h = "causeway_replication_latency_seconds";
  EXPECT_EQ(valueOf(text, h + "_bucket{" + ct + ",le=\"0.001\"}"), "1");
  EXPECT_EQ(valueOf(text, h + "_bucket{" + ct + ",le=\"0.002\"}"), "1");
  EXPECT_EQ(valueOf(text, h + "_bucket{" + ct + ",le=\"0.005\"}"), "3");
  EXPECT_EQ(valueOf(text, h + "_bucket{" + ct + ",le=\"0.5\"}"), "3");
  EXPECT_EQ(valueOf(text, h + "_bucket{" + ct + ",le=\"1\"}"), "4");
  EXPECT_EQ(valueOf(text, h + "_bucket{" + ct + ",le=\"300\"}"), "4");
  EXPECT_EQ(valueOf(text, h + "_bucket{" + ct + ",le=\"+Inf\"}"), "5");
  EXPECT_EQ(valueOf(text, h + "_count{" + ct + "}"), "5");
  EXPECT_EQ(valueOf(text, h + "_sum{" + ct + "}"), "400.709");
  const std::string lat = "link=\"east-to-west\",timestamp_type=\"log_append_time\"";
  EXPECT_EQ(valueOf(text, h + "_count{" + lat + "}"), "0");
  EXPECT_EQ(valueOf(text, "causeway_record_age_at_poll_seconds_count{" + lat + "}"), "1");
  EXPECT_EQ(valueOf(text, "causeway_record_age_at_poll_seconds_bucket{" + lat + ",le=\"0.025\"}"),
            "0");
  EXPECT_EQ(valueOf(text, "causeway_record_age_at_poll_seconds_bucket{" + lat + ",le=\"0.05\"}"),
            "1");
}

TEST(PrometheusMetrics, PartitionSeriesAreCappedPerLinkAndTheDropIsCounted) {
  // given: 5 assigned partitions and a cap of 3
  LinkStatus link = eastToWest();
  link.partitions.clear();
  for (int32_t p = 0; p < 5; ++p) {
    link.partitions.push_back(partition("t", p, 10, 10 + p, 0));
  }
  MetricsOptions options;
  options.max_partition_series_per_link = 3;

  // when
  const std::string text = render({link}, options);

  // then: the first three keep their series, the aggregates still cover all five
  EXPECT_NE(valueOf(text, "causeway_partition_offset_lag{link=\"east-to-west\",topic=\"t\","
                          "partition=\"2\"}"),
            "<absent>");
  EXPECT_EQ(text.find("partition=\"3\""), std::string::npos);
  EXPECT_EQ(text.find("partition=\"4\""), std::string::npos);
  EXPECT_EQ(valueOf(text, "causeway_link_partition_series_dropped{link=\"east-to-west\"}"), "2");
  EXPECT_EQ(valueOf(text, "causeway_link_offset_lag{link=\"east-to-west\"}"), "10");
  EXPECT_EQ(valueOf(text, "causeway_link_assigned_partitions{link=\"east-to-west\"}"), "5");
}

TEST(PrometheusMetrics, ErrorTextsNeverBecomeLabels) {
  // given: a failed link whose error mentions a cluster (error texts are for /readyz and logs)
  LinkStatus link = eastToWest();
  link.state = LinkState::kFailed;
  link.error = "cluster 'west' (10.0.0.1:9092) did not answer";
  link.last_error = "retrying after timeout";
  const std::string text = render({link});
  EXPECT_EQ(text.find("did not answer"), std::string::npos);
  EXPECT_EQ(text.find("retrying"), std::string::npos);
  EXPECT_EQ(text.find("10.0.0.1"), std::string::npos);
}

TEST(PrometheusMetrics, TwoLinksKeepEachFamilyContiguous) {
  LinkStatus second = eastToWest();
  second.name = "west-to-east";
  const std::string text = render({eastToWest(), second});
  std::istringstream in(text);
  std::string line;
  std::vector<std::string> type_lines;
  while (std::getline(in, line)) {
    if (line.rfind("# TYPE ", 0) == 0) {
      type_lines.push_back(line);
    }
  }
  // each family once, whatever the number of links
  std::vector<std::string> sorted = type_lines;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(std::unique(sorted.begin(), sorted.end()), sorted.end());
  EXPECT_EQ(valueOf(text, "causeway_link_records_replicated_total{link=\"west-to-east\"}"),
            "12345");
}

TEST(PrometheusMetrics, NoLinksStillRendersProcessSeries) {
  const std::string text = render({});
  EXPECT_EQ(valueOf(text, "causeway_build_info{version=\"1.2.3\"}"), "1");
  EXPECT_EQ(text.find("causeway_link_"), std::string::npos) << text;
}

} // namespace
} // namespace causeway::monitoring

namespace causeway::monitoring {
namespace {

TEST(PrometheusMetrics, GroupSyncAndLoopSkipsAreExported) {
  auto link = eastToWest();
  link.records_skipped_loop = 42;
  replicator::GroupStatus synced;
  synced.group = "billing";
  synced.synced = true;
  synced.last_synced_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count() -
                          3000;
  synced.rpo_records = 17;
  replicator::GroupStatus refused;
  refused.group = "audit";
  refused.problem = "refused, the group has active members on the target";
  link.groups = {refused, synced};
  const std::string text = render({link});
  EXPECT_NE(text.find("causeway_link_records_skipped_loop_total{link=\"east-to-west\"} 42"),
            std::string::npos);
  EXPECT_NE(text.find("causeway_group_sync_ok{link=\"east-to-west\",group=\"billing\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("causeway_group_sync_ok{link=\"east-to-west\",group=\"audit\"} 0"),
            std::string::npos);
  EXPECT_NE(text.find("causeway_group_failover_rpo_records{link=\"east-to-west\",group=\"billing\"} 17"),
            std::string::npos);
  EXPECT_NE(text.find("causeway_group_checkpoint_age_seconds{link=\"east-to-west\",group=\"billing\"} 3"),
            std::string::npos)
      << text;
  // A group's problem text never becomes a label.
  EXPECT_EQ(text.find("active members"), std::string::npos);
}

} // namespace
} // namespace causeway::monitoring
