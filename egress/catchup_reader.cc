#include "egress/catchup_reader.h"

#include "egress/event_json.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace causeway::egress {
namespace {

using std::chrono::milliseconds;
constexpr milliseconds kTimeout{15000};

} // namespace

CatchupReader::CatchupReader(Options options) : options_(std::move(options)) {}

CatchupReader::~CatchupReader() = default;

std::shared_ptr<CatchupReader> CatchupReader::start(Options options) {
  std::shared_ptr<CatchupReader> reader(new CatchupReader(std::move(options)));
  // The thread owns a reference: it may outlive the client's handle. What it holds of the
  // server (the tail, the filter) goes before on_exit() tells the server it has ended.
  std::thread([reader] {
    reader->run();
    auto on_exit = std::move(reader->options_.on_exit);
    reader->options_.tail.reset();
    reader->options_.filter.reset();
    if (on_exit) {
      on_exit();
    }
  }).detach();
  return reader;
}

void CatchupReader::cancel() {
  cancelled_ = true;
  std::lock_guard lock(mu_);
  space_cv_.notify_all();
  waiter_ = nullptr;
}

CatchupReader::Taken CatchupReader::take(size_t max_bytes, std::function<void()> wake) {
  Taken taken;
  std::lock_guard lock(mu_);
  size_t bytes = 0;
  while (!queue_.empty() && bytes < max_bytes) {
    bytes += queue_.front().data.size() + queue_.front().id.size();
    queued_bytes_ -= queue_.front().data.size() + queue_.front().id.size();
    taken.events.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  if (!taken.events.empty()) {
    space_cv_.notify_all();
  }
  // Under mu_: finish() takes it after the reader's last count, so the take that sees the reader
  // finished hands over every record the filter dropped.
  taken.filtered = filtered_.exchange(0, std::memory_order_relaxed);
  if (queue_.empty() && finished_) {
    taken.join_seq = join_seq_;
    taken.failure = failure_;
    taken.position = final_position_;
  } else if (taken.events.empty()) {
    waiter_ = std::move(wake);
  }
  return taken;
}

bool CatchupReader::push(DeliveredEvent event) {
  std::function<void()> wake;
  {
    std::unique_lock lock(mu_);
    const auto stalled_at = std::chrono::steady_clock::now();
    while (queued_bytes_ >= options_.buffer_bytes && !cancelled_) {
      space_cv_.wait_for(lock, milliseconds(100));
      if (std::chrono::steady_clock::now() - stalled_at > options_.stall_timeout) {
        return false;
      }
    }
    if (cancelled_) {
      return false;
    }
    queued_bytes_ += event.data.size() + event.id.size();
    queue_.push_back(std::move(event));
    wake = std::move(waiter_);
    waiter_ = nullptr;
  }
  if (wake) {
    wake();
  }
  return true;
}

void CatchupReader::finish(std::optional<uint64_t> join_seq, std::optional<std::string> failure) {
  std::function<void()> wake;
  {
    std::lock_guard lock(mu_);
    finished_ = true;
    join_seq_ = join_seq;
    failure_ = std::move(failure);
    final_position_ = position_;
    wake = std::move(waiter_);
    waiter_ = nullptr;
  }
  if (wake) {
    wake();
  }
}

void CatchupReader::run() {
  position_ = options_.position;
  ProductReader reader(*options_.product, *options_.cluster,
                       "catchup." + options_.product->name + "." + options_.partner->name);
  if (auto opened = reader.open(); !opened) {
    finish(std::nullopt, opened.message());
    return;
  }
  if (auto found = reader.discover(kTimeout); !found) {
    finish(std::nullopt, found.message());
    return;
  }
  auto next = reader.resolve(StartSpec{position_}, kTimeout);
  if (!next) {
    finish(std::nullopt, next.error().message);
    return;
  }
  position_.clear();
  for (size_t i = 0; i < reader.partitions().size(); ++i) {
    const auto& p = reader.partitions()[i];
    position_.push_back(TokenPosition{p.tag, p.partition, (*next)[i]});
  }
  if (auto assigned = reader.assign(*next); !assigned) {
    finish(std::nullopt, assigned.message());
    return;
  }
  auto chain = options_.stages(*options_.config, *options_.partner, *options_.product);
  if (!chain) {
    finish(std::nullopt, chain.error().message);
    return;
  }
  EventJsonEncoder encoder;
  pipeline::Record record;
  pipeline::Record filtered;
  const std::string& product = options_.product->name;
  LiveWindow& window = options_.tail->window();
  bool ok = true;
  std::optional<std::string> failure;
  while (!cancelled_ && ok) {
    if (auto seq = window.joinPoint(position_, options_.buffer_bytes, *options_.codec, product)) {
      finish(seq, std::nullopt);
      return;
    }
    if (auto snapshot = window.snapshot(); snapshot.failure) {
      finish(std::nullopt, snapshot.failure);
      return;
    }
    reader.poll(milliseconds(100), 1000, [&](const pipeline::RecordView& view, size_t index) {
      if (!ok) {
        return;
      }
      record.reset(&view);
      pipeline::Verdict verdict = chain->process(record);
      while (verdict.outcome == pipeline::Outcome::kRetry && !cancelled_) {
        std::this_thread::sleep_for(
            std::min<milliseconds>(verdict.retry_after, milliseconds(1000)));
        record.reset(&view);
        verdict = chain->process(record);
      }
      if (verdict.outcome == pipeline::Outcome::kStop) {
        failure = "the product stream stopped: " + std::string(chain->decidedBy()) + ": " +
                  std::string(verdict.reason);
        ok = false;
        return;
      }
      position_[index].next_offset = view.offset + 1;
      if (verdict.outcome != pipeline::Outcome::kPass) {
        return;
      }
      if (options_.filter) {
        // The filter sees the record after the partner's stages, like in the window.
        if (options_.filter->process(record).outcome != pipeline::Outcome::kPass) {
          filtered_.fetch_add(1, std::memory_order_relaxed);
          return;
        }
      }
      DeliveredEvent event;
      event.topic = std::string(view.topic);
      event.partition = view.partition;
      event.offset = view.offset;
      event.timestamp = record.timestamp();
      encoder.encode(record, options_.product->headers, event.data);
      event.id = options_.codec->encode(product, position_);
      if (!push(std::move(event))) {
        ok = false;
        if (!cancelled_) {
          failure = "slow-client";
        }
      }
    });
  }
  finish(std::nullopt, cancelled_ ? std::optional<std::string>("cancelled") : failure);
}

} // namespace causeway::egress
