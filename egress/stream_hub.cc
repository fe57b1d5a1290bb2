#include "egress/stream_hub.h"

#include "common/wall_clock.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace causeway::egress {
namespace {

using std::chrono::milliseconds;
constexpr milliseconds kReadyTimeout{15000};
constexpr milliseconds kResolveTimeout{10000};

OpenError notFound() {
  // The same answer for a product that does not exist and one the partner may not read: the
  // response must not tell a partner what other products exist.
  return OpenError{404, "not_found", "no such product", 0};
}

}  // namespace

StreamHub::StreamHub(Options options) : options_(std::move(options)) {
  janitor_ = std::thread([this] { janitor(); });
}

StreamHub::~StreamHub() { stop(); }

void StreamHub::stop() {
  if (stopping_.exchange(true)) {
    return;
  }
  janitor_cv_.notify_all();
  if (janitor_.joinable()) {
    janitor_.join();
  }
  std::vector<std::shared_ptr<ProductTail>> tails;
  {
    std::lock_guard lock(mu_);
    for (auto& [key, entry] : tails_) {
      entry.tail->window().fail("the worker is shutting down");
      tails.push_back(entry.tail);
    }
  }
  // Catch-up readers end on their own (they watch the window); wait for them to be gone.
  {
    std::unique_lock lock(catchup_mu_);
    catchup_cv_.wait_for(lock, std::chrono::seconds(20), [this] { return catchups_ == 0; });
  }
  for (auto& tail : tails) {
    tail->stop();
  }
  std::lock_guard lock(mu_);
  resolvers_.clear();
}

std::vector<const config::ProductConfig*> StreamHub::productsFor(const Identity& who) const {
  std::vector<const config::ProductConfig*> out;
  auto partner = options_.config->partners.find(who.partner);
  if (partner == options_.config->partners.end()) {
    return out;
  }
  for (const auto& product : options_.config->products) {
    const auto& names = partner->second.products;
    if (std::find(names.begin(), names.end(), product.name) != names.end() &&
        who.tokenAllows(product.name)) {
      out.push_back(&product);
    }
  }
  return out;
}

StreamCounters& StreamHub::countersOf(const std::string& partner, const std::string& product) {
  auto& slot = counters_[Key{partner, product}];
  if (!slot) {
    slot = std::make_unique<StreamCounters>();
  }
  return *slot;
}

void StreamHub::recordDisconnect(const std::string& partner, const std::string& product,
                                 EndReason reason) {
  std::lock_guard lock(mu_);
  disconnects_[Key{partner, product}][toString(reason)]++;
}

void StreamHub::recordRejected(const std::string& code) {
  std::lock_guard lock(mu_);
  rejected_[code]++;
}

StreamHub::Resolver& StreamHub::resolverOf(const config::ProductConfig& product) {
  std::lock_guard lock(mu_);
  auto& slot = resolvers_[product.name];
  if (!slot) {
    slot = std::make_unique<Resolver>();
  }
  return *slot;
}

Result<std::vector<TokenPosition>> StreamHub::resolve(const config::ProductConfig& product,
                                                      const StartSpec& start) {
  Resolver& resolver = resolverOf(product);
  std::lock_guard lock(resolver.mu);
  const auto& cluster = options_.config->clusters.at(product.source);
  const auto now = std::chrono::steady_clock::now();
  if (!resolver.reader) {
    auto reader = std::make_unique<ProductReader>(product, cluster, "resolve." + product.name);
    if (auto opened = reader->open(); !opened) {
      return opened.error();
    }
    resolver.reader = std::move(reader);
    resolver.discovered = {};
  }
  if (now - resolver.discovered > std::chrono::seconds(5)) {
    if (auto found = resolver.reader->discover(kResolveTimeout); !found) {
      return found.error();
    }
    resolver.discovered = now;
  }
  auto next = resolver.reader->resolve(start, kResolveTimeout);
  if (!next) {
    return next.error();
  }
  std::vector<TokenPosition> out;
  const auto& partitions = resolver.reader->partitions();
  for (size_t i = 0; i < partitions.size(); ++i) {
    out.push_back(TokenPosition{partitions[i].tag, partitions[i].partition, (*next)[i]});
  }
  return out;
}

