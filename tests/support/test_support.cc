#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

namespace causeway::testing {

bool waitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
             std::chrono::milliseconds interval) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (condition()) {
      return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return condition();
    }
    std::this_thread::sleep_for(interval);
  }
}

embedded::EmbeddedClusterPtr startCluster(const std::string& name, int brokers,
                                          const std::vector<embedded::TopicSpec>& topics) {
  embedded::EmbeddedCluster::Options options;
  options.name = name;
  options.brokers = brokers;
  options.topics = topics;
  auto cluster = embedded::EmbeddedCluster::start(options);
  if (!cluster) {
    ADD_FAILURE() << "cannot start embedded cluster '" << name << "': " << cluster.error().message;
    return nullptr;
  }
  return std::move(*cluster);
}

config::Config makeConfig(const embedded::EmbeddedCluster& source,
                          const embedded::EmbeddedCluster& target,
                          const std::vector<std::string>& include) {
  return makeConfig(source.bootstrap(), source.controlAddress(), target.bootstrap(),
                    target.controlAddress(), include);
}

config::Config makeConfig(const std::string& source_bootstrap, const std::string& source_control,
                          const std::string& target_bootstrap, const std::string& target_control,
                          const std::vector<std::string>& include) {
  config::Config config;
  config::ClusterConfig src;
  src.name = "source";
  src.bootstrap = source_bootstrap;
  src.embedded_control = source_control;
  config::ClusterConfig dst;
  dst.name = "target";
  dst.bootstrap = target_bootstrap;
  dst.embedded_control = target_control;
  config.clusters["source"] = src;
  config.clusters["target"] = dst;
  config::LinkConfig link;
  link.name = "test-link";
  link.source = "source";
  link.target = "target";
  link.topics.include = include;
  link.discovery_interval = 1s;
  link.commit_interval = 500ms;
  link.consumer_properties["fetch.wait.max.ms"] = "10";
  // The embedded clusters hold a rebalance open for session.timeout.ms - 1 s waiting for
  // members: 6 s (the usual broker minimum) keeps rebalances in tests near 5 s.
  link.consumer_properties["session.timeout.ms"] = "6000";
  if (const char* debug = std::getenv("CAUSEWAY_TEST_RDKAFKA_DEBUG")) {
    link.consumer_properties["debug"] = debug;  // e.g. "cgrp" to see the group protocol
  }
  config.links.push_back(link);
  return config;
}

namespace {

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out + "\"";
}

std::string durationText(std::chrono::milliseconds d) { return std::to_string(d.count()) + "ms"; }

void writeMap(std::ostringstream& out, const std::string& indent, const std::string& key,
              const std::map<std::string, std::string>& map) {
  if (map.empty()) {
    return;
  }
  out << indent << key << ":\n";
  for (const auto& [k, v] : map) {
    out << indent << "  " << quote(k) << ": " << quote(v) << "\n";
  }
}

}  // namespace

std::string toYaml(const config::Config& config) {
  std::ostringstream out;
  out << "clusters:\n";
  for (const auto& [name, cluster] : config.clusters) {
    out << "  " << name << ":\n";
    out << "    bootstrap: " << quote(cluster.bootstrap) << "\n";
    if (!cluster.embedded_control.empty()) {
      out << "    embedded_control: " << quote(cluster.embedded_control) << "\n";
    }
    out << "    connect_timeout: " << durationText(cluster.connect_timeout) << "\n";
    writeMap(out, "    ", "properties", cluster.properties);
  }
  out << "links:\n";
  for (const auto& link : config.links) {
    out << "  - name: " << quote(link.name) << "\n";
    out << "    source: " << quote(link.source) << "\n";
    out << "    target: " << quote(link.target) << "\n";
    out << "    topics:\n      include: [";
    for (size_t i = 0; i < link.topics.include.size(); ++i) {
      out << (i ? ", " : "") << quote(link.topics.include[i]);
    }
    out << "]\n";
    if (!link.topics.exclude.empty()) {
      out << "      exclude: [";
      for (size_t i = 0; i < link.topics.exclude.size(); ++i) {
        out << (i ? ", " : "") << quote(link.topics.exclude[i]);
      }
      out << "]\n";
    }
    switch (link.naming.mode) {
    case config::NamingMode::kIdentity:
      out << "    naming: identity\n";
      break;
    case config::NamingMode::kPrefix:
      out << "    naming: {prefix: " << quote(link.naming.value) << "}\n";
      break;
    case config::NamingMode::kTemplate:
      out << "    naming: {template: " << quote(link.naming.value) << "}\n";
      break;
    }
    out << "    start: " << (link.start == config::StartPosition::kLatest ? "latest" : "earliest")
        << "\n";
    out << "    delivery: "
        << (link.delivery == config::DeliveryMode::kExactlyOnce ? "exactly_once" : "at_least_once")
        << "\n";
    if (link.transactional) {
      out << "    transactional: true\n";
    }
    out << "    discovery_interval: " << durationText(link.discovery_interval) << "\n";
    out << "    commit_interval: " << durationText(link.commit_interval) << "\n";
    out << "    max_in_flight_records: " << link.max_in_flight_records << "\n";
    if (link.groups.enabled()) {
      out << "    groups:\n      names: [";
      for (size_t i = 0; i < link.groups.names.size(); ++i) {
        out << (i ? ", " : "") << quote(link.groups.names[i]);
      }
      out << "]\n      sync_interval: " << durationText(link.groups.sync_interval) << "\n";
    }
    writeMap(out, "    ", "consumer_properties", link.consumer_properties);
    writeMap(out, "    ", "producer_properties", link.producer_properties);
  }
  return out.str();
}

