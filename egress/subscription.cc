#include "egress/subscription.h"

#include <algorithm>
#include <variant>

namespace causeway::egress {

const char* toString(EndReason reason) {
  switch (reason) {
    case EndReason::kNone:
      return "none";
    case EndReason::kSlowClient:
      return "slow-client";
    case EndReason::kStreamFailed:
      return "stream-failed";
    case EndReason::kCatchupFailed:
      return "catchup-failed";
    case EndReason::kShutdown:
      return "shutdown";
    case EndReason::kClientGone:
      return "client-gone";
    case EndReason::kWriteTimeout:
      return "write-timeout";
  }
  return "unknown";
}

Subscription::Subscription(Start start)
    : tail_(std::move(start.tail)),
      codec_(start.codec),
      product_(tail_->product().name),
      filter_(std::move(start.filter)),
      catchup_(std::move(start.catchup)),
      cursor_(start.cursor),
      adopted_(start.adopted),
      position_(std::move(start.position)),
      token_(std::move(start.token)),
      start_token_(token_),
      client_buffer_bytes_(start.client_buffer_bytes),
      counters_(start.counters),
      on_close_(std::move(start.on_close)) {
  if (catchup_ == nullptr) {
    consumed_bytes_ = tail_->window().bytesBefore(cursor_);
  }
  if (counters_ != nullptr) {
    counters_->connected++;
  }
}

Subscription::~Subscription() {
  if (catchup_) {
    catchup_->cancel();
  }
  if (counters_ != nullptr) {
    counters_->connected--;
  }
  if (on_close_) {
    on_close_();
  }
}

void Subscription::end(EndReason reason, std::string detail) {
  if (end_reason_ == EndReason::kNone) {
    end_reason_ = reason;
    end_detail_ = std::move(detail);
  }
  if (catchup_) {
    catchup_->cancel();
  }
}

const std::string& Subscription::token() {
  if (token_stale_) {
    token_.clear();
    codec_->encodeTo(token_, product_, position_);
    token_stale_ = false;
  }
  return token_;
}

TokenPosition* Subscription::find(uint32_t tag, int32_t partition) {
  auto it = std::lower_bound(position_.begin(), position_.end(), std::pair(tag, partition),
                             [](const TokenPosition& t, const std::pair<uint32_t, int32_t>& k) {
                               return std::pair(t.topic_tag, t.partition) < k;
                             });
  if (it != position_.end() && it->topic_tag == tag && it->partition == partition) {
    return &*it;
  }
  // A partition the client's position does not know (new since): it needs all of it.
  it = position_.insert(it, TokenPosition{tag, partition, 0});
  return &*it;
}

Subscription::Pull Subscription::pull(EventSink& sink, size_t max_bytes,
                                      const std::function<void()>& wake) {
  if (end_reason_ != EndReason::kNone) {
    return Pull::kEnded;
  }
  if (catchup_) {
    return pullCatchup(sink, max_bytes, wake);
  }
  return pullWindow(sink, max_bytes, wake);
}

Subscription::Pull Subscription::pullCatchup(EventSink& sink, size_t max_bytes,
                                             const std::function<void()>& wake) {
  CatchupReader::Taken taken = catchup_->take(max_bytes, wake);
  if (counters_ != nullptr && taken.filtered > 0) {
    counters_->filtered += taken.filtered;
  }
  for (const DeliveredEvent& event : taken.events) {
    sink.add(EventRef{event.id, event.data, event.topic, event.partition, event.offset,
                      event.timestamp});
    token_ = event.id;
    token_stale_ = false;
    ++events_sent_;
    if (counters_ != nullptr) {
      counters_->events++;
      counters_->catchup_events++;
      counters_->bytes += event.data.size();
    }
  }
  if (taken.join_seq) {
    // Reached the window: continue there, from the reader's position.
    cursor_ = *taken.join_seq;
    position_ = std::move(taken.position);
    token_stale_ = true;
    consumed_bytes_ = tail_->window().bytesBefore(cursor_);
    catchup_.reset();
    return Pull::kData;
  }
  if (taken.failure) {
    const bool slow = *taken.failure == "slow-client";
    end(slow ? EndReason::kSlowClient : EndReason::kCatchupFailed, *taken.failure);
    catchup_.reset();
    return Pull::kEnded;
  }
  return taken.events.empty() ? Pull::kIdle : Pull::kData;
}

bool Subscription::passesFilter(const StreamEvent& event) {
  if (!filter_) {
    return true;
  }
  filter_view_.topic = event.topic;
  filter_view_.partition = event.partition;
  filter_view_.offset = event.offset;
  filter_view_.timestamp = event.timestamp;
  filter_view_.key = event.key ? std::optional<std::string_view>(*event.key) : std::nullopt;
  filter_view_.value = event.value ? std::optional<std::string_view>(*event.value) : std::nullopt;
  filter_view_.headers.clear();
  for (const auto& [name, value] : event.headers) {
    filter_view_.headers.push_back(
        pipeline::HeaderView{name, value ? std::optional<std::string_view>(*value) : std::nullopt});
  }
  filter_record_.reset(&filter_view_);
  return filter_->process(filter_record_).outcome == pipeline::Outcome::kPass;
}

void Subscription::maybeAdopt(const StreamEvent& event) {
  auto decoded = codec_->decode(product_, event.token);
  const auto* tail_position = std::get_if<std::vector<TokenPosition>>(&decoded);
  if (tail_position != nullptr && notAhead(position_, *tail_position)) {
    adopted_ = true;
  }
}

Subscription::Pull Subscription::pullWindow(EventSink& sink, size_t max_bytes,
                                            const std::function<void()>& wake) {
  LiveWindow& window = tail_->window();
  size_t added = 0;
  const uint64_t from = cursor_;
  bool evicted = false;
  std::function<void()> waiter = wake;
  auto visit = [&](const StreamEvent& event) {
    if (event.seq != cursor_) {
      evicted = true;  // cannot happen while the cursor is in the window; defensive
      return false;
    }
    ++cursor_;
    consumed_bytes_ = event.end_bytes;
    bool deliver = true;
    if (!adopted_) {
      TokenPosition* mine = find(event.topic_tag, event.partition);
      if (event.offset < mine->next_offset) {
        deliver = false;  // the client has it already (or started after it)
      } else {
        mine->next_offset = event.offset + 1;
        token_stale_ = true;
      }
    }
    const bool passes = deliver && passesFilter(event);
    if (deliver && !passes && counters_ != nullptr) {
      counters_->filtered++;
    }
    if (passes) {
      std::string_view id;
      if (adopted_) {
        token_ = event.token;
        token_stale_ = false;
        id = token_;
      } else {
        id = token();
      }
      sink.add(
          EventRef{id, event.data, event.topic, event.partition, event.offset, event.timestamp});
      added += event.data.size() + id.size();
      ++events_sent_;
      if (counters_ != nullptr) {
        counters_->events++;
        counters_->bytes += event.data.size();
      }
    } else if (adopted_) {
      token_ = event.token;  // a filtered-out event: the position still moves past it
      token_stale_ = false;
    }
    if (!adopted_) {
      maybeAdopt(event);
    }
    return added < max_bytes;
  };
  const LiveWindow::Snapshot s = window.readOrWait(cursor_, visit, &waiter);
  if (s.failure) {
    if (added > 0) {
      return Pull::kData;  // deliver what was read first
    }
    end(EndReason::kStreamFailed, *s.failure);
    return Pull::kEnded;
  }
  if (cursor_ < s.first_seq || evicted) {
    end(EndReason::kSlowClient, "the client fell out of the live window");
    return Pull::kEnded;
  }
  if (s.head_bytes - consumed_bytes_ > client_buffer_bytes_) {
    end(EndReason::kSlowClient, "the client is more than its buffer behind the newest event");
    return Pull::kEnded;
  }
  // kIdle only when nothing was visited: only then was the waiter registered.
  return cursor_ != from ? Pull::kData : Pull::kIdle;
}

} // namespace causeway::egress