Result<std::shared_ptr<ProductTail>> StreamHub::tailOf(const config::ProductConfig& product,
                                                       const config::PartnerConfig& partner,
                                                       const std::vector<TokenPosition>& start) {
  std::shared_ptr<ProductTail> tail;
  bool created = false;
  {
    std::lock_guard lock(mu_);
    TailEntry& entry = tails_[Key{product.name, partner.name}];
    if (!entry.tail) {
      ProductTail::Options options;
      options.config = options_.config;
      options.product = &product;
      options.partner = &partner;
      options.cluster = &options_.config->clusters.at(product.source);
      options.codec = options_.codec;
      options.stages = options_.stages;
      options.window_bytes =
          options_.config->egress ? options_.config->egress->live_window_bytes : size_t{64} << 20;
      entry.tail = std::make_shared<ProductTail>(std::move(options));
      created = true;
    }
    entry.users++;
    tail = entry.tail;
  }
  if (created) {
    tail->start(start);
  }
  if (auto ready = tail->ready(kReadyTimeout); !ready) {
    releaseTail(Key{product.name, partner.name});
    return ready.error();
  }
  return tail;
}

void StreamHub::releaseTail(const Key& key) {
  std::lock_guard lock(mu_);
  auto it = tails_.find(key);
  if (it != tails_.end() && --it->second.users == 0) {
    it->second.idle_since = std::chrono::steady_clock::now();
  }
}

void StreamHub::janitor() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    janitor_cv_.wait_for(lock, std::chrono::seconds(1));
    if (stopping_) {
      break;
    }
    std::vector<std::shared_ptr<ProductTail>> idle;
    const auto now = std::chrono::steady_clock::now();
    for (auto it = tails_.begin(); it != tails_.end();) {
      TailEntry& entry = it->second;
      const bool failed = entry.tail->window().snapshot().failure.has_value();
      if (entry.users == 0 && (failed || now - entry.idle_since > options_.tail_linger)) {
        idle.push_back(std::move(entry.tail));
        it = tails_.erase(it);
      } else {
        ++it;
      }
    }
    lock.unlock();
    idle.clear();  // stops the tails (joins their threads) outside the lock
    lock.lock();
  }
}

std::optional<OpenError> StreamHub::checkAccess(const Identity& who, std::string_view name) const {
  const config::ProductConfig* product = options_.config->findProduct(std::string(name));
  auto partner = options_.config->partners.find(who.partner);
  if (product == nullptr || partner == options_.config->partners.end() ||
      std::find(partner->second.products.begin(), partner->second.products.end(), name) ==
          partner->second.products.end()) {
    return notFound();
  }
  if (!who.tokenAllows(name)) {
    return OpenError{403, "forbidden", "this credential may not read this product", 0};
  }
  return std::nullopt;
}

