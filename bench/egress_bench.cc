// causeway-egress-bench: partner egress (docs/egress.md) under load, against the real
// `causeway run` binary and an embedded cluster (`causeway dev-cluster`), each its own process.
//
// Runs, in order (each worker a fresh `causeway run`, so its CPU and peak RSS are its own):
//   raw       a plain librdkafka consumer (in this process) reads the N records of topic `bench`
//             from the beginning: the yardstick of the same run.
//   single    one SSE client reads `/v1/products/bench.json/events?from=earliest` until it has
//             all N events (1 KiB JSON records, bench/json_records.h). events/s = N / (request
//             sent -> last event); the worker's CPU (utime+stime from /proc/PID/stat) per event.
//   policy    the same with a partner policy masking `value.card.number` (every event is checked
//             for the mask), unless --no-policy.
//   fanout    C clients (default 1,000) connect to `bench.fanout?from=latest` (an empty topic),
//             then M new records are produced; every client must receive all M. Peak RSS of the
//             worker (VmHWM), time from the first produce to the last client complete. Live
//             clients, not `from=earliest`: a thousand clients starting behind the live window
//             would each need a catch-up reader (at most `max_catchup_readers`), which measures
//             the 503 queue, not fan-out. M = 2,000 (about 4.5 MiB of window bytes) stays within
//             the default `client_buffer_bytes` (8 MiB), so no client can be cut for being slow;
//             larger M may cut some, which then resume (counted as reconnects).
// Every client checks every event: per partition offsets consecutive from 0 (no gap, no repeat),
// the count exact. A client cut by the server (`event: error`, e.g. slow-client) reconnects with
// its last `id:` as Last-Event-ID, as a browser would; reconnects are counted and reported.
// raw, single and policy alternate --runs times (medians, min, max); fanout runs once.
// N defaults to 48,000 over 16 partitions: 3,000 x 1 KiB per partition stays below the embedded
// cluster's 5 MiB retention, and the events fit the default 64 MiB live window.
// Exit status: 0 when every verification passed, 2 otherwise. JSON on stdout, progress on stderr.
//
//   causeway-egress-bench --bin-dir BUILD [--runs 3] [--records 48000] [--partitions 16]
//                         [--clients 1000] [--fanout-records 2000] [--window-mib 0]
//                         [--no-policy] [--no-fanout]

#include "bench/bench_process.h"
#include "bench/egress_clients.h"
#include "bench/json_records.h"
#include "bench/pushpin_process.h"

#include <librdkafka/rdkafka.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace causeway::bench {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

struct Settings {
  fs::path bin_dir;
  fs::path work_dir;
  int64_t records = 48000;
  int partitions = 16;
  int clients = 1000;
  int64_t fanout_records = 2000;
  int window_mib = 0;  // > 0: live_window_bytes and client_buffer_bytes for the single runs
  int runs = 3;
  bool policy = true;
  bool fanout = true;
  bool pushpin = false;  // --pushpin
};

constexpr size_t kRecordSize = 1024;
const char* const kToken = "bench-token-0123456789abcdef";

class Bench {
public:
  explicit Bench(Settings s) : s_(std::move(s)) {}

