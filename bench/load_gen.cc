// causeway-bench-load: feeds the benchmark's source topic and watches its target topic.
//
//   causeway-bench-load --source HOST:PORT --target HOST:PORT --topic bench --partitions 8
//                       --records N --size BYTES [--rate R] [--backlog-bytes B] [--timeout-s S]
//
// Every record has an 8-byte key, one header and a value of exactly --size bytes that starts
// with a RecordStamp (send time in microseconds, partition, per-partition sequence); records go
// round-robin over the partitions.
//
// Throughput mode (no --rate): produce as fast as the backlog bound allows and poll the target's
// high watermarks every 5 ms. The replicator's rate is measured between the first poll that sees
// a record on the target and the first that sees all N: the replicator's start-up is outside
// the window. Verification: exactly N records must reach the target (fewer is loss, more is
// duplication).
//
// Latency mode (--rate R): first one warm-up record per partition, waited for on the target, so
// the replicator is assigned and running; then N records paced at R records/s, while a checker
// consumes the target and computes, per record, (time read from the target) - (send time in the
// value). The checker also checks every partition's sequence: gaps (loss), repeats
// (duplicates), reordering.
//
// Backlog bound (both modes): the embedded (mock) cluster silently drops data beyond 5 MiB per
// partition, so a partition is only fed while (records produced - records on the target) x size
// stays below --backlog-bytes (default 3 MiB). The feed is therefore closed-loop on the target's
// watermarks and can never outrun retention; in throughput mode the bound is still far larger
// than what the replicator moves in one watermark poll, so it never starves.
//
// Prints one JSON object on stdout. Exit status 0 when every record arrived exactly once.

#include "bench/bench_common.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

namespace causeway::bench {
namespace {

struct Options {
  std::string source;
  std::string target;
  std::string topic = "bench";
  int partitions = 8;
  uint64_t records = 0;
  size_t size = 100;
  double rate = 0;  // 0: throughput mode
  size_t backlog_bytes = 3u << 20;
  double timeout_s = 300;
};

struct ProduceStats {
  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> failed{0};
};

void onDelivery(rd_kafka_t*, const rd_kafka_message_t* report, void* opaque) {
  auto* stats = static_cast<ProduceStats*>(opaque);
  (report->err == RD_KAFKA_RESP_ERR_NO_ERROR ? stats->delivered : stats->failed) += 1;
}

void configureProducer(rd_kafka_conf_t* conf, void* opaque) {
  rd_kafka_conf_set_opaque(conf, opaque);
  rd_kafka_conf_set_dr_msg_cb(conf, &onDelivery);
}

// Polls the target's high watermarks; the producer reads them to bound the backlog.
class TargetWatch {
public:
  TargetWatch(const Options& options, kafka::HandlePtr client)
      : options_(options), client_(std::move(client)), hwm_(options.partitions) {}

  // Reads every partition's high watermark once. False if one could not be read.
  bool refresh() {
    int64_t total = 0;
    for (int p = 0; p < options_.partitions; ++p) {
      int64_t low = 0;
      int64_t high = 0;
      if (rd_kafka_query_watermark_offsets(client_.get(), options_.topic.c_str(), p, &low, &high,
                                           2000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return false;
      }
      hwm_[p].store(high);
      total += high;
    }
    total_.store(total);
    return true;
  }

  int64_t hwm(int partition) const { return hwm_[partition].load(); }
  int64_t total() const { return total_.load(); }

private:
  const Options& options_;
  kafka::HandlePtr client_;
  std::vector<std::atomic<int64_t>> hwm_;
  std::atomic<int64_t> total_{0};
};

class LoadGenerator {
public:
  explicit LoadGenerator(Options options) : options_(std::move(options)) {}

