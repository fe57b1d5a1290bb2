#pragma once

// The catch-up path of one client: a client resuming from a position older than the live window
// (or more than its buffer behind the newest event) reads through its own Kafka reader and its
// own copy of the partner's stages until it is close enough to join the window. Catch-up readers
// are few (egress.max_catchup_readers per worker); the thread and its consumer end as soon as
// the client joins the window, ends, or goes away.
//
// Threading: the reader runs on its own thread and hands events to the client through a queue
// bounded by the client's buffer. The client side (take(), cancel()) is called from the thread
// that serves the connection. The thread holds the shared state, so the client may drop its
// handle at any time.

#include "config/config.h"
#include "egress/live_window.h"
#include "egress/product_tail.h"
#include "egress/resume_token.h"
#include "egress/stages.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace causeway::egress {

// An event as a client receives it: its id (resume token) and JSON, and where it came from.
struct DeliveredEvent {
  std::string id;
  std::string data;
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp = -1;
};

class CatchupReader {
public:
  struct Options {
    const config::Config* config = nullptr;
    const config::ProductConfig* product = nullptr;
    const config::PartnerConfig* partner = nullptr;
    const config::ClusterConfig* cluster = nullptr;
    const ResumeTokenCodec* codec = nullptr;
    PartnerStageFactory stages;
    pipeline::StagePtr filter;                       // the client's ?filter=, or null
    std::shared_ptr<ProductTail> tail;               // the window to join
    std::vector<TokenPosition> position;             // where the client is (resolved)
    size_t buffer_bytes = 8u << 20;                  // queue bound, and the lag allowed at the join
    std::chrono::milliseconds stall_timeout{30000};  // a full queue this long ends it
    std::function<void()> on_exit;                   // called on the reader thread when it ends
  };

  // What take() found.
  struct Taken {
    std::vector<DeliveredEvent> events;
    // Set once the reader reached the window: the client continues there from `join_seq` with
    // `position` (after the events above).
    std::optional<uint64_t> join_seq;
    std::vector<TokenPosition> position;
    std::optional<std::string> failure;  // the reader could not go on
    uint64_t filtered = 0;               // records the client's filter dropped since the last take
  };

  static std::shared_ptr<CatchupReader> start(Options options);
  ~CatchupReader();

  // Takes queued events (up to about max_bytes). When nothing is queued and the reader has not
  // finished, `wake` is called once something is.
  Taken take(size_t max_bytes, std::function<void()> wake);
  // The reader stops soon; the client side may go away at once.
  void cancel();

private:
  explicit CatchupReader(Options options);
  void run();
  bool push(DeliveredEvent event);
  void finish(std::optional<uint64_t> join_seq, std::optional<std::string> failure);

  Options options_;
  std::atomic<bool> cancelled_{false};
  std::mutex mu_;
  std::condition_variable space_cv_;
  std::deque<DeliveredEvent> queue_;
  size_t queued_bytes_ = 0;
  std::atomic<uint64_t> filtered_{0};  // the reader thread counts, take() hands over
  std::function<void()> waiter_;
  bool finished_ = false;
  std::optional<uint64_t> join_seq_;
  std::optional<std::string> failure_;
  std::vector<TokenPosition> position_;  // the reader thread's; copied out at finish
  std::vector<TokenPosition> final_position_;
};

} // namespace causeway::egress
