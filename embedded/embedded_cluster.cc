#include "embedded/embedded_cluster.h"
#include "kafka/handles.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <httplib.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>
#include <functional>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

namespace causeway::embedded {

namespace {

using std::chrono::milliseconds;
using Json = nlohmann::json;

constexpr int kMaxBrokers = 32;
constexpr int32_t kMaxPartitions = 10000;
constexpr size_t kMaxTopicNameLength = 249;
// How long the cluster's own bookkeeping client waits for a metadata answer.
constexpr milliseconds kDefaultMetadataTimeout{10000};


// librdkafka's own log lines from the cluster's internal handles (the mock host and the
// bookkeeping client) are about the cluster's plumbing, not about the user's clients: debug level.
void logToSpdlog(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  spdlog::debug("embedded cluster librdkafka [{}] {}: {}", level, fac, buf);
}

Result<kafka::HandlePtr> newHandle(const std::map<std::string, std::string>& properties) {
  kafka::ConfPtr conf(rd_kafka_conf_new());
  char errstr[512];
  for (const auto& [key, value] : properties) {
    if (rd_kafka_conf_set(conf.get(), key.c_str(), value.c_str(), errstr, sizeof(errstr)) !=
        RD_KAFKA_CONF_OK) {
      return Error{"cannot set librdkafka property " + key + ": " + errstr};
    }
  }
  rd_kafka_conf_set_log_cb(conf.get(), logToSpdlog);
  // rd_kafka_new takes ownership of the conf only on success.
  kafka::HandlePtr rk(rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), errstr, sizeof(errstr)));
  if (!rk) {
    return Error{std::string("cannot create a librdkafka handle: ") + errstr};
  }
  conf.release();
  return rk;
}

// An owned file descriptor.
class Fd {
public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~Fd() { reset(); }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }

private:
  int fd_ = -1;
};

std::string errnoText(int err) { return std::strerror(err); }

// "127.0.0.1:1234" -> sockaddr_in. The mock brokers always listen on IPv4 loopback.
std::optional<sockaddr_in> parseIpv4Address(const std::string& address) {
  auto colon = address.rfind(':');
  if (colon == std::string::npos) {
    return std::nullopt;
  }
  int port = 0;
  const char* first = address.data() + colon + 1;
  const char* last = address.data() + address.size();
  auto [ptr, ec] = std::from_chars(first, last, port);
  if (ec != std::errc() || ptr != last || port <= 0 || port > 65535) {
    return std::nullopt;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, address.substr(0, colon).c_str(), &addr.sin_addr) != 1) {
    return std::nullopt;
  }
  return addr;
}

// A TCP relay from a fixed port on 127.0.0.1 to one of the mock brokers, so that a cluster
// started with a stable bootstrap port can be named in a config file across restarts. Clients
// only bootstrap through it: the metadata they get back advertises the brokers' own ports.
//
// One thread runs a poll() loop over the listening socket, a wake-up pipe and every relayed
// connection. Each direction of a connection has one bounded buffer: a side is only read while
// its buffer has room, so a slow reader slows the writer down instead of growing memory.
// The destructor wakes the thread, joins it and closes every socket.
class TcpForwarder {
public:
  // Upstream "host:port" addresses in order of preference, asked for on every new connection.
  using UpstreamPicker = std::function<std::vector<std::string>()>;

  static Result<std::unique_ptr<TcpForwarder>> start(int port, UpstreamPicker picker) {
    std::unique_ptr<TcpForwarder> forwarder(new TcpForwarder(std::move(picker)));
    Fd listen_fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!listen_fd.valid()) {
      return Error{"cannot create a socket: " + errnoText(errno)};
    }
    int one = 1;
    // SO_REUSEADDR lets a restarted dev-cluster take its port back from TIME_WAIT connections;
    // on Linux it does not allow two listeners on the same port.
    ::setsockopt(listen_fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listen_fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      int err = errno;
      return Error{"cannot listen on 127.0.0.1:" + std::to_string(port) + ": " +
                   (err == EADDRINUSE ? "the port is in use (by another dev-cluster?)"
                                      : errnoText(err))};
    }
    if (::listen(listen_fd.get(), 128) != 0) {
      return Error{"cannot listen on 127.0.0.1:" + std::to_string(port) + ": " +
                   errnoText(errno)};
    }
    int wake[2];
    if (::pipe2(wake, O_NONBLOCK | O_CLOEXEC) != 0) {
      return Error{"cannot create a pipe: " + errnoText(errno)};
    }
    forwarder->wake_read_ = Fd(wake[0]);
    forwarder->wake_write_ = Fd(wake[1]);
    forwarder->listen_fd_ = std::move(listen_fd);
    forwarder->port_ = port;
    forwarder->thread_ = std::thread([f = forwarder.get()] { f->run(); });
    return forwarder;
  }

  ~TcpForwarder() {
    stopping_.store(true);
    char byte = 1;
    // The pipe is non-blocking; a full pipe already means a pending wake-up.
    [[maybe_unused]] auto n = ::write(wake_write_.get(), &byte, 1);
    if (thread_.joinable()) {
      thread_.join();
    }
  }

  TcpForwarder(const TcpForwarder&) = delete;
  TcpForwarder& operator=(const TcpForwarder&) = delete;

  int port() const { return port_; }

