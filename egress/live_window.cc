#include "egress/live_window.h"

#include <algorithm>
#include <variant>

namespace causeway::egress {

size_t StreamEvent::bytes() const {
  size_t n = sizeof(StreamEvent) + topic.size() + data.size() + token.size();
  n += key ? key->size() : 0;
  n += value ? value->size() : 0;
  for (const auto& [name, v] : headers) {
    n += name.size() + (v ? v->size() : 0) + sizeof(headers[0]);
  }
  return n;
}

bool notAhead(const std::vector<TokenPosition>& position, const std::vector<TokenPosition>& bound) {
  size_t j = 0;
  for (const TokenPosition& b : bound) {
    while (j < position.size() && std::pair(position[j].topic_tag, position[j].partition) <
                                      std::pair(b.topic_tag, b.partition)) {
      ++j;
    }
    if (j < position.size() && position[j].topic_tag == b.topic_tag &&
        position[j].partition == b.partition && position[j].next_offset > b.next_offset) {
      return false;
    }
  }
  return true;
}

void LiveWindow::reset(std::string start_token) {
  std::unique_lock lock(mu_);
  first_seq_ += events_.size();
  events_.clear();
  by_token_.clear();
  evicted_bytes_ = total_bytes_;
  base_token_ = std::move(start_token);
  failure_.reset();
}

void LiveWindow::append(std::vector<StreamEvent>& events) {
  if (events.empty()) {
    return;
  }
  {
    std::unique_lock lock(mu_);
    for (StreamEvent& event : events) {
      event.seq = first_seq_ + events_.size();
      total_bytes_ += event.bytes();
      event.end_bytes = total_bytes_;
      events_.push_back(std::move(event));
      // deque::push_back keeps references to other elements valid: the views stay good.
      by_token_[events_.back().token] = events_.back().seq;
    }
    evictLocked();
  }
  events.clear();
  std::vector<Waiter> waiters;
  {
    std::lock_guard w(waiters_mu_);
    waiters.swap(waiters_);
  }
  for (Waiter& waiter : waiters) {
    waiter();
  }
}

void LiveWindow::evictLocked() {
  while (!events_.empty() && total_bytes_ - evicted_bytes_ > max_bytes_ && events_.size() > 1) {
    StreamEvent& front = events_.front();
    auto it = by_token_.find(front.token);
    if (it != by_token_.end() && it->second == front.seq) {
      by_token_.erase(it);
    }
    evicted_bytes_ = front.end_bytes;
    base_token_ = std::move(front.token);
    events_.pop_front();
    ++first_seq_;
  }
}

void LiveWindow::fail(std::string reason) {
  {
    std::unique_lock lock(mu_);
    failure_ = std::move(reason);
  }
  std::vector<Waiter> waiters;
  {
    std::lock_guard w(waiters_mu_);
    waiters.swap(waiters_);
  }
  for (Waiter& waiter : waiters) {
    waiter();
  }
}

std::optional<uint64_t> LiveWindow::joinPoint(const std::vector<TokenPosition>& position,
                                              uint64_t max_lag_bytes, const ResumeTokenCodec& codec,
                                              std::string_view product) {
  std::shared_lock lock(mu_);
  // The oldest event within max_lag_bytes of the newest.
  auto it = std::lower_bound(
      events_.begin(), events_.end(), total_bytes_ - std::min(total_bytes_, max_lag_bytes),
      [](const StreamEvent& e, uint64_t bytes) { return e.end_bytes <= bytes; });
  // `it` is the first event ending after the lag limit; a client may start at it when it has
  // seen everything before it.
  const uint64_t start = first_seq_ + static_cast<uint64_t>(it - events_.begin());
  const std::string& before = it == events_.begin() ? base_token_ : std::prev(it)->token;
  if (before.empty()) {
    return std::nullopt;
  }
  auto decoded = codec.decode(product, before);
  const auto* bound = std::get_if<std::vector<TokenPosition>>(&decoded);
  if (bound == nullptr) {
    return std::nullopt;
  }
  // The client has seen everything before `start` when its position is not behind the
  // position before it (events below the client's position are skipped as it reads on).
  for (const TokenPosition& b : *bound) {
    auto p = std::lower_bound(position.begin(), position.end(), std::pair(b.topic_tag, b.partition),
                              [](const TokenPosition& t, const std::pair<uint32_t, int32_t>& k) {
                                return std::pair(t.topic_tag, t.partition) < k;
                              });
    const int64_t mine =
        p != position.end() && p->topic_tag == b.topic_tag && p->partition == b.partition
            ? p->next_offset
            : 0;
    if (mine < b.next_offset) {
      return std::nullopt;
    }
  }
  return start;
}

std::optional<uint64_t> LiveWindow::afterToken(std::string_view token, uint64_t max_lag_bytes) {
  std::shared_lock lock(mu_);
  uint64_t seq = 0;
  uint64_t before = 0;
  if (token == base_token_) {
    seq = first_seq_;
    before = evicted_bytes_;
  } else if (auto it = by_token_.find(token); it != by_token_.end()) {
    seq = it->second + 1;
    before = events_[it->second - first_seq_].end_bytes;
  } else {
    return std::nullopt;
  }
  if (total_bytes_ - before > max_lag_bytes) {
    return std::nullopt;
  }
  return seq;
}

LiveWindow::Snapshot LiveWindow::snapshot() {
  std::shared_lock lock(mu_);
  return Snapshot{first_seq_, first_seq_ + events_.size(), total_bytes_, failure_};
}

uint64_t LiveWindow::bytesBefore(uint64_t seq) {
  std::shared_lock lock(mu_);
  if (seq <= first_seq_ || events_.empty()) {
    return evicted_bytes_;
  }
  const uint64_t i = std::min<uint64_t>(seq - first_seq_, events_.size());
  return events_[i - 1].end_bytes;
}

std::pair<uint64_t, std::string> LiveWindow::head() {
  std::shared_lock lock(mu_);
  return {first_seq_ + events_.size(), events_.empty() ? base_token_ : events_.back().token};
}

std::string LiveWindow::headToken() {
  std::shared_lock lock(mu_);
  return events_.empty() ? base_token_ : events_.back().token;
}

size_t LiveWindow::bytes() {
  std::shared_lock lock(mu_);
  return total_bytes_ - evicted_bytes_;
}

size_t LiveWindow::events() {
  std::shared_lock lock(mu_);
  return events_.size();
}

} // namespace causeway::egress
