#pragma once

// One client's stream of a product: where it is (a cursor in the shared LiveWindow, or a
// catch-up reader first), what it has been sent (its resume token), and why it ended. The
// transport (SSE connection, gRPC call) pulls events when it can write, and is woken when
// more are ready; a Subscription never blocks and never writes itself.
//
// Threading: used by one thread at a time (the connection's). The wake callbacks it registers
// run on the tail's or catch-up reader's thread and must only schedule a pull.

#include "egress/catchup_reader.h"
#include "egress/live_window.h"
#include "egress/product_tail.h"
#include "egress/resume_token.h"
#include "pipeline/stage.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace causeway::egress {

// Where an event goes: SSE text or gRPC messages.
struct EventRef {
  std::string_view id;    // the resume token after this event
  std::string_view data;  // the event JSON
  std::string_view topic;
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp = -1;
};

class EventSink {
public:
  virtual ~EventSink() = default;
  virtual void add(const EventRef& event) = 0;
};

// Counters a Subscription adds to (shared per partner and product; see StreamHub).
struct StreamCounters {
  std::atomic<int64_t> connected{0};
  std::atomic<uint64_t> events{0};
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint64_t> catchup_events{0};
  std::atomic<uint64_t> filtered{0};  // events a client's ?filter= kept from it
};

// Why a stream ended (low-cardinality, for `event: error`, metrics and audit lines).
enum class EndReason {
  kNone,
  kSlowClient,     // more than client_buffer_bytes behind the newest event
  kStreamFailed,   // the product's reader or stages stopped
  kCatchupFailed,  // the catch-up reader could not read
  kShutdown,       // the worker is stopping
  kClientGone,     // the client closed the connection (set by the transport)
  kWriteTimeout,   // the client stopped reading (set by the transport)
};
const char* toString(EndReason reason);

class Subscription {
public:
  struct Start {
    std::shared_ptr<ProductTail> tail;
    const ResumeTokenCodec* codec = nullptr;
    pipeline::StagePtr filter;               // ?filter= for window events, or null
    std::shared_ptr<CatchupReader> catchup;  // set: read through it first
    uint64_t cursor = 0;                     // window mode: the next seq to read
    bool adopted = false;                    // window mode: ids are the shared tokens
    std::vector<TokenPosition> position;     // the client's position (resolved)
    std::string token;                       // the client's position as a token
    size_t client_buffer_bytes = 8u << 20;
    StreamCounters* counters = nullptr;
    std::function<void()> on_close;  // the hub's bookkeeping (limits, tail use)
  };

  enum class Pull { kData, kIdle, kEnded };

  explicit Subscription(Start start);
  ~Subscription();  // cancels a catch-up reader, calls on_close
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  // Adds ready events to `sink` until about `max_bytes` of event data were added. kIdle: nothing
  // is ready and `wake` will be called once something may be (call pull() again then). kEnded:
  // see endReason(); nothing more will come.
  Pull pull(EventSink& sink, size_t max_bytes, const std::function<void()>& wake);

  // Marks the stream ended by the transport or the server (shutdown).
  void end(EndReason reason, std::string detail = {});

  EndReason endReason() const { return end_reason_; }
  const std::string& endDetail() const { return end_detail_; }
  // The resume token of the position after the last event pulled (the one the client sent, or
  // its start, when none was).
  const std::string& token();
  bool catchingUp() const { return catchup_ != nullptr; }
  uint64_t eventsSent() const { return events_sent_; }
  const std::string& startToken() const { return start_token_; }

private:
  Pull pullCatchup(EventSink& sink, size_t max_bytes, const std::function<void()>& wake);
  Pull pullWindow(EventSink& sink, size_t max_bytes, const std::function<void()>& wake);
  bool passesFilter(const StreamEvent& event);
  // Takes the position of event `event` (and leaves own-token mode) when it is not behind the
  // client's.
  void maybeAdopt(const StreamEvent& event);
  TokenPosition* find(uint32_t tag, int32_t partition);

  std::shared_ptr<ProductTail> tail_;
  const ResumeTokenCodec* codec_;
  std::string product_;
  pipeline::StagePtr filter_;
  std::shared_ptr<CatchupReader> catchup_;
  uint64_t cursor_ = 0;
  uint64_t consumed_bytes_ = 0;  // running window bytes before cursor_
  bool adopted_ = false;
  std::vector<TokenPosition> position_;
  std::string token_;
  bool token_stale_ = false;  // position_ moved since token_ was encoded
  std::string start_token_;
  size_t client_buffer_bytes_;
  StreamCounters* counters_;
  std::function<void()> on_close_;
  EndReason end_reason_ = EndReason::kNone;
  std::string end_detail_;
  uint64_t events_sent_ = 0;

  // Filter scratch, reused from event to event.
  pipeline::RecordView filter_view_;
  pipeline::Record filter_record_;
};

} // namespace causeway::egress
