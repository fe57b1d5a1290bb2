#include "egress/http_server.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace causeway::egress {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr size_t kReadChunk = 16 * 1024;
constexpr size_t kPullBudget = 32 * 1024;    // bytes pulled from a stream at a time
constexpr size_t kHighWater = 32 * 1024;     // unsent bytes above which no more is pulled
constexpr size_t kKeepCapacity = 64 * 1024;  // larger idle buffers are released
constexpr milliseconds kTick{250};
constexpr milliseconds kShutdownGrace{1000};

struct SslCtxDeleter {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};

std::string opensslError() {
  const unsigned long e = ERR_get_error();
  if (e == 0) {
    return "unknown OpenSSL error";
  }
  char buf[256];
  ERR_error_string_n(e, buf, sizeof(buf));
  ERR_clear_error();
  return buf;
}

std::string peerName(const sockaddr_storage& addr) {
  char host[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (addr.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
    port = ntohs(a->sin_port);
    return std::string(host) + ":" + std::to_string(port);
  }
  const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
  inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
  port = ntohs(a->sin6_port);
  return "[" + std::string(host) + "]:" + std::to_string(port);
}

} // namespace

const char* reasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 414:
      return "URI Too Long";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
  }
  return "Unknown";
}

// What loops and handler threads share.
struct HttpServer::Shared {
  Options options;
  HttpHandler handler;
  std::unique_ptr<SSL_CTX, SslCtxDeleter> ssl_ctx;
  std::atomic<bool> stopping{false};
  std::atomic<size_t>* connections = nullptr;
  std::atomic<uint64_t>* refused = nullptr;

  // The handler pool.
  std::mutex jobs_mu;
  std::condition_variable jobs_cv;
  std::deque<std::function<void()>> jobs;
  std::vector<std::thread> workers;
};

struct HttpServer::Loop {
  struct Conn {
    uint64_t id = 0;
    int fd = -1;
    SSL* ssl = nullptr;
    bool handshaking = false;
    enum class State {
      kReadHead,
      kHandling,
      kWriting,
      kStreaming,
      kClosed
    } state = State::kReadHead;
    std::string in;
    std::string out;
    size_t out_off = 0;
    std::unique_ptr<StreamBody> stream;
    bool stream_ended = false;
    bool stream_idle = false;
    ConnectionInfo info;
    Clock::time_point created;
    Clock::time_point last_progress;  // bytes written, or nothing pending
    Clock::time_point last_write;     // anything written (for heartbeats)

    size_t pending() const { return out.size() - out_off; }
  };

  struct Task {
    enum class Kind { kAccept, kResponse } kind;
    int fd = -1;
    sockaddr_storage addr{};
    uint64_t id = 0;
    std::shared_ptr<HttpResponse> response;
  };

  Loop(std::shared_ptr<Shared> shared, size_t index) : shared_(std::move(shared)), index_(index) {}

