#include "replicator/source_reader.h"

#include "kafka/client_factory.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

namespace causeway::replicator {
namespace {

// SourcePartition::end_reached after a record of the partition was discarded (held): records
// below the next end event were not all handed out, until a record is handed out again.
constexpr int64_t kEndUnknown = -2;
// Seeks back to where a partition is, in a row without a record handed out (see next()).
constexpr uint8_t kMaxSeeksBack = 3;

// How librdkafka 2.0.2 begins the consumer error of a committed-offset lookup it gave up
// (rdkafka_assignment.c): "... offset for group", "... offsets for N partition(s)".
constexpr const char* kCommittedOffsetLookupFailed = "Failed to fetch committed offset";

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

pipeline::TimestampType timestampType(rd_kafka_timestamp_type_t type) {
  switch (type) {
  case RD_KAFKA_TIMESTAMP_CREATE_TIME:
    return pipeline::TimestampType::kCreateTime;
  case RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME:
    return pipeline::TimestampType::kLogAppendTime;
  default:
    return pipeline::TimestampType::kNone;
  }
}

}  // namespace

SourceReader::SourceReader(const config::LinkConfig& link, const config::ClusterConfig& source,
                           Listener& listener)
    : link_(link), source_(source), listener_(listener) {}

SourceReader::~SourceReader() {
  // librdkafka hangs destroying a consumer while a consumed message is alive.
  releaseCurrent();
}

Status SourceReader::open() {
  kafka::ClientSpec spec;
  spec.type = RD_KAFKA_CONSUMER;
  spec.cluster = &source_;
  spec.client_id = "causeway-" + link_.name;
  spec.defaults = {
      {"isolation.level", "read_committed"},
      {"session.timeout.ms", "10000"},
      {"heartbeat.interval.ms", "1000"},
      {"fetch.wait.max.ms", "100"},
      // librdkafka 2.0.2 stops fetching for ~1 s whenever more than queued.min.messages wait in its
      // queue; memory stays bounded by queued.max.messages.kbytes.
      {"queued.min.messages", "1000000"},
      {"queued.max.messages.kbytes", "65536"},
      {"topic.metadata.refresh.interval.ms", std::to_string(link_.discovery_interval.count())},
  };
  spec.overrides = link_.consumer_properties;
  spec.owned = {
      {"group.id", link_.groupId()},
      {"partition.assignment.strategy", "cooperative-sticky"},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      // The end of a partition tells which offsets hold no record (transaction markers, compacted
      // gaps): they count as seen, so translation and failover can account for them.
      {"enable.partition.eof", "true"},
      // A partition without a committed offset starts at its beginning; `start:
      // latest` is applied explicitly to the topics that existed when the link first started
      // (setStartAtEnd), never to topics or partitions that appear later.
      {"auto.offset.reset", "earliest"},
  };
  spec.configure = [this](rd_kafka_conf_t* conf) {
    rd_kafka_conf_set_opaque(conf, this);
    rd_kafka_conf_set_rebalance_cb(conf, &SourceReader::rebalanceCallback);
    rd_kafka_conf_set_offset_commit_cb(conf, &SourceReader::commitCallback);
    rd_kafka_conf_set_error_cb(conf, &SourceReader::errorCallback);
  };
  auto consumer = kafka::makeClient(spec);
  if (!consumer) {
    return consumer.error();
  }
  consumer_ = std::move(*consumer);
  // Serve errors and rebalances from the consumer queue, which next() polls.
  rd_kafka_poll_set_consumer(consumer_.get());
  return {};
}

Status SourceReader::subscribe(const std::vector<std::string>& topics) {
  if (topics == subscribed_) {
    return {};
  }
  if (topics.empty()) {
    rd_kafka_unsubscribe(consumer_.get());
  } else {
    auto list = kafka::newPartitionList(topics.size());
    for (const auto& topic : topics) {
      rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
    }
    if (rd_kafka_resp_err_t err = rd_kafka_subscribe(consumer_.get(), list.get())) {
      return Error{"subscribing to the source topics failed: " +
                   std::string(rd_kafka_err2str(err))};
    }
  }
  spdlog::info("link '{}': subscribed to {} source topic(s)", link_.name, topics.size());
  subscribed_ = topics;
  return {};
}

SourcePartition* SourceReader::find(const std::string& topic, int32_t partition) {
  auto it = partitions_.find(Key{topic, partition});
  return it == partitions_.end() ? nullptr : it->second.get();
}

SourcePartition* SourceReader::lookup(const rd_kafka_message_t* message) {
  if (message->rkt == last_rkt_ && message->partition == last_partition_) {
    return last_state_;
  }
  SourcePartition* state = find(rd_kafka_topic_name(message->rkt), message->partition);
  if (state != nullptr) {
    last_rkt_ = message->rkt;
    last_partition_ = message->partition;
    last_state_ = state;
  }
  return state;
}

const SourceRecord* SourceReader::next(int timeout_ms) {
  releaseCurrent();  // every sink copied what it needed from it
  // Most calls take what is already queued (timeout 0): those read no clock.
  const auto deadline =
      timeout_ms > 0 ? Clock::now() + milliseconds(timeout_ms) : Clock::time_point{};
  while (true) {
    int wait = 0;
    if (timeout_ms > 0) {
      const auto now = Clock::now();
      wait = now >= deadline ? 0
                             : static_cast<int>(
                                   std::chrono::duration_cast<milliseconds>(deadline - now).count());
    }
    rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer_.get(), wait);
    if (message == nullptr) {
      return nullptr;
    }
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      handleError(message);
      rd_kafka_message_destroy(message);
      if (wait == 0) {
        return nullptr;
      }
      continue;
    }
    SourcePartition* state = lookup(message);
    if (state != nullptr && !noteAnswer(*state)) {
      rd_kafka_message_destroy(message);
      continue;
    }
    if (state != nullptr && message->offset < nextOffset(*state)) {
      // Behind where the partition is: handed out already, or before the position a rewind set.
      // librdkafka 2.0.2 goes back by itself when a seek (a resume position, a retry) lands while
      // the query for the partition's start offset (auto.offset.reset) is on its way: the answer
      // is then outdated, and instead of dropping it librdkafka queries the start offset again
      // half a second later and fetches from there, over the seek (rdkafka_partition.c,
      // rd_kafka_toppar_handle_Offset). Processing these records again would duplicate them,
      // which breaks exactly-once; re-reading them all would cost a whole backlog. Seek back to
      // where the partition is; what was fetched before that seek is discarded by librdkafka.
      // A source whose log now ends below that (truncated by an unclean leader election, or the
      // topic deleted and created again) answers each seek by going back again: after a few,
      // only drop, and say so.
      const int64_t next = nextOffset(*state);
      rd_kafka_message_destroy(message);
      if (state->seeks_back < kMaxSeeksBack) {
        state->seeks_back += 1;
        seekBack(*state, next);
      } else if (state->seeks_back == kMaxSeeksBack) {
        state->seeks_back += 1;
        listener_.onProblem("source-went-back",
                            "source " + kafka::describeCluster(source_) + " " + state->topic + "[" +
                                std::to_string(state->partition) +
                                "] keeps going back below offset " + std::to_string(next) +
                                ", where this link already is (was the source log truncated or the "
                                "topic created again?); records below it are skipped as processed");
      }
      continue;
    }
    if (state == nullptr || state->heldNow()) {
      // Not (or no longer, or not yet) ours to process: never dispatched, so whoever processes the
      // partition reads it again. The first such record of a hold is where the partition goes on:
      // rewind to it (it is paused until then). A rewind already made for the hold (a retry, a
      // resume position) discards what was fetched before it.
      if (state != nullptr && !state->hold_rewound) {
        (void)rewind(*state, message->offset);
      }
      if (state != nullptr) {
        state->end_reached = kEndUnknown;  // an end event after this record hides it
      }
      rd_kafka_message_destroy(message);
      continue;
    }
    if (state->rewind_unconfirmed) {
      // The first record after a rewind. Past the rewind's offset, either there is no record in
      // between (transaction markers, compacted away) or librdkafka moved the partition forward
      // over the seek: a seek made before its fetcher started is refused (__STATE), and with
      // `start: latest` the start-offset query answered over a seek (see above) goes to the end.
      // Seek once more; a partition that comes back past the offset again has a real gap there.
      state->rewind_unconfirmed = false;
      if (message->offset > state->rewound_to) {
        rd_kafka_message_destroy(message);
        seekBack(*state, state->rewound_to);
        continue;
      }
    }
    state->seeks_back = 0;
    state->hold_rewound = false;  // a record handed out: no longer what a hold rewound
    fillView(message, state);
    state->seen_end = std::max(state->seen_end, message->offset + 1);
    state->end_reached = -1;  // only an end event after this record says what follows it
    return &current_;
  }
}