  int run() {
    json out;
    out["loadavg_start"] = loadAverage();
    out["records"] = s_.records;
    out["record_bytes"] = kRecordSize;
    out["partitions"] = s_.partitions;
    if (!startCluster()) {
      return 2;
    }
    bool ok = true;
    if (!produce("bench", s_.records)) {
      return 2;
    }
    // Alternating runs, so a drift in the machine's speed hits every contender alike.
    std::vector<std::string> keys = {"raw_consumer", "single"};
    if (s_.policy) {
      keys.push_back("single_policy");
    }
    for (int r = 1; r <= s_.runs; ++r) {
      for (const std::string& key : keys) {
        json one = key == "raw_consumer" ? rawConsumer() : single(key == "single_policy", r);
        ok = ok && one.value("ok", false);
        out[key]["runs"].push_back(one);
      }
    }
    for (const std::string& key : keys) {
      for (const char* figure : {"events_per_s", "first_to_last_events_per_s",
                                 "worker_cpu_us_per_event", "worker_peak_rss_mib"}) {
        std::vector<double> v;
        for (const json& one : out[key]["runs"]) {
          if (one.contains(figure)) {
            v.push_back(one[figure].get<double>());
          }
        }
        if (!v.empty()) {
          std::sort(v.begin(), v.end());
          out[key]["median_" + std::string(figure)] = v[v.size() / 2];
          out[key]["min_" + std::string(figure)] = v.front();
          out[key]["max_" + std::string(figure)] = v.back();
        }
      }
    }
    if (out["raw_consumer"].contains("median_events_per_s")) {
      out["ratio_single_to_raw"] = out["single"]["median_events_per_s"].get<double>() /
                                   out["raw_consumer"]["median_events_per_s"].get<double>();
      std::cerr << "== medians of " << s_.runs << ": raw consumer "
                << int64_t(out["raw_consumer"]["median_events_per_s"].get<double>())
                << " records/s, one SSE client "
                << int64_t(out["single"]["median_events_per_s"].get<double>()) << " events/s"
                << (s_.policy ? ", with the mask policy " +
                                    std::to_string(int64_t(
                                        out["single_policy"]["median_events_per_s"].get<double>()))
                              : "")
                << "\n";
    }
    if (s_.fanout) {
      out["fanout"] = fanout();
      ok = ok && out["fanout"].value("ok", false);
    }
    if (s_.pushpin) {
      out["pushpin"] = pushpinCost();
      ok = ok && out["pushpin"].value("ok", false);
    }
    out["loadavg_end"] = loadAverage();
    out["ok"] = ok;
    cluster_.reset();
    std::cout << out.dump(2) << "\n";
    std::cerr << (ok ? "== all verified" : "== VERIFICATION FAILED") << "; logs in " << s_.work_dir
              << "\n";
    return ok ? 0 : 2;
  }

private:
  bool startCluster() {
    port_ = freePort();
    const int control = freePort();
    cluster_.emplace(std::vector<std::string>{(s_.bin_dir / "app/causeway").string(), "dev-cluster",
                                              "--name", "east", "--port", std::to_string(port_),
                                              "--control-port", std::to_string(control), "--topic",
                                              "bench:" + std::to_string(s_.partitions), "--topic",
                                              "fanout:" + std::to_string(s_.partitions), "--topic",
                                              "pushpin1:" + std::to_string(s_.partitions),
                                              "--topic",
                                              "pushpin2:" + std::to_string(s_.partitions)},
                     s_.work_dir / "cluster.log");
    const auto until = Clock::now() + std::chrono::seconds(30);
    while (Clock::now() < until && cluster_->running()) {
      if (cluster_->output().find("Press Ctrl-C") != std::string::npos) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::cerr << "the cluster did not start: " << cluster_->output() << "\n";
    return false;
  }

  std::string bootstrap() const { return "127.0.0.1:" + std::to_string(port_); }

  static void onDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      static_cast<std::atomic<int64_t>*>(opaque)->fetch_add(1);
    }
  }

  // N JSON records of 1 KiB, round-robin over the partitions (record i: partition i % P,
  // sequence i / P), acks=all, and waits for every delivery.
  bool produce(const std::string& topic, int64_t n) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char err[512];
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap().c_str(), err, sizeof(err));
    rd_kafka_conf_set(conf, "acks", "all", err, sizeof(err));
    rd_kafka_conf_set(conf, "linger.ms", "5", err, sizeof(err));
    std::atomic<int64_t> failed{0};
    rd_kafka_conf_set_opaque(conf, &failed);
    rd_kafka_conf_set_dr_msg_cb(conf, &Bench::onDelivery);
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    if (rk == nullptr) {
      std::cerr << "producer: " << err << "\n";
      return false;
    }
    JsonRecordTemplate value(kRecordSize);
    for (int64_t i = 0; i < n; ++i) {
      const int partition = static_cast<int>(i % s_.partitions);
      const std::string& v = value.fill(partition, i / s_.partitions, nowMicros());
      const std::string key = "k-" + std::to_string(i);
      for (;;) {
        rd_kafka_resp_err_t e =
            rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
                              RD_KAFKA_V_KEY(key.data(), key.size()),
                              RD_KAFKA_V_VALUE(const_cast<char*>(v.data()), v.size()),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
          rd_kafka_poll(rk, 10);
          continue;
        }
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
          std::cerr << "produce: " << rd_kafka_err2str(e) << "\n";
          rd_kafka_destroy(rk);
          return false;
        }
        break;
      }
      rd_kafka_poll(rk, 0);
    }
    const bool flushed = rd_kafka_flush(rk, 60000) == RD_KAFKA_RESP_ERR_NO_ERROR;
    rd_kafka_destroy(rk);
    if (!flushed || failed.load() != 0) {
      std::cerr << "produce: " << failed.load() << " deliveries failed\n";
      return false;
    }
    return true;
  }

  static int64_t nowMicros() {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  // The yardstick: a plain consumer assigned every partition from the beginning, until it has
  // read N records; the same per-partition order check as the SSE clients.
  json rawConsumer() {
    json r = {{"ok", false}};
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    char err[512];
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap().c_str(), err, sizeof(err));
    rd_kafka_conf_set(conf, "group.id", "causeway-egress-bench-raw", err, sizeof(err));
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof(err));
    const auto t0 = Clock::now();
    rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
    if (rk == nullptr) {
      r["error"] = err;
      return r;
    }
    rd_kafka_poll_set_consumer(rk);
    rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(s_.partitions);
    for (int p = 0; p < s_.partitions; ++p) {
      rd_kafka_topic_partition_list_add(parts, "bench", p)->offset = RD_KAFKA_OFFSET_BEGINNING;
    }
    rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    StreamCheck check(s_.partitions);
    Clock::time_point first{};
    const auto until = t0 + std::chrono::seconds(120);
    while (check.events < static_cast<uint64_t>(s_.records) && Clock::now() < until) {
      rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 100);
      if (m == nullptr) {
        continue;
      }
      if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (check.events == 0) {
          first = Clock::now();
        }
        check.see(m->partition, m->offset);
      }
      rd_kafka_message_destroy(m);
    }
    const auto last = Clock::now();
    const double seconds = std::chrono::duration<double>(last - t0).count();
    const double steady = std::chrono::duration<double>(last - first).count();
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    r["events"] = check.events;
    r["gaps"] = check.gaps;
    r["repeats"] = check.repeats;
    r["seconds"] = seconds;
    r["events_per_s"] = check.events / seconds;
    r["first_to_last_events_per_s"] = steady > 0 ? (check.events - 1) / steady : 0;
    r["ok"] = check.complete(s_.records);
    std::cerr << "-- raw consumer: " << check.events << " records in " << seconds
              << " s = " << static_cast<int64_t>(check.events / seconds) << " records/s\n";
    return r;
  }

  // `pushpin`: Pushpin's publish URL and signature key file, or empty.
  fs::path writeConfig(const std::string& name, bool policy, int egress_port, int window_mib,
                       const std::pair<std::string, std::string>& pushpin) {
    const fs::path dir = s_.work_dir / name;
    fs::create_directories(dir);
    std::ofstream(dir / "bench.tokens") << "bench " << kToken << "\n";
    const fs::path path = dir / "causeway.yaml";
    std::ofstream out(path);
    out << "# Written by causeway-egress-bench (" << name << ").\n"
        << "clusters:\n  east: {bootstrap: \"" << bootstrap() << "\"}\n";
    if (policy) {
      out << "policies:\n  bench-mask:\n    topics: {allow: [\"bench\", \"fanout\"]}\n"
          << "    fields:\n      - {path: value.card.number, action: mask, keep_last: 4}\n"
          << "    on_violation: stop\n";
    }
    out << "products:\n"
        << "  - {name: bench.json, source: east, topics: [\"bench\"]}\n"
        << "  - {name: bench.fanout, source: east, topics: [\"fanout\"]}\n"
        << "  - {name: bench.pushpin1, source: east, topics: [\"pushpin1\"]}\n"
        << "  - {name: bench.pushpin2, source: east, topics: [\"pushpin2\"]}\n"
        << "partners:\n  bench:\n"
        << "    products: [bench.json, bench.fanout, bench.pushpin1, bench.pushpin2]\n"
        << "    auth: {tokens_file: \"" << (dir / "bench.tokens").string() << "\"}\n"
        << "    max_connections: " << (s_.clients + 10) << "\n";
    if (policy) {
      out << "    policy: bench-mask\n";
    }
    out << "egress:\n  listen: \"127.0.0.1:" << egress_port << "\"\n"
        << "  max_connections: " << (s_.clients + 10) << "\n";
    if (window_mib > 0) {
      out << "  live_window_bytes: " << window_mib << "MiB\n"
          << "  client_buffer_bytes: " << window_mib << "MiB\n";
    }
    if (!pushpin.first.empty()) {
      out << "  pushpin: {publish_url: \"" << pushpin.first << "\", sig_key_file: \""
          << pushpin.second << "\"}\n";
    }
    return path;
  }

  // Starts `causeway run` and waits until GET /v1/products answers 200.
  std::unique_ptr<Process> startWorker(const std::string& name, bool policy, int egress_port,
                                       int window_mib,
                                       const std::pair<std::string, std::string>& pushpin = {}) {
    const fs::path config = writeConfig(name, policy, egress_port, window_mib, pushpin);
    auto worker = std::make_unique<Process>(
        std::vector<std::string>{(s_.bin_dir / "app/causeway").string(), "run", "--config",
                                 config.string(), "--metrics-listen", "off", "--control-listen",
                                 "off"},
        s_.work_dir / name / "worker.log");
    const auto until = Clock::now() + std::chrono::seconds(60);
    while (Clock::now() < until && worker->running()) {
      if (httpStatus(egress_port, "/v1/products", kToken) == 200) {
        return worker;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    std::cerr << "the worker did not serve /v1/products: " << worker->output() << "\n";
    return nullptr;
  }

  json single(bool policy, int run) {
    const std::string name =
        std::string(policy ? "single_policy-" : "single-") + std::to_string(run);
    json r = {{"ok", false}, {"policy", policy ? "mask value.card.number" : "none"}};
    const int port = freePort();
    auto worker = startWorker(name, policy, port, s_.window_mib);
    if (!worker) {
      r["error"] = "worker start failed";
      return r;
    }
    SseFleet fleet(port, kToken, s_.partitions, policy ? "\"number\":\"************" : "");
    const double cpu0 = cpuSeconds(worker->pid());
    const auto t0 = Clock::now();
    fleet.open("/v1/products/bench.json/events?from=earliest", 1);
    fleet.runUntilComplete(s_.records, Clock::now() + std::chrono::seconds(300));
    const double seconds = std::chrono::duration<double>(fleet.lastEventAt() - t0).count();
    const double cpu = cpuSeconds(worker->pid()) - cpu0;
    const SseFleet::Totals t = fleet.totals(s_.records);
    r["events"] = t.events;
    r["gaps"] = t.gaps;
    r["repeats"] = t.repeats;
    r["reconnects"] = t.reconnects;
    r["busy_retries"] = t.busy_retries;
    r["unmasked"] = t.unmasked;
    r["first_error"] = t.first_error;
    r["seconds"] = seconds;
    r["events_per_s"] = t.events / seconds;
    const double steady =
        std::chrono::duration<double>(fleet.lastEventAt() - fleet.firstEventAt()).count();
    r["first_to_last_events_per_s"] = steady > 0 ? (t.events - 1) / steady : 0;
    r["time_to_first_event_s"] = std::chrono::duration<double>(fleet.firstEventAt() - t0).count();
    r["mb_per_s"] = t.bytes / seconds / 1e6;
    r["worker_cpu_s"] = cpu;
    r["worker_cpu_us_per_event"] = t.events > 0 ? cpu * 1e6 / t.events : 0;
    r["worker_peak_rss_mib"] = statusMiB(worker->pid(), "VmHWM");
    r["live_window_mib"] = s_.window_mib > 0 ? s_.window_mib : 64;
    r["client_buffer_mib"] = s_.window_mib > 0 ? s_.window_mib : 8;
    worker->stop();
    r["ok"] = t.complete_clients == 1;
    std::cerr << "-- " << name << ": " << t.events << " events in " << seconds
              << " s = " << static_cast<int64_t>(t.events / seconds) << " events/s, worker "
              << r["worker_cpu_us_per_event"].get<double>() << " us CPU/event, reconnects "
              << t.reconnects << (r["ok"].get<bool>() ? "" : " FAILED: " + t.first_error) << "\n";
    return r;
  }

  json fanout() {
    json r = {{"ok", false}, {"clients", s_.clients}, {"records", s_.fanout_records}};
    const int port = freePort();
    auto worker = startWorker("fanout", false, port, 0);
    if (!worker) {
      r["error"] = "worker start failed";
      return r;
    }
    SseFleet fleet(port, kToken, s_.partitions, "");
    const auto c0 = Clock::now();
    fleet.open("/v1/products/bench.fanout/events?from=latest", s_.clients);
    if (!fleet.runUntilStreaming(Clock::now() + std::chrono::seconds(120))) {
      r["error"] = "not every client got a stream: " + fleet.firstError();
      return r;
    }
    r["connect_seconds"] = std::chrono::duration<double>(Clock::now() - c0).count();
    r["worker_rss_mib_connected"] = statusMiB(worker->pid(), "VmRSS");
    const double cpu0 = cpuSeconds(worker->pid());
    const auto t0 = Clock::now();
    std::thread producer([this] { produced_ = produce("fanout", s_.fanout_records); });
    fleet.runUntilComplete(s_.fanout_records, Clock::now() + std::chrono::seconds(600));
    producer.join();
    const double seconds = std::chrono::duration<double>(fleet.lastEventAt() - t0).count();
    const double cpu = cpuSeconds(worker->pid()) - cpu0;
    const SseFleet::Totals t = fleet.totals(s_.fanout_records);
    r["produced"] = produced_;
    r["complete_clients"] = t.complete_clients;
    r["events"] = t.events;
    r["gaps"] = t.gaps;
    r["repeats"] = t.repeats;
    r["reconnects"] = t.reconnects;
    r["busy_retries"] = t.busy_retries;
    r["first_error"] = t.first_error;
    r["seconds"] = seconds;
    r["events_per_s"] = t.events / seconds;
    r["mb_per_s"] = t.bytes / seconds / 1e6;
    r["worker_cpu_s"] = cpu;
    r["worker_peak_rss_mib"] = statusMiB(worker->pid(), "VmHWM");
    r["worker_rss_mib_end"] = statusMiB(worker->pid(), "VmRSS");
    fleet.closeAll();
    worker->stop();
    r["ok"] = produced_ && t.complete_clients == static_cast<uint64_t>(s_.clients) &&
              r["worker_peak_rss_mib"].get<double>() < 500;
    std::cerr << "-- fanout: " << t.complete_clients << "/" << s_.clients << " clients complete, "
              << t.events << " events in " << seconds << " s, worker peak RSS "
              << r["worker_peak_rss_mib"].get<double>() << " MiB, reconnects " << t.reconnects
              << ", 503 retries " << t.busy_retries
              << (r["ok"].get<bool>() ? "" : " FAILED: " + t.first_error) << "\n";
    return r;
  }

  // Clients through Pushpin: C clients of `topic`'s product (from=latest, empty topic) connect
  // to Pushpin, which holds them on the product's channel; M records are produced and published
  // once each by the worker; every client must receive all M. The cost figures: the worker's and
  // Pushpin's (all its processes and zurl) CPU over produce -> last client complete, and their
  // resident memory with the clients connected.
  json pushpinRun(const std::string& topic, int clients) {
    const std::string name = "pushpin-" + std::to_string(clients);
    json r = {{"ok", false}, {"clients", clients}, {"records", s_.fanout_records}};
    const int egress_port = freePort();
    fs::create_directories(s_.work_dir / name);
    auto pushpin = PushpinProcess::start(s_.work_dir / name / "pushpin", egress_port);
    if (!pushpin) {
      r["error"] = "pushpin did not start";
      return r;
    }
    auto worker = startWorker(name, false, egress_port, 0,
                              {pushpin->publishUrl(), pushpin->sig_key_file.string()});
    if (!worker) {
      r["error"] = "worker start failed";
      return r;
    }
    const std::string path = "/v1/products/bench." + topic + "/events";
    const auto until = Clock::now() + std::chrono::seconds(30);
    while (httpStatus(pushpin->http_port, path, kToken) != 200) {
      if (Clock::now() >= until) {
        r["error"] = "Pushpin never held a stream";
        return r;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    const double rss_before = treeStatusMiB(pushpin->processes(), "VmRSS");
    const double worker_rss_before = statusMiB(worker->pid(), "VmRSS");
    const size_t probes = pushpin->handlerLogCount("subscribe ");
    SseFleet fleet(pushpin->http_port, kToken, s_.partitions, "");
    fleet.open(path, clients);
    bool subscribed = fleet.runUntilStreaming(Clock::now() + std::chrono::seconds(120));
    const auto sub_until = Clock::now() + std::chrono::seconds(60);
    while (subscribed && pushpin->handlerLogCount("subscribe ") < probes + clients) {
      if (Clock::now() >= sub_until) {
        subscribed = false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (!subscribed) {
      r["error"] = "not every client was held: " + fleet.firstError();
      return r;
    }
    const std::vector<pid_t> tree = pushpin->processes();
    r["pushpin_rss_mib_idle"] = rss_before;
    r["pushpin_rss_mib_connected"] = treeStatusMiB(tree, "VmRSS");
    r["worker_rss_mib_idle"] = worker_rss_before;
    r["worker_rss_mib_connected"] = statusMiB(worker->pid(), "VmRSS");
    const double cpu0 = cpuSeconds(worker->pid());
    const double pushpin_cpu0 = treeCpuSeconds(tree);
    const auto t0 = Clock::now();
    bool produced = false;
    std::thread producer([&] { produced = produce(topic, s_.fanout_records); });
    fleet.runUntilComplete(s_.fanout_records, Clock::now() + std::chrono::seconds(300));
    producer.join();
    const SseFleet::Totals t = fleet.totals(s_.fanout_records);
    r["seconds"] = std::chrono::duration<double>(fleet.lastEventAt() - t0).count();
    r["worker_cpu_s"] = cpuSeconds(worker->pid()) - cpu0;
    r["pushpin_cpu_s"] = treeCpuSeconds(tree) - pushpin_cpu0;
    r["pushpin_rss_mib_end"] = treeStatusMiB(tree, "VmRSS");
    r["pushpin_processes"] = tree.size();
    r["worker_peak_rss_mib"] = statusMiB(worker->pid(), "VmHWM");
    r["complete_clients"] = t.complete_clients;
    r["events"] = t.events;
    r["gaps"] = t.gaps;
    r["repeats"] = t.repeats;
    r["reconnects"] = t.reconnects;
    r["first_error"] = t.first_error;
    fleet.closeAll();
    worker->stop();
    r["ok"] = produced && t.complete_clients == static_cast<uint64_t>(clients);
    std::cerr << "-- " << name << ": " << t.complete_clients << "/" << clients
              << " clients complete in " << r["seconds"].get<double>() << " s; CPU worker "
              << r["worker_cpu_s"].get<double>() << " s, Pushpin "
              << r["pushpin_cpu_s"].get<double>() << " s; RSS connected: worker "
              << r["worker_rss_mib_connected"].get<double>() << " MiB, Pushpin "
              << r["pushpin_rss_mib_connected"].get<double>() << " MiB"
              << (r["ok"].get<bool>() ? "" : " FAILED: " + t.first_error) << "\n";
    return r;
  }

  // Two Pushpin runs (few and many clients): what each added client costs.
  json pushpinCost() {
    const int small = std::max(1, s_.clients / 10);
    json out = {{"small", pushpinRun("pushpin1", small)},
                {"large", pushpinRun("pushpin2", s_.clients)}};
    const json& a = out["small"];
    const json& b = out["large"];
    out["ok"] = a.value("ok", false) && b.value("ok", false);
    if (out["ok"].get<bool>()) {
      const double added = s_.clients - small;
      auto per = [&](const char* key, double scale) {
        return (b[key].get<double>() - a[key].get<double>()) * scale / added;
      };
      const double per_event = 1e6 / static_cast<double>(s_.fanout_records);
      out["per_added_client"] = {
          {"worker_cpu_us_per_event", per("worker_cpu_s", per_event)},
          {"pushpin_cpu_us_per_event", per("pushpin_cpu_s", per_event)},
          {"worker_rss_kib", per("worker_rss_mib_connected", 1024)},
          {"pushpin_rss_kib", per("pushpin_rss_mib_connected", 1024)},
      };
      std::cerr << "== Pushpin, per added client: " << out["per_added_client"].dump() << "\n";
    }
    return out;
  }

  Settings s_;
  int port_ = 0;
  std::optional<Process> cluster_;
  bool produced_ = false;
};

}  // namespace
}  // namespace causeway::bench

int main(int argc, char** argv) {
  using causeway::bench::Settings;
  Settings s;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << arg << " needs a value\n";
        std::exit(64);
      }
      return argv[++i];
    };
    if (arg == "--bin-dir") {
      s.bin_dir = next();
    } else if (arg == "--records") {
      s.records = std::stoll(next());
    } else if (arg == "--partitions") {
      s.partitions = std::stoi(next());
    } else if (arg == "--clients") {
      s.clients = std::stoi(next());
    } else if (arg == "--fanout-records") {
      s.fanout_records = std::stoll(next());
    } else if (arg == "--window-mib") {
      s.window_mib = std::stoi(next());
    } else if (arg == "--runs") {
      s.runs = std::stoi(next());
    } else if (arg == "--no-policy") {
      s.policy = false;
    } else if (arg == "--pushpin") {
      s.pushpin = true;
    } else if (arg == "--no-fanout") {
      s.fanout = false;
    } else {
      std::cerr << "usage: causeway-egress-bench --bin-dir BUILD [--records N] [--partitions P] "
                   "[--runs R] [--clients C] [--fanout-records M] [--window-mib W] [--no-policy] "
                   "[--no-fanout] [--pushpin]\n";
      return 64;
    }
  }
  if (s.bin_dir.empty() || s.runs <= 0 || s.records <= 0 || s.partitions <= 0 || s.clients <= 0 ||
      s.fanout_records <= 0) {
    std::cerr << "--bin-dir is required; counts must be positive\n";
    return 64;
  }
  // One descriptor per client here, and the worker (which inherits the limit) needs one per
  // client too.
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < static_cast<rlim_t>(s.clients) + 256) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  signal(SIGPIPE, SIG_IGN);
  causeway::bench::stopChildrenOnSignal();
  char dir_template[] = "/tmp/causeway-egress-bench.XXXXXX";
  s.work_dir = mkdtemp(dir_template);
  return causeway::bench::Bench(s).run();
}
