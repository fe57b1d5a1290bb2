#include "egress/pushpin.h"

#include "common/base64.h"
#include "egress/event_json.h"
#include "egress/stream_hub.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

namespace causeway::egress {
namespace {

constexpr size_t kMaxPostBytes = 512 * 1024;  // Pushpin refuses bodies over 1 MB by default

// Events are published in items of up to this much SSE text (one event may exceed it). Pushpin
// queues at most 100 items per held connection that it cannot write yet (PUBLISH_QUEUE_MAX in
// its handler, not configurable) and drops the rest silently: with one event per item, a burst
// of a few hundred events was more than a client could take in while it arrived, and the
// client stopped. Items of many events make that queue hold megabytes instead of 100 events,
// and cost Pushpin's publish rate limit (message_rate counts items times subscribers) one unit
// per item instead of per event.
constexpr size_t kMaxItemBytes = 64 * 1024;

// Builds a publish request body: {"items": [...]} with http-stream content, several events per
// item. Each item's id is the resume token after its last event and its prev-id the previous
// item's id, so a held client that missed an item sees the gap at the next one and recovers
// through its next link from exactly its last id.
class PublishBatch : public EventSink {
public:
  PublishBatch(std::string channel, std::string prev_id)
      : channel_(std::move(channel)), prev_id_(std::move(prev_id)) {}

  void add(const EventRef& e) override {
    content_ += "id: ";
    content_ += e.id;
    content_ += "\ndata: ";
    content_ += e.data;
    content_ += "\n\n";
    last_id_.assign(e.id);
    ++events_;
    if (content_.size() >= kMaxItemBytes) {
      closeItem();
    }
  }

  // The request body of every event added since the last take().
  std::string take() {
    closeItem();
    std::string out = std::move(body_);
    out += "]}";
    body_.clear();
    events_ = 0;
    items_ = 0;
    return out;
  }
  size_t count() const { return events_; }
  size_t items() const { return items_ + (content_.empty() ? 0 : 1); }
  size_t bytes() const { return body_.size() + content_.size(); }
  const std::string& lastId() const { return events_ == 0 ? prev_id_ : last_id_; }

private:
  void closeItem() {
    if (content_.empty()) {
      return;
    }
    body_ += items_ == 0 ? "{\"items\":[" : ",";
    body_ += "{\"channel\":";
    appendJsonString(body_, channel_);
    body_ += ",\"id\":";
    appendJsonString(body_, last_id_);
    body_ += ",\"prev-id\":";
    appendJsonString(body_, prev_id_);
    body_ += ",\"formats\":{\"http-stream\":{\"content\":";
    appendJsonString(body_, content_);
    body_ += "}}}";
    prev_id_ = last_id_;
    content_.clear();
    ++items_;
  }