  int run() {
    const Properties producer_props = {
        {"bootstrap.servers", options_.source},
        {"client.id", "causeway-bench-load"},
        {"linger.ms", options_.rate > 0 ? "1" : "5"},
        {"batch.size", "1000000"},
        {"acks", "all"},
        {"queue.buffering.max.messages", "1000000"},
        {"queue.buffering.max.kbytes", "1048576"},
    };
    producer_ = makeClient(RD_KAFKA_PRODUCER, producer_props, &configureProducer, &stats_);
    kafka::HandlePtr watch_client = makeClient(
        RD_KAFKA_CONSUMER, {{"bootstrap.servers", options_.target},
                            {"client.id", "causeway-bench-watch"},
                            {"group.id", "causeway-bench-watch"}});
    if (!producer_ || !watch_client) {
      return 1;
    }
    watch_ = std::make_unique<TargetWatch>(options_, std::move(watch_client));
    if (!watch_->refresh()) {
      std::cerr << "cannot read the target's watermarks (is topic '" << options_.topic
                << "' there with " << options_.partitions << " partitions?)\n";
      return 1;
    }
    base_total_ = watch_->total();
    for (int p = 0; p < options_.partitions; ++p) {
      base_hwm_.push_back(watch_->hwm(p));
    }
    topic_.reset(rd_kafka_topic_new(producer_.get(), options_.topic.c_str(), nullptr));
    value_.assign(std::max(options_.size, sizeof(RecordStamp)), 'x');
    sequence_.assign(options_.partitions, 0);
    deadline_ = monoSeconds() + options_.timeout_s;
    return options_.rate > 0 ? runLatency() : runThroughput();
  }

private:
  // Hands one record to the producer (waiting while its queue is full).
  bool produce(int partition, int64_t sequence) {
    RecordStamp stamp{nowMicros(), sequence, partition, 0};
    std::memcpy(value_.data(), &stamp, sizeof(stamp));
    const int64_t key = sequence;
    while (true) {
      rd_kafka_resp_err_t err = rd_kafka_producev(
          producer_.get(), RD_KAFKA_V_RKT(topic_.get()), RD_KAFKA_V_PARTITION(partition),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_KEY(&key, sizeof(key)),
          RD_KAFKA_V_VALUE(value_.data(), value_.size()),
          RD_KAFKA_V_HEADER("bench", "causeway", 8), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        return true;
      }
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || monoSeconds() > deadline_) {
        std::cerr << "produce: " << rd_kafka_err2str(err) << "\n";
        return false;
      }
      rd_kafka_poll(producer_.get(), 5);
    }
  }

  // True when partition p may take one more record without risking the mock's retention.
  bool backlogAllows(int p) const {
    const int64_t on_target = watch_->hwm(p) - base_hwm_[p];
    return static_cast<size_t>(sequence_[p] - on_target) * value_.size() <
           options_.backlog_bytes;
  }