void SourceReader::fillView(rd_kafka_message_t* message, SourcePartition* partition) {
  pipeline::RecordView& view = current_.view;
  view.topic = partition->topic;
  view.partition = message->partition;
  view.offset = message->offset;
  view.key = message->key != nullptr
                 ? std::optional<std::string_view>(
                       std::string_view(static_cast<const char*>(message->key), message->key_len))
                 : std::nullopt;
  view.value = message->payload != nullptr
                   ? std::optional<std::string_view>(
                         std::string_view(static_cast<const char*>(message->payload), message->len))
                   : std::nullopt;
  rd_kafka_timestamp_type_t type;
  view.timestamp = rd_kafka_message_timestamp(message, &type);
  view.timestamp_type = view.timestamp >= 0 ? timestampType(type) : pipeline::TimestampType::kNone;
  view.headers.clear();
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR &&
      headers != nullptr) {
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    for (size_t i = 0;
         rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
         ++i) {
      view.headers.push_back(pipeline::HeaderView{
          name, value != nullptr ? std::optional<std::string_view>(
                                       std::string_view(static_cast<const char*>(value), size))
                                 : std::nullopt});
    }
  }
  current_.partition = partition;
  current_.handle = message;
  current_.bytes = static_cast<uint32_t>(message->len + message->key_len);
}