std::variant<std::unique_ptr<Subscription>, OpenError>
StreamHub::open(const Identity& who, std::string_view name, const OpenRequest& request) {
  auto reject = [this](OpenError error) {
    recordRejected(error.code);
    return error;
  };
  if (stopping_) {
    return reject({503, "unavailable", "the server is shutting down", 1});
  }
  const config::ProductConfig* product = options_.config->findProduct(std::string(name));
  auto partner_it = options_.config->partners.find(who.partner);
  if (product == nullptr || partner_it == options_.config->partners.end() ||
      std::find(partner_it->second.products.begin(), partner_it->second.products.end(), name) ==
          partner_it->second.products.end()) {
    return reject(notFound());
  }
  const config::PartnerConfig& partner = partner_it->second;
  if (!who.tokenAllows(name)) {
    return reject({403, "forbidden", "this credential may not read this product", 0});
  }
  const config::EgressConfig defaults;
  const config::EgressConfig& egress =
      options_.config->egress ? *options_.config->egress : defaults;

  // Where the client starts. A Last-Event-ID wins over ?from=: browsers reconnect to the same
  // URL and add the header.
  StartSpec spec = StartLatest{};
  std::optional<std::vector<TokenPosition>> token_positions;
  if (request.last_event_id) {
    auto decoded = options_.codec->decode(product->name, *request.last_event_id);
    if (auto* error = std::get_if<TokenError>(&decoded)) {
      return reject({400, "bad_resume_token", error->message, 0});
    }
    token_positions = std::get<std::vector<TokenPosition>>(decoded);
    spec = *token_positions;
  } else if (request.from) {
    auto parsed = parseFrom(*request.from);
    if (!parsed) {
      return reject({400, "bad_request", parsed.error().message, 0});
    }
    spec = *parsed;
  }
  pipeline::StagePtr filter;
  pipeline::StagePtr catchup_filter;
  if (request.filter) {
    auto made = options_.filters(*request.filter, *product);
    auto again = options_.filters(*request.filter, *product);
    if (!made || !again) {
      return reject({400, "bad_filter", !made ? made.error().message : again.error().message, 0});
    }
    filter = std::move(*made);
    catchup_filter = std::move(*again);
  }

  // Connection limits: counted until the Subscription closes.
  {
    std::lock_guard lock(mu_);
    if (!request.internal) {
      if (partner_connections_[partner.name] >= static_cast<int>(partner.max_connections)) {
        rejected_["too_many_connections"]++;
        return OpenError{429, "too_many_connections",
                         "this partner has reached its limit of " +
                             std::to_string(partner.max_connections) + " concurrent streams",
                         5};
      }
      if (connections_ >= static_cast<int>(egress.max_connections)) {
        rejected_["server_full"]++;
        return OpenError{503, "server_full", "the server has reached its connection limit", 5};
      }
      partner_connections_[partner.name]++;
      connections_++;
    }
  }
  const Key tail_key{product->name, partner.name};
  auto release_slot = [this, partner_name = partner.name, internal = request.internal] {
    if (!internal) {
      std::lock_guard lock(mu_);
      partner_connections_[partner_name]--;
      connections_--;
    }
  };

  Subscription::Start start;
  start.codec = options_.codec;
  start.client_buffer_bytes = egress.client_buffer_bytes;
  if (!request.internal) {  // the Pushpin publisher is counted by its own metrics
    std::lock_guard lock(mu_);
    start.counters = &countersOf(partner.name, product->name);
  }

  // Fast paths on a running tail: no request to the cluster at all.
  std::shared_ptr<ProductTail> tail;
  {
    std::lock_guard lock(mu_);
    auto it = tails_.find(tail_key);
    if (it != tails_.end() && !it->second.tail->window().snapshot().failure) {
      tail = it->second.tail;
      it->second.users++;
    }
  }
  if (tail && tail->ready(milliseconds(0))) {
    if (request.last_event_id) {
      if (auto seq =
              tail->window().afterToken(*request.last_event_id, egress.client_buffer_bytes)) {
        start.cursor = *seq;
        start.adopted = true;
        start.token = *request.last_event_id;
      }
    } else if (std::holds_alternative<StartLatest>(spec)) {
      auto [seq, token] = tail->window().head();
      start.cursor = seq;
      start.adopted = true;
      start.token = std::move(token);
    }
  }
  if (!start.adopted) {
    if (tail) {
      releaseTail(tail_key);  // tailOf() counts this client again
      tail.reset();
    }
    auto position = resolve(*product, spec);
    if (!position) {
      release_slot();
      spdlog::warn("egress: product '{}': {}", product->name, position.error().message);
      return reject({503, "unavailable", "the product cannot be read right now", 5});
    }
    auto got = tailOf(*product, partner, *position);
    if (!got) {
      release_slot();
      spdlog::warn("egress: product '{}' for partner '{}': {}", product->name, partner.name,
                   got.error().message);
      return reject({503, "unavailable", "the product cannot be read right now", 5});
    }
    tail = std::move(*got);
    start.position = *position;
    start.token = request.last_event_id ? *request.last_event_id
                                        : options_.codec->encode(product->name, *position);
    if (auto seq = tail->window().afterToken(options_.codec->encode(product->name, *position),
                                             egress.client_buffer_bytes)) {
      start.cursor = *seq;
      start.adopted = true;
    } else if (auto join = tail->window().joinPoint(*position, egress.client_buffer_bytes,
                                                    *options_.codec, product->name)) {
      start.cursor = *join;
    } else {
      if (request.internal) {
        // The publisher never catches up: it continues at the live edge, from where it is.
        auto [seq, token] = tail->window().head();
        start.cursor = seq;
        start.adopted = true;
        start.token = std::move(token);
      } else {
        {
          std::lock_guard lock(catchup_mu_);
          if (catchups_ >= egress.max_catchup_readers) {
            releaseTail(tail_key);
            release_slot();
            return reject({503, "catchup_busy",
                           "too many clients are catching up on older positions; retry shortly",
                           2});
          }
          ++catchups_;
        }
        CatchupReader::Options c;
        c.config = options_.config;
        c.product = product;
        c.partner = &partner;
        c.cluster = &options_.config->clusters.at(product->source);
        c.codec = options_.codec;
        c.stages = options_.stages;
        c.filter = std::move(catchup_filter);
        c.tail = tail;
        c.position = *position;
        c.buffer_bytes = egress.client_buffer_bytes;
        c.on_exit = [this] {
          std::lock_guard lock(catchup_mu_);
          --catchups_;
          catchup_cv_.notify_all();
        };
        start.catchup = CatchupReader::start(std::move(c));
      }
    }
  }
  start.tail = std::move(tail);
  start.filter = std::move(filter);
  start.on_close = [this, release_slot, tail_key] {
    release_slot();
    releaseTail(tail_key);
  };
  return std::make_unique<Subscription>(std::move(start));
}