  Status init() {
    epfd_ = epoll_create1(EPOLL_CLOEXEC);
    evfd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (epfd_ < 0 || evfd_ < 0) {
      return Error{std::string("cannot create an event loop: ") + std::strerror(errno)};
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kEventFdTag;
    epoll_ctl(epfd_, EPOLL_CTL_ADD, evfd_, &ev);
    return Status::success();
  }

  void addListener(int fd, std::vector<Loop*> loops) {
    listen_fd_ = fd;
    all_loops_ = std::move(loops);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kListenTag;
    epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
  }

  void run() {
    thread_ = std::thread([this] { loop(); });
  }

  void join() {
    if (thread_.joinable()) {
      thread_.join();
    }
  }

  // Wake-ups registered with streams may still arrive from tail threads after the loop ended;
  // they find it stopped and do nothing, so the descriptors live as long as the object.
  ~Loop() {
    if (epfd_ >= 0) {
      ::close(epfd_);
    }
    if (evfd_ >= 0) {
      ::close(evfd_);
    }
  }

  // --- Cross-thread entry points ---
  void post(Task task) {
    bool first = false;
    {
      std::lock_guard lock(mu_);
      if (ended_) {
        if (task.kind == Task::Kind::kAccept) {
          ::close(task.fd);
          (*shared_->connections)--;
        }
        return;  // a late response: its stream closes here
      }
      first = tasks_.empty() && woken_.empty();
      tasks_.push_back(std::move(task));
    }
    if (first) {
      signal();
    }
  }

  void wake(uint64_t id) {
    bool first = false;
    {
      std::lock_guard lock(mu_);
      if (ended_) {
        return;
      }
      first = tasks_.empty() && woken_.empty();
      woken_.push_back(id);
    }
    if (first) {
      signal();
    }
  }

  void signal() {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(evfd_, &one, sizeof(one));
  }

private:
  static constexpr uint64_t kEventFdTag = ~uint64_t{0};
  static constexpr uint64_t kListenTag = ~uint64_t{0} - 1;

  void loop() {
    std::vector<epoll_event> events(256);
    auto next_tick = Clock::now() + kTick;
    while (true) {
      const int timeout = static_cast<int>(std::max<int64_t>(
          0, std::chrono::duration_cast<milliseconds>(next_tick - Clock::now()).count()));
      const int n = epoll_wait(epfd_, events.data(), static_cast<int>(events.size()), timeout);
      for (int i = 0; i < n; ++i) {
        const uint64_t tag = events[i].data.u64;
        if (tag == kEventFdTag) {
          uint64_t value = 0;
          [[maybe_unused]] ssize_t r = ::read(evfd_, &value, sizeof(value));
          drainTasks();
        } else if (tag == kListenTag) {
          acceptAll();
        } else {
          onEvent(tag, events[i].events);
        }
      }
      if (Clock::now() >= next_tick) {
        tick();
        next_tick = Clock::now() + kTick;
      }
      if (shared_->stopping && shutdown_started_ &&
          (conns_.empty() || Clock::now() > shutdown_deadline_)) {
        break;
      }
      if (shared_->stopping && !shutdown_started_) {
        beginShutdown();
      }
    }
    for (auto& [id, conn] : conns_) {
      closeConn(*conn, false);
    }
    conns_.clear();
    std::vector<Task> late;
    {
      std::lock_guard lock(mu_);
      ended_ = true;
      late.swap(tasks_);
      woken_.clear();
    }
    for (Task& task : late) {
      if (task.kind == Task::Kind::kAccept) {
        ::close(task.fd);
        (*shared_->connections)--;
      }
    }
    // Late responses are dropped here (their streams close).
  }

  void drainTasks() {
    std::vector<Task> tasks;
    std::vector<uint64_t> woken;
    {
      std::lock_guard lock(mu_);
      tasks.swap(tasks_);
      woken.swap(woken_);
    }
    for (Task& task : tasks) {
      if (task.kind == Task::Kind::kAccept) {
        adopt(task.fd, task.addr);
      } else {
        onResponse(task.id, std::move(task.response));
      }
    }
    for (uint64_t id : woken) {
      auto it = conns_.find(id);
      if (it != conns_.end() && it->second->state == Conn::State::kStreaming) {
        it->second->stream_idle = false;
        pump(*it->second);
      }
    }
  }

  void acceptAll() {
    while (true) {
      sockaddr_storage addr{};
      socklen_t len = sizeof(addr);
      const int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len,
                               SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR) {
          continue;
        }
        return;  // EAGAIN, or a transient error (EMFILE: the next accept tries again)
      }
      if (shared_->stopping || shared_->connections->load() >= shared_->options.max_connections) {
        (*shared_->refused)++;
        ::close(fd);
        continue;
      }
      (*shared_->connections)++;
      Loop* target = all_loops_[next_loop_++ % all_loops_.size()];
      Task task;
      task.kind = Task::Kind::kAccept;
      task.fd = fd;
      task.addr = addr;
      if (target == this) {
        adopt(fd, addr);
      } else {
        target->post(std::move(task));
      }
    }
  }

  void adopt(int fd, const sockaddr_storage& addr) {
    auto conn = std::make_unique<Conn>();
    conn->id = next_id_++ * 64 + index_;
    conn->fd = fd;
    conn->created = conn->last_progress = conn->last_write = Clock::now();
    conn->info.peer = peerName(addr);
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (shared_->options.socket_send_buffer > 0) {
      ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &shared_->options.socket_send_buffer,
                   sizeof(shared_->options.socket_send_buffer));
    }
    if (shared_->ssl_ctx) {
      conn->ssl = SSL_new(shared_->ssl_ctx.get());
      SSL_set_fd(conn->ssl, fd);
      SSL_set_accept_state(conn->ssl);
      conn->handshaking = true;
      conn->info.tls = true;
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
    ev.data.u64 = conn->id;
    epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
    Conn& ref = *conn;
    conns_.emplace(conn->id, std::move(conn));
    onReadable(ref);
  }

  void onEvent(uint64_t id, uint32_t events) {
    auto it = conns_.find(id);
    if (it == conns_.end()) {
      return;
    }
    Conn& conn = *it->second;
    if (conn.handshaking) {
      handshake(conn);
    } else {
      if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
        onReadable(conn);
      }
      if (conn.state != Conn::State::kClosed && (events & EPOLLOUT)) {
        onWritable(conn);
      }
    }
    if (conn.state == Conn::State::kClosed) {
      conns_.erase(id);
    }
  }

  void handshake(Conn& conn) {
    ERR_clear_error();
    const int r = SSL_do_handshake(conn.ssl);
    if (r == 1) {
      conn.handshaking = false;
      if (X509* cert = SSL_get1_peer_certificate(conn.ssl)) {
        char subject[512];
        X509_NAME_oneline(X509_get_subject_name(cert), subject, sizeof(subject));
        conn.info.client_subject = subject;
        X509_free(cert);
      }
      onReadable(conn);
      return;
    }
    const int e = SSL_get_error(conn.ssl, r);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
      ERR_clear_error();
      closeConn(conn, false);  // a failed handshake (no or a bad client certificate, not TLS)
    }
  }

  // Reads what is available: the request head, or (while streaming) the client's close.
  void onReadable(Conn& conn) {
    if (conn.state == Conn::State::kClosed || conn.handshaking) {
      return;
    }
    char buf[kReadChunk];
    while (true) {
      ssize_t n = 0;
      if (conn.ssl != nullptr) {
        ERR_clear_error();
        const int r = SSL_read(conn.ssl, buf, sizeof(buf));
        if (r <= 0) {
          const int e = SSL_get_error(conn.ssl, r);
          if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
            break;
          }
          ERR_clear_error();
          n = 0;
        } else {
          n = r;
        }
      } else {
        n = ::recv(conn.fd, buf, sizeof(buf), 0);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
          break;
        }
        if (n < 0 && errno == EINTR) {
          continue;
        }
      }
      if (n <= 0) {
        // The client closed (or reset) the connection.
        if (conn.stream && !conn.stream_ended) {
          conn.stream->clientGone(false);
          conn.stream_ended = true;
        }
        closeConn(conn, true);
        return;
      }
      if (conn.state == Conn::State::kReadHead) {
        conn.in.append(buf, static_cast<size_t>(n));
        if (conn.in.size() > kMaxRequestHeadBytes + kReadChunk) {
          break;  // parse reports 431
        }
      }
      // Bytes after the head (pipelined requests) are ignored: every response closes.
    }
    if (conn.state == Conn::State::kReadHead && !conn.in.empty()) {
      auto parsed = parseRequestHead(conn.in);
      if (std::holds_alternative<NeedMore>(parsed)) {
        return;
      }
      if (auto* error = std::get_if<HttpParseError>(&parsed)) {
        HttpResponse response;
        response.status = error->status;
        response.headers.emplace_back("Content-Type", "application/json");
        response.body = "{\"error\":\"bad_request\",\"message\":\"" + error->message + "\"}\n";
        startResponse(conn, std::move(response));
        return;
      }
      conn.state = Conn::State::kHandling;
      conn.in.clear();
      conn.in.shrink_to_fit();
      dispatch(conn, std::move(std::get<HttpRequest>(parsed)));
    }
  }

  void dispatch(Conn& conn, HttpRequest request) {
    Shared* shared = shared_.get();
    Loop* self = this;
    const uint64_t id = conn.id;
    ConnectionInfo info = conn.info;
    auto job = [shared, self, id, request = std::move(request), info = std::move(info)] {
      auto response = std::make_shared<HttpResponse>(shared->handler(request, info));
      Task task;
      task.kind = Task::Kind::kResponse;
      task.id = id;
      task.response = std::move(response);
      self->post(std::move(task));
    };
    {
      std::lock_guard lock(shared->jobs_mu);
      shared->jobs.push_back(std::move(job));
    }
    shared->jobs_cv.notify_one();
  }

  void onResponse(uint64_t id, std::shared_ptr<HttpResponse> response) {
    auto it = conns_.find(id);
    if (it == conns_.end() || it->second->state != Conn::State::kHandling) {
      return;  // the client left meanwhile; the stream (if any) closes with `response`
    }
    startResponse(*it->second, std::move(*response));
    if (it->second->state == Conn::State::kClosed) {
      conns_.erase(it);
    }
  }

  void startResponse(Conn& conn, HttpResponse response) {
    std::string& out = conn.out;
    out += "HTTP/1.1 ";
    out += std::to_string(response.status);
    out += ' ';
    out += reasonPhrase(response.status);
    out += "\r\n";
    for (const auto& [name, value] : response.headers) {
      out += name;
      out += ": ";
      out += value;
      out += "\r\n";
    }
    if (!response.stream) {
      out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
    }
    out += "Connection: close\r\n\r\n";
    out += response.body;
    if (response.stream) {
      conn.stream = std::move(response.stream);
      conn.state = Conn::State::kStreaming;
      if (shared_->stopping) {
        conn.stream->shutdown(out);
        conn.stream_ended = true;
      }
      pump(conn);
    } else {
      conn.state = Conn::State::kWriting;
      flush(conn);
      if (conn.pending() == 0) {
        closeConn(conn, false);
      }
    }
  }

  void onWritable(Conn& conn) {
    if (conn.state == Conn::State::kStreaming) {
      pump(conn);
    } else if (conn.state == Conn::State::kWriting) {
      flush(conn);
      if (conn.pending() == 0) {
        closeConn(conn, false);
      }
    }
  }

  // Moves stream bytes to the socket until the socket is full, the stream is idle, or it ended.
  void pump(Conn& conn) {
    const uint64_t id = conn.id;
    Loop* self = this;
    const std::function<void()> wake = [self, id] { self->wake(id); };
    while (conn.state == Conn::State::kStreaming) {
      if (conn.pending() > 0) {
        if (!flush(conn)) {
          return;  // closed
        }
        if (conn.pending() >= kHighWater) {
          return;  // EPOLLOUT continues
        }
      }
      if (conn.stream_ended) {
        if (conn.pending() == 0) {
          closeConn(conn, false);
        }
        return;
      }
      if (conn.stream_idle) {
        return;
      }
      const size_t before = conn.out.size();
      const StreamBody::Pull result = conn.stream->pull(conn.out, kPullBudget, wake);
      if (result == StreamBody::Pull::kEnded) {
        conn.stream_ended = true;
      } else if (result == StreamBody::Pull::kIdle) {
        conn.stream_idle = true;
        if (conn.out.size() == before) {
          flush(conn);
          return;
        }
      }
    }
  }

  // Writes pending bytes; false when the connection was closed.
  bool flush(Conn& conn) {
    while (conn.pending() > 0) {
      const char* data = conn.out.data() + conn.out_off;
      const size_t len = conn.pending();
      ssize_t n = 0;
      if (conn.ssl != nullptr) {
        ERR_clear_error();
        const int r = SSL_write(conn.ssl, data, static_cast<int>(std::min<size_t>(len, 1 << 30)));
        if (r <= 0) {
          const int e = SSL_get_error(conn.ssl, r);
          if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
            break;
          }
          ERR_clear_error();
          n = -1;
        } else {
          n = r;
        }
      } else {
        n = ::send(conn.fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
          break;
        }
        if (n < 0 && errno == EINTR) {
          continue;
        }
      }
      if (n < 0) {
        if (conn.stream && !conn.stream_ended) {
          conn.stream->clientGone(false);
          conn.stream_ended = true;
        }
        closeConn(conn, true);
        return false;
      }
      conn.out_off += static_cast<size_t>(n);
      conn.last_progress = conn.last_write = Clock::now();
    }
    if (conn.pending() == 0) {
      conn.out.clear();
      conn.out_off = 0;
      conn.last_progress = Clock::now();
      if (conn.out.capacity() > kKeepCapacity) {
        conn.out.shrink_to_fit();
      }
    } else if (conn.out_off > kHighWater) {
      conn.out.erase(0, conn.out_off);
      conn.out_off = 0;
    }
    return true;
  }

  void tick() {
    const auto now = Clock::now();
    std::vector<uint64_t> closed;
    for (auto& [id, ptr] : conns_) {
      Conn& conn = *ptr;
      switch (conn.state) {
        case Conn::State::kReadHead:
          if (now - conn.created > shared_->options.head_timeout) {
            closeConn(conn, false);
          }
          break;
        case Conn::State::kWriting:
          if (now - conn.last_progress > shared_->options.write_timeout) {
            closeConn(conn, false);
          }
          break;
        case Conn::State::kStreaming:
          if (conn.pending() > 0 && now - conn.last_progress > shared_->options.write_timeout) {
            if (!conn.stream_ended) {
              conn.stream->clientGone(true);
              conn.stream_ended = true;
            }
            closeConn(conn, false);
          } else if (!conn.stream_ended && conn.pending() == 0 &&
                     now - conn.last_write >= shared_->options.heartbeat_interval) {
            conn.stream->heartbeat(conn.out);
            pump(conn);
          }
          break;
        default:
          break;
      }
      if (conn.state == Conn::State::kClosed) {
        closed.push_back(id);
      }
    }
    for (uint64_t id : closed) {
      conns_.erase(id);
    }
  }

  void beginShutdown() {
    shutdown_started_ = true;
    shutdown_deadline_ = Clock::now() + kShutdownGrace;
    if (listen_fd_ >= 0) {
      epoll_ctl(epfd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
    }
    std::vector<uint64_t> closed;
    for (auto& [id, ptr] : conns_) {
      Conn& conn = *ptr;
      if (conn.state == Conn::State::kStreaming && !conn.stream_ended) {
        conn.stream->shutdown(conn.out);
        conn.stream_ended = true;
        pump(conn);
      } else if (conn.state == Conn::State::kReadHead) {
        closeConn(conn, false);
      }
      if (conn.state == Conn::State::kClosed) {
        closed.push_back(id);
      }
    }
    for (uint64_t id : closed) {
      conns_.erase(id);
    }
  }

  void closeConn(Conn& conn, bool /*by_peer*/) {
    if (conn.state == Conn::State::kClosed) {
      return;
    }
    conn.state = Conn::State::kClosed;
    if (conn.ssl != nullptr) {
      SSL_free(conn.ssl);
      conn.ssl = nullptr;
    }
    epoll_ctl(epfd_, EPOLL_CTL_DEL, conn.fd, nullptr);
    ::close(conn.fd);
    conn.fd = -1;
    conn.stream.reset();
    (*shared_->connections)--;
  }

  std::shared_ptr<Shared> shared_;
  size_t index_;
  int epfd_ = -1;
  int evfd_ = -1;
  int listen_fd_ = -1;
  std::vector<Loop*> all_loops_;
  size_t next_loop_ = 0;
  uint64_t next_id_ = 1;
  std::thread thread_;
  std::unordered_map<uint64_t, std::unique_ptr<Conn>> conns_;
  bool shutdown_started_ = false;
  Clock::time_point shutdown_deadline_;

  std::mutex mu_;
  std::vector<Task> tasks_;
  std::vector<uint64_t> woken_;
  bool ended_ = false;
};