void SourceReader::releaseCurrent() {
  if (current_.handle != nullptr) {
    rd_kafka_message_destroy(static_cast<rd_kafka_message_t*>(current_.handle));
    current_.handle = nullptr;
  }
}

void SourceReader::handleError(const rd_kafka_message_t* message) {
  if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
    if (message->rkt != nullptr) {
      if (SourcePartition* state = lookup(message)) {
        if (!noteAnswer(*state)) {
          return;
        }
        if (state->rewind_unconfirmed && message->offset > state->rewound_to &&
            !state->held(Clock::now())) {
          // At the end, past where the last rewind put it, with no record in between: moved
          // forward over the seek, or markers only up to the end. Seek once more (see next()).
          state->rewind_unconfirmed = false;
          seekBack(*state, state->rewound_to);
          return;
        }
        // Everything below the end was seen: offsets without a record there are markers or
        // compacted away.
        state->seen_end = std::max(state->seen_end, message->offset);
        if (state->end_reached != kEndUnknown) {
          state->end_reached = message->offset;
        }
      }
    }
    return;
  }
  std::string where = message->rkt != nullptr ? std::string(rd_kafka_topic_name(message->rkt)) +
                                                    "[" + std::to_string(message->partition) + "]"
                                              : std::string("consumer");
  const char* reason = rd_kafka_message_errstr(message);
  if (std::strncmp(reason, kCommittedOffsetLookupFailed,
                   std::strlen(kCommittedOffsetLookupFailed)) == 0) {
    noteStartAbandoned(message->rkt != nullptr ? lookup(message) : nullptr);
  }
  std::string text = "source " + kafka::describeCluster(source_) + " " + where + ": " + reason;
  if (message->err == RD_KAFKA_RESP_ERR__FATAL) {
    char reason[512];
    rd_kafka_fatal_error(consumer_.get(), reason, sizeof(reason));
    listener_.onFatal(text + ": " + reason);
    return;
  }
  listener_.onProblem(std::string("consume:") + rd_kafka_err2name(message->err), text);
}