private:
  static constexpr size_t kBufferSize = 64 * 1024;
  static constexpr size_t kMaxConnections = 256;

  // Bytes read from one socket and not yet written to the other.
  struct Direction {
    std::array<char, kBufferSize> buffer;
    size_t begin = 0;
    size_t end = 0;
    bool eof = false;   // the source socket has no more bytes
    bool shut = false;  // the destination socket has been shut down for writing
    size_t pending() const { return end - begin; }
    size_t space() const { return kBufferSize - end; }
  };

  struct Connection {
    Fd client;
    Fd upstream;
    bool connecting = false;
    bool failed = false;
    std::vector<std::string> candidates;
    size_t next_candidate = 0;
    Direction to_upstream;
    Direction to_client;
    bool done() const { return failed || (to_upstream.shut && to_client.shut); }
  };

  explicit TcpForwarder(UpstreamPicker picker) : picker_(std::move(picker)) {}

  static void setNoDelay(int fd) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }

  // Starts a non-blocking connect to the next candidate; false when none is left.
  static bool connectNext(Connection& conn) {
    while (conn.next_candidate < conn.candidates.size()) {
      const std::string& address = conn.candidates[conn.next_candidate++];
      auto addr = parseIpv4Address(address);
      if (!addr) {
        continue;
      }
      Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
      if (!fd.valid()) {
        return false;
      }
      setNoDelay(fd.get());
      int rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof(*addr));
      if (rc == 0 || errno == EINPROGRESS) {
        conn.upstream = std::move(fd);
        conn.connecting = rc != 0;
        return true;
      }
      spdlog::debug("bootstrap forwarder: cannot connect to {}: {}", address, errnoText(errno));
    }
    return false;
  }

  static void readInto(int fd, Direction& dir, Connection& conn) {
    if (dir.eof || dir.space() == 0) {
      return;
    }
    ssize_t n = ::recv(fd, dir.buffer.data() + dir.end, dir.space(), 0);
    if (n > 0) {
      dir.end += static_cast<size_t>(n);
    } else if (n == 0) {
      dir.eof = true;
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      conn.failed = true;
    }
  }

  static void flush(int fd, Direction& dir, Connection& conn) {
    while (dir.pending() > 0) {
      ssize_t n = ::send(fd, dir.buffer.data() + dir.begin, dir.pending(), MSG_NOSIGNAL);
      if (n > 0) {
        dir.begin += static_cast<size_t>(n);
      } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        break;
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        conn.failed = true;
        return;
      }
    }
    if (dir.begin == dir.end) {
      dir.begin = dir.end = 0;
    }
    if (dir.eof && dir.pending() == 0 && !dir.shut) {
      ::shutdown(fd, SHUT_WR);
      dir.shut = true;
    }
  }

  void acceptAll(std::list<Connection>& connections) {
    while (true) {
      Fd client(::accept4(listen_fd_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
      if (!client.valid()) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
          spdlog::warn("bootstrap forwarder on port {}: accept failed: {}", port_,
                       errnoText(errno));
        }
        return;
      }
      if (connections.size() >= kMaxConnections) {
        spdlog::warn("bootstrap forwarder on port {}: more than {} connections, refusing one",
                     port_, kMaxConnections);
        continue;  // `client` closes here
      }
      setNoDelay(client.get());
      Connection& conn = connections.emplace_back();
      conn.client = std::move(client);
      conn.candidates = picker_();
      if (!connectNext(conn)) {
        spdlog::warn("bootstrap forwarder on port {}: no broker accepts connections", port_);
        conn.failed = true;
      }
    }
  }

  void run() {
    std::list<Connection> connections;
    std::vector<pollfd> fds;
    while (!stopping_.load()) {
      fds.clear();
      fds.push_back({wake_read_.get(), POLLIN, 0});
      fds.push_back({listen_fd_.get(), POLLIN, 0});
      for (Connection& conn : connections) {
        short client_events = 0;
        short upstream_events = 0;
        if (!conn.to_upstream.eof && conn.to_upstream.space() > 0) {
          client_events |= POLLIN;
        }
        if (conn.to_client.pending() > 0) {
          client_events |= POLLOUT;
        }
        if (conn.connecting) {
          upstream_events = POLLOUT;
        } else {
          if (!conn.to_client.eof && conn.to_client.space() > 0) {
            upstream_events |= POLLIN;
          }
          if (conn.to_upstream.pending() > 0) {
            upstream_events |= POLLOUT;
          }
        }
        // A socket we want nothing from is left out (fd -1): poll() would otherwise report a
        // hang-up on it again and again while its buffer waits for the other side to drain.
        fds.push_back({client_events ? conn.client.get() : -1, client_events, 0});
        fds.push_back({upstream_events ? conn.upstream.get() : -1, upstream_events, 0});
      }
      int rc = ::poll(fds.data(), fds.size(), -1);
      if (rc < 0) {
        if (errno == EINTR) {
          continue;
        }
        spdlog::error("bootstrap forwarder on port {}: poll failed: {}", port_, errnoText(errno));
        break;
      }
      if (fds[0].revents != 0) {
        break;  // woken up by the destructor
      }
      size_t i = 2;
      for (Connection& conn : connections) {
        short client_revents = fds[i++].revents;
        short upstream_revents = fds[i++].revents;
        if (conn.connecting && upstream_revents != 0) {
          int err = 0;
          socklen_t len = sizeof(err);
          ::getsockopt(conn.upstream.get(), SOL_SOCKET, SO_ERROR, &err, &len);
          if (err == 0) {
            conn.connecting = false;
          } else if (!connectNext(conn)) {
            conn.failed = true;
          }
          upstream_revents = 0;
        }
        if (client_revents & (POLLIN | POLLHUP | POLLERR)) {
          readInto(conn.client.get(), conn.to_upstream, conn);
        }
        if (!conn.connecting && upstream_revents & (POLLIN | POLLHUP | POLLERR)) {
          readInto(conn.upstream.get(), conn.to_client, conn);
        }
        if (!conn.failed && !conn.connecting) {
          flush(conn.upstream.get(), conn.to_upstream, conn);
        }
        if (!conn.failed) {
          flush(conn.client.get(), conn.to_client, conn);
        }
      }
      connections.remove_if([](const Connection& conn) { return conn.done(); });
      if (fds[1].revents != 0) {
        acceptAll(connections);
      }
    }
    // Connections close with the list.
  }

  UpstreamPicker picker_;
  Fd listen_fd_;
  Fd wake_read_;
  Fd wake_write_;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

