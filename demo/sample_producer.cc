#include "demo/sample_producer.h"
#include "kafka/handles.h"

#include <librdkafka/rdkafka.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <random>
#include <thread>

namespace causeway::demo {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kCustomers = 5000;
constexpr int kSkus = 400;
// Per-record bytes beyond key, value and headers (record framing, batch share): only for the
// ahead-of-the-reader estimate.
constexpr uint64_t kRecordOverhead = 70;


void destroyProducer(rd_kafka_t* rk) {
  if (rk != nullptr) {
    rd_kafka_destroy(rk);
  }
}

// msg_opaque of every record: which ledger it belongs to and its sequence number there.
uint64_t packOpaque(size_t topic, int32_t partition, uint64_t sequence) {
  return (static_cast<uint64_t>(topic) << 56) | (static_cast<uint64_t>(partition) << 40) |
         (sequence & ((1ull << 40) - 1));
}
void unpackOpaque(uint64_t opaque, size_t& topic, int32_t& partition, uint64_t& sequence) {
  topic = static_cast<size_t>(opaque >> 56);
  partition = static_cast<int32_t>((opaque >> 40) & 0xffff);
  sequence = opaque & ((1ull << 40) - 1);
}

std::string isoTime(int64_t epoch_ms) {
  const std::time_t seconds = static_cast<std::time_t>(epoch_ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(epoch_ms % 1000));
  return buffer;
}

std::string padded(const char* prefix, uint64_t n, int width) {
  char buffer[48];
  std::snprintf(buffer, sizeof(buffer), "%s%0*llu", prefix, width,
                static_cast<unsigned long long>(n));
  return buffer;
}

double money(std::mt19937_64& rng, double low, double high) {
  std::uniform_real_distribution<double> d(low, high);
  return std::round(d(rng) * 100) / 100;
}

template <size_t N> const char* pick(std::mt19937_64& rng, const char* const (&options)[N]) {
  return options[std::uniform_int_distribution<size_t>(0, N - 1)(rng)];
}

struct SampleRecord {
  std::string key;
  std::optional<std::string> value;  // nullopt: tombstone
  std::string source_app;
  std::string schema;
};

// Builds the records; all randomness comes from one seeded generator.
class SampleData {
public:
  explicit SampleData(uint64_t seed) : rng_(seed) {}

  SampleRecord make(const std::string& topic, int64_t timestamp_ms) {
    if (topic == "orders") {
      return order(timestamp_ms);
    }
    if (topic == "payments") {
      return payment(timestamp_ms);
    }
    if (topic == "customers") {
      return customer(timestamp_ms);
    }
    return generic(topic, timestamp_ms);
  }

  std::string traceId() {
    static const char* kHex = "0123456789abcdef";
    std::string id(32, '0');
    for (auto& c : id) {
      c = kHex[rng_() & 0xf];
    }
    return id;
  }

  std::mt19937_64& rng() { return rng_; }

private:
  std::string customerId() {
    return padded("customer-", std::uniform_int_distribution<int>(1, kCustomers)(rng_), 5);
  }

  SampleRecord order(int64_t ts) {
    static const char* const kCurrencies[] = {"EUR", "USD", "GBP", "CHF", "SEK"};
    ++orders_;
    const std::string customer = customerId();
    nlohmann::json items = nlohmann::json::array();
    double amount = 0;
    const int lines = std::uniform_int_distribution<int>(1, 4)(rng_);
    for (int i = 0; i < lines; ++i) {
      const int qty = std::uniform_int_distribution<int>(1, 5)(rng_);
      const double price = money(rng_, 2, 120);
      amount += qty * price;
      items.push_back({{"sku", padded("SKU-", std::uniform_int_distribution<int>(1, kSkus)(rng_),
                                      4)},
                       {"qty", qty},
                       {"price", price}});
    }
    nlohmann::json value = {{"id", padded("order-", orders_, 8)},
                            {"customer", customer},
                            {"items", std::move(items)},
                            {"amount", std::round(amount * 100) / 100},
                            {"currency", pick(rng_, kCurrencies)},
                            {"created_at", isoTime(ts)}};
    // Keyed by customer: one customer's orders stay in order in one partition.
    return {customer, value.dump(), "checkout-service", "orders.v1"};
  }

