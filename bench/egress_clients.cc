#include "bench/egress_clients.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <cstring>

namespace causeway::bench {
namespace {

int connectLoopback(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return -1;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool sendAll(int fd, const std::string& text) {
  size_t sent = 0;
  while (sent < text.size()) {
    ssize_t n = send(fd, text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      return false;
    }
    sent += static_cast<size_t>(n);
  }
  return true;
}

std::string request(const std::string& path, const std::string& token, const std::string& last_id) {
  std::string r = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token +
                  "\r\nAccept: text/event-stream\r\n";
  if (!last_id.empty()) {
    r += "Last-Event-ID: " + last_id + "\r\n";
  }
  return r + "\r\n";
}

// The integer after `"name":` in an event's JSON (the envelope's fields come before the value,
// so the first match is the envelope's).
bool intMember(std::string_view data, std::string_view name, int64_t* out) {
  const auto at = data.find(name);
  if (at == std::string_view::npos) {
    return false;
  }
  const char* begin = data.data() + at + name.size();
  return std::from_chars(begin, data.data() + data.size(), *out).ec == std::errc();
}

}  // namespace

int freePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

int httpStatus(int port, const std::string& path, const std::string& token) {
  int fd = connectLoopback(port);
  if (fd < 0) {
    return 0;
  }
  timeval tv{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  int status = 0;
  if (sendAll(fd, request(path, token, ""))) {
    char buf[64] = {};
    ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_WAITALL);
    if (n > 12 && std::strncmp(buf, "HTTP/1.1 ", 9) == 0) {
      status = std::atoi(buf + 9);
    }
  }
  close(fd);
  return status;
}

void StreamCheck::see(int partition, int64_t offset) {
  ++events;
  if (partition < 0 || static_cast<size_t>(partition) >= next.size()) {
    ++bad;
    return;
  }
  int64_t& expected = next[static_cast<size_t>(partition)];
  if (offset < expected) {
    ++repeats;
  } else {
    if (offset > expected) {
      ++gaps;
    }
    expected = offset + 1;
  }
}

SseFleet::SseFleet(int port, std::string token, int partitions, std::string must_contain)
    : port_(port), token_(std::move(token)), partitions_(partitions),
      must_contain_(std::move(must_contain)), epoll_fd_(epoll_create1(EPOLL_CLOEXEC)),
      read_buf_(256 * 1024) {}

SseFleet::~SseFleet() {
  closeAll();
  close(epoll_fd_);
}

void SseFleet::closeAll() {
  for (Client& c : clients_) {
    if (c.fd >= 0) {
      close(c.fd);
      c.fd = -1;
    }
  }
}

void SseFleet::open(const std::string& path, int clients) {
  path_ = path;
  clients_.reserve(static_cast<size_t>(clients));
  for (int i = 0; i < clients; ++i) {
    clients_.emplace_back(partitions_);
    if (!connectClient(clients_.back())) {
      clients_.back().done = true;
    }
  }
}

bool SseFleet::connectClient(Client& c) {
  c.fd = connectLoopback(port_);
  if (c.fd < 0) {
    c.error = std::string("connect: ") + std::strerror(errno);
    return false;
  }
  if (!sendAll(c.fd, request(path_, token_, c.last_id))) {
    c.error = "sending the request failed";
    close(c.fd);
    c.fd = -1;
    return false;
  }
  fcntl(c.fd, F_SETFL, fcntl(c.fd, F_GETFL) | O_NONBLOCK);
  c.head_done = false;
  c.streaming = false;
  c.in_error = false;
  c.buf.clear();
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP;
  ev.data.u64 = static_cast<uint64_t>(&c - clients_.data());
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, c.fd, &ev);
  return true;
}

void SseFleet::ended(Client& c, const std::string& why) {
  if (c.fd >= 0) {
    epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
    close(c.fd);
    c.fd = -1;
  }
  if (c.done) {
    return;
  }
  if (c.reconnects + c.busy_retries < 100 && c.status == 200) {
    ++c.reconnects;
    if (connectClient(c)) {
      return;
    }
  }
  c.done = true;
  if (c.error.empty()) {
    c.error = why;
  }
}

void SseFleet::poll(int timeout_ms, int64_t expected) {
  epoll_event events[256];
  const int n = epoll_wait(epoll_fd_, events, 256, timeout_ms);
  for (int i = 0; i < n; ++i) {
    onReadable(clients_[events[i].data.u64], expected);
  }
  const auto now = Clock::now();
  for (Client& c : clients_) {
    if (c.retry_at != Clock::time_point{} && c.retry_at <= now) {
      c.retry_at = {};
      if (!connectClient(c)) {
        c.done = true;
      }
    }
  }
}

void SseFleet::onReadable(Client& c, int64_t expected) {
  if (c.fd < 0) {
    return;
  }
  const ssize_t n = recv(c.fd, read_buf_.data(), read_buf_.size(), 0);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
    return;
  }
  if (n <= 0) {
    ended(c, n == 0 ? "the server closed the stream" : std::strerror(errno));
    return;
  }
  if (c.head_done && c.chunked) {
    dechunk(c, read_buf_.data(), static_cast<size_t>(n));
  } else {
    c.buf.append(read_buf_.data(), static_cast<size_t>(n));
  }
  consumeLines(c, expected);
}