// What kind of failure an operation had, for the control endpoint's HTTP status.
enum class Failure { kNone, kInvalid, kNotFound, kConflict, kUnavailable };

int httpStatus(Failure failure) {
  switch (failure) {
  case Failure::kInvalid:
    return 400;
  case Failure::kNotFound:
    return 404;
  case Failure::kConflict:
    return 409;
  case Failure::kUnavailable:
    return 503;
  case Failure::kNone:
    break;
  }
  return 500;
}

void replyJson(httplib::Response& res, int status, const Json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

void replyError(httplib::Response& res, int status, const std::string& message) {
  replyJson(res, status, Json{{"error", message}});
}

} // namespace

Status validateTopicName(const std::string& topic) {
  if (topic.empty()) {
    return Error{"a topic name cannot be empty"};
  }
  if (topic.size() > kMaxTopicNameLength) {
    return Error{"topic name '" + topic.substr(0, 40) + "...' is " +
                 std::to_string(topic.size()) + " characters long; Kafka allows at most " +
                 std::to_string(kMaxTopicNameLength)};
  }
  if (topic == "." || topic == "..") {
    return Error{"'" + topic + "' is not a valid topic name"};
  }
  for (char c : topic) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) {
      return Error{"topic name '" + topic +
                   "' has a character Kafka does not allow (only a-z, A-Z, 0-9, '.', '_', '-')"};
    }
  }
  return Status::success();
}

Status validatePartitionCount(int64_t partitions) {
  if (partitions < 1 || partitions > kMaxPartitions) {
    return Error{"partition count " + std::to_string(partitions) + " is out of range (1.." +
                 std::to_string(kMaxPartitions) + ")"};
  }
  return Status::success();
}

