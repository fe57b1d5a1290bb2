// causeway-bench: the benchmark driver behind `make bench` (scripts/bench.sh).
//
// For each scenario (records x size over 8 partitions) and each contender (the raw librdkafka
// pipe; Causeway links run by `causeway run`: at-least-once, exactly-once, and exactly-once with
// `transactional: true`), every measurement starts from scratch: two fresh `causeway dev-cluster`
// processes (source and target, 3 brokers each), the contender process, then
// causeway-bench-load feeding the source and watching the target. The contender's CPU seconds
// and peak RSS are the kernel's accounting of that process (wait4() rusage: utime+stime and the
// peak resident set, the same counters as /proc/PID/stat and VmHWM), over its whole life:
// start-up, group join, the run and its shutdown.
//
// Order per scenario: throughput runs of the contenders in turn (raw pipe, at-least-once,
// exactly-once, exactly-once transactional, then again: cycles, so a drift in the machine's speed
// hits all of them); then latency runs of the raw pipe and the at-least-once link, alternating,
// paced at half the raw pipe's median throughput of that scenario (the exactly-once links have
// throughput runs only: their data path is the at-least-once one, they differ in where a
// partition starts and, transactional, in the commit). A run is verified when exactly N records
// are on the target (latency runs: every partition's sequence without gap or repeat) and the
// contender exited with status 0 (a Causeway link that failed makes `causeway run` exit 1).
// Results: JSON, a Markdown table and a gnuplot PNG.
//
// Partner policies (issue 12), on request (`--contenders ...,causeway-policy`): the at-least-once
// link with a policy (issue 12's filter; mask, HMAC-SHA256 hash, AES-256-GCM encrypt, keys
// generated per run into the run's directory) over JSON records (json_records.h), against the raw
// pipe over the same JSON records (`raw-json`, added whenever causeway-policy runs). The target
// must hold exactly the records the filter passes, each checked field by field by the load
// generator, and one encrypted IBAN is decrypted with `causeway decrypt` and compared.
//
// Data contracts (issue 11), on request (`causeway-ids`, `causeway-avro`): the at-least-once
// link with schema ID translation between two registries (two catalog folders that give the
// benchmark's Avro schema different IDs), without and with an Avro contract that checks every
// value, against the raw pipe over the same Confluent-framed Avro records (`raw-avro`, added
// whenever either runs; avro_records.h, schema_contenders.h). The load generator reads back
// what the target holds and compares each record byte for byte with the record it must be,
// framed with the target registry's ID (the raw pipe: the source's).
//
//   causeway-bench --bin-dir BUILD --out-dir bench/results [--runs 3] [--quick]
//                  [--scenarios RECORDSxBYTES,...] [--contenders raw,causeway,...]
//                  [--no-latency]

#include "bench/avro_records.h"
#include "bench/json_records.h"
#include "bench/schema_contenders.h"

#include <nlohmann/json.hpp>
#include <librdkafka/rdkafka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace causeway::bench {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::set<pid_t> g_children;

void killChildren(int sig) {
  for (pid_t pid : g_children) {
    kill(pid, SIGKILL);
  }
  if (sig != 0) {
    _exit(128 + sig);
  }
}

