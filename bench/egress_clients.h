#pragma once

// The SSE clients of causeway-egress-bench: many streams over plain sockets in one thread
// (epoll), each verifying what it receives. Benchmarks only; nothing in the product includes
// this.
//
// SseFleet: open(path, n) connects n clients (blocking connect and request, then non-blocking
// reads), runUntilStreaming() waits until every client has its response head and the stream's
// `retry:` line (the server has created the subscription by then), runUntilComplete(n) reads
// until every client has n events or the deadline passes. A client whose stream the server ends
// (`event: error`, or a close before it is complete) reconnects with its last `id:` as
// Last-Event-ID, as a browser does; a `503` (catch-up readers busy) is retried after its
// Retry-After, a proxy's `502` after a second. At most 100 attempts per client. Single-threaded:
// call from one thread.

#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace causeway::bench {

// A free TCP port on 127.0.0.1 (bound, read, released).
int freePort();

// The status of `GET path` with a bearer token on 127.0.0.1:port; 0 when nothing answers.
int httpStatus(int port, const std::string& path, const std::string& token);

// Per-partition order of one stream: offsets must run consecutively from 0.
struct StreamCheck {
  explicit StreamCheck(int partitions) : next(static_cast<size_t>(partitions), 0) {}
  void see(int partition, int64_t offset);
  bool complete(int64_t expected) const {
    return gaps == 0 && repeats == 0 && bad == 0 && events == static_cast<uint64_t>(expected);
  }

  std::vector<int64_t> next;
  uint64_t events = 0;
  uint64_t gaps = 0;
  uint64_t repeats = 0;
  uint64_t bad = 0;  // unknown partition, or a data line without partition/offset
};

class SseFleet {
public:
  using Clock = std::chrono::steady_clock;

  // `must_contain`: when not empty, every event's data must contain it (the policy check).
  SseFleet(int port, std::string token, int partitions, std::string must_contain);
  ~SseFleet();
  SseFleet(const SseFleet&) = delete;
  SseFleet& operator=(const SseFleet&) = delete;

  void open(const std::string& path, int clients);
  bool runUntilStreaming(Clock::time_point deadline);
  void runUntilComplete(int64_t expected, Clock::time_point deadline);
  void closeAll();
  // When the newest event arrived at any client.
  Clock::time_point lastEventAt() const { return last_event_at_; }
  // When the first event arrived at any client.
  Clock::time_point firstEventAt() const { return first_event_at_; }

  struct Totals {
    uint64_t events = 0;
    uint64_t bytes = 0;
    uint64_t gaps = 0;
    uint64_t repeats = 0;
    uint64_t reconnects = 0;
    uint64_t busy_retries = 0;
    uint64_t unmasked = 0;
    uint64_t complete_clients = 0;
    std::string first_error;
  };
  Totals totals(int64_t expected) const;
  // The first client's error text (connect failures, statuses), or "".
  std::string firstError() const;

private:
  struct Client {
    explicit Client(int partitions) : check(partitions) {}
    int fd = -1;
    bool head_done = false;
    bool streaming = false;  // `retry:` seen
    bool done = false;       // complete, or given up
    bool in_error = false;   // inside an `event: error` (its data is not a record)
    bool chunked = false;    // Transfer-Encoding: chunked (Pushpin); the direct server is not
    uint64_t chunk_left = 0;
    bool chunk_crlf = false;  // the CRLF after a chunk's data is due
    std::string raw;          // chunked bytes not decoded yet
    int status = 0;
    std::string buf;
    std::string last_id;
    StreamCheck check;
    uint64_t bytes = 0;
    uint64_t reconnects = 0;    // after the server ended the stream
    uint64_t busy_retries = 0;  // after a 503 (or a proxy's 502/500)
    uint64_t unmasked = 0;
    Clock::time_point retry_at{};  // set: reconnect then
    std::string error;
  };

  bool connectClient(Client& c);
  void onReadable(Client& c, int64_t expected);
  void consumeLines(Client& c, int64_t expected);
  static void dechunk(Client& c, const char* data, size_t n);
  void onLine(Client& c, std::string_view line, int64_t expected);
  void ended(Client& c, const std::string& why);
  void poll(int timeout_ms, int64_t expected);

  int port_;
  std::string token_;
  int partitions_;
  std::string must_contain_;
  std::string path_;
  int epoll_fd_ = -1;
  std::minstd_rand jitter_{20261127};  // retry delays after a proxy's 5xx
  std::vector<Client> clients_;
  std::vector<char> read_buf_;
  Clock::time_point first_event_at_{};
  Clock::time_point last_event_at_{};
};

}  // namespace causeway::bench