void SseFleet::dechunk(Client& c, const char* data, size_t n) {
  c.raw.append(data, n);
  size_t pos = 0;
  while (pos < c.raw.size()) {
    if (c.chunk_left > 0) {
      const size_t take = std::min<size_t>(c.chunk_left, c.raw.size() - pos);
      c.buf.append(c.raw, pos, take);
      pos += take;
      c.chunk_left -= take;
      c.chunk_crlf = c.chunk_left == 0;
      continue;
    }
    if (c.chunk_crlf) {
      if (c.raw.size() - pos < 2) {
        break;
      }
      pos += 2;
      c.chunk_crlf = false;
      continue;
    }
    const auto eol = c.raw.find("\r\n", pos);
    if (eol == std::string::npos) {
      break;
    }
    c.chunk_left = std::strtoull(c.raw.c_str() + pos, nullptr, 16);
    pos = eol + 2;
    if (c.chunk_left == 0) {
      pos = c.raw.size();  // the last chunk: the stream is over
    }
  }
  c.raw.erase(0, pos);
}

void SseFleet::consumeLines(Client& c, int64_t expected) {
  size_t pos = 0;
  if (!c.head_done) {
    const auto end = c.buf.find("\r\n\r\n");
    if (end == std::string::npos) {
      return;
    }
    c.status = c.buf.rfind("HTTP/1.1 ", 0) == 0 ? std::atoi(c.buf.c_str() + 9) : -1;
    c.head_done = true;
    if ((c.status == 503 || c.status == 502 || c.status == 500) &&
        c.reconnects + c.busy_retries < 100) {
      // Catch-up readers busy: retry when the server says (Retry-After: seconds). Pushpin's 502
      // and 500 in a connection storm (its queues to zurl and to its handler hold about 100
      // requests: "Error while proxying to origin", "Accept service unavailable") are retried
      // after a random 0.5 to 2.5 s, doubling the range per retry up to 10 s, as a well-behaved
      // client must: retrying all at once after a second only repeats the storm.
      const auto at = c.buf.find("Retry-After: ");
      std::chrono::milliseconds delay;
      if (at != std::string::npos && at < end) {
        delay = std::chrono::seconds(std::max(std::atoi(c.buf.c_str() + at + 13), 1));
      } else {
        const int64_t range =
            std::min<int64_t>(2000LL << std::min<uint64_t>(c.busy_retries, 3), 10000);
        delay = std::chrono::milliseconds(500 + static_cast<int64_t>(jitter_() % range));
      }
      ++c.busy_retries;
      epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
      close(c.fd);
      c.fd = -1;
      c.retry_at = Clock::now() + delay;
      return;
    }
    if (c.status != 200) {
      c.error = "status " + std::to_string(c.status) + ": " + c.buf.substr(end + 4, 200);
      c.done = true;
      ended(c, c.error);
      return;
    }
    pos = end + 4;
    std::string head = c.buf.substr(0, end);
    for (char& ch : head) {
      ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    }
    c.chunked = head.find("transfer-encoding: chunked") != std::string::npos;
    if (c.chunked) {
      const std::string rest = c.buf.substr(pos);
      c.buf.clear();
      pos = 0;
      c.chunk_left = 0;
      c.chunk_crlf = false;
      c.raw.clear();
      dechunk(c, rest.data(), rest.size());
    }
  }
  const uint64_t before = c.check.events;
  while (pos < c.buf.size()) {
    const void* nl = std::memchr(c.buf.data() + pos, '\n', c.buf.size() - pos);
    if (nl == nullptr) {
      break;
    }
    const size_t end = static_cast<size_t>(static_cast<const char*>(nl) - c.buf.data());
    std::string_view line(c.buf.data() + pos, end - pos);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    onLine(c, line, expected);
    pos = end + 1;
  }
  c.buf.erase(0, pos);
  if (c.check.events != before) {
    last_event_at_ = Clock::now();
    if (first_event_at_ == Clock::time_point{}) {
      first_event_at_ = last_event_at_;
    }
  }
}

