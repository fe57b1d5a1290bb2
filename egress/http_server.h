#pragma once

// The HTTP/1.1 server of egress: a few epoll event loops own every connection, read request
// heads, hand them to a small pool of handler threads, and write responses without blocking.
// Streaming responses (SSE) are pulled from a StreamBody whenever the socket can take more and
// the body has more, so an idle stream costs a few hundred bytes and no thread.
//
// Why not cpp-httplib (which monitoring/ uses): it serves each connection on a pool thread for
// the connection's whole life, and a streaming response keeps that thread blocked; 1,000 open
// streams would need 1,000 threads (and a pool that small queues the 9th stream unanswered).
//
// Every response closes its connection (Connection: close): streams are long, and the other
// endpoints are rare. Optional TLS (OpenSSL 3) with optional client certificates.
//
// Lifecycle: start() binds and runs; stop() asks every stream for its last words
// (StreamBody::shutdown), gives them a moment to flush, closes everything and joins. Handlers
// run on the handler threads and may block (they open Kafka readers); StreamBody methods run on
// the connection's loop thread and must not.

#include "common/result.h"
#include "egress/http_request.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace causeway::egress {

struct ConnectionInfo {
  std::string peer;  // "127.0.0.1:53122"
  bool tls = false;
  std::string client_subject;  // the client certificate's subject (mutual TLS), or empty
};

// The body of a streaming response, pulled by the connection's loop.
class StreamBody {
public:
  enum class Pull { kData, kIdle, kEnded };
  virtual ~StreamBody() = default;
  // Appends up to about `budget` bytes to `out`. kIdle: nothing now; `wake` (safe to call from
  // any thread, any number of times) makes the loop pull again. kEnded: after what was appended,
  // the response is complete.
  virtual Pull pull(std::string& out, size_t budget, const std::function<void()>& wake) = 0;
  // Nothing was written for the heartbeat interval.
  virtual void heartbeat(std::string& out) = 0;
  // The server is stopping: the last bytes to send.
  virtual void shutdown(std::string& out) = 0;
  // The client went away (closed, or stopped reading for the write timeout). Called at most
  // once, before destruction; not called when the body ended or shut down.
  virtual void clientGone(bool write_timeout) = 0;
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Set: a streaming response; `body` is sent first, then what the stream produces until it
  // ends. No Content-Length; the end of the body is the end of the connection.
  std::unique_ptr<StreamBody> stream;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&, const ConnectionInfo&)>;

struct TlsFiles {
  std::string cert_file;
  std::string key_file;
  std::string client_ca_file;  // empty: no client certificates asked for
};

class HttpServer {
public:
  struct Options {
    std::string host = "127.0.0.1";
    int port = 0;  // 0: any free port
    size_t io_threads = 2;
    size_t handler_threads = 4;
    size_t max_connections = 10000;  // beyond this, new connections are closed at once
    std::optional<TlsFiles> tls;
    std::chrono::milliseconds heartbeat_interval{15000};
    std::chrono::milliseconds write_timeout{30000};  // output not draining this long: closed
    std::chrono::milliseconds head_timeout{10000};   // a request head must arrive within this
    int socket_send_buffer = 128 * 1024;             // SO_SNDBUF: bounds kernel memory per stream
  };

  static Result<std::unique_ptr<HttpServer>> start(Options options, HttpHandler handler);
  ~HttpServer();  // stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  void stop();
  int port() const { return port_; }
  size_t connections() const { return connections_.load(); }
  uint64_t refusedConnections() const { return refused_.load(); }

  struct Loop;
  struct Shared;

private:
  HttpServer() = default;

  std::shared_ptr<Shared> shared_;
  std::vector<std::unique_ptr<Loop>> loops_;
  int port_ = 0;
  int listen_fd_ = -1;
  std::atomic<size_t> connections_{0};
  std::atomic<uint64_t> refused_{0};
  bool stopped_ = false;
};

// "OK", "Not Found", ... for the status codes egress uses.
const char* reasonPhrase(int status);

} // namespace causeway::egress