Result<TopicSpec> parseTopicSpec(const std::string& spec) {
  TopicSpec topic;
  auto colon = spec.find(':');
  topic.name = spec.substr(0, colon);
  if (colon != std::string::npos) {
    std::string count = spec.substr(colon + 1);
    int64_t partitions = 0;
    auto [ptr, ec] = std::from_chars(count.data(), count.data() + count.size(), partitions);
    if (count.empty() || ec != std::errc() || ptr != count.data() + count.size()) {
      return Error{"topic '" + spec + "': expected NAME or NAME:PARTITIONS, and '" + count +
                   "' is not a number"};
    }
    if (auto status = validatePartitionCount(partitions); !status.ok()) {
      return Error{"topic '" + spec + "': " + status.message()};
    }
    topic.partitions = static_cast<int32_t>(partitions);
  }
  if (auto status = validateTopicName(topic.name); !status.ok()) {
    return Error{"topic '" + spec + "': " + status.message()};
  }
  return topic;
}

// Owns, in construction order: the host handle, the mock cluster it hosts, the bookkeeping
// client, the optional bootstrap forwarder and the control endpoint. Destroyed in reverse (see
// ~Impl): nothing may call into the mock once it is gone.
struct EmbeddedCluster::Impl {
  Options options;
  std::string bootstrap;
  std::string stable_bootstrap;
  std::string control_address;

  kafka::HandlePtr host;         // hosts the mock cluster's thread and bookkeeping
  kafka::MockClusterPtr mock;     // owned by us, but must die before `host`
  kafka::HandlePtr metadata_client;  // a normal client of the cluster, only for metadata requests

  mutable std::mutex mutex;            // guards the fields below
  std::map<int, std::string> broker_addresses;  // id -> "127.0.0.1:port"
  std::map<int, bool> broker_up;
  std::mutex create_mutex;  // serializes check-then-create of topics

  std::unique_ptr<TcpForwarder> forwarder;
  httplib::Server http;
  std::thread http_thread;
  std::atomic<bool> http_finished{false};  // set when the accept loop has returned

  ~Impl() {
    // The control endpoint calls into the cluster, so it stops first.
    if (http_thread.joinable()) {
      http.stop();
      http_thread.join();
    }
    forwarder.reset();
    // A client of the mock must go before the mock's brokers, or its destroy waits on dead
    // connections.
    metadata_client.reset();
    // rd_kafka_mock_cluster_destroy joins the mock thread, which uses `host`.
    mock.reset();
    host.reset();
  }

  std::string prefix() const { return "embedded cluster '" + options.name + "'"; }