namespace {

// Binds 127.0.0.1:`port` (0: the kernel picks) and returns the port bound, or 0.
int bindLoopback(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int bound = 0;
  if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    bound = ntohs(addr.sin_port);
  }
  if (fd >= 0) {
    ::close(fd);
  }
  return bound;
}

}  // namespace

int freePort() {
  // A port below the kernel's ephemeral range (ip_local_port_range, 32768-60999 by default): one
  // the kernel hands out for bind(0) is also what the next outgoing connection of any process
  // may take before the test's server binds it ("Address already in use" under load).
  static std::mutex mu;
  static std::mt19937 random(static_cast<uint32_t>(std::random_device{}() ^ ::getpid()));
  static std::set<int> given;
  std::lock_guard lock(mu);
  for (int tries = 0; tries < 500; ++tries) {
    const int port = 20000 + static_cast<int>(random() % 12000);
    if (given.count(port) == 0 && bindLoopback(port) == port) {
      given.insert(port);
      return port;
    }
  }
  const int port = bindLoopback(0);
  EXPECT_NE(port, 0) << "no free loopback port";
  return port;
}

std::string writeTempFile(const std::string& name, const std::string& text) {
  static std::atomic<int> counter{0};
  auto dir =
      std::filesystem::temp_directory_path() / ("causeway-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = dir / (std::to_string(counter++) + "-" + name);
  std::ofstream(path) << text;
  return path.string();
}

TestRecord makeRecord(const std::string& topic, int32_t partition, uint64_t seq) {
  TestRecord r;
  r.key = "key-" + std::to_string(partition) + "-" + std::to_string(seq % 97);
  r.value = "{\"topic\":\"" + topic + "\",\"partition\":" + std::to_string(partition) +
            ",\"seq\":" + std::to_string(seq) + ",\"pad\":\"" + std::string(seq % 64, 'x') + "\"}";
  r.headers = {{"seq", std::to_string(seq)}, {"origin-app", "test"}, {"empty", ""}};
  r.timestamp = 1700000000000LL + static_cast<int64_t>(seq) * 7 + partition;
  return r;
}

namespace {

struct ProducerState {
  std::atomic<uint64_t> acked{0};
  std::atomic<uint64_t> failed{0};
  std::string first_error;
};

void onDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* state = static_cast<ProducerState*>(opaque);
  if (m->err) {
    if (state->failed++ == 0) {
      state->first_error = rd_kafka_err2str(m->err);
    }
  } else {
    state->acked++;
  }
}

}  // namespace

bool produceRecords(const std::string& bootstrap, const std::string& topic, int32_t partitions,
                    uint64_t per_partition, uint64_t first_seq) {
  std::vector<std::pair<int32_t, TestRecord>> records;
  records.reserve(per_partition * partitions);
  for (uint64_t i = 0; i < per_partition; ++i) {
    for (int32_t p = 0; p < partitions; ++p) {
      records.emplace_back(p, makeRecord(topic, p, first_seq + i));
    }
  }
  return produceTestRecords(bootstrap, topic, records);
}

