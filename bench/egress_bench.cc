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
//             worker (VmHWM), time from the first produce to the last client complete.
// Every client checks every event: per partition offsets consecutive from 0 (no gap, no repeat),
// the count exact. A client cut by the server (`event: error`, e.g. slow-client) reconnects with
// its last `id:` as Last-Event-ID, as a browser would; reconnects are counted and reported.
// Exit status: 0 when every verification passed, 2 otherwise.
//
//   causeway-egress-bench --bin-dir BUILD [--records 40000] [--partitions 16] [--clients 1000]
//                         [--fanout-records 5000] [--window-mib 0] [--no-policy] [--no-fanout]

#include "bench/egress_clients.h"
#include "bench/json_records.h"

#include <librdkafka/rdkafka.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

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

// A child process whose stdout and stderr go to one file; killed when this process exits.
class Process {
public:
  Process(const std::vector<std::string>& argv, const fs::path& log) : log_(log) {
    pid_ = fork();
    if (pid_ == 0) {
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
      }
      std::vector<char*> args;
      for (const auto& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
      }
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
  }
  ~Process() { stop(); }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool running() {
    if (pid_ <= 0 || exited_) {
      return false;
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exited_ = true;
      status_ = status;
    }
    return !exited_;
  }
  int status() const { return status_; }
  std::string output() const {
    std::ifstream in(log_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }
  // SIGTERM, SIGKILL after 20 s.
  void stop() {
    if (pid_ <= 0 || !running()) {
      return;
    }
    kill(pid_, SIGTERM);
    const auto until = Clock::now() + std::chrono::seconds(20);
    while (running() && Clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (running()) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &status_, 0);
      exited_ = true;
    }
  }

private:
  pid_t pid_ = -1;
  fs::path log_;
  bool exited_ = false;
  int status_ = 0;
};

std::string loadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

// utime + stime of `pid` in seconds (/proc/PID/stat fields 14 and 15).
double cpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  if (close == std::string::npos) {
    return 0;
  }
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) {
      utime = std::stoull(field);
    } else if (i == 15) {
      stime = std::stoull(field);
    }
  }
  return static_cast<double>(utime + stime) / sysconf(_SC_CLK_TCK);
}

// A /proc/PID/status line in MiB (VmHWM: peak resident set, VmRSS: now).
double statusMiB(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) == 0) {
      return std::stod(line.substr(key.size() + 1)) / 1024.0;
    }
  }
  return 0;
}

struct Settings {
  fs::path bin_dir;
  fs::path work_dir;
  int64_t records = 40000;
  int partitions = 16;
  int clients = 1000;
  int64_t fanout_records = 2000;
  int window_mib = 0;  // > 0: live_window_bytes and client_buffer_bytes for the single runs
  bool policy = true;
  bool fanout = true;
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
    out["raw_consumer"] = rawConsumer();
    ok = ok && out["raw_consumer"].value("ok", false);
    out["single"] = single(false);
    ok = ok && out["single"].value("ok", false);
    if (s_.policy) {
      out["single_policy"] = single(true);
      ok = ok && out["single_policy"].value("ok", false);
    }
    if (s_.fanout) {
      out["fanout"] = fanout();
      ok = ok && out["fanout"].value("ok", false);
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
                                              "fanout:" + std::to_string(s_.partitions)},
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

  fs::path writeConfig(const std::string& name, bool policy, int egress_port, int window_mib) {
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
        << "partners:\n  bench:\n"
        << "    products: [bench.json, bench.fanout]\n"
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
    return path;
  }

  // Starts `causeway run` and waits until GET /v1/products answers 200.
  std::unique_ptr<Process> startWorker(const std::string& name, bool policy, int egress_port,
                                       int window_mib) {
    const fs::path config = writeConfig(name, policy, egress_port, window_mib);
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

  json single(bool policy) {
    const std::string name = policy ? "single_policy" : "single";
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
      r["error"] = "not every client got a stream: " + fleet.totals(0).first_error;
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
    } else if (arg == "--no-policy") {
      s.policy = false;
    } else if (arg == "--no-fanout") {
      s.fanout = false;
    } else {
      std::cerr << "usage: causeway-egress-bench --bin-dir BUILD [--records N] [--partitions P] "
                   "[--clients C] [--fanout-records M] [--window-mib W] [--no-policy] "
                   "[--no-fanout]\n";
      return 64;
    }
  }
  if (s.bin_dir.empty() || s.records <= 0 || s.partitions <= 0 || s.clients <= 0 ||
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
  char dir_template[] = "/tmp/causeway-egress-bench.XXXXXX";
  s.work_dir = mkdtemp(dir_template);
  return causeway::bench::Bench(s).run();
}