  SampleRecord payment(int64_t ts) {
    static const char* const kMethods[] = {"card", "card", "card", "paypal", "sepa", "klarna"};
    static const char* const kStatus[] = {"authorized", "captured", "captured", "captured",
                                          "refunded", "declined"};
    ++payments_;
    const uint64_t order = std::uniform_int_distribution<uint64_t>(1, std::max<uint64_t>(
                                                                          1, orders_))(rng_);
    const std::string order_id = padded("order-", order, 8);
    nlohmann::json value = {{"id", padded("pay-", payments_, 8)},
                            {"order", order_id},
                            {"amount", money(rng_, 5, 600)},
                            {"currency", "EUR"},
                            {"method", pick(rng_, kMethods)},
                            {"status", pick(rng_, kStatus)},
                            {"created_at", isoTime(ts)}};
    return {order_id, value.dump(), "payment-gateway", "payments.v1"};
  }

  SampleRecord customer(int64_t ts) {
    static const char* const kFirst[] = {"Ada", "Grace", "Linus", "Margaret", "Ken", "Barbara",
                                         "Dennis", "Frances", "Edsger", "Radia"};
    static const char* const kLast[] = {"Lovelace", "Hopper", "Torvalds", "Hamilton",
                                        "Thompson", "Liskov", "Ritchie", "Allen", "Dijkstra",
                                        "Perlman"};
    static const char* const kTiers[] = {"bronze", "silver", "gold", "platinum"};
    static const char* const kCountries[] = {"DE", "FR", "NL", "SE", "GB", "US", "ES", "IT"};
    const std::string id = customerId();
    // About one update in 40 deletes the profile: a tombstone (null value) for compaction.
    if (std::uniform_int_distribution<int>(0, 39)(rng_) == 0) {
      return {id, std::nullopt, "crm", "customers.v1"};
    }
    const std::string first = pick(rng_, kFirst);
    const std::string last = pick(rng_, kLast);
    std::string email = first + "." + last + "@example.com";
    std::transform(email.begin(), email.end(), email.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    nlohmann::json value = {{"id", id},
                            {"name", first + " " + last},
                            {"email", email},
                            {"tier", pick(rng_, kTiers)},
                            {"country", pick(rng_, kCountries)},
                            {"marketing_opt_in", (rng_() & 1) == 1},
                            {"updated_at", isoTime(ts)}};
    return {id, value.dump(), "crm", "customers.v1"};
  }

  SampleRecord generic(const std::string& topic, int64_t ts) {
    ++others_;
    nlohmann::json value = {{"seq", others_}, {"topic", topic}, {"at", isoTime(ts)}};
    return {padded("key-", rng_() % 10000, 5), value.dump(), "sample-producer", topic + ".v1"};
  }

  std::mt19937_64 rng_;
  uint64_t orders_ = 0;
  uint64_t payments_ = 0;
  uint64_t others_ = 0;
};

int64_t nowEpochMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

} // namespace

struct SampleProducer::PartitionLedger {
  // cumulative[i]: bytes of the first i records produced to this partition.
  std::vector<uint64_t> cumulative{0};
  // Source offset of sequence number 0, learnt from the first acknowledgement (-1: not yet).
  std::atomic<int64_t> base_offset{-1};

  PartitionLedger() = default;
  PartitionLedger(PartitionLedger&& other) noexcept
      : cumulative(std::move(other.cumulative)), base_offset(other.base_offset.load()) {}
};

std::vector<SampleTopic> defaultSampleTopics() {
  return {{"orders", 6, 0.5}, {"payments", 4, 0.3}, {"customers", 3, 0.2}};
}

SampleProducer::SampleProducer(SampleProducerOptions options)
    : options_(std::move(options)), producer_(nullptr, &destroyProducer) {}

SampleProducer::~SampleProducer() {
  if (producer_) {
    // Nothing may stay queued: destroy would otherwise wait for it.
    rd_kafka_purge(producer_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_flush(producer_.get(), 1000);
  }
}

Result<std::unique_ptr<SampleProducer>> SampleProducer::create(SampleProducerOptions options) {
  if (options.topics.empty()) {
    return Error{"sample producer: no topics"};
  }
  if (options.topics.size() > 255) {
    return Error{"sample producer: more than 255 topics"};
  }
  for (const auto& topic : options.topics) {
    if (topic.partitions < 1 || topic.partitions > 65535 || !(topic.weight > 0)) {
      return Error{"sample producer: topic '" + topic.name +
                   "' needs 1..65535 partitions and a positive weight"};
    }
  }
  std::unique_ptr<SampleProducer> self(new SampleProducer(std::move(options)));
  const auto& opts = self->options_;

  kafka::ConfPtr conf(rd_kafka_conf_new());
  std::map<std::string, std::string> properties = {
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"linger.ms", "5"},
      {"compression.type", "none"},
  };
  for (const auto& [name, value] : opts.properties) {
    properties[name] = value;
  }
  properties["bootstrap.servers"] = opts.bootstrap;
  char errstr[512];
  for (const auto& [name, value] : properties) {
    if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), errstr, sizeof(errstr)) !=
        RD_KAFKA_CONF_OK) {
      return Error{"sample producer: property '" + name + "': " + errstr};
    }
  }
  rd_kafka_conf_set_dr_msg_cb(conf.get(), &SampleProducer::onDelivery);
  rd_kafka_conf_set_opaque(conf.get(), self.get());
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), errstr, sizeof(errstr));
  if (rk == nullptr) {
    return Error{std::string("sample producer: ") + errstr};
  }
  conf.release();  // owned by the producer now
  self->producer_.reset(rk);

  self->ledgers_.resize(opts.topics.size());
  for (size_t t = 0; t < opts.topics.size(); ++t) {
    self->ledgers_[t].resize(static_cast<size_t>(opts.topics[t].partitions));
    self->acked_per_partition_[opts.topics[t].name].assign(
        static_cast<size_t>(opts.topics[t].partitions), 0);
  }
  return self;
}