void SourceReader::errorCallback(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* self = static_cast<SourceReader*>(opaque);
  const auto code = static_cast<rd_kafka_resp_err_t>(err);
  if (code == RD_KAFKA_RESP_ERR__FATAL) {
    char fatal[512];
    rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
    self->listener_.onFatal("fatal error from " + kafka::describeCluster(self->source_) + ": " +
                            fatal);
    return;
  }
  // Everything else is retried by librdkafka (brokers down, timeouts): report, keep going.
  self->listener_.onProblem(std::string("client:") + rd_kafka_err2name(code),
                            kafka::describeCluster(self->source_) + ": " + rd_kafka_err2str(code) +
                                ": " + reason);
}

// --- Rebalances ----------------------------------------------------------------------------------

void SourceReader::rebalanceCallback(rd_kafka_t*, rd_kafka_resp_err_t err,
                                     rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  static_cast<SourceReader*>(opaque)->onRebalance(err, partitions);
}

void SourceReader::onRebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* list) {
  in_rebalance_ = true;
  struct Leave {
    bool& flag;
    ~Leave() { flag = false; }
  } leave{in_rebalance_};
  rebalances_ += 1;
  commits_held_until_ = {};
  last_rkt_ = nullptr;
  last_state_ = nullptr;
  last_partition_ = -1;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    assign(list);
  } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
    revoke(list);
  } else {
    spdlog::error("link '{}': rebalance error: {}", link_.name, rd_kafka_err2str(err));
    std::vector<SourcePartition*> all;
    for (auto& [key, state] : partitions_) {
      all.push_back(state.get());
    }
    listener_.onRevoking(all, /*lost=*/true);
    while (!partitions_.empty()) {
      detach(partitions_.begin());
    }
    rd_kafka_assign(consumer_.get(), nullptr);
  }
}

void SourceReader::assign(rd_kafka_topic_partition_list_t* list) {
  if (closing_) {
    // Only so the group protocol completes; rd_kafka_consumer_close() revokes them at once and
    // nothing is fetched for the link (what the wait polls is discarded).
    const bool cooperative =
        std::strcmp(rd_kafka_rebalance_protocol(consumer_.get()), "COOPERATIVE") == 0;
    if (cooperative) {
      if (rd_kafka_error_t* error = rd_kafka_incremental_assign(consumer_.get(), list)) {
        rd_kafka_error_destroy(error);
      }
    } else {
      rd_kafka_assign(consumer_.get(), list);
    }
    return;
  }
  std::vector<SourcePartition*> added;
  for (int i = 0; i < list->cnt; ++i) {
    const auto& tp = list->elems[i];
    auto& slot = partitions_[Key{tp.topic, tp.partition}];
    if (!slot) {
      slot = std::make_unique<SourcePartition>();
    }
    slot->topic = tp.topic;
    slot->partition = tp.partition;
    added.push_back(slot.get());
  }
  // `start: latest` on the topics that existed when the link first started:
  // only partitions without a committed offset start at the end.
  if (!start_at_end_.empty()) {
    auto candidates = kafka::newPartitionList(static_cast<size_t>(list->cnt));
    for (int i = 0; i < list->cnt; ++i) {
      const auto& tp = list->elems[i];
      if (std::find(start_at_end_.begin(), start_at_end_.end(), tp.topic) != start_at_end_.end()) {
        rd_kafka_topic_partition_list_add(candidates.get(), tp.topic, tp.partition);
      }
    }
    if (candidates->cnt > 0) {
      if (rd_kafka_resp_err_t err = rd_kafka_committed(consumer_.get(), candidates.get(), 10000)) {
        listener_.onFatal("reading the group's committed offsets on " +
                          kafka::describeCluster(source_) + " failed: " + rd_kafka_err2str(err) +
                          "; not starting the assigned partitions at an unknown position");
        return;
      }
      for (int i = 0; i < candidates->cnt; ++i) {
        const auto& c = candidates->elems[i];
        if (c.err == RD_KAFKA_RESP_ERR_NO_ERROR && c.offset == RD_KAFKA_OFFSET_INVALID) {
          SourcePartition* state = find(c.topic, c.partition);
          state->start_offset = RD_KAFKA_OFFSET_END;
          state->commit_start = true;
        }
      }
    }
  }
  // The link decides holds (mirror partition missing, resume position to look up) and may set start
  // offsets in the list before fetching starts.
  listener_.onAssigned(added);
  for (SourcePartition* state : added) {
    if (state->start_offset != RD_KAFKA_OFFSET_INVALID) {
      rd_kafka_topic_partition_list_find(list, state->topic.c_str(), state->partition)->offset =
          state->start_offset;
    }
  }
  const bool cooperative =
      std::strcmp(rd_kafka_rebalance_protocol(consumer_.get()), "COOPERATIVE") == 0;
  if (cooperative) {
    if (rd_kafka_error_t* error = rd_kafka_incremental_assign(consumer_.get(), list)) {
      listener_.onFatal("assigning partitions failed: " + kafka::takeErrorText(error));
      return;
    }
  } else if (rd_kafka_resp_err_t err = rd_kafka_assign(consumer_.get(), list)) {
    listener_.onFatal("assigning partitions failed: " + std::string(rd_kafka_err2str(err)));
    return;
  }
  // Freshly assigned partitions fetch; pause those that must not, at once.
  for (SourcePartition* state : added) {
    state->fetch_paused = false;
  }
  updateFetching();
  spdlog::info("link '{}': assigned {} partition(s), {} in total", link_.name, list->cnt,
               partitions_.size());
}

