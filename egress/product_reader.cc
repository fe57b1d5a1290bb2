#include "egress/product_reader.h"

#include "kafka/client_factory.h"
#include "kafka/handles.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <ctime>
#include <map>
#include <mutex>

namespace causeway::egress {
namespace {

using std::chrono::milliseconds;

int ms(milliseconds d) {
  return static_cast<int>(std::max<int64_t>(1, d.count()));
}

bool digits(std::string_view s, size_t n, int& out) {
  if (s.size() < n) {
    return false;
  }
  out = 0;
  for (size_t i = 0; i < n; ++i) {
    if (s[i] < '0' || s[i] > '9') {
      return false;
    }
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
int64_t daysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

} // namespace

std::optional<int64_t> parseRfc3339(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (s.size() < 20 || !digits(s, 4, year) || s[4] != '-' || !digits(s.substr(5), 2, month) ||
      s[7] != '-' || !digits(s.substr(8), 2, day) || (s[10] != 'T' && s[10] != 't') ||
      !digits(s.substr(11), 2, hour) || s[13] != ':' || !digits(s.substr(14), 2, minute) ||
      s[16] != ':' || !digits(s.substr(17), 2, second)) {
    return std::nullopt;
  }
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > kDays[month - 1] || hour > 23 || minute > 59 ||
      second > 60) {
    return std::nullopt;
  }
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month == 2 && day == 29 && !leap) {
    return std::nullopt;
  }
  size_t i = 19;
  int64_t millis = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    int scale = 100;
    const size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      millis += (s[i] - '0') * scale;
      scale /= 10;
      ++i;
    }
    if (i == start) {
      return std::nullopt;
    }
  }
  int64_t offset_minutes = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh = 0, om = 0;
    if (!digits(s.substr(i + 1), 2, oh) || s.size() < i + 6 || s[i + 3] != ':' ||
        !digits(s.substr(i + 4), 2, om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_minutes = (oh * 60 + om) * (s[i] == '-' ? -1 : 1);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != s.size()) {
    return std::nullopt;
  }
  const int64_t days =
      daysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  const int64_t seconds =
      days * 86400 + hour * 3600 + minute * 60 + std::min(second, 59) - offset_minutes * 60;
  return seconds * 1000 + millis;
}

Result<StartSpec> parseFrom(std::string_view text) {
  if (text == "earliest") {
    return StartSpec{StartEarliest{}};
  }
  if (text == "latest") {
    return StartSpec{StartLatest{}};
  }
  if (auto t = parseRfc3339(text)) {
    return StartSpec{StartAtTime{*t}};
  }
  return Error{"from must be earliest, latest or an RFC 3339 time like 2024-05-01T12:00:00Z"};
}

ProductTopics::ProductTopics(const config::ProductConfig& product) {
  for (const auto& pattern : product.topics) {
    // Patterns were compiled once by the config loader: they compile.
    patterns_.emplace_back(pattern, std::regex::ECMAScript | std::regex::optimize);
  }
}

bool ProductTopics::contains(const std::string& topic) const {
  if (topic.rfind("__", 0) == 0) {
    return false;  // Kafka's own (__consumer_offsets, __transaction_state)
  }
  return std::any_of(patterns_.begin(), patterns_.end(),
                     [&](const std::regex& re) { return std::regex_match(topic, re); });
}

struct ProductReader::Impl {
  kafka::HandlePtr consumer;
  kafka::QueuePtr queue;
  // rd_kafka_topic_t* -> index of the topic's first partition in partitions_ (and its name).
  std::map<const void*, std::pair<size_t, std::string_view>> by_topic;
  std::vector<rd_kafka_message_t*> batch;
  std::vector<pipeline::HeaderView> headers;
  std::atomic<uint64_t> records{0};
  std::atomic<uint64_t> errors{0};
  std::atomic<uint64_t> resets{0};
};