void SampleProducer::onDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  auto* self = static_cast<SampleProducer*>(opaque);
  size_t topic = 0;
  int32_t partition = 0;
  uint64_t sequence = 0;
  unpackOpaque(reinterpret_cast<uintptr_t>(message->_private), topic, partition, sequence);
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    self->failed_.fetch_add(1);
    std::lock_guard lock(self->mutex_);
    if (self->first_error_.empty()) {
      self->first_error_ = self->options_.topics[topic].name + "/" + std::to_string(partition) +
                           ": " + rd_kafka_err2str(message->err);
    }
    return;
  }
  self->acked_.fetch_add(1);
  self->acked_bytes_.fetch_add(message->key_len + message->len);
  auto& ledger = self->ledgers_[topic][static_cast<size_t>(partition)];
  if (ledger.base_offset.load() < 0 && message->offset >= 0) {
    ledger.base_offset.store(message->offset - static_cast<int64_t>(sequence));
  }
  std::lock_guard lock(self->mutex_);
  ++self->acked_per_partition_[self->options_.topics[topic].name][static_cast<size_t>(partition)];
}

bool SampleProducer::waitUntilBehindLimit(size_t topic, int32_t partition, uint64_t next_size,
                                          const std::atomic<bool>& stop) {
  if (!options_.consumed) {
    return true;
  }
  auto& ledger = ledgers_[topic][static_cast<size_t>(partition)];
  const uint64_t produced_bytes = ledger.cumulative.back() + next_size;
  if (produced_bytes <= options_.max_bytes_ahead_per_partition) {
    return true;  // cannot be ahead by more than everything produced
  }
  while (!stop.load()) {
    const int64_t base = ledger.base_offset.load();
    const int64_t consumed = options_.consumed(options_.topics[topic].name, partition);
    if (base >= 0 && consumed >= base) {
      const auto done = std::min<uint64_t>(static_cast<uint64_t>(consumed - base),
                                           ledger.cumulative.size() - 1);
      if (produced_bytes - ledger.cumulative[done] <= options_.max_bytes_ahead_per_partition) {
        return true;
      }
    }
    rd_kafka_poll(producer_.get(), 20);
  }
  return false;
}