// A child process whose stdout and stderr go to one file.
class Child {
public:
  static std::optional<Child> spawn(const std::vector<std::string>& argv, const fs::path& log) {
    pid_t pid = fork();
    if (pid < 0) {
      return std::nullopt;
    }
    if (pid == 0) {
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
    g_children.insert(pid);
    return Child(pid, log);
  }

  pid_t pid() const { return pid_; }
  const fs::path& log() const { return log_; }
  bool exited() const { return exited_; }
  int status() const { return status_; }
  const rusage& usage() const { return usage_; }

  // Reaps the child if it has exited, waiting up to `timeout`.
  bool wait(std::chrono::milliseconds timeout) {
    const auto until = Clock::now() + timeout;
    while (!exited_) {
      int status = 0;
      pid_t got = wait4(pid_, &status, WNOHANG, &usage_);
      if (got == pid_) {
        exited_ = true;
        status_ = status;
        g_children.erase(pid_);
        break;
      }
      if (Clock::now() >= until) {
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
  }

  // SIGTERM, then SIGKILL if it is still there after `grace`.
  void stop(std::chrono::milliseconds grace) {
    if (exited_) {
      return;
    }
    kill(pid_, SIGTERM);
    if (!wait(grace)) {
      kill(pid_, SIGKILL);
      wait(std::chrono::milliseconds(5000));
    }
  }

  std::string output() const {
    std::ifstream in(log_);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  double cpuSeconds() const {
    return usage_.ru_utime.tv_sec + usage_.ru_utime.tv_usec / 1e6 + usage_.ru_stime.tv_sec +
           usage_.ru_stime.tv_usec / 1e6;
  }
  double peakRssMiB() const { return usage_.ru_maxrss / 1024.0; }

private:
  Child(pid_t pid, fs::path log) : pid_(pid), log_(std::move(log)) {}

  pid_t pid_;
  fs::path log_;
  bool exited_ = false;
  int status_ = 0;
  rusage usage_{};
};

int freePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

std::optional<json> lastJsonLine(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  std::optional<json> last;
  while (std::getline(in, line)) {
    if (!line.empty() && line.front() == '{') {
      try {
        last = json::parse(line);
      } catch (const json::exception&) {
      }
    }
  }
  return last;
}

// Latency runs are repeated with fetch.wait.max.ms lowered from Causeway's default (100 ms) to
// this, for both contenders: on the mock an empty fetch waits the whole fetch.wait.max.ms even
// when data arrives, which dominates latency at half load (../shared notes, EMBEDDED_KAFKA).
constexpr int kLowFetchWaitMs = 10;

struct Scenario {
  std::string name;
  uint64_t records;
  size_t size;
};

// One thing measured. The table order is the order of each back-to-back cycle of throughput
// runs.
struct Contender {
  std::string_view id;        // on the command line and in the run directories' names
  std::string_view key;       // in the JSON results
  std::string_view title;     // in the Markdown table and the chart
  std::string_view delivery;  // the Causeway link's `delivery`; empty: the raw pipe
  bool transactional;         // `transactional: true` on the link
  bool latency;               // also has latency runs
  Payload payload;            // what the load generator writes
  bool policy;                // the link applies the benchmark policy (writePolicy())
  SchemaLink schemas;         // the link's schema stages (schema_contenders.h)
  bool by_default;            // runs without --contenders
};

constexpr std::array<Contender, 9> kContenders = {{
    {"raw", "raw", "raw librdkafka pipe", "", false, true, Payload::kStamp, false,
     SchemaLink::kNone, true},
    {"causeway", "causeway", "Causeway at-least-once", "at_least_once", false, true,
     Payload::kStamp, false, SchemaLink::kNone, true},
    {"causeway-eos", "causeway_eos", "Causeway exactly-once", "exactly_once", false, false,
     Payload::kStamp, false, SchemaLink::kNone, true},
    {"causeway-eos-txn", "causeway_eos_txn", "Causeway exactly-once, transactional", "exactly_once",
     true, false, Payload::kStamp, false, SchemaLink::kNone, true},
    {"raw-json", "raw_json", "raw librdkafka pipe, JSON records", "", false, false, Payload::kJson,
     false, SchemaLink::kNone, false},
    {"causeway-policy", "causeway_policy", "Causeway at-least-once + partner policy, JSON records",
     "at_least_once", false, false, Payload::kJson, true, SchemaLink::kNone, false},
    {"raw-avro", "raw_avro", "raw librdkafka pipe, Avro records", "", false, false, Payload::kAvro,
     false, SchemaLink::kNone, false},
    {"causeway-ids", "causeway_ids", "Causeway at-least-once + schema ID translation, Avro records",
     "at_least_once", false, false, Payload::kAvro, false, SchemaLink::kTranslateIds, false},
    {"causeway-avro", "causeway_avro",
     "Causeway at-least-once + Avro contract + ID translation, Avro records", "at_least_once",
     false, false, Payload::kAvro, false, SchemaLink::kContractAndIds, false},
}};

// A ratio of two contenders' median records/s (`over` / `under`), and of their runs taken pair
// by pair under `pairwise` (run i of each contender ran back to back with run i of the others).
struct Ratio {
  const char* name;
  const char* pairwise;
  const char* over;
  const char* under;
};

constexpr std::array<Ratio, 9> kRatios = {{
    {"ratio_records_per_s", "ratio_pairwise", "causeway", "raw"},
    {"ratio_eos_to_causeway", "ratio_eos_to_causeway_pairwise", "causeway_eos", "causeway"},
    {"ratio_eos_to_raw", "ratio_eos_to_raw_pairwise", "causeway_eos", "raw"},
    {"ratio_eos_txn_to_causeway", "ratio_eos_txn_to_causeway_pairwise", "causeway_eos_txn",
     "causeway"},
    {"ratio_eos_txn_to_raw", "ratio_eos_txn_to_raw_pairwise", "causeway_eos_txn", "raw"},
    {"ratio_eos_txn_to_eos", "ratio_eos_txn_to_eos_pairwise", "causeway_eos_txn", "causeway_eos"},
    // Issue 12: >= 0.6x. Like with like: both were fed the same JSON records.
    {"ratio_policy_to_raw_json", "ratio_policy_to_raw_json_pairwise", "causeway_policy",
     "raw_json"},
    // Issue 11: >= 0.95x and >= 0.8x, both against the raw pipe over the same Avro records.
    {"ratio_ids_to_raw_avro", "ratio_ids_to_raw_avro_pairwise", "causeway_ids", "raw_avro"},
    {"ratio_avro_to_raw_avro", "ratio_avro_to_raw_avro_pairwise", "causeway_avro", "raw_avro"},
}};

struct Settings {
  fs::path bin_dir;
  fs::path out_dir;
  fs::path work_dir;
  int runs = 3;
  int partitions = 8;
  bool latency = true;
  std::vector<Scenario> scenarios;
  std::vector<const Contender*> contenders;  // in kContenders order
};

struct Cluster {
  std::optional<Child> process;
  int port = 0;
  int control_port = 0;
  std::string bootstrap() const { return "127.0.0.1:" + std::to_string(port); }
  std::string control() const { return "127.0.0.1:" + std::to_string(control_port); }
};

class Driver {
public:
  explicit Driver(Settings settings) : s_(std::move(settings)) {}

  int run() {
    json results = {{"machine", machine()}, {"scenarios", json::array()}};
    results["started_utc"] = utcNow();
    for (const Scenario& scenario : s_.scenarios) {
      json sc = {{"name", scenario.name},
                 {"records", scenario.records},
                 {"size", scenario.size},
                 {"partitions", s_.partitions}};
      for (const Contender* c : s_.contenders) {
        sc[std::string(c->key)] = {{"throughput_runs", json::array()}};
      }
      for (int r = 0; r < s_.runs; ++r) {
        for (const Contender* c : s_.contenders) {
          sc[std::string(c->key)]["throughput_runs"].push_back(measure(scenario, *c, 0, r));
        }
      }
      runLatency(scenario, &sc);
      sc["summary"] = summarize(sc);
      results["scenarios"].push_back(sc);
      printRatios(scenario, sc["summary"]);
    }
    results["finished_utc"] = utcNow();
    results["machine"]["loadavg_end"] = loadAverage();
    fs::create_directories(s_.out_dir);
    std::ofstream(s_.out_dir / "latest.json") << results.dump(2) << "\n";
    std::ofstream(s_.out_dir / "latest.md") << table(results);
    chart(results);
    std::cout << table(results);
    bool all_ok = true;
    for (const auto& sc : results["scenarios"]) {
      all_ok = all_ok && sc["summary"]["all_verified"].get<bool>();
    }
    return all_ok ? 0 : 2;
  }

private:
  // The latency runs of the contenders that have them, paced at half the raw pipe's median
  // throughput: skipped without a raw pipe throughput figure or with --no-latency.
  void runLatency(const Scenario& scenario, json* sc) {
    std::vector<const Contender*> paced;
    for (const Contender* c : s_.contenders) {
      if (c->latency) {
        paced.push_back(c);
      }
    }
    if (!s_.latency || paced.empty()) {
      return;
    }
    const double raw_rate =
        sc->contains("raw") ? median(values((*sc)["raw"]["throughput_runs"], "records_per_s")) : 0;
    if (raw_rate <= 0) {
      std::cerr << "== " << scenario.name
                << ": no latency runs (they are paced at half the raw pipe's median records/s, "
                   "and there is none)\n";
      return;
    }
    const double half = raw_rate / 2;
    for (const Contender* c : paced) {
      (*sc)[std::string(c->key)]["latency_runs"] = json::array();
      (*sc)[std::string(c->key)]["latency_runs_low_fetch_wait"] = json::array();
    }
    for (int r = 0; r < s_.runs; ++r) {
      for (const int fetch_wait_ms : {0, kLowFetchWaitMs}) {
        for (const Contender* c : paced) {
          (*sc)[std::string(c->key)][fetch_wait_ms > 0 ? "latency_runs_low_fetch_wait"
                                                      : "latency_runs"]
              .push_back(measure(scenario, *c, half, r, fetch_wait_ms));
        }
      }
    }
    (*sc)["latency_rate"] = half;
    (*sc)["low_fetch_wait_ms"] = kLowFetchWaitMs;
  }

  // One line for the at-least-once and exactly-once links, one for the transactional link, one
  // for the policy link; ratios whose contenders did not run (or had no verified run) are left
  // out.
  static void printRatios(const Scenario& scenario, const json& summary) {
    using Line = std::vector<std::pair<const char*, const char*>>;
    const std::array<Line, 4> lines = {
        Line{{"ratio_records_per_s", "Causeway / raw pipe"},
             {"ratio_eos_to_causeway", "exactly-once / at-least-once"},
             {"ratio_eos_to_raw", "exactly-once / raw pipe"}},
        Line{{"ratio_eos_txn_to_causeway", "exactly-once transactional / at-least-once"},
             {"ratio_eos_txn_to_raw", "exactly-once transactional / raw pipe"},
             {"ratio_eos_txn_to_eos", "exactly-once transactional / exactly-once"}},
        Line{{"ratio_policy_to_raw_json", "policy link / raw pipe (both JSON records)"}},
        Line{{"ratio_ids_to_raw_avro", "ID translation / raw pipe (both Avro records)"},
             {"ratio_avro_to_raw_avro", "Avro contract + ID translation / raw pipe"}},
    };
    for (const Line& ratios : lines) {
      std::ostringstream line;
      for (const auto& [key, text] : ratios) {
        if (summary[key].is_number()) {
          line << (line.tellp() > 0 ? ", " : "") << text << " = " << summary[key].get<double>();
        }
      }
      if (line.tellp() > 0) {
        std::cerr << "== " << scenario.name << ": records/s " << line.str() << "\n";
      }
    }
  }

  static std::string utcNow() {
    std::time_t t = std::time(nullptr);
    char buf[64];
    std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
    return buf;
  }

  static std::string loadAverage() {
    std::ifstream in("/proc/loadavg");
    std::string a, b, c;
    in >> a >> b >> c;
    return a + " " + b + " " + c;
  }

  static json machine() {
    json m;
    m["nproc"] = std::thread::hardware_concurrency();
    std::ifstream cpu("/proc/cpuinfo");
    std::string line;
    while (std::getline(cpu, line)) {
      if (line.rfind("model name", 0) == 0) {
        m["cpu"] = line.substr(line.find(':') + 2);
        break;
      }
    }
    std::ifstream mem("/proc/meminfo");
    while (std::getline(mem, line)) {
      if (line.rfind("MemTotal:", 0) == 0) {
        std::istringstream in(line.substr(9));
        long kib = 0;
        in >> kib;
        m["memory_gib"] = std::round(kib / 1048576.0 * 10) / 10;
        break;
      }
    }
    utsname u{};
    uname(&u);
    m["kernel"] = std::string(u.sysname) + " " + u.release;
    m["librdkafka"] = rd_kafka_version_str();
    m["loadavg_start"] = loadAverage();
    return m;
  }

  bool startCluster(const std::string& name, Cluster* cluster, const fs::path& dir) {
    cluster->port = freePort();
    cluster->control_port = freePort();
    cluster->process = Child::spawn(
        {(s_.bin_dir / "app/causeway").string(), "dev-cluster", "--name", name, "--brokers", "3",
         "--port", std::to_string(cluster->port), "--control-port",
         std::to_string(cluster->control_port), "--topic",
         "bench:" + std::to_string(s_.partitions)},
        dir / (name + ".log"));
    if (!cluster->process) {
      return false;
    }
    const auto until = Clock::now() + std::chrono::seconds(30);
    while (Clock::now() < until) {
      if (cluster->process->output().find("Press Ctrl-C") != std::string::npos) {
        return true;
      }
      if (cluster->process->wait(std::chrono::milliseconds(0)) && cluster->process->exited()) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    std::cerr << "cluster '" << name << "' did not start: " << cluster->process->output() << "\n";
    return false;
  }

  // 32 random bytes as 64 hex digits.
  static std::string randomHex() {
    std::ifstream urandom("/dev/urandom", std::ios::binary);
    unsigned char bytes[32] = {};
    urandom.read(reinterpret_cast<char*>(bytes), sizeof(bytes));
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char b : bytes) {
      out += kHex[b >> 4];
      out += kHex[b & 15];
    }
    return out;
  }

  // The benchmark policy (issue 12's "that filter and those transforms"), with a fresh HMAC secret
  // and AES-256-GCM key in the run's directory (the formats of docs/policies.md and
  // docs/encryption.md). A violation stops the link, so it fails the run instead of hiding.
  static void writePolicy(std::ostream& out, const fs::path& dir) {
    std::ofstream(dir / "bench.hmac") << randomHex() << "\n";
    std::ofstream(dir / "bench.aead") << "# written by causeway-bench for one run\n"
                                      << "bench-1:" << randomHex() << "\n";
    out << "policies:\n"
        << "  bench-partner:\n"
        << "    topics: {allow: [\"bench\"]}\n"
        << "    filter: '" << kBenchPolicyFilter << "'\n"
        << "    fields:\n"
        << "      - {path: value.card.number, action: mask, keep_last: 4}\n"
        << "      - {path: value.customer.email, action: hash, secret_file: \""
        << (dir / "bench.hmac").string() << "\"}\n"
        << "      - {path: value.customer.iban, action: encrypt, key_file: \""
        << (dir / "bench.aead").string() << "\"}\n"
        << "    on_violation: stop\n";
  }

  // Decrypts one envelope the load generator read from the target with `causeway decrypt` and
  // the run's key: the field is really encrypted under that key, not merely rewritten.
  std::string decryptSample(const std::string& envelope, const fs::path& dir) const {
    if (envelope.rfind("cwenc:", 0) != 0 ||
        envelope.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                   "0123456789-_:") != std::string::npos) {
      return "";
    }
    const std::string command = "printf '%s\\n' '" + envelope + "' | '" +
                                (s_.bin_dir / "app/causeway").string() + "' decrypt --key-file '" +
                                (dir / "bench.aead").string() + "'";
    std::string text;
    if (FILE* pipe = popen(command.c_str(), "r")) {
      char buf[256];
      while (fgets(buf, sizeof(buf), pipe) != nullptr) {
        text += buf;
      }
      if (pclose(pipe) != 0) {
        return "";
      }
    }
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
      text.pop_back();
    }
    return text;
  }

  // One link with Causeway's defaults but the contender's `delivery` (and `transactional`, and
  // the benchmark policy).
  fs::path writeConfig(const Cluster& src, const Cluster& tgt, const fs::path& dir,
                       int fetch_wait_ms, const Contender& contender) {
    const fs::path path = dir / "causeway.yaml";
    std::ofstream out(path);
    const bool schemas = contender.schemas != SchemaLink::kNone;
    out << "# Written by causeway-bench: one " << contender.delivery
        << (contender.transactional ? " transactional" : "")
        << (contender.policy ? " link with a partner policy" : " link")
        << (schemas ? " with schema stages" : "") << " and Causeway's defaults.\n";
    if (schemas) {
      writeSchemaRegistries(out, dir);
    }
    out << "clusters:\n"
        << "  src: {bootstrap: \"" << src.bootstrap() << "\", embedded_control: \"" << src.control()
        << "\"" << (schemas ? ", registry: src-catalog" : "") << "}\n"
        << "  tgt: {bootstrap: \"" << tgt.bootstrap() << "\", embedded_control: \"" << tgt.control()
        << "\"" << (schemas ? ", registry: tgt-catalog" : "") << "}\n";
    if (contender.policy) {
      writePolicy(out, dir);
    }
    if (contender.schemas == SchemaLink::kContractAndIds) {
      writeSchemaDomain(out);
    }
    out << "links:\n"
        << "  - name: bench\n"
        << "    source: src\n"
        << "    target: tgt\n"
        << "    topics: {include: [\"bench\"]}\n"
        << "    delivery: " << contender.delivery << "\n";
    if (contender.transactional) {
      out << "    transactional: true\n";
    }
    if (contender.policy) {
      out << "    policy: bench-partner\n";
    }
    if (schemas) {
      writeSchemaLinkSettings(out);
    }
    if (fetch_wait_ms > 0) {
      out << "    consumer_properties: {fetch.wait.max.ms: \"" << fetch_wait_ms << "\"}\n";
    }
    return path;
  }

  // One measurement from scratch. rate == 0: throughput run; otherwise a latency run.
  // fetch_wait_ms > 0 sets the contender's fetch.wait.max.ms (both contenders alike).
  json measure(const Scenario& scenario, const Contender& contender, double rate, int index,
               int fetch_wait_ms = 0) {
    std::string label = scenario.name + "-" + std::string(contender.id) +
                        (rate > 0 ? "-latency-" : "-tp-") + std::to_string(index + 1);
    if (fetch_wait_ms > 0) {
      label += "-fetchwait" + std::to_string(fetch_wait_ms);
    }
    for (char& c : label) {
      if (c == ' ') {
        c = '_';
      }
    }
    const fs::path dir = s_.work_dir / label;
    fs::create_directories(dir);
    std::cerr << "-- " << label << (rate > 0 ? " at " + std::to_string(int(rate)) + " rec/s" : "")
              << " ... " << std::flush;
    json result = {{"run", index + 1}, {"ok", false}};
    if (fetch_wait_ms > 0) {
      result["fetch_wait_max_ms"] = fetch_wait_ms;
    }
    Cluster src;
    Cluster tgt;
    if (!startCluster("src", &src, dir) || !startCluster("tgt", &tgt, dir)) {
      result["error"] = "cluster start failed";
      stopAll(nullptr, &src, &tgt);
      std::cerr << "FAILED (clusters)\n";
      return result;
    }
    // Latency runs add one warm-up record per partition.
    const uint64_t expected = scenario.records + (rate > 0 ? s_.partitions : 0);
    std::optional<Child> worker;
    const bool raw = contender.delivery.empty();
    if (raw) {
      worker = Child::spawn({(s_.bin_dir / "bench/causeway-raw-pipe").string(), "--source",
                             src.bootstrap(), "--target", tgt.bootstrap(), "--topic", "bench",
                             "--records", std::to_string(expected), "--timeout-s", "300",
                             "--fetch-wait-ms",
                             std::to_string(fetch_wait_ms > 0 ? fetch_wait_ms : 100)},
                            dir / "contender.log");
    } else {
      // No metrics or control API: their default ports (9464, 9465) are fixed, and the harness
      // listens on nothing but free ports of its own.
      worker = Child::spawn({(s_.bin_dir / "app/causeway").string(), "run", "--config",
                             writeConfig(src, tgt, dir, fetch_wait_ms, contender).string(),
                             "--metrics-listen", "off", "--control-listen", "off"},
                            dir / "contender.log");
    }
    std::vector<std::string> load_args = {
        (s_.bin_dir / "bench/causeway-bench-load").string(), "--source", src.bootstrap(),
        "--target", tgt.bootstrap(), "--topic", "bench", "--partitions",
        std::to_string(s_.partitions), "--records", std::to_string(scenario.records), "--size",
        std::to_string(scenario.size), "--timeout-s", "240"};
    if (rate > 0) {
      load_args.push_back("--rate");
      load_args.push_back(std::to_string(static_cast<int64_t>(rate)));
    }
    if (contender.payload == Payload::kJson) {
      load_args.insert(load_args.end(), {"--payload", "json"});
    }
    if (contender.payload == Payload::kAvro) {
      const uint32_t on_target = raw ? kBenchSourceSchemaId : kBenchTargetSchemaId;
      load_args.insert(load_args.end(),
                       {"--payload", "avro", "--schema-id", std::to_string(kBenchSourceSchemaId),
                        "--expect-schema-id", std::to_string(on_target)});
    }
    if (contender.policy) {
      load_args.insert(load_args.end(),
                       {"--policy-check", "--hmac-secret-file", (dir / "bench.hmac").string()});
    }
    auto load = Child::spawn(load_args, dir / "load.log");
    if (!worker || !load) {
      result["error"] = "spawn failed";
      stopAll(worker ? &*worker : nullptr, &src, &tgt);
      std::cerr << "FAILED (spawn)\n";
      return result;
    }
    // A Causeway contender that exits before it is told to has failed (a failed link ends
    // `causeway run`), and the raw pipe exits non-zero only on failure: stop the load then rather
    // than let it wait out its timeout for records that will not come.
    const auto load_deadline = Clock::now() + std::chrono::seconds(300);
    bool contender_quit = false;
    while (!load->wait(std::chrono::milliseconds(200))) {
      if (worker->wait(std::chrono::milliseconds(0)) &&
          (!raw || !WIFEXITED(worker->status()) || WEXITSTATUS(worker->status()) != 0)) {
        contender_quit = true;
      }
      if (contender_quit || Clock::now() >= load_deadline) {
        load->stop(std::chrono::seconds(2));
        break;
      }
    }
    auto load_json = lastJsonLine(load->output());
    // The raw pipe stops by itself after `expected` deliveries; Causeway runs until SIGTERM.
    if (raw) {
      if (!worker->wait(std::chrono::seconds(30))) {
        worker->stop(std::chrono::seconds(10));
      }
      if (auto pipe_json = lastJsonLine(worker->output())) {
        result["raw_pipe"] = *pipe_json;
      }
    } else {
      worker->stop(std::chrono::seconds(30));
    }
    result["cpu_s"] = worker->cpuSeconds();
    result["cpu_s_per_m_records"] = worker->cpuSeconds() / (expected / 1e6);
    result["peak_rss_mib"] = worker->peakRssMiB();
    // The target's count alone would pass a Causeway link that failed after its last record
    // landed (a final transaction commit, say): `causeway run` then exits 1. The raw pipe exits
    // 0 only once it has delivered everything. So a run also needs a clean exit.
    const bool clean_exit = !contender_quit && worker->exited() &&
                            WIFEXITED(worker->status()) && WEXITSTATUS(worker->status()) == 0;
    result["contender_exit"] =
        (contender_quit ? "quit before the load generator finished: " : "") + exitText(*worker);
    stopAll(nullptr, &src, &tgt);
    if (load_json) {
      for (auto& [key, value] : load_json->items()) {
        result[key] = value;
      }
    }
    if (contender.policy && result.value("ok", false)) {
      const json& check = result["policy_check"];
      const std::string clear = check.value("sample_iban_clear", "");
      const bool decrypted =
          !clear.empty() && decryptSample(check.value("sample_iban_envelope", ""), dir) == clear;
      result["policy_check"]["sample_decrypted"] = decrypted;
      if (!decrypted) {
        result["ok"] = false;
        result["error"] =
            "causeway decrypt did not give back the sampled IBAN; see " + dir.string();
      }
    }
    if (!clean_exit) {
      result["ok"] = false;
      result["error"] = "the contender did not exit cleanly (" +
                        result["contender_exit"].get<std::string>() + "); see " +
                        worker->log().string();
      result["contender_errors"] = errorLines(worker->output());
      std::cerr << "FAILED (contender " << result["contender_exit"].get<std::string>() << ")";
      for (const auto& error : result["contender_errors"]) {
        std::cerr << "\n   contender: " << error.get<std::string>();
      }
      std::cerr << (load_json ? "\n   " : "");
    }
    if (!load_json) {
      if (clean_exit) {
        result["error"] = "the load generator printed no result; see " + load->log().string();
        std::cerr << "FAILED (no load result)";
      }
      std::cerr << "\n";
      return result;
    }
    std::ostringstream line;
    if (rate > 0) {
      line << "p50 " << result.value("p50_ms", -1.0) << " ms, p99 " << result.value("p99_ms", -1.0)
           << " ms";
    } else {
      line << std::fixed << std::setprecision(0) << result.value("records_per_s", 0.0)
           << " rec/s";
    }
    line << std::fixed << std::setprecision(2) << ", cpu " << result["cpu_s"].get<double>()
         << " s, rss " << std::setprecision(0) << result["peak_rss_mib"].get<double>() << " MiB"
         << (result["ok"].get<bool>() ? ", verified" : ", NOT VERIFIED: see " + dir.string());
    std::cerr << line.str() << "\n";
    return result;
  }

  static std::string exitText(const Child& child) {
    if (!child.exited()) {
      return "not reaped";
    }
    if (WIFEXITED(child.status())) {
      return "exit status " + std::to_string(WEXITSTATUS(child.status()));
    }
    if (WIFSIGNALED(child.status())) {
      return "killed by signal " + std::to_string(WTERMSIG(child.status()));
    }
    return "wait status " + std::to_string(child.status());
  }

  // The last lines of a contender's log that report an error: Causeway's log lines at level
  // error or critical ("2026-11-22 03:05:20.561 error ...", common/log.cc), `causeway run`'s
  // "link '...' failed: ...", the raw pipe's messages.
  static json errorLines(const std::string& text) {
    constexpr size_t kKeep = 8;
    std::istringstream in(text);
    std::string line;
    std::vector<std::string> found;
    while (std::getline(in, line)) {
      if (line.find(" error ") != std::string::npos ||
          line.find(" critical ") != std::string::npos ||
          line.find("failed") != std::string::npos) {
        found.push_back(line.substr(0, 600));
      }
    }
    json out = json::array();
    for (size_t i = found.size() > kKeep ? found.size() - kKeep : 0; i < found.size(); ++i) {
      out.push_back(found[i]);
    }
    return out;
  }

  void stopAll(Child* worker, Cluster* src, Cluster* tgt) {
    if (worker != nullptr) {
      worker->stop(std::chrono::seconds(10));
    }
    for (Cluster* c : {src, tgt}) {
      if (c->process) {
        c->process->stop(std::chrono::seconds(10));
      }
    }
  }

  static std::vector<double> values(const json& runs, const std::string& key) {
    std::vector<double> out;
    for (const auto& r : runs) {
      if (r.value("ok", false) && r.contains(key) && r[key].is_number()) {
        out.push_back(r[key].get<double>());
      }
    }
    return out;
  }

  static double median(std::vector<double> v) {
    if (v.empty()) {
      return 0;
    }
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }

  static json stats(const std::vector<double>& v) {
    if (v.empty()) {
      return {{"median", nullptr}, {"min", nullptr}, {"max", nullptr}, {"n", 0}};
    }
    return {{"median", median(v)},
            {"min", *std::min_element(v.begin(), v.end())},
            {"max", *std::max_element(v.begin(), v.end())},
            {"n", v.size()}};
  }

  json summarize(const json& sc) {
    json out;
    bool verified = true;
    const json no_runs = json::array();
    for (const Contender& contender : kContenders) {
      const std::string c(contender.key);
      if (!sc.contains(c)) {
        continue;  // not chosen (--contenders)
      }
      // The exactly-once links have throughput runs only (and so has every contender with
      // --no-latency).
      const json& tp = sc[c]["throughput_runs"];
      const json& lat = sc[c].contains("latency_runs") ? sc[c]["latency_runs"] : no_runs;
      const json& lat10 = sc[c].contains("latency_runs_low_fetch_wait")
                              ? sc[c]["latency_runs_low_fetch_wait"]
                              : no_runs;
      for (const json* runs : {&tp, &lat, &lat10}) {
        for (const auto& r : *runs) {
          verified = verified && r.value("ok", false);
        }
      }
      // Peak RSS is stated for the throughput runs (the largest backlog); the largest of any
      // run is kept too.
      double rss_max_any = 0;
      for (const json* runs : {&tp, &lat, &lat10}) {
        for (double x : values(*runs, "peak_rss_mib")) {
          rss_max_any = std::max(rss_max_any, x);
        }
      }
      out[c] = {
          {"records_per_s", stats(values(tp, "records_per_s"))},
          {"mb_per_s", stats(values(tp, "mb_per_s"))},
          {"cpu_s", stats(values(tp, "cpu_s"))},
          {"cpu_s_per_m_records", stats(values(tp, "cpu_s_per_m_records"))},
          {"peak_rss_mib", stats(values(tp, "peak_rss_mib"))},
          {"peak_rss_mib_max_any_run", rss_max_any},
          {"p50_ms", stats(values(lat, "p50_ms"))},
          {"p99_ms", stats(values(lat, "p99_ms"))},
          {"latency_achieved_rate", stats(values(lat, "achieved_rate"))},
          {"p50_ms_low_fetch_wait", stats(values(lat10, "p50_ms"))},
          {"p99_ms_low_fetch_wait", stats(values(lat10, "p99_ms"))},
      };
    }
    // The ratios of medians, and the ratios of the runs taken pair by pair (run i of each
    // contender ran back to back with run i of the others); null when a side did not run or
    // has no verified run.
    auto medianRate = [&](const char* c) {
      if (!out.contains(c)) {
        return 0.0;
      }
      const json& m = out[c]["records_per_s"]["median"];
      return m.is_number() ? m.get<double>() : 0.0;
    };
    auto pairwise = [&](const char* over, const char* under) {
      std::vector<double> pairs;
      if (sc.contains(over) && sc.contains(under)) {
        const json& a = sc[under]["throughput_runs"];
        const json& b = sc[over]["throughput_runs"];
        for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
          if (a[i].value("ok", false) && b[i].value("ok", false)) {
            pairs.push_back(b[i]["records_per_s"].get<double>() /
                            a[i]["records_per_s"].get<double>());
          }
        }
      }
      return stats(pairs);
    };
    for (const Ratio& ratio : kRatios) {
      const double over = medianRate(ratio.over);
      const double under = medianRate(ratio.under);
      out[ratio.name] = over > 0 && under > 0 ? json(over / under) : json(nullptr);
      out[ratio.pairwise] = pairwise(ratio.over, ratio.under);
    }
    out["all_verified"] = verified;
    return out;
  }

  static std::string cell(const json& s, int precision, double scale = 1) {
    if (!s["median"].is_number()) {
      return "n/a";
    }
    std::ostringstream out;
    out << std::fixed << std::setprecision(precision) << s["median"].get<double>() * scale << " ("
        << s["min"].get<double>() * scale << "-" << s["max"].get<double>() * scale << ")";
    return out.str();
  }

  static std::string table(const json& results) {
    std::ostringstream out;
    out << "| scenario | contender | records/s (k) | MB/s | ratio | CPU s / M records | "
           "peak RSS MiB (throughput runs) | latency rate (k rec/s) | p50 ms | p99 ms | "
           "p50 ms, fetch wait 10 | p99 ms, fetch wait 10 | verified |\n"
        << "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
    auto ratioText = [](const json& sum, const char* median_key, const char* pairs_key) {
      if (!sum[median_key].is_number()) {
        return std::string("n/a");
      }
      std::ostringstream ratio;
      ratio << std::fixed << std::setprecision(2) << sum[median_key].get<double>();
      if (sum[pairs_key]["median"].is_number()) {
        ratio << " (pairs " << cell(sum[pairs_key], 2) << ")";
      }
      return ratio.str();
    };
    for (const auto& sc : results["scenarios"]) {
      const json& sum = sc["summary"];
      for (const Contender& contender : kContenders) {
        const std::string c(contender.key);
        if (!sum.contains(c)) {
          continue;
        }
        const json& s = sum[c];
        std::string ratio = "1";
        if (c == "causeway") {
          ratio = ratioText(sum, "ratio_records_per_s", "ratio_pairwise");
        } else if (c == "causeway_eos") {
          ratio = ratioText(sum, "ratio_eos_to_raw", "ratio_eos_to_raw_pairwise") +
                  "; **" + ratioText(sum, "ratio_eos_to_causeway",
                                     "ratio_eos_to_causeway_pairwise") +
                  " of at-least-once**";
        } else if (c == "raw_json") {
          ratio = "1 (the policy link's baseline)";
        } else if (c == "raw_avro") {
          ratio = "1 (the schema links' baseline)";
        } else if (c == "causeway_ids" || c == "causeway_avro") {
          const std::string key = c == "causeway_ids" ? "ratio_ids_to_raw_avro"
                                                      : "ratio_avro_to_raw_avro";
          ratio = "**" + ratioText(sum, key.c_str(), (key + "_pairwise").c_str()) +
                  " of the raw pipe, Avro records**";
        } else if (c == "causeway_policy") {
          ratio = "**" +
                  ratioText(sum, "ratio_policy_to_raw_json", "ratio_policy_to_raw_json_pairwise") +
                  " of the raw pipe, JSON records**";
        } else if (c == "causeway_eos_txn") {
          ratio = ratioText(sum, "ratio_eos_txn_to_raw", "ratio_eos_txn_to_raw_pairwise") +
                  "; **" + ratioText(sum, "ratio_eos_txn_to_causeway",
                                     "ratio_eos_txn_to_causeway_pairwise") +
                  " of at-least-once**; " +
                  ratioText(sum, "ratio_eos_txn_to_eos", "ratio_eos_txn_to_eos_pairwise") +
                  " of exactly-once";
        }
        // The exactly-once links have no latency runs (nor has anything with --no-latency).
        const bool has_latency = sc[c].contains("latency_runs");
        auto latency = [&](const char* key, int precision, double scale = 1) {
          return has_latency ? cell(s[key], precision, scale) : std::string("-");
        };
        out << "| " << sc["name"].get<std::string>() << " | " << contender.title << " | "
            << cell(s["records_per_s"], 0, 1e-3) << " | " << cell(s["mb_per_s"], 1) << " | "
            << ratio << " | " << cell(s["cpu_s_per_m_records"], 2) << " | "
            << cell(s["peak_rss_mib"], 0) << " | " << latency("latency_achieved_rate", 0, 1e-3)
            << " | " << latency("p50_ms", 1) << " | " << latency("p99_ms", 1) << " | "
            << latency("p50_ms_low_fetch_wait", 1) << " | "
            << latency("p99_ms_low_fetch_wait", 1) << " | "
            << (sum["all_verified"].get<bool>() ? "yes" : "NO") << " |\n";
      }
    }
    out << "\nEach cell: median (min-max) of the runs. ratio: to the raw pipe (exactly-once links: "
           "to the raw pipe; to the at-least-once link; transactional: also to the "
           "exactly-once link; the policy and schema links: to the raw pipe fed the same JSON "
           "or Avro records), pairs: the ratios of runs taken back to back. The exactly-once, JSON "
           "and Avro contenders have throughput runs only (-). records/s counts source records (the policy link's "
           "filter drops some of them).\n";
    return out.str();
  }

  void chart(const json& results) {
    const fs::path data = s_.out_dir / "latest.dat";
    // Columns 2-22 as before the transactional contender, so older .dat files still plot.
    {
      std::ofstream out(data);
      out << "# scenario, then raw med/min/max and Causeway med/min/max of: k records/s (2-7), "
             "p99 ms (8-13), p99 ms with fetch.wait.max.ms=10 (14-19); then Causeway "
             "exactly-once med/min/max k records/s (20-22), exactly-once transactional "
             "med/min/max k records/s (23-25), raw pipe over JSON records (26-28), policy link "
             "over JSON records (29-31), raw pipe over Avro records (32-34), ID translation link "
             "(35-37), Avro contract link (38-40); 0: not run\n";
      for (const auto& sc : results["scenarios"]) {
        auto v = [&](const char* c, const char* k, const char* q, double scale) {
          if (!sc["summary"].contains(c)) {
            return 0.0;
          }
          const json& x = sc["summary"][c][k][q];
          return x.is_number() ? x.get<double>() * scale : 0.0;
        };
        out << "\"" << sc["name"].get<std::string>() << "\"";
        for (const char* c : {"raw", "causeway"}) {
          for (const char* q : {"median", "min", "max"}) {
            out << " " << v(c, "records_per_s", q, 1e-3);
          }
        }
        for (const char* k : {"p99_ms", "p99_ms_low_fetch_wait"}) {
          for (const char* c : {"raw", "causeway"}) {
            for (const char* q : {"median", "min", "max"}) {
              out << " " << v(c, k, q, 1);
            }
          }
        }
        for (const char* c : {"causeway_eos", "causeway_eos_txn", "raw_json", "causeway_policy",
                              "raw_avro", "causeway_ids", "causeway_avro"}) {
          for (const char* q : {"median", "min", "max"}) {
            out << " " << v(c, "records_per_s", q, 1e-3);
          }
        }
        out << "\n";
      }
    }
    // Only the contenders that ran get a bar; the latency panels only when latency runs ran.
    std::array<bool, kContenders.size()> ran{};
    bool latency = false;
    for (const auto& sc : results["scenarios"]) {
      for (size_t i = 0; i < kContenders.size(); ++i) {
        const std::string key(kContenders[i].key);
        ran[i] = ran[i] || sc.contains(key);
        latency = latency || (sc.contains(key) && sc[key].contains("latency_runs"));
      }
    }
    // Column triples (median, min, max) per contender: throughput, p99, p99 with fetch wait 10.
    constexpr std::array<std::array<int, 3>, kContenders.size()> kColumns = {{
        {2, 8, 14},
        {5, 11, 17},
        {20, 0, 0},
        {23, 0, 0},
        {26, 0, 0},
        {29, 0, 0},
        {32, 0, 0},
        {35, 0, 0},
        {38, 0, 0},
    }};
    auto plot = [&](size_t panel) {
      std::ostringstream line;
      for (size_t i = 0; i < kContenders.size(); ++i) {
        const int first = kColumns[i][panel];
        if (!ran[i] || first == 0) {
          continue;
        }
        const bool lead = line.tellp() == 0;
        line << (lead ? "plot '" + data.string() + "'" : std::string(", ''")) << " using "
             << first << ":" << first + 1 << ":" << first + 2 << (lead ? ":xtic(1)" : "")
             << " title '" << (i == 0 ? std::string("raw pipe") : std::string(kContenders[i].title))
             << "'";
      }
      return line.str() + "\n";
    };
    const fs::path script = s_.out_dir / "latest.gp";
    {
      std::ofstream gp(script);
      gp << "set terminal pngcairo size " << (latency ? "1500,450" : "700,450") << " font ',10'\n"
         << "set output '" << (s_.out_dir / "latest.png").string() << "'\n"
         << "set multiplot layout 1," << (latency ? 3 : 1)
         << " title 'Causeway links vs raw librdkafka pipe (median, bars: min-max)'\n"
         << "set style data histogram\n"
         << "set style histogram errorbars gap 2 lw 1\n"
         << "set style fill solid 0.6 border -1\n"
         << "set key top right\nset grid ytics\nset yrange [0:*]\n"
         << "set title 'throughput'\nset ylabel 'thousand records/s'\n"
         << plot(0);
      if (latency) {
        gp << "set title 'p99 latency at half load, fetch.wait.max.ms=100 (default)'\n"
           << "set ylabel 'ms'\n"
           << plot(1) << "set title 'p99 latency at half load, fetch.wait.max.ms=10'\n"
           << plot(2);
      }
      gp << "unset multiplot\n";
    }
    const std::string command = "gnuplot '" + script.string() + "'";
    if (std::system(command.c_str()) != 0) {
      std::cerr << "gnuplot failed or is missing: no chart (data in " << data << ")\n";
    }
  }

  Settings s_;
};

std::vector<std::string> splitList(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) {
      out.push_back(item);
    }
  }
  return out;
}

