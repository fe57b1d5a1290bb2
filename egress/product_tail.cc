#include "egress/product_tail.h"

#include "egress/event_json.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace causeway::egress {
namespace {

using std::chrono::milliseconds;
constexpr milliseconds kStartTimeout{15000};
constexpr size_t kPollBatch = 2000;

} // namespace

ProductTail::ProductTail(Options options)
    : options_(std::move(options)),
      window_(options_.window_bytes),
      encoder_(std::make_unique<EventJsonEncoder>()) {}

ProductTail::~ProductTail() {
  stop();
}

void ProductTail::start(std::vector<TokenPosition> start) {
  thread_ = std::thread([this, start = std::move(start)]() mutable { run(std::move(start)); });
}

void ProductTail::stop() {
  stopping_ = true;
  if (thread_.joinable()) {
    thread_.join();
  }
}

Status ProductTail::ready(milliseconds timeout) {
  std::unique_lock lock(ready_mu_);
  if (!ready_cv_.wait_for(lock, timeout, [this] { return started_; })) {
    return Error{"the product's reader is still starting"};
  }
  return start_status_;
}

void ProductTail::finishStart(Status status) {
  std::lock_guard lock(ready_mu_);
  if (!started_) {
    started_ = true;
    start_status_ = std::move(status);
    ready_cv_.notify_all();
  }
}

TailStats ProductTail::stats() {
  std::lock_guard lock(stats_mu_);
  TailStats s = stats_;
  s.window_bytes = window_.bytes();
  s.window_events = window_.events();
  return s;
}

bool ProductTail::startReading(ProductReader& reader, std::vector<TokenPosition> start) {
  if (auto opened = reader.open(); !opened) {
    finishStart(opened.error());
    return false;
  }
  if (auto found = reader.discover(kStartTimeout); !found) {
    finishStart(found.error());
    return false;
  }
  StartSpec spec = StartLatest{};
  if (!start.empty()) {
    spec = std::move(start);
  }
  auto next = reader.resolve(spec, kStartTimeout);
  if (!next) {
    finishStart(next.error());
    return false;
  }
  if (auto assigned = reader.assign(*next); !assigned) {
    finishStart(assigned.error());
    return false;
  }
  position_.clear();
  for (size_t i = 0; i < reader.partitions().size(); ++i) {
    const auto& p = reader.partitions()[i];
    position_.push_back(TokenPosition{p.tag, p.partition, (*next)[i]});
  }
  window_.reset(options_.codec->encode(options_.product->name, position_));
  auto chain = options_.stages(*options_.config, *options_.partner, *options_.product);
  if (!chain) {
    finishStart(chain.error());
    return false;
  }
  chain_ = std::move(*chain);
  next_discovery_ = std::chrono::steady_clock::now() + options_.discovery_interval;
  finishStart(Status::success());
  return true;
}

void ProductTail::run(std::vector<TokenPosition> start) {
  ProductReader reader(*options_.product, *options_.cluster,
                       "tail." + options_.product->name + "." + options_.partner->name);
  if (!startReading(reader, std::move(start))) {
    std::lock_guard lock(ready_mu_);
    window_.fail(start_status_.message());
    return;
  }
  bool failed = false;
  while (!stopping_ && !failed) {
    const size_t n = reader.poll(milliseconds(100), kPollBatch,
                                 [&](const pipeline::RecordView& record, size_t index) {
                                   if (!failed && !process(record, index)) {
                                     failed = true;
                                   }
                                 });
    window_.append(batch_);
    batch_bytes_ = 0;
    if (n == 0 || std::chrono::steady_clock::now() >= next_discovery_) {
      // Caught up as far as this poll can tell: partitions' ends are cheap to check (cached
      // watermarks), new topics/partitions cost a metadata request every discovery_interval.
      if (std::chrono::steady_clock::now() >= next_discovery_) {
        rediscover(reader);
        next_discovery_ = std::chrono::steady_clock::now() + options_.discovery_interval;
      }
    }
    std::lock_guard lock(stats_mu_);
    stats_.caught_up = n == 0;
    stats_.verdicts = chain_.counts();
  }
}