bool produceTestRecords(const std::string& bootstrap, const std::string& topic,
                        const std::vector<std::pair<int32_t, TestRecord>>& records) {
  ProducerState state;
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof(err));
  rd_kafka_conf_set(conf, "enable.idempotence", "true", err, sizeof(err));
  rd_kafka_conf_set(conf, "linger.ms", "5", err, sizeof(err));
  rd_kafka_conf_set_dr_msg_cb(conf, onDelivery);
  rd_kafka_conf_set_opaque(conf, &state);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (rk == nullptr) {
    ADD_FAILURE() << "producer: " << err;
    return false;
  }
  uint64_t sent = 0;
  for (const auto& [p, r] : records) {
    rd_kafka_headers_t* headers = rd_kafka_headers_new(r.headers.size());
    for (const auto& [name, value] : r.headers) {
      rd_kafka_header_add(headers, name.c_str(), -1, value.data(),
                          static_cast<ssize_t>(value.size()));
    }
    while (true) {
      rd_kafka_resp_err_t e = rd_kafka_producev(
          rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(p),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(r.key.data(), r.key.size()),
          RD_KAFKA_V_VALUE(const_cast<char*>(r.value.data()), r.value.size()),
          RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_TIMESTAMP(r.timestamp), RD_KAFKA_V_END);
      if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_poll(rk, 10);
        continue;
      }
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rd_kafka_headers_destroy(headers);
        ADD_FAILURE() << "produce to " << topic << ": " << rd_kafka_err2str(e);
        rd_kafka_destroy(rk);
        return false;
      }
      break;
    }
    ++sent;
    rd_kafka_poll(rk, 0);
  }
  rd_kafka_resp_err_t flushed = rd_kafka_flush(rk, 60000);
  rd_kafka_destroy(rk);
  if (flushed != RD_KAFKA_RESP_ERR_NO_ERROR || state.failed > 0 || state.acked != sent) {
    ADD_FAILURE() << "producing to " << topic << ": acked " << state.acked << " of " << sent
                  << ", failed " << state.failed << " (" << state.first_error << ")";
    return false;
  }
  return true;
}

std::vector<std::vector<verify::ConsumedRecord>> readAll(const std::string& bootstrap,
                                                         const std::string& topic) {
  verify::ReadOptions options;
  options.bootstrap = bootstrap;
  options.timeout = 60s;
  auto records = verify::readTopic(options, topic);
  if (!records) {
    ADD_FAILURE() << "reading " << topic << ": " << records.error().message;
    return {};
  }
  return std::move(*records);
}

ChildProcess::ChildProcess(std::vector<std::string> argv, std::string log_path)
    : log_path_(std::move(log_path)) {
  pid_ = ::fork();
  if (pid_ == 0) {
    int fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::close(fd);
    }
    // The test process blocks no signals we rely on, but make sure the child starts clean.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    std::vector<char*> args;
    for (auto& a : argv) {
      args.push_back(a.data());
    }
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !exit_code_) {
    ::kill(pid_, SIGKILL);
    wait(10s);
  }
  // Under `make test-asan` a child's sanitizer report lands in its log, not in the test output.
  const std::string text = log();
  for (const char* marker : {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"}) {
    if (text.find(marker) != std::string::npos) {
      ADD_FAILURE() << "sanitizer report in child log " << log_path_ << ":\n" << text;
      break;
    }
  }
}

void ChildProcess::signal(int sig) {
  if (pid_ > 0 && !exit_code_) {
    ::kill(pid_, sig);
  }
}

std::optional<int> ChildProcess::wait(std::chrono::milliseconds timeout) {
  if (exit_code_) {
    return exit_code_;
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return exit_code_;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return std::nullopt;
    }
    std::this_thread::sleep_for(20ms);
  }
}

bool ChildProcess::running() { return !wait(0ms).has_value(); }