void SourceReader::revoke(rd_kafka_topic_partition_list_t* list) {
  std::vector<SourcePartition*> leaving;
  for (int i = 0; i < list->cnt; ++i) {
    if (SourcePartition* state = find(list->elems[i].topic, list->elems[i].partition)) {
      leaving.push_back(state);
    }
  }
  const bool lost = rd_kafka_assignment_lost(consumer_.get()) != 0;
  listener_.onRevoking(leaving, lost);
  for (SourcePartition* state : leaving) {
    detach(partitions_.find(Key{state->topic, state->partition}));
  }
  const bool cooperative =
      std::strcmp(rd_kafka_rebalance_protocol(consumer_.get()), "COOPERATIVE") == 0;
  if (cooperative) {
    if (rd_kafka_error_t* error = rd_kafka_incremental_unassign(consumer_.get(), list)) {
      spdlog::error("link '{}': unassign failed: {}", link_.name, kafka::takeErrorText(error));
    }
  } else {
    rd_kafka_assign(consumer_.get(), nullptr);
  }
  spdlog::info("link '{}': revoked {} partition(s){}, {} left", link_.name, list->cnt,
               lost ? " (lost)" : "", partitions_.size());
}

void SourceReader::detach(std::map<Key, std::unique_ptr<SourcePartition>>::iterator it) {
  if (it->second->tracker.inFlightRecords() > 0) {
    detached_.push_back(std::move(it->second));
  }
  partitions_.erase(it);
}

void SourceReader::dropSettledDetached() {
  std::erase_if(detached_, [](const auto& s) { return s->tracker.inFlightRecords() == 0; });
}

// --- Commits -------------------------------------------------------------------------------------

void SourceReader::commit(bool sync) {
  std::vector<SourcePartition*> all;
  all.reserve(partitions_.size());
  for (auto& [key, state] : partitions_) {
    all.push_back(state.get());
  }
  commit(all, sync);
}

void SourceReader::commit(const std::vector<SourcePartition*>& partitions, bool sync) {
  auto list = kafka::newPartitionList(partitions.size());
  std::vector<std::pair<SourcePartition*, int64_t>> advanced;
  std::vector<SourcePartition*> starts;
  for (SourcePartition* state : partitions) {
    const auto point = state->tracker.commitPoint();
    if (point && *point > state->committed) {
      rd_kafka_topic_partition_list_add(list.get(), state->topic.c_str(), state->partition)
          ->offset = *point;
      advanced.emplace_back(state, *point);
    } else if (!point && state->commit_start) {
      starts.push_back(state);
    }
  }
  if (!starts.empty()) {
    // Where a partition without a committed offset started (its end, under `start: latest`), once
    // the consumer knows it: a restart must start there, not at the beginning.
    auto positions = kafka::newPartitionList(starts.size());
    for (SourcePartition* state : starts) {
      rd_kafka_topic_partition_list_add(positions.get(), state->topic.c_str(), state->partition);
    }
    rd_kafka_position(consumer_.get(), positions.get());
    for (int i = 0; i < positions->cnt; ++i) {
      if (positions->elems[i].offset >= 0) {
        rd_kafka_topic_partition_list_add(list.get(), positions->elems[i].topic,
                                          positions->elems[i].partition)
            ->offset = positions->elems[i].offset;
        advanced.emplace_back(starts[static_cast<size_t>(i)], positions->elems[i].offset);
      }
    }
  }
  if (list->cnt == 0) {
    return;
  }
  if (rd_kafka_resp_err_t err = rd_kafka_commit(consumer_.get(), list.get(), sync ? 0 : 1)) {
    // Not fatal: the next commit carries the same or a later offset.
    listener_.onProblem(std::string("commit:") + rd_kafka_err2name(err),
                        "committing source offsets to " + kafka::describeCluster(source_) +
                            " failed: " + rd_kafka_err2str(err));
    return;
  }
  for (auto [state, offset] : advanced) {
    state->committed = offset;
    state->commit_start = false;
  }
}