  std::string channel_;
  std::string prev_id_;  // the id of the last closed item
  std::string last_id_;  // the token after the newest event added
  std::string body_;
  std::string content_;  // the open item's SSE text
  size_t events_ = 0;
  size_t items_ = 0;  // closed items in body_
};

}  // namespace

std::string gripChannel(const std::string& partner, const std::string& product) {
  return "causeway:" + partner + ":" + product;
}

std::optional<std::string> gripLastId(std::string_view header, std::string_view channel) {
  size_t start = 0;
  while (start < header.size()) {
    size_t end = header.find(',', start);
    if (end == std::string_view::npos) {
      end = header.size();
    }
    std::string_view item = header.substr(start, end - start);
    start = end + 1;
    while (!item.empty() && item.front() == ' ') {
      item.remove_prefix(1);
    }
    const size_t semi = item.find(';');
    if (semi == std::string_view::npos || item.substr(0, semi) != channel) {
      continue;
    }
    const size_t key = item.find("last-id=", semi);
    if (key == std::string_view::npos) {
      continue;
    }
    std::string_view id = item.substr(key + 8);
    const size_t stop = id.find_first_of("; ");
    id = id.substr(0, stop);
    if (id.size() >= 2 && id.front() == '"' && id.back() == '"') {
      id = id.substr(1, id.size() - 2);
    }
    return std::string(id);
  }
  return std::nullopt;
}

GripSessions::GripSessions(std::string_view secret)
    : mac_(std::string("causeway-grip-session\0", 22) + std::string(secret)) {}

std::string GripSessions::encode(const Identity& who, std::string_view product) const {
  std::string body = who.partner;
  body += '\0';
  body += who.token_id;
  body += '\0';
  body += who.method;
  const Digest d = mac_.sign({body, std::string_view("\0", 1), product});
  return base64Url(body) + "." +
         base64Url(std::string_view(reinterpret_cast<const char*>(d.data()), 16));
}

std::optional<Identity> GripSessions::decode(std::string_view session,
                                             std::string_view product) const {
  const size_t dot = session.find('.');
  if (dot == std::string_view::npos) {
    return std::nullopt;
  }
  auto body = decodeBase64Url(session.substr(0, dot));
  auto mac = decodeBase64Url(session.substr(dot + 1));
  if (!body || !mac) {
    return std::nullopt;
  }
  const Digest d = mac_.sign({*body, std::string_view("\0", 1), product});
  if (!constantTimeEqual(*mac, std::string_view(reinterpret_cast<const char*>(d.data()), 16))) {
    return std::nullopt;
  }
  const size_t a = body->find('\0');
  const size_t b = a == std::string::npos ? a : body->find('\0', a + 1);
  if (b == std::string::npos) {
    return std::nullopt;
  }
  Identity who;
  who.partner = body->substr(0, a);
  who.token_id = body->substr(a + 1, b - a - 1);
  who.method = body->substr(b + 1);
  return who;
}

struct PushpinPublisher::Channel {
  std::string partner;
  std::string product;
  std::unique_ptr<Subscription> subscription;
  std::thread thread;
  // Shared with the waker the live window keeps (and may call after the channel is gone, when
  // it fails at shutdown).
  struct Signal {
    std::mutex mu;
    std::condition_variable cv;
    bool woken = false;
  };
  std::shared_ptr<Signal> signal = std::make_shared<Signal>();
  std::atomic<uint64_t> items{0};
  std::atomic<uint64_t> posts{0};
  std::atomic<uint64_t> errors{0};
};

PushpinPublisher::PushpinPublisher(const config::PushpinConfig& config, StreamHub& hub)
    : config_(config), hub_(hub) {
  // http://HOST:PORT/PATH (the loader checked the scheme).
  std::string rest = config.publish_url.substr(7);
  const size_t slash = rest.find('/');
  path_ = slash == std::string::npos ? "/publish/" : rest.substr(slash);
  rest = rest.substr(0, slash);
  const size_t colon = rest.rfind(':');
  host_ = colon == std::string::npos ? rest : rest.substr(0, colon);
  port_ = colon == std::string::npos ? 80 : std::atoi(rest.c_str() + colon + 1);
}

PushpinPublisher::~PushpinPublisher() { stop(); }

Status PushpinPublisher::ensure(const std::string& partner, const std::string& product) {
  std::lock_guard lock(mu_);
  if (stopping_) {
    return Error{"stopping"};
  }
  auto key = std::pair(partner, product);
  if (channels_.count(key) != 0) {
    return Status::success();
  }
  Identity who;
  who.partner = partner;
  who.token_id = "pushpin-publisher";
  who.method = "internal";
  OpenRequest request;
  request.internal = true;
  auto opened = hub_.open(who, product, request);
  if (auto* error = std::get_if<OpenError>(&opened)) {
    return Error{error->message};
  }
  auto channel = std::make_unique<Channel>();
  channel->partner = partner;
  channel->product = product;
  channel->subscription = std::move(std::get<std::unique_ptr<Subscription>>(opened));
  Channel* raw = channel.get();
  channels_.emplace(key, std::move(channel));
  raw->thread = std::thread([this, raw] { run(*raw); });
  return Status::success();
}

void PushpinPublisher::run(Channel& channel) {
  httplib::Client client(host_, port_);
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(10, 0);
  client.set_keep_alive(true);
  PublishBatch batch(gripChannel(channel.partner, channel.product), channel.subscription->token());
  const auto wake = [signal = channel.signal] {
    std::lock_guard lock(signal->mu);
    signal->woken = true;
    signal->cv.notify_all();
  };
  auto post = [&](const std::string& body, size_t items) {
    // Retried until it lands (or the worker stops): a held client recovers a missed item
    // through its next link only when later items arrive.
    for (int attempt = 0; !stopping_; ++attempt) {
      auto response = client.Post(path_, body, "application/json");
      channel.posts++;
      if (response && response->status == 200) {
        channel.items += items;
        return;
      }
      if (attempt == 0) {
        channel.errors++;
        spdlog::warn("egress: publishing to Pushpin at {} failed ({}); retrying",
                     config_.publish_url,
                     response ? "HTTP " + std::to_string(response->status)
                              : httplib::to_string(response.error()));
      }
      std::unique_lock lock(channel.signal->mu);
      channel.signal->cv.wait_for(
          lock, std::chrono::milliseconds(std::min(2000, 100 << std::min(attempt, 4))),
          [this] { return stopping_.load(); });
    }
  };
  while (!stopping_) {
    const auto result = channel.subscription->pull(batch, kMaxPostBytes, wake);
    if (batch.count() > 0 &&
        (result != Subscription::Pull::kData || batch.bytes() >= kMaxPostBytes)) {
      const size_t items = batch.count();
      post(batch.take(), items);
    }
    if (result == Subscription::Pull::kEnded) {
      const EndReason reason = channel.subscription->endReason();
      if (reason != EndReason::kSlowClient) {
        break;  // the stream failed or the worker stops
      }
      // Pushpin fell behind: continue from the last item published. If the window no longer
      // holds what follows it, the next item's prev-id shows held clients the gap.
      spdlog::warn("egress: the Pushpin publisher of '{}' for partner '{}' fell behind; "
                   "resuming",
                   channel.product, channel.partner);
      Identity who{channel.partner, "pushpin-publisher", "internal", std::nullopt};
      OpenRequest request;
      request.internal = true;
      request.last_event_id = batch.lastId();
      auto opened = hub_.open(who, channel.product, request);
      if (auto* error = std::get_if<OpenError>(&opened)) {
        spdlog::error("egress: the Pushpin publisher of '{}' for partner '{}' stopped: {}",
                      channel.product, channel.partner, error->message);
        break;
      }
      channel.subscription = std::move(std::get<std::unique_ptr<Subscription>>(opened));
      batch = PublishBatch(gripChannel(channel.partner, channel.product),
                           channel.subscription->startToken());
      continue;
    }
    if (result == Subscription::Pull::kIdle) {
      std::unique_lock lock(channel.signal->mu);
      channel.signal->cv.wait_for(lock, std::chrono::milliseconds(500),
                                  [&] { return channel.signal->woken || stopping_.load(); });
      channel.signal->woken = false;
    }
  }
}

void PushpinPublisher::stop() {
  std::map<std::pair<std::string, std::string>, std::unique_ptr<Channel>> channels;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    channels.swap(channels_);
  }
  for (auto& [key, channel] : channels) {
    {
      std::lock_guard lock(channel->signal->mu);
      channel->signal->cv.notify_all();
    }
    if (channel->thread.joinable()) {
      channel->thread.join();
    }
  }
}

std::map<std::pair<std::string, std::string>, PushpinPublisher::Stats> PushpinPublisher::stats() {
  std::map<std::pair<std::string, std::string>, Stats> out;
  std::lock_guard lock(mu_);
  for (auto& [key, channel] : channels_) {
    out[key] = Stats{channel->items.load(), channel->posts.load(), channel->errors.load()};
  }
  return out;
}

}  // namespace causeway::egress