std::string ChildProcess::log() const {
  std::ifstream in(log_path_);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace causeway::testing

namespace causeway::testing {

int64_t totalRecords(const std::string& bootstrap, const std::string& topic, int32_t partitions) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof(err));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (rk == nullptr) {
    return -1;
  }
  // Only query watermarks of a topic that exists: a ListOffsets/metadata request for a missing
  // topic makes the mock auto-create it with 4 partitions.
  const rd_kafka_metadata_t* md = nullptr;
  bool exists = false;
  if (rd_kafka_metadata(rk, 1, nullptr, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    for (int i = 0; i < md->topic_cnt; ++i) {
      exists = exists || (topic == md->topics[i].topic && md->topics[i].err == 0 &&
                          md->topics[i].partition_cnt == partitions);
    }
    rd_kafka_metadata_destroy(md);
  }
  if (!exists) {
    rd_kafka_destroy(rk);
    return -1;
  }
  int64_t total = 0;
  for (int32_t p = 0; p < partitions; ++p) {
    int64_t low = 0;
    int64_t high = 0;
    if (rd_kafka_query_watermark_offsets(rk, topic.c_str(), p, &low, &high, 5000) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      total = -1;
      break;
    }
    total += high;
  }
  rd_kafka_destroy(rk);
  return total;
}

verify::MirrorCheck waitForMirror(const std::string& source_bootstrap,
                                  const std::string& target_bootstrap, const std::string& topic,
                                  std::chrono::milliseconds timeout) {
  verify::MirrorCheck check;
  waitFor(
      [&] {
        verify::ReadOptions options;
        options.timeout = 30s;
        options.bootstrap = source_bootstrap;
        auto source = verify::readTopic(options, topic);
        options.bootstrap = target_bootstrap;
        auto target = verify::readTopic(options, topic);
        if (!source || !target) {
          return false;
        }
        check = verify::checkMirror(topic, *source, topic, *target);
        return check.partition_count_matches && check.missing() == 0;
      },
      timeout, 1s);
  return check;
}

std::vector<std::string> runCommand(const std::string& config_path) {
  const char* level = std::getenv("CAUSEWAY_TEST_LOG_LEVEL");
  // Port 0: tests run in parallel, so no worker may assume the default metrics port is free.
  return {CAUSEWAY_BINARY,
          "--log-level",
          level != nullptr ? level : "info",
          "run",
          "--config",
          config_path,
          "--status-interval",
          "2s",
          "--drain-timeout",
          "20s",
          "--metrics-listen",
          "127.0.0.1:0"};
}

}  // namespace causeway::testing

namespace causeway::testing {

bool setGroupOffsets(const std::string& bootstrap, const std::string& group,
                     const std::string& topic, const std::vector<int64_t>& offsets) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof(err));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (rk == nullptr) {
    ADD_FAILURE() << "admin client: " << err;
    return false;
  }
  rd_kafka_topic_partition_list_t* list =
      rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size()));
  for (size_t p = 0; p < offsets.size(); ++p) {
    rd_kafka_topic_partition_list_add(list, topic.c_str(), static_cast<int32_t>(p))->offset =
        offsets[p];
  }
  rd_kafka_AlterConsumerGroupOffsets_t* alter =
      rd_kafka_AlterConsumerGroupOffsets_new(group.c_str(), list);
  rd_kafka_topic_partition_list_destroy(list);
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  rd_kafka_AlterConsumerGroupOffsets(rk, &alter, 1, nullptr, queue);
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, 30000);
  bool ok = false;
  std::string problem = "no answer within 30 s";
  if (event != nullptr) {
    if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      problem = rd_kafka_event_error_string(event);
    } else {
      const rd_kafka_AlterConsumerGroupOffsets_result_t* result =
          rd_kafka_event_AlterConsumerGroupOffsets_result(event);
      size_t n = 0;
      const rd_kafka_group_result_t** groups =
          rd_kafka_AlterConsumerGroupOffsets_result_groups(result, &n);
      ok = n == 1 && rd_kafka_group_result_error(groups[0]) == nullptr;
      if (!ok && n == 1) {
        problem = rd_kafka_error_string(rd_kafka_group_result_error(groups[0]));
      }
      if (ok) {
        const rd_kafka_topic_partition_list_t* parts = rd_kafka_group_result_partitions(groups[0]);
        for (int i = 0; parts != nullptr && i < parts->cnt; ++i) {
          if (parts->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            ok = false;
            problem = rd_kafka_err2str(parts->elems[i].err);
          }
        }
      }
    }
    rd_kafka_event_destroy(event);
  }
  rd_kafka_AlterConsumerGroupOffsets_destroy(alter);
  rd_kafka_queue_destroy(queue);
  rd_kafka_destroy(rk);
  if (!ok) {
    ADD_FAILURE() << "setting offsets of group " << group << ": " << problem;
  }
  return ok;
}

}  // namespace causeway::testing