void SseFleet::onLine(Client& c, std::string_view line, int64_t expected) {
  if (line.rfind("data: ", 0) == 0) {
    if (c.in_error) {
      c.error = "event: error " + std::string(line.substr(6, 200));
      return;
    }
    int64_t partition = -1;
    int64_t offset = -1;
    if (!intMember(line, "\"partition\":", &partition) ||
        !intMember(line, "\"offset\":", &offset)) {
      ++c.check.bad;
      if (c.error.empty()) {
        c.error = "a data line without partition and offset: " + std::string(line.substr(0, 300));
      }
      return;
    }
    c.check.see(static_cast<int>(partition), offset);
    c.bytes += line.size() + 1;
    if (!must_contain_.empty() && line.find(must_contain_) == std::string_view::npos) {
      ++c.unmasked;
    }
    if (c.check.events >= static_cast<uint64_t>(expected)) {
      c.done = true;
    }
  } else if (line.rfind("id: ", 0) == 0) {
    c.last_id.assign(line.substr(4));
  } else if (line == "event: error") {
    c.in_error = true;
  } else if (line.rfind("retry:", 0) == 0) {
    c.streaming = true;
  }
}

bool SseFleet::runUntilStreaming(Clock::time_point deadline) {
  for (;;) {
    bool all = true;
    for (const Client& c : clients_) {
      if (!c.streaming) {
        if (c.done || (c.fd < 0 && c.retry_at == Clock::time_point{})) {
          return false;
        }
        all = false;
      }
    }
    if (all) {
      return true;
    }
    if (Clock::now() >= deadline) {
      return false;
    }
    poll(50, INT64_MAX);
  }
}

void SseFleet::runUntilComplete(int64_t expected, Clock::time_point deadline) {
  for (Client& c : clients_) {
    c.done = c.done || c.check.events >= static_cast<uint64_t>(expected);
  }
  while (Clock::now() < deadline) {
    bool all = true;
    for (const Client& c : clients_) {
      all = all && c.done;
    }
    if (all) {
      break;
    }
    poll(50, expected);
  }
  // Anything still buffered in the sockets: more than expected is a failure, not noise.
  for (int i = 0; i < 4; ++i) {
    poll(10, INT64_MAX);
  }
}

std::string SseFleet::firstError() const {
  for (const Client& c : clients_) {
    if (!c.error.empty()) {
      return c.error;
    }
  }
  return "";
}

SseFleet::Totals SseFleet::totals(int64_t expected) const {
  Totals t;
  for (const Client& c : clients_) {
    t.events += c.check.events;
    t.bytes += c.bytes;
    t.gaps += c.check.gaps;
    t.repeats += c.check.repeats;
    t.reconnects += c.reconnects;
    t.busy_retries += c.busy_retries;
    t.unmasked += c.unmasked;
    const bool complete = c.check.complete(expected) && c.unmasked == 0;
    t.complete_clients += complete ? 1 : 0;
    if (!complete && t.first_error.empty()) {
      t.first_error = !c.error.empty() ? c.error
                                       : "events " + std::to_string(c.check.events) + " gaps " +
                                             std::to_string(c.check.gaps) + " repeats " +
                                             std::to_string(c.check.repeats) + " bad " +
                                             std::to_string(c.check.bad) + " unmasked " +
                                             std::to_string(c.unmasked);
    }
  }
  return t;
}

}  // namespace causeway::bench