  // The topic's partition count, std::nullopt if it does not exist. Asks for all topics: a
  // metadata request naming a missing topic would auto-create it on the mock.
  Result<std::optional<int32_t>> lookupTopic(const std::string& topic, milliseconds timeout) {
    const rd_kafka_metadata_t* raw = nullptr;
    rd_kafka_resp_err_t err = rd_kafka_metadata(metadata_client.get(), 1, nullptr, &raw,
                                                static_cast<int>(timeout.count()));
    kafka::MetadataPtr md(raw);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Error{prefix() + ": cannot read metadata for topic '" + topic +
                   "': " + rd_kafka_err2str(err)};
    }
    for (int i = 0; i < md->topic_cnt; ++i) {
      const rd_kafka_metadata_topic_t& t = md->topics[i];
      if (topic != t.topic) {
        continue;
      }
      if (t.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
        return std::optional<int32_t>();
      }
      if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR && t.partition_cnt == 0) {
        return Error{prefix() + ": metadata for topic '" + topic +
                     "' has an error: " + rd_kafka_err2str(t.err)};
      }
      return std::optional<int32_t>(t.partition_cnt);
    }
    return std::optional<int32_t>();
  }

  Result<int32_t> ensureTopic(const std::string& topic, int32_t partitions, milliseconds timeout,
                              Failure* failure) {
    *failure = Failure::kInvalid;
    if (auto status = validateTopicName(topic); !status.ok()) {
      return Error{prefix() + ": " + status.message()};
    }
    if (auto status = validatePartitionCount(partitions); !status.ok()) {
      return Error{prefix() + ": topic '" + topic + "': " + status.message()};
    }
    std::lock_guard<std::mutex> lock(create_mutex);
    // Two rounds: a client may auto-create the topic between our look-up and our create.
    for (int round = 0; round < 2; ++round) {
      auto existing = lookupTopic(topic, timeout);
      if (!existing.ok()) {
        *failure = Failure::kUnavailable;
        return existing.error();
      }
      if (existing->has_value()) {
        int32_t count = **existing;
        if (count >= partitions) {
          *failure = Failure::kNone;
          return count;
        }
        *failure = Failure::kConflict;
        return Error{prefix() + ": topic '" + topic + "' has " + std::to_string(count) +
                     " partitions and " + std::to_string(partitions) +
                     " were requested, but the embedded cluster cannot add partitions to an "
                     "existing topic"};
      }
      // The replication factor is ignored by the mock (always min(3, brokers)).
      rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(
          mock.get(), topic.c_str(), partitions, std::min(3, options.brokers));
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        spdlog::info("{}: created topic '{}' with {} partition{}", prefix(), topic, partitions,
                     partitions == 1 ? "" : "s");
        *failure = Failure::kNone;
        return partitions;
      }
      if (err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        *failure = Failure::kUnavailable;
        return Error{prefix() + ": cannot create topic '" + topic +
                     "': " + rd_kafka_err2str(err)};
      }
    }
    *failure = Failure::kUnavailable;
    return Error{prefix() + ": topic '" + topic +
                 "' exists on the mock but is missing from its metadata"};
  }

  Status checkBrokerId(int broker_id) const {
    if (broker_id < 1 || broker_id > options.brokers) {
      return Error{prefix() + ": there is no broker " + std::to_string(broker_id) +
                   " (broker ids are 1.." + std::to_string(options.brokers) + ")"};
    }
    return Status::success();
  }

  Status setBrokerState(int broker_id, bool up, Failure* failure) {
    *failure = Failure::kNotFound;
    if (auto status = checkBrokerId(broker_id); !status.ok()) {
      return status;
    }
    rd_kafka_resp_err_t err = up ? rd_kafka_mock_broker_set_up(mock.get(), broker_id)
                                 : rd_kafka_mock_broker_set_down(mock.get(), broker_id);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      *failure = Failure::kUnavailable;
      return Error{prefix() + ": cannot set broker " + std::to_string(broker_id) +
                   (up ? " up: " : " down: ") + rd_kafka_err2str(err)};
    }
    {
      std::lock_guard<std::mutex> lock(mutex);
      broker_up[broker_id] = up;
    }
    spdlog::info("{}: broker {} is {}", prefix(), broker_id, up ? "up" : "down");
    *failure = Failure::kNone;
    return Status::success();
  }

  Status setPartitionLeader(const std::string& topic, int32_t partition, int broker_id,
                            Failure* failure) {
    *failure = Failure::kNotFound;
    if (auto status = checkBrokerId(broker_id); !status.ok()) {
      return status;
    }
    // The mock would silently create a missing topic here, so look first.
    auto existing = lookupTopic(topic, kDefaultMetadataTimeout);
    if (!existing.ok()) {
      *failure = Failure::kUnavailable;
      return existing.error();
    }
    if (!existing->has_value()) {
      return Error{prefix() + ": topic '" + topic + "' does not exist"};
    }
    if (partition < 0 || partition >= **existing) {
      return Error{prefix() + ": topic '" + topic + "' has no partition " +
                   std::to_string(partition) + " (it has " + std::to_string(**existing) + ")"};
    }
    rd_kafka_resp_err_t err =
        rd_kafka_mock_partition_set_leader(mock.get(), topic.c_str(), partition, broker_id);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      *failure = Failure::kUnavailable;
      return Error{prefix() + ": cannot move the leader of " + topic + "/" +
                   std::to_string(partition) + ": " + rd_kafka_err2str(err)};
    }
    *failure = Failure::kNone;
    return Status::success();
  }

  // Brokers that are up first, in id order: where the bootstrap forwarder connects.
  std::vector<std::string> upstreamCandidates() const {
    std::lock_guard<std::mutex> lock(mutex);
    std::vector<std::string> up;
    std::vector<std::string> down;
    for (const auto& [id, address] : broker_addresses) {
      auto it = broker_up.find(id);
      (it == broker_up.end() || it->second ? up : down).push_back(address);
    }
    up.insert(up.end(), down.begin(), down.end());
    return up;
  }

  Json clusterJson() const {
    Json brokers = Json::array();
    std::lock_guard<std::mutex> lock(mutex);
    for (const auto& [id, address] : broker_addresses) {
      auto it = broker_up.find(id);
      brokers.push_back(
          {{"id", id}, {"address", address}, {"up", it == broker_up.end() || it->second}});
    }
    return Json{{"name", options.name},
                {"bootstrap", bootstrap},
                {"stable_bootstrap", stable_bootstrap},
                {"control", control_address},
                {"brokers", brokers}};
  }

  void installRoutes() {
    http.Post("/v1/topics", [this](const httplib::Request& req, httplib::Response& res) {
      Json body = Json::parse(req.body, nullptr, false);
      if (body.is_discarded() || !body.is_object()) {
        return replyError(res, 400, prefix() + ": the request body is not a JSON object");
      }
      if (!body.contains("name") || !body["name"].is_string()) {
        return replyError(res, 400, prefix() + ": \"name\" (a string) is required");
      }
      std::string topic = body["name"].get<std::string>();
      if (!body.contains("partitions") || !body["partitions"].is_number_integer()) {
        return replyError(res, 400,
                          prefix() + ": topic '" + topic +
                              "': \"partitions\" (an integer) is required");
      }
      int64_t partitions = body["partitions"].get<int64_t>();
      if (auto status = validatePartitionCount(partitions); !status.ok()) {
        return replyError(res, 400, prefix() + ": topic '" + topic + "': " + status.message());
      }
      milliseconds timeout = kDefaultMetadataTimeout;
      if (body.contains("timeout_ms") && body["timeout_ms"].is_number_integer()) {
        timeout = milliseconds(std::clamp<int64_t>(body["timeout_ms"].get<int64_t>(), 100,
                                                   kDefaultMetadataTimeout.count()));
      }
      Failure failure = Failure::kNone;
      auto count = ensureTopic(topic, static_cast<int32_t>(partitions), timeout, &failure);
      if (!count.ok()) {
        return replyError(res, httpStatus(failure), count.error().message);
      }
      replyJson(res, 200, Json{{"name", topic}, {"partitions", *count}});
    });

    http.Get(R"(/v1/topics/([^/]+))", [this](const httplib::Request& req,
                                             httplib::Response& res) {
      std::string topic = req.matches[1];
      if (auto status = validateTopicName(topic); !status.ok()) {
        return replyError(res, 400, prefix() + ": " + status.message());
      }
      auto existing = lookupTopic(topic, kDefaultMetadataTimeout);
      if (!existing.ok()) {
        return replyError(res, 503, existing.error().message);
      }
      if (!existing->has_value()) {
        return replyError(res, 404, prefix() + ": topic '" + topic + "' does not exist");
      }
      replyJson(res, 200, Json{{"name", topic}, {"partitions", **existing}});
    });

    http.Post(R"(/v1/brokers/(-?\d+)/(up|down))", [this](const httplib::Request& req,
                                                       httplib::Response& res) {
      int broker_id = 0;
      const std::string id_text = req.matches[1];
      auto [ptr, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(),
                                       broker_id);
      if (ec != std::errc()) {
        return replyError(res, 404, prefix() + ": there is no broker " + id_text);
      }
      bool up = req.matches[2] == "up";
      Failure failure = Failure::kNone;
      if (auto status = setBrokerState(broker_id, up, &failure); !status.ok()) {
        return replyError(res, httpStatus(failure), status.message());
      }
      replyJson(res, 200, Json{{"id", broker_id}, {"up", up}});
    });

    http.Post(R"(/v1/topics/([^/]+)/partitions/(\d+)/leader)",
              [this](const httplib::Request& req, httplib::Response& res) {
                std::string topic = req.matches[1];
                int32_t partition = 0;
                const std::string partition_text = req.matches[2];
                auto [ptr, ec] = std::from_chars(
                    partition_text.data(), partition_text.data() + partition_text.size(),
                    partition);
                Json body = Json::parse(req.body, nullptr, false);
                if (ec != std::errc() || body.is_discarded() || !body.is_object() ||
                    !body.contains("broker") || !body["broker"].is_number_integer()) {
                  return replyError(res, 400,
                                    prefix() + ": expected {\"broker\": ID} for " + topic +
                                        "/" + partition_text);
                }
                int broker_id = body["broker"].get<int>();
                Failure failure = Failure::kNone;
                auto status = setPartitionLeader(topic, partition, broker_id, &failure);
                if (!status.ok()) {
                  return replyError(res, httpStatus(failure), status.message());
                }
                replyJson(res, 200,
                          Json{{"topic", topic}, {"partition", partition}, {"leader", broker_id}});
              });

    http.Get("/v1/cluster", [this](const httplib::Request&, httplib::Response& res) {
      replyJson(res, 200, clusterJson());
    });

    http.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (res.body.empty()) {
        replyError(res, res.status,
                   prefix() + (res.status == 404 ? ": no such endpoint: " : ": bad request: ") +
                       req.method + " " + req.path);
      }
    });
  }
};