ProductReader::ProductReader(const config::ProductConfig& product,
                             const config::ClusterConfig& cluster, std::string purpose)
    : product_(product),
      cluster_(cluster),
      purpose_(std::move(purpose)),
      topics_(product),
      impl_(std::make_unique<Impl>()) {}

ProductReader::~ProductReader() {
  if (impl_->consumer) {
    impl_->queue.reset();
    rd_kafka_assign(impl_->consumer.get(), nullptr);
  }
}

Status ProductReader::open() {
  static std::atomic<int> instance{0};
  kafka::ClientSpec spec;
  spec.type = RD_KAFKA_CONSUMER;
  spec.cluster = &cluster_;
  spec.client_id = "causeway-egress";
  spec.defaults = {
      {"fetch.wait.max.ms", "20"},
      {"isolation.level", "read_committed"},
      // librdkafka 2.0.2 stops fetching for ~1 s whenever more than queued.min.messages wait.
      {"queued.min.messages", "200000"},
      {"queued.max.messages.kbytes", "65536"},
  };
  // librdkafka wants a group.id even for assign(); this one never joins or commits.
  spec.owned = {{"group.id", "causeway.egress." + purpose_ + "." + std::to_string(::getpid()) +
                                 "." + std::to_string(instance++)},
                {"enable.auto.commit", "false"},
                {"enable.auto.offset.store", "false"},
                {"enable.partition.eof", "false"},
                // A resume position that retention deleted restarts at the oldest record.
                {"auto.offset.reset", "earliest"}};
  auto consumer = kafka::makeClient(spec);
  if (!consumer) {
    return consumer.error();
  }
  impl_->consumer = std::move(*consumer);
  rd_kafka_poll_set_consumer(impl_->consumer.get());
  impl_->queue.reset(rd_kafka_queue_get_consumer(impl_->consumer.get()));
  return {};
}

Status ProductReader::discover(milliseconds timeout) {
  auto metadata = kafka::fetchAllTopics(impl_->consumer.get(), cluster_, timeout);
  if (!metadata) {
    return metadata.error();
  }
  std::vector<ProductPartition> found;
  std::map<uint32_t, std::string> tags;
  for (int i = 0; i < (*metadata)->topic_cnt; ++i) {
    const auto& t = (*metadata)->topics[i];
    if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR || !topics_.contains(t.topic)) {
      continue;
    }
    const uint32_t tag = topicTag(t.topic);
    auto [it, inserted] = tags.emplace(tag, t.topic);
    if (!inserted) {
      return Error{"product '" + product_.name + "': topics '" + it->second + "' and '" + t.topic +
                   "' cannot be told apart in resume tokens; narrow the product's "
                   "topic regexes"};
    }
    for (int p = 0; p < t.partition_cnt; ++p) {
      found.push_back(ProductPartition{t.topic, tag, t.partitions[p].id});
    }
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    return std::pair(a.tag, a.partition) < std::pair(b.tag, b.partition);
  });
  partitions_ = std::move(found);
  impl_->by_topic.clear();
  return {};
}

int ProductReader::indexOf(uint32_t tag, int32_t partition) const {
  auto it = std::lower_bound(partitions_.begin(), partitions_.end(), std::pair(tag, partition),
                             [](const ProductPartition& p, const std::pair<uint32_t, int32_t>& k) {
                               return std::pair(p.tag, p.partition) < k;
                             });
  if (it == partitions_.end() || it->tag != tag || it->partition != partition) {
    return -1;
  }
  return static_cast<int>(it - partitions_.begin());
}

Result<std::pair<int64_t, int64_t>> ProductReader::watermarks(size_t index, milliseconds timeout) {
  const ProductPartition& p = partitions_.at(index);
  int64_t low = 0;
  int64_t high = 0;
  const auto err = rd_kafka_query_watermark_offsets(impl_->consumer.get(), p.topic.c_str(),
                                                    p.partition, &low, &high, ms(timeout));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Error{kafka::describeCluster(cluster_) + ": watermarks of " + p.topic + "[" +
                 std::to_string(p.partition) + "]: " + rd_kafka_err2str(err)};
  }
  return std::pair(low, high);
}