ProductInfo StreamHub::describe(const config::ProductConfig& product) {
  ProductInfo info;
  info.product = &product;
  const auto now_ms = wallClockMs();
  std::optional<double> from_tail;
  {
    // A running tail that has read everything knows the newest record without asking.
    std::lock_guard lock(mu_);
    for (auto& [key, entry] : tails_) {
      if (key.first != product.name || !entry.tail) {
        continue;
      }
      const TailStats stats = entry.tail->stats();
      if (stats.caught_up && stats.newest_timestamp_ms >= 0) {
        from_tail = std::max<double>(0, (now_ms - stats.newest_timestamp_ms) / 1000.0);
        break;
      }
    }
  }
  Resolver& resolver = resolverOf(product);
  std::lock_guard lock(resolver.mu);
  const auto now = std::chrono::steady_clock::now();
  if (resolver.info.product == nullptr || now - resolver.fresh_at >= options_.freshness_cache) {
    // A reader of its own: ends() moves its assignment.
    ProductReader reader(product, options_.config->clusters.at(product.source),
                         "freshness." + product.name);
    if (reader.open() && reader.discover(kResolveTimeout)) {
      std::vector<std::string> topics;
      for (const auto& p : reader.partitions()) {
        if (std::find(topics.begin(), topics.end(), p.topic) == topics.end()) {
          topics.push_back(p.topic);
        }
      }
      std::sort(topics.begin(), topics.end());
      info.topics = std::move(topics);
      if (auto ends = reader.ends(milliseconds(3000))) {
        int64_t newest = -1;
        bool any = false;
        for (const auto& end : *ends) {
          newest = std::max(newest, end.last_timestamp);
          any = any || end.high > 0;
        }
        info.empty = !any;
        if (newest >= 0) {
          info.freshness_seconds = std::max<double>(0, (now_ms - newest) / 1000.0);
        }
      }
    }
    resolver.info = info;
    resolver.fresh_at = now;
  }
  info = resolver.info;
  if (from_tail) {
    info.freshness_seconds = from_tail;
    info.empty = false;
  }
  return info;
}

HubMetrics StreamHub::metrics() {
  HubMetrics m;
  std::vector<std::pair<Key, StreamCounters*>> counters;
  {
    std::lock_guard lock(mu_);
    for (auto& [key, c] : counters_) {
      HubMetrics::Stream s;
      s.partner = key.first;
      s.product = key.second;
      s.connected = c->connected;
      s.events = c->events;
      s.bytes = c->bytes;
      s.catchup_events = c->catchup_events;
      s.filtered = c->filtered;
      auto d = disconnects_.find(key);
      if (d != disconnects_.end()) {
        s.disconnects = d->second;
      }
      auto tail = tails_.find(Key{key.second, key.first});
      if (tail != tails_.end() && tail->second.tail) {
        const TailStats stats = tail->second.tail->stats();
        if (stats.newest_timestamp_ms >= 0) {
          const auto now_ms = wallClockMs();
          s.freshness_seconds = std::max<double>(0, (now_ms - stats.newest_timestamp_ms) / 1000.0);
        }
      }
      if (const auto* product = options_.config->findProduct(key.second);
          product != nullptr && product->freshness_slo.count() > 0) {
        s.freshness_slo_seconds = product->freshness_slo.count() / 1000.0;
      }
      m.streams.push_back(std::move(s));
    }
    m.rejected = rejected_;
  }
  {
    std::lock_guard lock(catchup_mu_);
    m.catchup_readers = catchups_;
  }
  return m;
}

size_t StreamHub::tailCount() {
  std::lock_guard lock(mu_);
  return tails_.size();
}

std::shared_ptr<ProductTail> StreamHub::tailFor(const std::string& product,
                                                const std::string& partner) {
  std::lock_guard lock(mu_);
  auto it = tails_.find(Key{product, partner});
  return it == tails_.end() ? nullptr : it->second.tail;
}

}  // namespace causeway::egress