EmbeddedCluster::EmbeddedCluster(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

EmbeddedCluster::~EmbeddedCluster() {
  auto started = std::chrono::steady_clock::now();
  std::string name = impl_->options.name;
  impl_.reset();
  spdlog::debug("embedded cluster '{}' stopped in {} ms", name,
                std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() -
                                                         started)
                    .count());
}

Result<std::unique_ptr<EmbeddedCluster>> EmbeddedCluster::start(const Options& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  const std::string prefix = impl->prefix();
  if (options.brokers < 1 || options.brokers > kMaxBrokers) {
    return Error{prefix + ": broker count " + std::to_string(options.brokers) +
                 " is out of range (1.." + std::to_string(kMaxBrokers) + ")"};
  }
  for (int port : {options.control_port, options.bootstrap_port}) {
    if (port < 0 || port > 65535) {
      return Error{prefix + ": port " + std::to_string(port) + " is out of range (0..65535)"};
    }
  }
  if (options.bootstrap_port != 0 && options.bootstrap_port == options.control_port) {
    return Error{prefix + ": the bootstrap port and the control port are both " +
                 std::to_string(options.bootstrap_port)};
  }
  for (const TopicSpec& topic : options.topics) {
    if (auto status = validateTopicName(topic.name); !status.ok()) {
      return Error{prefix + ": " + status.message()};
    }
    if (auto status = validatePartitionCount(topic.partitions); !status.ok()) {
      return Error{prefix + ": topic '" + topic.name + "': " + status.message()};
    }
  }

  // The host handle only carries the mock; it never connects anywhere. Without a
  // bootstrap.servers it logs a warning, which the log callback keeps at debug level.
  auto host = newHandle({});
  if (!host.ok()) {
    return Error{prefix + ": " + host.error().message};
  }
  impl->host = std::move(*host);
  impl->mock.reset(rd_kafka_mock_cluster_new(impl->host.get(), options.brokers));
  if (!impl->mock) {
    return Error{prefix + ": cannot start the mock brokers"};
  }
  impl->bootstrap = rd_kafka_mock_cluster_bootstraps(impl->mock.get());

  auto client = newHandle({{"bootstrap.servers", impl->bootstrap},
                           {"client.id", "causeway-embedded-" + options.name}});
  if (!client.ok()) {
    return Error{prefix + ": " + client.error().message};
  }
  impl->metadata_client = std::move(*client);

  // Learn the brokers' advertised addresses (ids 1..N) from the cluster itself.
  {
    const rd_kafka_metadata_t* raw = nullptr;
    rd_kafka_resp_err_t err = rd_kafka_metadata(impl->metadata_client.get(), 1, nullptr, &raw,
                                                static_cast<int>(kDefaultMetadataTimeout.count()));
    kafka::MetadataPtr md(raw);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Error{prefix + ": the mock brokers at " + impl->bootstrap +
                   " do not answer a metadata request: " + rd_kafka_err2str(err)};
    }
    std::lock_guard<std::mutex> lock(impl->mutex);
    for (int i = 0; i < md->broker_cnt; ++i) {
      impl->broker_addresses[md->brokers[i].id] =
          std::string(md->brokers[i].host) + ":" + std::to_string(md->brokers[i].port);
      impl->broker_up[md->brokers[i].id] = true;
    }
  }

  for (const TopicSpec& topic : options.topics) {
    Failure failure = Failure::kNone;
    auto count = impl->ensureTopic(topic.name, topic.partitions, kDefaultMetadataTimeout,
                                   &failure);
    if (!count.ok()) {
      return count.error();
    }
  }

  impl->stable_bootstrap = impl->bootstrap;
  if (options.bootstrap_port != 0) {
    Impl* raw_impl = impl.get();
    auto forwarder = TcpForwarder::start(options.bootstrap_port,
                                         [raw_impl] { return raw_impl->upstreamCandidates(); });
    if (!forwarder.ok()) {
      return Error{prefix + ": bootstrap port: " + forwarder.error().message};
    }
    impl->forwarder = std::move(*forwarder);
    impl->stable_bootstrap = "127.0.0.1:" + std::to_string(options.bootstrap_port);
  }

  // The control endpoint: a small pool, and short keep-alive and read timeouts so that stopping
  // it never waits long on an idle client connection.
  impl->http.new_task_queue = [] { return new httplib::ThreadPool(4); };
  impl->http.set_keep_alive_timeout(1);
  impl->http.set_read_timeout(2, 0);
  impl->http.set_write_timeout(2, 0);
  // httplib's default socket options add SO_REUSEPORT, which would let a second cluster share
  // the control port and receive half of the first one's requests. SO_REUSEADDR only.
  impl->http.set_socket_options([](int sock) {
    int one = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  });
  impl->installRoutes();
  int control_port = options.control_port;
  if (control_port == 0) {
    control_port = impl->http.bind_to_any_port("127.0.0.1");
    if (control_port <= 0) {
      return Error{prefix + ": cannot listen on 127.0.0.1 for the control endpoint"};
    }
  } else if (!impl->http.bind_to_port("127.0.0.1", control_port)) {
    return Error{prefix + ": cannot listen on 127.0.0.1:" + std::to_string(control_port) +
                 " for the control endpoint: the port is in use (by another dev-cluster?)"};
  }
  impl->control_address = "127.0.0.1:" + std::to_string(control_port);
  impl->http_thread = std::thread([raw_impl = impl.get()] {
    raw_impl->http.listen_after_bind();
    raw_impl->http_finished.store(true);
  });
  // httplib's stop() is a no-op until the accept loop runs, so wait for it: a cluster destroyed
  // right after start() must not leave the loop running forever. The socket already listens,
  // so no request is lost meanwhile. This takes a thread start, i.e. about a millisecond.
  while (!impl->http.is_running()) {
    if (impl->http_finished.load()) {
      return Error{prefix + ": the control endpoint on " + impl->control_address +
                   " stopped as soon as it started"};
    }
    std::this_thread::sleep_for(milliseconds(1));
  }

  spdlog::info("{}: {} brokers at {}, control endpoint http://{}{}", prefix, options.brokers,
               impl->bootstrap, impl->control_address,
               options.bootstrap_port ? ", stable bootstrap " + impl->stable_bootstrap : "");
  return std::unique_ptr<EmbeddedCluster>(new EmbeddedCluster(std::move(impl)));
}

