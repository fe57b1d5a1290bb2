#pragma once

// The shared in-memory tail of one (product, partner) stream: the newest events, each with the
// resume token of the tail's position right after it. Every client at or near the live edge
// reads from here, so a thousand clients cost one Kafka reader and one pass through the
// partner's stages, not a thousand.
//
// Positions. The tail's position vector V holds, per partition, the next offset it will read
// (dropped records advance it too). Event i carries token(V after i). A client that has seen
// every event up to i and whose own position is <= V_i everywhere may take V_i as its position:
// nothing it has not seen lies below V_i. Such a client is "adopted": its ids are the shared
// tokens, computed once per event for everybody. Until then (a client that resumed from a token
// this tail did not issue) the client keeps its own vector and signs its own tokens.
//
// Bounds. The window keeps at most max_bytes of events; the oldest go first, and the coverage
// (the position before the oldest event kept, as a token) moves forward with them. A client
// more than `client_buffer` bytes behind the newest event, or whose next event was evicted, is
// cut with its resume token (see Subscription).
//
// Thread-safety: one writer (the tail's thread) appends; any number of readers read under a
// shared lock. Waiters registered with readOrWait() are called (once) after the next append.

#include "egress/resume_token.h"

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace causeway::egress {

struct StreamEvent {
  uint64_t seq = 0;
  uint32_t topic_tag = 0;
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp = -1;
  std::string topic;
  std::string data;   // the event JSON (egress/event_json.h), one line
  std::string token;  // the tail's position right after this event
  // The record after the partner's stages, for per-client filters.
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
  uint64_t end_bytes = 0;  // running total of bytes() up to and including this event

  size_t bytes() const;
};

class LiveWindow {
public:
  using Waiter = std::function<void()>;

  explicit LiveWindow(size_t max_bytes) : max_bytes_(max_bytes) {}

  // --- Writer (the tail's thread) ---
  // Starts (or restarts) empty at the position `start_token`; `next_seq` continues sequence
  // numbers across restarts so cursors never point at a reused number.
  void reset(std::string start_token);
  // Appends events (seq and end_bytes are assigned here), evicts the oldest beyond max_bytes,
  // then calls the waiters. `events` is left empty.
  void append(std::vector<StreamEvent>& events);
  // Ends the stream for everybody (the tail failed or stopped): readers see `failure`.
  void fail(std::string reason);

  // --- Readers (any thread) ---
  struct Snapshot {
    uint64_t first_seq = 0;  // oldest event kept
    uint64_t next_seq = 0;   // the seq the next event will get
    uint64_t head_bytes = 0;
    std::optional<std::string> failure;
  };

  // Calls visit(event) for events with seq >= from, in order, until it returns false; under the
  // shared lock (visit must not call back into the window). When nothing is visited and the
  // window has not failed, `waiter` (if given) is registered atomically with the check, so no
  // append can be missed between them.
  template <typename Visit>
  Snapshot readOrWait(uint64_t from, Visit&& visit, Waiter* waiter = nullptr);

  // Where a client at `position` may join without being more than `max_lag_bytes` behind: the
  // seq to start reading at, when every event the client needs from there is still in memory.
  // nullopt when it is too far behind (it needs a catch-up reader first). Decodes at most one
  // token.
  std::optional<uint64_t> joinPoint(const std::vector<TokenPosition>& position,
                                    uint64_t max_lag_bytes, const ResumeTokenCodec& codec,
                                    std::string_view product);

  // The seq of the event whose token is exactly `token` plus one (a client resuming from a
  // token this tail issued), or the first seq when `token` is the coverage start; nullopt when
  // unknown or when the client would start more than `max_lag_bytes` behind the newest event.
  std::optional<uint64_t> afterToken(std::string_view token, uint64_t max_lag_bytes);

  Snapshot snapshot();
  // The running byte count before event `seq` (for a client's lag).
  uint64_t bytesBefore(uint64_t seq);
  // The current tail position (token of the newest event, or the start token) and the seq the
  // next event will get, read together.
  std::pair<uint64_t, std::string> head();
  std::string headToken();
  size_t bytes();
  size_t events();

private:
  void evictLocked();

  const size_t max_bytes_;
  std::shared_mutex mu_;
  std::deque<StreamEvent> events_;
  uint64_t first_seq_ = 0;      // seq of events_.front()
  uint64_t total_bytes_ = 0;    // running byte count (end_bytes of the newest event)
  uint64_t evicted_bytes_ = 0;  // end_bytes of the last evicted event
  std::string base_token_;      // position before events_.front()
  std::unordered_map<std::string_view, uint64_t> by_token_;  // views into events_' tokens
  std::optional<std::string> failure_;
  std::mutex waiters_mu_;
  std::vector<Waiter> waiters_;
};

// position <= bound everywhere bound has the partition (positions missing from `position`
// count as 0, partitions missing from `bound` are ignored). Both sorted by (tag, partition).
bool notAhead(const std::vector<TokenPosition>& position, const std::vector<TokenPosition>& bound);

template <typename Visit>
LiveWindow::Snapshot LiveWindow::readOrWait(uint64_t from, Visit&& visit, Waiter* waiter) {
  std::shared_lock lock(mu_);
  Snapshot s{first_seq_, first_seq_ + events_.size(), total_bytes_, failure_};
  bool visited = false;
  if (from >= first_seq_) {
    for (uint64_t seq = from; seq < s.next_seq; ++seq) {
      visited = true;
      if (!visit(events_[seq - first_seq_])) {
        break;
      }
    }
  }
  if (!visited && waiter != nullptr && *waiter && !failure_ && from >= first_seq_) {
    std::lock_guard w(waiters_mu_);
    waiters_.push_back(std::move(*waiter));
  }
  return s;
}

} // namespace causeway::egress