Result<std::unique_ptr<HttpServer>> HttpServer::start(Options options, HttpHandler handler) {
  std::unique_ptr<HttpServer> server(new HttpServer());
  auto shared = std::make_shared<Shared>();
  shared->options = options;
  shared->handler = std::move(handler);
  shared->connections = &server->connections_;
  shared->refused = &server->refused_;
  const std::string shown =
      (options.host.find(':') != std::string::npos ? "[" + options.host + "]" : options.host) +
      ":" + std::to_string(options.port);

  if (options.tls) {
    std::unique_ptr<SSL_CTX, SslCtxDeleter> ctx(SSL_CTX_new(TLS_server_method()));
    if (!ctx) {
      return Error{"egress TLS: " + opensslError()};
    }
    SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE |
                                    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_use_certificate_chain_file(ctx.get(), options.tls->cert_file.c_str()) != 1) {
      return Error{"egress TLS certificate '" + options.tls->cert_file + "': " + opensslError()};
    }
    if (SSL_CTX_use_PrivateKey_file(ctx.get(), options.tls->key_file.c_str(), SSL_FILETYPE_PEM) !=
            1 ||
        SSL_CTX_check_private_key(ctx.get()) != 1) {
      return Error{"egress TLS key '" + options.tls->key_file + "': " + opensslError()};
    }
    if (!options.tls->client_ca_file.empty()) {
      if (SSL_CTX_load_verify_locations(ctx.get(), options.tls->client_ca_file.c_str(), nullptr) !=
          1) {
        return Error{"egress TLS client CA '" + options.tls->client_ca_file +
                     "': " + opensslError()};
      }
      SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    }
    shared->ssl_ctx = std::move(ctx);
  }

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port_text = std::to_string(options.port);
  if (getaddrinfo(options.host.c_str(), port_text.c_str(), &hints, &found) != 0 || !found) {
    return Error{"egress cannot listen on " + shown + ": not an address of this host"};
  }
  int fd = -1;
  std::string why;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      continue;
    }
    const int one = 1;
    // SO_REUSEADDR only (no SO_REUSEPORT): a second worker on the same port must fail.
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, 4096) != 0) {
      why = std::strerror(errno);
      ::close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd < 0) {
    return Error{"egress cannot listen on " + shown + ": " + why};
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &len);
  server->port_ = bound.ss_family == AF_INET
                      ? ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port)
                      : ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);

  for (size_t i = 0; i < std::max<size_t>(1, options.handler_threads); ++i) {
    shared->workers.emplace_back([s = shared.get()] {
      while (true) {
        std::function<void()> job;
        {
          std::unique_lock lock(s->jobs_mu);
          s->jobs_cv.wait(lock, [s] { return !s->jobs.empty() || s->stopping; });
          if (s->jobs.empty()) {
            return;
          }
          job = std::move(s->jobs.front());
          s->jobs.pop_front();
        }
        job();
      }
    });
  }
  std::vector<Loop*> loops;
  for (size_t i = 0; i < std::max<size_t>(1, options.io_threads); ++i) {
    auto loop = std::make_unique<Loop>(shared, i);
    if (auto ok = loop->init(); !ok) {
      ::close(fd);
      shared->stopping = true;
      shared->jobs_cv.notify_all();
      for (auto& w : shared->workers) {
        w.join();
      }
      return ok.error();
    }
    loops.push_back(loop.get());
    server->loops_.push_back(std::move(loop));
  }
  server->loops_[0]->addListener(fd, loops);
  for (auto& loop : server->loops_) {
    loop->run();
  }
  server->shared_ = std::move(shared);
  server->listen_fd_ = fd;
  return server;
}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::stop() {
  if (stopped_ || !shared_) {
    return;
  }
  stopped_ = true;
  shared_->stopping = true;
  for (auto& loop : loops_) {
    loop->signal();
  }
  // Handlers still running finish first (a stream they open is shut down at once).
  shared_->jobs_cv.notify_all();
  for (auto& worker : shared_->workers) {
    worker.join();
  }
  for (auto& loop : loops_) {
    loop->join();
  }
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
  }
}

} // namespace causeway::egress