Result<std::vector<int64_t>> ProductReader::resolve(const StartSpec& start, milliseconds timeout) {
  std::vector<int64_t> next(partitions_.size(), 0);
  if (const auto* at = std::get_if<StartAtTime>(&start)) {
    kafka::PartitionListPtr list(rd_kafka_topic_partition_list_new(
        static_cast<int>(std::max<size_t>(1, partitions_.size()))));
    for (const auto& p : partitions_) {
      rd_kafka_topic_partition_list_add(list.get(), p.topic.c_str(), p.partition)->offset =
          at->unix_ms;
    }
    const auto err = rd_kafka_offsets_for_times(impl_->consumer.get(), list.get(), ms(timeout));
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Error{kafka::describeCluster(cluster_) +
                   ": offsets by time: " + rd_kafka_err2str(err)};
    }
    for (size_t i = 0; i < partitions_.size(); ++i) {
      const auto& e = list->elems[i];
      if (e.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return Error{kafka::describeCluster(cluster_) + ": offsets by time of " + e.topic + "[" +
                     std::to_string(e.partition) + "]: " + rd_kafka_err2str(e.err)};
      }
      if (e.offset >= 0) {
        next[i] = e.offset;
      } else {
        auto marks = watermarks(i, timeout);
        if (!marks) {
          return marks.error();
        }
        next[i] = marks->second;  // no record at or after the time
      }
    }
    return next;
  }
  const auto* token = std::get_if<std::vector<TokenPosition>>(&start);
  for (size_t i = 0; i < partitions_.size(); ++i) {
    if (token != nullptr) {
      const auto& p = partitions_[i];
      auto it = std::lower_bound(token->begin(), token->end(), std::pair(p.tag, p.partition),
                                 [](const TokenPosition& t, const std::pair<uint32_t, int32_t>& k) {
                                   return std::pair(t.topic_tag, t.partition) < k;
                                 });
      if (it != token->end() && it->topic_tag == p.tag && it->partition == p.partition) {
        next[i] = it->next_offset;
        auto marks = watermarks(i, timeout);
        if (!marks) {
          return marks.error();
        }
        if (next[i] < marks->first) {
          impl_->resets++;
          next[i] = marks->first;
        } else if (next[i] > marks->second) {
          // Ahead of the partition's end: only a token of another cluster's offsets does this.
          next[i] = marks->second;
        }
        continue;
      }
    }
    auto marks = watermarks(i, timeout);
    if (!marks) {
      return marks.error();
    }
    next[i] = std::holds_alternative<StartLatest>(start) ? marks->second : marks->first;
  }
  return next;
}

Status ProductReader::assign(const std::vector<int64_t>& next) {
  kafka::PartitionListPtr list(
      rd_kafka_topic_partition_list_new(static_cast<int>(std::max<size_t>(1, next.size()))));
  for (size_t i = 0; i < partitions_.size() && i < next.size(); ++i) {
    rd_kafka_topic_partition_list_add(list.get(), partitions_[i].topic.c_str(),
                                      partitions_[i].partition)
        ->offset = next[i];
  }
  const auto err = rd_kafka_assign(impl_->consumer.get(), list.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Error{kafka::describeCluster(cluster_) + ": assign: " + rd_kafka_err2str(err)};
  }
  return {};
}