bool ProductTail::process(const pipeline::RecordView& view, size_t index) {
  record_.reset(&view);
  pipeline::Verdict verdict = chain_.process(record_);
  while (verdict.outcome == pipeline::Outcome::kRetry && !stopping_) {
    // A stage waits for the control plane (a schema being fetched): this stream pauses.
    std::this_thread::sleep_for(std::min<milliseconds>(verdict.retry_after, milliseconds(1000)));
    record_.reset(&view);
    verdict = chain_.process(record_);
  }
  position_[index].next_offset = view.offset + 1;
  {
    std::lock_guard lock(stats_mu_);
    stats_.records_read++;
    stats_.newest_timestamp_ms = std::max(stats_.newest_timestamp_ms, view.timestamp);
    if (verdict.outcome != pipeline::Outcome::kPass) {
      stats_.dropped++;
    } else {
      stats_.events++;
    }
  }
  if (verdict.outcome == pipeline::Outcome::kStop) {
    window_.append(batch_);
    window_.fail("the product stream stopped: " + std::string(chain_.decidedBy()) + ": " +
                 std::string(verdict.reason) +
                 (verdict.detail.empty() ? "" : " (" + verdict.detail + ")"));
    spdlog::error("egress: product '{}' for partner '{}' stopped at {}[{}]@{}: {} {}",
                  options_.product->name, options_.partner->name, view.topic, view.partition,
                  view.offset, verdict.reason, verdict.detail);
    return false;
  }
  if (verdict.outcome != pipeline::Outcome::kPass) {
    return true;  // dropped or dead-lettered: the position moved past it, nobody sees it
  }
  StreamEvent& event = batch_.emplace_back();
  event.topic_tag = position_[index].topic_tag;
  event.partition = view.partition;
  event.offset = view.offset;
  event.timestamp = record_.timestamp();
  event.topic = std::string(view.topic);
  encoder_->encode(record_, options_.product->headers, event.data);
  options_.codec->encodeTo(event.token, options_.product->name, position_);
  if (auto key = record_.key()) {
    event.key = std::string(*key);
  }
  if (auto value = record_.value()) {
    event.value = std::string(*value);
  }
  if (!options_.product->headers.empty()) {
    record_.forEachHeader([&](std::string_view name, std::optional<std::string_view> v) {
      const auto& names = options_.product->headers;
      if (std::find(names.begin(), names.end(), name) != names.end()) {
        event.headers.emplace_back(std::string(name),
                                   v ? std::optional<std::string>(std::string(*v)) : std::nullopt);
      }
    });
  }
  batch_bytes_ += event.bytes();
  if (batch_bytes_ >= options_.append_bytes) {
    window_.append(batch_);
    batch_bytes_ = 0;
  }
  return true;
}

void ProductTail::rediscover(ProductReader& reader) {
  const auto before = reader.partitions();
  if (auto found = reader.discover(milliseconds(5000)); !found) {
    spdlog::warn("egress: product '{}': listing its topics failed: {}", options_.product->name,
                 found.message());
    return;
  }
  const auto& after = reader.partitions();
  if (after.size() == before.size() &&
      std::equal(after.begin(), after.end(), before.begin(), [](const auto& a, const auto& b) {
        return a.tag == b.tag && a.partition == b.partition;
      })) {
    return;
  }
  // New partitions start at their earliest offset (nothing in them was seen); known ones
  // continue where the tail is; partitions that disappeared are left out.
  std::vector<TokenPosition> positions;
  std::vector<int64_t> next;
  for (size_t i = 0; i < after.size(); ++i) {
    const auto& p = after[i];
    auto it = std::find_if(position_.begin(), position_.end(), [&](const TokenPosition& t) {
      return t.topic_tag == p.tag && t.partition == p.partition;
    });
    int64_t offset = 0;
    if (it != position_.end()) {
      offset = it->next_offset;
    } else if (auto marks = reader.watermarks(i, milliseconds(5000)); marks) {
      offset = marks->first;
    }
    positions.push_back(TokenPosition{p.tag, p.partition, offset});
    next.push_back(offset);
  }
  if (auto assigned = reader.assign(next); !assigned) {
    spdlog::warn("egress: product '{}': {}", options_.product->name, assigned.message());
    return;
  }
  position_ = std::move(positions);
  spdlog::info("egress: product '{}' now has {} partitions", options_.product->name,
               position_.size());
}

} // namespace causeway::egress