// "1M x 100 B", "300k x 100 B", "60k x 1 KiB": the names of the default scenarios.
std::string scenarioName(uint64_t records, size_t size) {
  std::string count = std::to_string(records);
  if (records % 1000000 == 0) {
    count = std::to_string(records / 1000000) + "M";
  } else if (records % 1000 == 0) {
    count = std::to_string(records / 1000) + "k";
  }
  const std::string bytes =
      size % 1024 == 0 ? std::to_string(size / 1024) + " KiB" : std::to_string(size) + " B";
  return count + " x " + bytes;
}

// "300000x100,60000x1024": records x value bytes per scenario.
std::optional<std::vector<Scenario>> parseScenarios(const std::string& text) {
  // causeway-bench-load stamps every value with 24 bytes (bench_common.h RecordStamp).
  constexpr size_t kMinSize = 24;
  std::vector<Scenario> out;
  for (const std::string& item : splitList(text)) {
    const size_t x = item.find('x');
    char* end = nullptr;
    const unsigned long long records =
        x == std::string::npos ? 0 : std::strtoull(item.c_str(), &end, 10);
    if (x == std::string::npos || end != item.c_str() + x || records == 0) {
      std::cerr << "--scenarios: '" << item << "' is not RECORDSxBYTES (e.g. 300000x100)\n";
      return std::nullopt;
    }
    const unsigned long long size = std::strtoull(item.c_str() + x + 1, &end, 10);
    if (*end != '\0' || size < kMinSize) {
      std::cerr << "--scenarios: '" << item << "': the size must be a number of bytes >= "
                << kMinSize << "\n";
      return std::nullopt;
    }
    out.push_back({scenarioName(records, size), records, static_cast<size_t>(size)});
  }
  if (out.empty()) {
    std::cerr << "--scenarios: no scenario given\n";
    return std::nullopt;
  }
  return out;
}

