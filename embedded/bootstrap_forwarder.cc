#include "embedded/bootstrap_forwarder.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <list>
#include <optional>
#include <string>
#include <utility>

namespace causeway::embedded {

namespace {

constexpr size_t kBufferSize = 64 * 1024;
constexpr size_t kMaxConnections = 256;

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

// One relayed client connection and its upstream (broker) side.
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

void setNoDelay(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

// Starts a non-blocking connect to the next candidate; false when none is left.
bool connectNext(Connection& conn) {
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

void readInto(int fd, Direction& dir, Connection& conn) {
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

void flush(int fd, Direction& dir, Connection& conn) {
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

// Accepts every pending connection on `listen_fd` and starts its upstream connect.
void acceptAll(int listen_fd, int port, const BootstrapForwarder::UpstreamPicker& picker,
               std::list<Connection>& connections) {
  while (true) {
    Fd client(::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!client.valid()) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        spdlog::warn("bootstrap forwarder on port {}: accept failed: {}", port,
                     errnoText(errno));
      }
      return;
    }
    if (connections.size() >= kMaxConnections) {
      spdlog::warn("bootstrap forwarder on port {}: more than {} connections, refusing one",
                   port, kMaxConnections);
      continue;  // `client` closes here
    }
    setNoDelay(client.get());
    Connection& conn = connections.emplace_back();
    conn.client = std::move(client);
    conn.candidates = picker();
    if (!connectNext(conn)) {
      spdlog::warn("bootstrap forwarder on port {}: no broker accepts connections", port);
      conn.failed = true;
    }
  }
}

} // namespace

Result<std::unique_ptr<BootstrapForwarder>> BootstrapForwarder::start(int port,
                                                                      UpstreamPicker picker) {
  std::unique_ptr<BootstrapForwarder> forwarder(new BootstrapForwarder(std::move(picker)));
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

BootstrapForwarder::~BootstrapForwarder() {
  stopping_.store(true);
  char byte = 1;
  // The pipe is non-blocking; a full pipe already means a pending wake-up.
  [[maybe_unused]] auto n = ::write(wake_write_.get(), &byte, 1);
  if (thread_.joinable()) {
    thread_.join();
  }
}

void BootstrapForwarder::run() {
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
      acceptAll(listen_fd_.get(), port_, picker_, connections);
    }
  }
  // Connections close with the list.
}

} // namespace causeway::embedded