void SourceReader::commitCallback(rd_kafka_t*, rd_kafka_resp_err_t err,
                                  rd_kafka_topic_partition_list_t* offsets, void* opaque) {
  auto* self = static_cast<SourceReader*>(opaque);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__NO_OFFSET) {
    self->listener_.onCommitted();
    return;
  }
  if (err == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS) {
    self->commits_held_until_ = Clock::now() + std::chrono::seconds(10);
  }
  // Forget what we believed committed so the next cycle commits these partitions again.
  for (int i = 0; offsets != nullptr && i < offsets->cnt; ++i) {
    if (SourcePartition* state = self->find(offsets->elems[i].topic, offsets->elems[i].partition)) {
      state->committed = -1;
    }
  }
  self->listener_.onProblem(std::string("commit:") + rd_kafka_err2name(err),
                            "committing source offsets to " +
                                kafka::describeCluster(self->source_) +
                                " failed: " + rd_kafka_err2str(err));
}

// --- Status --------------------------------------------------------------------------------------

std::vector<int64_t> SourceReader::positions() const {
  std::vector<int64_t> out;
  if (partitions_.empty()) {
    return out;
  }
  auto list = kafka::newPartitionList(partitions_.size());
  for (const auto& [key, state] : partitions_) {
    rd_kafka_topic_partition_list_add(list.get(), key.first.c_str(), key.second);
  }
  rd_kafka_position(consumer_.get(), list.get());
  out.reserve(static_cast<size_t>(list->cnt));
  for (int i = 0; i < list->cnt; ++i) {
    out.push_back(list->elems[i].offset >= 0 ? list->elems[i].offset : -1);
  }
  return out;
}

int64_t SourceReader::cachedHighWatermark(const SourcePartition& partition) const {
  int64_t low = -1;
  int64_t high = -1;
  if (rd_kafka_get_watermark_offsets(consumer_.get(), partition.topic.c_str(), partition.partition,
                                     &low, &high) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return -1;
  }
  return high;
}

// --- Shutdown ------------------------------------------------------------------------------------

void SourceReader::close() {
  releaseCurrent();
  if (consumer_) {
    awaitFirstAssignment();
    rd_kafka_consumer_close(consumer_.get());
  }
}

void SourceReader::awaitFirstAssignment() {
  // rd_kafka_rebalance_protocol() says COOPERATIVE once a JoinGroup answer chose the assignor
  // (NONE before), and the assignor's state exists once the SyncGroup answer came, just before
  // the first rebalance callback. Between the two, destroying the consumer aborts the process.
  constexpr auto kLimit = std::chrono::seconds(10);
  auto joined_without_assignment = [this] {
    return rebalances_ == 0 &&
           std::strcmp(rd_kafka_rebalance_protocol(consumer_.get()), "COOPERATIVE") == 0;
  };
  if (!joined_without_assignment()) {
    return;
  }
  closing_ = true;
  const auto deadline = Clock::now() + kLimit;
  while (rebalances_ == 0 && Clock::now() < deadline) {
    if (rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer_.get(), 100)) {
      rd_kafka_message_destroy(message);
    }
  }
  if (rebalances_ == 0) {
    spdlog::warn("link '{}': closing the source consumer before its first assignment arrived "
                 "(waited {} s)",
                 link_.name, kLimit.count());
  }
}

}  // namespace causeway::replicator