// "raw,causeway-eos-txn": run in the cycle order of kContenders whatever the order given. The
// policy link brings its baseline, the raw pipe over the same JSON records; the schema links
// theirs, the raw pipe over the same Avro records.
std::optional<std::vector<const Contender*>> parseContenders(const std::string& text) {
  std::vector<std::string> names = splitList(text);
  for (const std::string& name : names) {
    if (std::none_of(kContenders.begin(), kContenders.end(),
                     [&](const Contender& c) { return c.id == name; })) {
      std::cerr << "--contenders: unknown contender '" << name
                << "' (raw, causeway, causeway-eos, causeway-eos-txn, raw-json, "
                   "causeway-policy, raw-avro, causeway-ids, causeway-avro)\n";
      return std::nullopt;
    }
  }
  if (std::find(names.begin(), names.end(), "causeway-policy") != names.end() &&
      std::find(names.begin(), names.end(), "raw-json") == names.end()) {
    std::cerr << "--contenders: causeway-policy is compared with raw-json (the raw pipe over the "
                 "same JSON records): running it too\n";
    names.push_back("raw-json");
  }
  const bool schema_link =
      std::find(names.begin(), names.end(), "causeway-ids") != names.end() ||
      std::find(names.begin(), names.end(), "causeway-avro") != names.end();
  if (schema_link && std::find(names.begin(), names.end(), "raw-avro") == names.end()) {
    std::cerr << "--contenders: the schema links are compared with raw-avro (the raw pipe over "
                 "the same Avro records): running it too\n";
    names.push_back("raw-avro");
  }
  std::vector<const Contender*> out;
  for (const Contender& c : kContenders) {
    if (std::find(names.begin(), names.end(), c.id) != names.end()) {
      out.push_back(&c);
    }
  }
  if (out.empty()) {
    std::cerr << "--contenders: no contender given\n";
    return std::nullopt;
  }
  return out;
}

} // namespace
} // namespace causeway::bench