const std::string& EmbeddedCluster::name() const { return impl_->options.name; }
const std::string& EmbeddedCluster::bootstrap() const { return impl_->bootstrap; }
const std::string& EmbeddedCluster::stableBootstrap() const { return impl_->stable_bootstrap; }
const std::string& EmbeddedCluster::controlAddress() const { return impl_->control_address; }
int EmbeddedCluster::brokerCount() const { return impl_->options.brokers; }

Status EmbeddedCluster::createTopic(const std::string& topic, int32_t partitions) {
  auto count = ensureTopic(topic, partitions);
  if (!count.ok()) {
    return count.error();
  }
  return Status::success();
}

Result<int32_t> EmbeddedCluster::ensureTopic(const std::string& topic, int32_t partitions) {
  Failure failure = Failure::kNone;
  return impl_->ensureTopic(topic, partitions, kDefaultMetadataTimeout, &failure);
}

Result<int32_t> EmbeddedCluster::partitionCount(const std::string& topic) {
  auto existing = impl_->lookupTopic(topic, kDefaultMetadataTimeout);
  if (!existing.ok()) {
    return existing.error();
  }
  if (!existing->has_value()) {
    return Error{impl_->prefix() + ": topic '" + topic + "' does not exist"};
  }
  return **existing;
}

Status EmbeddedCluster::setBrokerDown(int broker_id) {
  Failure failure = Failure::kNone;
  return impl_->setBrokerState(broker_id, false, &failure);
}

Status EmbeddedCluster::setBrokerUp(int broker_id) {
  Failure failure = Failure::kNone;
  return impl_->setBrokerState(broker_id, true, &failure);
}

bool EmbeddedCluster::isBrokerUp(int broker_id) const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  auto it = impl_->broker_up.find(broker_id);
  return it != impl_->broker_up.end() && it->second;
}

Status EmbeddedCluster::setPartitionLeader(const std::string& topic, int32_t partition,
                                           int broker_id) {
  Failure failure = Failure::kNone;
  return impl_->setPartitionLeader(topic, partition, broker_id, &failure);
}

rd_kafka_mock_cluster_t* EmbeddedCluster::mock() { return impl_->mock.get(); }

} // namespace causeway::embedded