size_t ProductReader::poll(milliseconds timeout, size_t max, const Visitor& visit) {
  Impl& impl = *impl_;
  impl.batch.resize(max);
  const ssize_t n =
      rd_kafka_consume_batch_queue(impl.queue.get(), ms(timeout), impl.batch.data(), max);
  if (n <= 0) {
    return 0;
  }
  size_t visited = 0;
  pipeline::RecordView view;
  for (ssize_t i = 0; i < n; ++i) {
    kafka::MessagePtr message(impl.batch[static_cast<size_t>(i)]);
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (message->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET ||
          message->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE) {
        impl.resets++;
      } else if (message->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        impl.errors++;
      }
      continue;
    }
    auto found = impl.by_topic.find(message->rkt);
    if (found == impl.by_topic.end()) {
      const char* name = rd_kafka_topic_name(message->rkt);
      auto first = std::find_if(partitions_.begin(), partitions_.end(),
                                [&](const ProductPartition& p) { return p.topic == name; });
      if (first == partitions_.end()) {
        continue;
      }
      found = impl.by_topic
                  .emplace(message->rkt, std::pair(static_cast<size_t>(first - partitions_.begin()),
                                                   std::string_view(first->topic)))
                  .first;
    }
    const size_t topic_first = found->second.first;
    // Partitions of a topic are contiguous and sorted by partition number.
    size_t index = topic_first;
    while (index < partitions_.size() && partitions_[index].topic == found->second.second &&
           partitions_[index].partition != message->partition) {
      ++index;
    }
    if (index >= partitions_.size() || partitions_[index].partition != message->partition) {
      continue;
    }
    view.topic = found->second.second;
    view.partition = message->partition;
    view.offset = message->offset;
    view.key = message->key != nullptr
                   ? std::optional<std::string_view>(
                         std::string_view(static_cast<const char*>(message->key), message->key_len))
                   : std::nullopt;
    view.value = message->payload != nullptr
                     ? std::optional<std::string_view>(std::string_view(
                           static_cast<const char*>(message->payload), message->len))
                     : std::nullopt;
    rd_kafka_timestamp_type_t ts_type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
    view.timestamp = rd_kafka_message_timestamp(message.get(), &ts_type);
    view.timestamp_type =
        ts_type == RD_KAFKA_TIMESTAMP_CREATE_TIME       ? pipeline::TimestampType::kCreateTime
        : ts_type == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME ? pipeline::TimestampType::kLogAppendTime
                                                        : pipeline::TimestampType::kNone;
    view.headers.clear();
    rd_kafka_headers_t* headers = nullptr;
    if (rd_kafka_message_headers(message.get(), &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      const char* name = nullptr;
      const void* value = nullptr;
      size_t size = 0;
      for (size_t h = 0;
           rd_kafka_header_get_all(headers, h, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
           ++h) {
        view.headers.push_back(pipeline::HeaderView{
            name, value != nullptr ? std::optional<std::string_view>(
                                         std::string_view(static_cast<const char*>(value), size))
                                   : std::nullopt});
      }
    }
    impl.records++;
    visit(view, index);
    ++visited;
  }
  return visited;
}

Result<std::vector<ProductReader::PartitionEnd>> ProductReader::ends(milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<PartitionEnd> out(partitions_.size());
  std::vector<int64_t> next(partitions_.size(), 0);
  size_t wanted = 0;
  for (size_t i = 0; i < partitions_.size(); ++i) {
    auto marks = watermarks(i, timeout);
    if (!marks) {
      return marks.error();
    }
    out[i].high = marks->second;
    next[i] = marks->second > marks->first ? marks->second - 1 : marks->second;
    wanted += marks->second > marks->first ? 1 : 0;
  }
  if (wanted == 0) {
    return out;
  }
  if (auto assigned = assign(next); !assigned) {
    return assigned.error();
  }
  size_t got = 0;
  while (got < wanted && std::chrono::steady_clock::now() < deadline) {
    poll(milliseconds(50), 256, [&](const pipeline::RecordView& record, size_t index) {
      if (record.offset == out[index].high - 1 && out[index].last_timestamp < 0) {
        out[index].last_timestamp = record.timestamp;
        ++got;
      }
    });
  }
  rd_kafka_assign(impl_->consumer.get(), nullptr);
  return out;
}

ReaderStats ProductReader::stats() const {
  return ReaderStats{impl_->records.load(), impl_->errors.load(), impl_->resets.load()};
}

} // namespace causeway::egress