Status SampleProducer::run(const std::atomic<bool>& stop, std::chrono::milliseconds flush_timeout) {
  rd_kafka_t* rk = producer_.get();
  SampleData data(options_.seed);
  std::vector<double> cumulative_weight;
  double total_weight = 0;
  for (const auto& topic : options_.topics) {
    total_weight += topic.weight;
    cumulative_weight.push_back(total_weight);
  }
  std::uniform_real_distribution<double> topic_pick(0, total_weight);
  std::uniform_int_distribution<int64_t> jitter_ms(0, 25);

  const double rate = options_.rate;
  const double burst = std::max(1.0, rate * 0.05);  // at most 50 ms worth at once
  double tokens = 1;
  auto last_refill = Clock::now();

  while (produced_.load() < options_.records && !stop.load()) {
    if (rate > 0) {
      const auto now = Clock::now();
      tokens = std::min(burst,
                        tokens + std::chrono::duration<double>(now - last_refill).count() * rate);
      last_refill = now;
      if (tokens < 1) {
        const auto wait = std::chrono::duration<double>((1 - tokens) / rate);
        rd_kafka_poll(rk, 0);
        std::this_thread::sleep_for(
            std::min<std::chrono::duration<double>>(wait, std::chrono::milliseconds(50)));
        continue;
      }
      tokens -= 1;
    }

    const double r = topic_pick(data.rng());
    const size_t t = static_cast<size_t>(
        std::lower_bound(cumulative_weight.begin(), cumulative_weight.end(), r) -
        cumulative_weight.begin());
    const size_t topic_index = std::min(t, options_.topics.size() - 1);
    const SampleTopic& topic = options_.topics[topic_index];
    // CreateTime set by the application, slightly in the past as if the event happened earlier.
    const int64_t timestamp = nowEpochMs() - jitter_ms(data.rng());
    SampleRecord record = data.make(topic.name, timestamp);
    const std::string trace_id = data.traceId();
    // Same partition as the Java client would choose for this key.
    const int32_t partition = rd_kafka_msg_partitioner_murmur2(
        nullptr, record.key.data(), record.key.size(), topic.partitions, nullptr, nullptr);

    kafka::HeadersPtr headers(rd_kafka_headers_new(4));
    rd_kafka_header_add(headers.get(), "trace-id", -1, trace_id.data(),
                        static_cast<ssize_t>(trace_id.size()));
    rd_kafka_header_add(headers.get(), "source-app", -1, record.source_app.data(),
                        static_cast<ssize_t>(record.source_app.size()));
    rd_kafka_header_add(headers.get(), "schema", -1, record.schema.data(),
                        static_cast<ssize_t>(record.schema.size()));
    rd_kafka_header_add(headers.get(), "tenant", -1, "", 0);  // present but empty

    const uint64_t size = record.key.size() + (record.value ? record.value->size() : 0) +
                          8 + trace_id.size() + 10 + record.source_app.size() + 6 +
                          record.schema.size() + 6 + kRecordOverhead;
    auto& ledger = ledgers_[topic_index][static_cast<size_t>(partition)];
    if (!waitUntilBehindLimit(topic_index, partition, size, stop)) {
      break;
    }
    const uint64_t sequence = ledger.cumulative.size() - 1;
    void* opaque = reinterpret_cast<void*>(
        static_cast<uintptr_t>(packOpaque(topic_index, partition, sequence)));

    // Null for a tombstone. librdkafka copies the bytes (MSG_F_COPY) and never writes them.
    void* value = record.value ? const_cast<char*>(record.value->data()) : nullptr;
    const size_t value_size = record.value ? record.value->size() : 0;
    rd_kafka_resp_err_t err;
    while (true) {
      err = rd_kafka_producev(
          rk, RD_KAFKA_V_TOPIC(topic.name.c_str()), RD_KAFKA_V_PARTITION(partition),
          RD_KAFKA_V_KEY(record.key.data(), record.key.size()),
          RD_KAFKA_V_VALUE(value, value_size),
          RD_KAFKA_V_HEADERS(headers.get()), RD_KAFKA_V_TIMESTAMP(timestamp),
          RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || stop.load()) {
        break;
      }
      rd_kafka_poll(rk, 10);  // wait for acknowledgements to make room
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      // The headers stay ours when producev fails.
      rd_kafka_flush(rk, 1000);
      return Error{"sample producer: producing to " + topic.name + "/" +
                   std::to_string(partition) + " failed: " + rd_kafka_err2str(err)};
    }
    headers.release();  // owned by the message now
    ledger.cumulative.push_back(ledger.cumulative.back() + size);
    produced_.fetch_add(1);
    rd_kafka_poll(rk, 0);
  }

  if (stop.load()) {
    rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_flush(rk, 1000);
    return Error{"sample producer: stopped after " + std::to_string(produced()) + " records"};
  }
  const auto deadline = Clock::now() + flush_timeout;
  while (rd_kafka_outq_len(rk) > 0 && Clock::now() < deadline && !stop.load()) {
    rd_kafka_flush(rk, 100);
  }
  if (rd_kafka_outq_len(rk) > 0) {
    const int left = rd_kafka_outq_len(rk);
    rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    rd_kafka_flush(rk, 1000);
    return Error{"sample producer: " + std::to_string(left) +
                 " records still unacknowledged after the flush timeout"};
  }
  if (failed() > 0) {
    return Error{"sample producer: " + std::to_string(failed()) + " records failed, first: " +
                 firstError()};
  }
  return Status::success();
}

std::map<std::string, std::vector<uint64_t>> SampleProducer::ackedPerPartition() const {
  std::lock_guard lock(mutex_);
  return acked_per_partition_;
}

std::string SampleProducer::firstError() const {
  std::lock_guard lock(mutex_);
  return first_error_;
}

} // namespace causeway::demo