  void startWatcher(double* first_seen, double* all_seen, int64_t expected) {
    watcher_ = std::thread([this, first_seen, all_seen, expected] {
      while (!stop_watch_.load() && monoSeconds() < deadline_) {
        if (watch_->refresh()) {
          const int64_t arrived = watch_->total() - base_total_;
          const double now = monoSeconds();
          if (arrived > 0 && *first_seen == 0) {
            *first_seen = now;
          }
          if (arrived >= expected) {
            *all_seen = now;
            // Linger a little: a duplicate that lands just after the last record is seen too.
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
            watch_->refresh();
            return;
          }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });
  }

  bool feed(int64_t total, double rate, double start) {
    int64_t sent = 0;
    while (sent < total) {
      if (monoSeconds() > deadline_) {
        std::cerr << "timed out after producing " << sent << " records\n";
        return false;
      }
      int64_t due = total;
      if (rate > 0) {
        due = std::min<int64_t>(total, static_cast<int64_t>((monoSeconds() - start) * rate) + 1);
      }
      bool progressed = false;
      while (sent < due) {
        const int p = static_cast<int>(sent % options_.partitions);
        if (!backlogAllows(p)) {
          break;
        }
        if (!produce(p, sequence_[p])) {
          return false;
        }
        sequence_[p] += 1;
        sent += 1;
        progressed = true;
        if (sent % 1024 == 0) {
          rd_kafka_poll(producer_.get(), 0);
        }
      }
      rd_kafka_poll(producer_.get(), 0);
      if (!progressed || sent < due) {
        std::this_thread::sleep_for(std::chrono::microseconds(rate > 0 ? 200 : 1000));
      }
    }
    return true;
  }

  int finish(nlohmann::json out, bool ok) {
    rd_kafka_flush(producer_.get(), 10000);
    stop_watch_.store(true);
    if (watcher_.joinable()) {
      watcher_.join();
    }
    const int64_t on_target = watch_->total() - base_total_;
    out["produced"] = stats_.delivered.load();
    out["produce_failed"] = stats_.failed.load();
    out["target_records"] = on_target;
    ok = ok && stats_.failed.load() == 0;
    out["ok"] = ok;
    std::cout << out.dump() << std::endl;
    return ok ? 0 : 2;
  }

  int runThroughput() {
    double first_seen = 0;
    double all_seen = 0;
    const auto n = static_cast<int64_t>(options_.records);
    startWatcher(&first_seen, &all_seen, n);
    bool ok = feed(n, 0, monoSeconds());
    if (!ok) {
      stop_watch_.store(true);
    }
    rd_kafka_flush(producer_.get(), 10000);
    if (watcher_.joinable()) {
      watcher_.join();
    }
    const int64_t on_target = watch_->total() - base_total_;
    const double window = all_seen > 0 ? all_seen - first_seen : 0;
    nlohmann::json out = {
        {"mode", "throughput"},
        {"records", options_.records},
        {"size", options_.size},
        {"window_s", window},
        {"records_per_s", window > 0 ? n / window : 0.0},
        {"mb_per_s", window > 0 ? n * static_cast<double>(options_.size) / window / 1e6 : 0.0},
        {"lost", std::max<int64_t>(0, n - on_target)},
        {"duplicates", std::max<int64_t>(0, on_target - n)},
    };
    return finish(out, ok && on_target == n);
  }

  int runLatency() {
    // Warm-up: one record per partition, so the replicator is assigned and writing before the
    // measured records start.
    for (int p = 0; p < options_.partitions; ++p) {
      if (!produce(p, -1)) {
        return 1;
      }
    }
    rd_kafka_flush(producer_.get(), 10000);
    while (watch_->total() - base_total_ < options_.partitions) {
      if (monoSeconds() > deadline_) {
        std::cerr << "the warm-up records never reached the target\n";
        return 2;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      watch_->refresh();
    }
    for (int p = 0; p < options_.partitions; ++p) {
      base_hwm_[p] = watch_->hwm(p);
    }
    base_total_ = watch_->total();

    kafka::HandlePtr checker = makeClient(
        RD_KAFKA_CONSUMER, {{"bootstrap.servers", options_.target},
                            {"client.id", "causeway-bench-checker"},
                            {"group.id", "causeway-bench-checker"},
                            {"enable.auto.commit", "false"},
                            {"fetch.wait.max.ms", "10"},
                            {"queued.min.messages", "1000000"},
                            {"queued.max.messages.kbytes", "65536"}});
    if (!checker) {
      return 1;
    }
    kafka::PartitionListPtr assignment(rd_kafka_topic_partition_list_new(options_.partitions));
    for (int p = 0; p < options_.partitions; ++p) {
      rd_kafka_topic_partition_list_add(assignment.get(), options_.topic.c_str(), p)->offset =
          base_hwm_[p];
    }
    if (rd_kafka_resp_err_t err = rd_kafka_assign(checker.get(), assignment.get())) {
      std::cerr << "checker assign: " << rd_kafka_err2str(err) << "\n";
      return 1;
    }

    const auto n = static_cast<int64_t>(options_.records);
    std::vector<int32_t> latencies;
    latencies.reserve(n);
    std::vector<int64_t> expected(options_.partitions, 0);
    int64_t gaps = 0;
    int64_t repeats = 0;
    int64_t checked = 0;
    std::thread reader([&] {
      while (checked < n && monoSeconds() < deadline_) {
        kafka::MessagePtr message(rd_kafka_consumer_poll(checker.get(), 100));
        if (!message || message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
          continue;
        }
        const int64_t now = nowMicros();
        RecordStamp stamp{};
        if (!readStamp(message->payload, message->len, &stamp) || stamp.sequence < 0) {
          continue;
        }
        const int p = message->partition;
        if (p < 0 || p >= options_.partitions) {
          continue;
        }
        if (stamp.sequence < expected[p]) {
          repeats += 1;  // a duplicate, or a record that came back after a reorder
          continue;
        }
        gaps += stamp.sequence - expected[p];
        expected[p] = stamp.sequence + 1;
        latencies.push_back(static_cast<int32_t>(std::min<int64_t>(now - stamp.send_micros,
                                                                   INT32_MAX)));
        checked += 1;
      }
    });
    double first_seen = 0;
    double all_seen = 0;
    startWatcher(&first_seen, &all_seen, n);
    const double start = monoSeconds();
    bool ok = feed(n, options_.rate, start);
    if (!ok) {
      stop_watch_.store(true);
    }
    const double feed_seconds = monoSeconds() - start;
    reader.join();
    rd_kafka_consumer_close(checker.get());

    std::sort(latencies.begin(), latencies.end());
    auto quantile = [&](double q) {
      if (latencies.empty()) {
        return -1.0;
      }
      const size_t i = std::min(latencies.size() - 1, static_cast<size_t>(q * latencies.size()));
      return latencies[i] / 1000.0;
    };
    int64_t missing = 0;
    for (int p = 0; p < options_.partitions; ++p) {
      missing += std::max<int64_t>(0, sequence_[p] - expected[p]);
    }
    nlohmann::json out = {
        {"mode", "latency"},
        {"records", options_.records},
        {"size", options_.size},
        {"target_rate", options_.rate},
        {"achieved_rate", feed_seconds > 0 ? n / feed_seconds : 0.0},
        {"checked", checked},
        {"lost", gaps + missing},
        {"duplicates", repeats},
        {"p50_ms", quantile(0.50)},
        {"p99_ms", quantile(0.99)},
        {"p999_ms", quantile(0.999)},
        {"max_ms", latencies.empty() ? -1.0 : latencies.back() / 1000.0},
    };
    return finish(out, ok && checked == n && gaps + missing == 0 && repeats == 0);
  }

  Options options_;
  ProduceStats stats_;
  kafka::HandlePtr producer_;
  kafka::TopicPtr topic_;
  std::unique_ptr<TargetWatch> watch_;
  std::vector<int64_t> base_hwm_;
  int64_t base_total_ = 0;
  std::vector<int64_t> sequence_;
  std::string value_;
  double deadline_ = 0;
  std::thread watcher_;
  std::atomic<bool> stop_watch_{false};
};

void usage() {
  std::cerr << "usage: causeway-bench-load --source BOOTSTRAP --target BOOTSTRAP --records N "
               "--size BYTES [--topic NAME] [--partitions P] [--rate R] [--backlog-bytes B] "
               "[--timeout-s S]\n";
}

} // namespace
} // namespace causeway::bench

int main(int argc, char** argv) {
  using causeway::bench::usage;
  causeway::bench::Options options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc) {
      usage();
      return 1;
    }
    std::string value = argv[++i];
    if (arg == "--source") {
      options.source = value;
    } else if (arg == "--target") {
      options.target = value;
    } else if (arg == "--topic") {
      options.topic = value;
    } else if (arg == "--partitions") {
      options.partitions = std::atoi(value.c_str());
    } else if (arg == "--records") {
      options.records = std::strtoull(value.c_str(), nullptr, 10);
    } else if (arg == "--size") {
      options.size = std::strtoull(value.c_str(), nullptr, 10);
    } else if (arg == "--rate") {
      options.rate = std::strtod(value.c_str(), nullptr);
    } else if (arg == "--backlog-bytes") {
      options.backlog_bytes = std::strtoull(value.c_str(), nullptr, 10);
    } else if (arg == "--timeout-s") {
      options.timeout_s = std::strtod(value.c_str(), nullptr);
    } else {
      usage();
      return 1;
    }
  }
  if (options.source.empty() || options.target.empty() || options.records == 0 ||
      options.partitions <= 0 || options.size < sizeof(causeway::bench::RecordStamp)) {
    usage();
    return 1;
  }
  return causeway::bench::LoadGenerator(options).run();
}