int main(int argc, char** argv) {
  using namespace causeway::bench;
  Settings settings;
  settings.bin_dir = "build";
  settings.out_dir = "bench/results";
  bool quick = false;
  std::optional<std::vector<Scenario>> scenarios;
  for (const Contender& c : kContenders) {
    if (c.by_default) {
      settings.contenders.push_back(&c);
    }
  }
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (arg == "--bin-dir") {
      settings.bin_dir = next();
    } else if (arg == "--out-dir") {
      settings.out_dir = next();
    } else if (arg == "--runs") {
      settings.runs = std::max(1, std::atoi(next().c_str()));
    } else if (arg == "--quick") {
      quick = true;
    } else if (arg == "--scenarios") {
      scenarios = parseScenarios(next());
      if (!scenarios) {
        return 1;
      }
    } else if (arg == "--contenders") {
      auto contenders = parseContenders(next());
      if (!contenders) {
        return 1;
      }
      settings.contenders = std::move(*contenders);
    } else if (arg == "--no-latency") {
      settings.latency = false;
    } else {
      std::cerr << "usage: causeway-bench [--bin-dir BUILD] [--out-dir DIR] [--runs N] [--quick]\n"
                   "                      [--scenarios RECORDSxBYTES,...] [--contenders LIST] "
                   "[--no-latency]\n"
                   "  --quick        scenarios 100000x100,20000x1024 instead of "
                   "1000000x100,200000x1024\n"
                   "  --scenarios    e.g. 300000x100,60000x1024 (overrides --quick)\n"
                   "  --contenders   any of raw,causeway,causeway-eos,causeway-eos-txn,raw-json,\n"
                   "                 causeway-policy,raw-avro,causeway-ids,causeway-avro (default:\n"
                   "                 the first four; always run in that order; causeway-policy\n"
                   "                 brings raw-json, causeway-ids and -avro bring raw-avro)\n"
                   "  --no-latency   throughput runs only (latency runs also need raw)\n";
      return 1;
    }
  }
  if (scenarios) {
    settings.scenarios = std::move(*scenarios);
  } else if (quick) {
    settings.scenarios = {{scenarioName(100000, 100), 100000, 100},
                          {scenarioName(20000, 1024), 20000, 1024}};
  } else {
    settings.scenarios = {{scenarioName(1000000, 100), 1000000, 100},
                          {scenarioName(200000, 1024), 200000, 1024}};
  }
  for (const Contender* c : settings.contenders) {
    for (const Scenario& scenario : settings.scenarios) {
      const size_t least = c->payload == Payload::kJson   ? JsonRecordTemplate::kMinSize
                           : c->payload == Payload::kAvro ? AvroRecordWriter::kMinSize
                                                          : 0;
      if (scenario.size < least) {
        std::cerr << "--contenders " << c->id << ": its records need a value size of at least "
                  << least << " bytes; scenario " << scenario.name << " has " << scenario.size
                  << " (e.g. --scenarios 100000x1024)\n";
        return 1;
      }
    }
  }
  char tmpl[] = "/tmp/causeway-bench.XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    std::cerr << "cannot create a work directory\n";
    return 1;
  }
  settings.work_dir = tmpl;
  std::cerr << "causeway-bench: logs of every run in " << settings.work_dir << "\n";
  signal(SIGINT, killChildren);
  signal(SIGTERM, killChildren);
  const int rc = Driver(std::move(settings)).run();
  killChildren(0);
  return rc;
}
