#include "replicator/link.h"

#include "replicator/link_internal.h"
#include "replicator/record_headers.h"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace causeway::replicator {

using namespace link_internal;

Link::Link(config::LinkConfig link, config::ClusterConfig source, config::ClusterConfig target,
           kafka::TopicAdminPtr target_admin)
    : link_(std::move(link)), source_(std::move(source)), target_(std::move(target)),
      target_admin_(std::move(target_admin)) {
  status_.name = link_.name;
  status_.source_cluster = source_.name;
  status_.target_cluster = target_.name;
}

Link::~Link() {
  requestStop(milliseconds(drain_timeout_ms_.load()));
  join();
}

// ---------------------------------------------------------------------------------------------
// Start-up (controlling thread)

Status Link::start() {
  auto selector = TopicSelector::create(link_);
  if (!selector) {
    fail(selector.error().message);
    publishStatus();
    return selector.error();
  }

  kafka::ClientSpec consumer_spec;
  consumer_spec.type = RD_KAFKA_CONSUMER;
  consumer_spec.cluster = &source_;
  consumer_spec.client_id = "causeway-" + link_.name;
  consumer_spec.defaults = {
      {"isolation.level", "read_committed"},
      {"session.timeout.ms", "10000"},
      {"heartbeat.interval.ms", "1000"},
      {"fetch.wait.max.ms", "100"},
      // librdkafka 2.0.2 stops fetching for ~1 s whenever more than queued.min.messages wait
      // in its queue; memory stays bounded by queued.max.messages.kbytes.
      {"queued.min.messages", "1000000"},
      {"queued.max.messages.kbytes", "65536"},
      {"topic.metadata.refresh.interval.ms", std::to_string(link_.discovery_interval.count())},
  };
  consumer_spec.overrides = link_.consumer_properties;
  consumer_spec.owned = {
      {"group.id", link_.groupId()},
      {"partition.assignment.strategy", "cooperative-sticky"},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", "false"},
      {"auto.offset.reset", link_.start == config::StartPosition::kLatest ? "latest" : "earliest"},
  };
  consumer_spec.configure = [this](rd_kafka_conf_t* conf) {
    rd_kafka_conf_set_opaque(conf, this);
    rd_kafka_conf_set_rebalance_cb(conf, &Link::rebalanceCallback);
    rd_kafka_conf_set_error_cb(conf, &Link::errorCallback);
    rd_kafka_conf_set_offset_commit_cb(conf, &Link::commitCallback);
  };

  kafka::ClientSpec producer_spec;
  producer_spec.type = RD_KAFKA_PRODUCER;
  producer_spec.cluster = &target_;
  producer_spec.client_id = "causeway-" + link_.name;
  producer_spec.defaults = {
      {"linger.ms", "5"},
      {"batch.size", "1000000"},
      // A target outage pauses replication (backpressure) instead of failing records: the
      // producer retries until the target is back.
      {"message.timeout.ms", "0"},
      {"queue.buffering.max.messages",
       std::to_string(std::max<size_t>(2 * link_.max_in_flight_records, 100000))},
      {"statistics.interval.ms", "5000"},  // for the produce retry count
  };
  producer_spec.overrides = link_.producer_properties;
  producer_spec.owned = {
      {"enable.idempotence", "true"},
      {"acks", "all"},
  };
  if (link_.transactional) {
    // Unique per worker process: zombies are fenced through the group generation (KIP-447),
    // not through a shared transactional.id.
    char host[256] = "host";
    ::gethostname(host, sizeof(host) - 1);
    producer_spec.owned["transactional.id"] =
        "causeway-" + link_.name + "-" + host + "-" + std::to_string(::getpid());
    producer_spec.defaults["transaction.timeout.ms"] = "10000";
  }
  producer_spec.configure = [this](rd_kafka_conf_t* conf) {
    rd_kafka_conf_set_opaque(conf, this);
    rd_kafka_conf_set_dr_msg_cb(conf, &Link::deliveryCallback);
    rd_kafka_conf_set_stats_cb(conf, &Link::statsCallback);
    rd_kafka_conf_set_error_cb(conf, &Link::errorCallback);
  };

  auto consumer = kafka::makeClient(consumer_spec);
  if (!consumer) {
    fail(consumer.error().message);
    publishStatus();
    return consumer.error();
  }
  consumer_ = std::move(*consumer);
  // Serve errors and rebalances from the consumer queue, which the data plane polls.
  rd_kafka_poll_set_consumer(consumer_.get());

  auto producer = kafka::makeClient(producer_spec);
  if (!producer) {
    fail(producer.error().message);
    publishStatus();
    return producer.error();
  }
  producer_ = std::move(*producer);

  for (auto [client, cluster] : {std::pair{consumer_.get(), &source_},
                                 std::pair{producer_.get(), &target_}}) {
    if (auto reachable = kafka::checkReachable(client, *cluster); !reachable) {
      fail("link '" + link_.name + "': " + reachable.message());
      publishStatus();
      return Error{status_.error};
    }
  }

  if (link_.transactional) {
    if (rd_kafka_error_t* error = rd_kafka_init_transactions(producer_.get(), 30000)) {
      fail("link '" + link_.name + "': initializing transactions on " +
           kafka::describeCluster(target_) + " failed: " + errorText(error));
      publishStatus();
      return Error{status_.error};
    }
  }
  if (link_.delivery == config::DeliveryMode::kExactlyOnce) {
    tail_ = std::make_unique<TargetTail>(target_, link_.name);
    if (auto opened = tail_->open(); !opened) {
      fail("link '" + link_.name + "': " + opened.message());
      publishStatus();
      return opened.error();
    }
    // The saved offset runs (translation state) live in a compacted topic on the target.
    state_topic_ = stateTopic(link_.name);
    auto created = target_admin_->ensureCompactedTopic(
        state_topic_, 1, std::max(milliseconds(10000), target_.connect_timeout));
    if (!created) {
      fail("link '" + link_.name + "': cannot create its offset state topic: " +
           created.error().message);
      publishStatus();
      return Error{status_.error};
    }
    state_handle_.reset(rd_kafka_topic_new(producer_.get(), state_topic_.c_str(), nullptr));
    state_reader_ = std::make_unique<OffsetStateReader>(target_, link_.name);
    mark_reader_ = std::make_unique<OffsetStateReader>(target_, link_.name);
    for (auto* reader : {state_reader_.get(), mark_reader_.get()}) {
      if (auto opened = reader->open(); !opened) {
        fail("link '" + link_.name + "': " + opened.message());
        publishStatus();
        return opened.error();
      }
    }
    if (auto read = state_reader_->refresh(Clock::now() + std::max(milliseconds(10000),
                                                                   target_.connect_timeout));
        !read) {
      fail("link '" + link_.name + "': " + read.message());
      publishStatus();
      return read.error();
    }
    if (const auto& mark = state_reader_->failoverMark()) {
      // Promoted target: replicating into it again would mix the old source back in.
      const std::string text = failedOverText(*mark);
      spdlog::error("{}", text);
      std::lock_guard lock(status_mu_);
      status_.state = LinkState::kFailedOver;
      status_.error = text;
      return Error{text};
    }
  }

  discovery_ = std::make_unique<TopicDiscovery>(
      source_, std::move(*selector), *target_admin_,
      std::max(milliseconds(10000), source_.connect_timeout));
  discoverOnce();

  {
    std::lock_guard lock(status_mu_);
    status_.state = LinkState::kRunning;
  }
  spdlog::info("link '{}': {} -> {} running (group '{}')", link_.name,
               kafka::describeCluster(source_), kafka::describeCluster(target_),
               link_.groupId());
  data_plane_ = std::thread([this] { runDataPlane(); });
  discovery_thread_ = std::thread([this] { runDiscovery(); });
  if (link_.groups.enabled()) {
    group_sync_thread_ = std::thread([this] { runGroupSync(); });
  }
  return {};
}

void Link::requestStop(milliseconds drain_timeout) {
  drain_timeout_ms_.store(drain_timeout.count());
  {
    std::lock_guard lock(stop_mu_);
    stop_requested_.store(true);
  }
  stop_cv_.notify_all();
}

void Link::join() {
  if (group_sync_thread_.joinable()) {
    group_sync_thread_.join();
  }
  if (discovery_thread_.joinable()) {
    discovery_thread_.join();
  }
  if (data_plane_.joinable()) {
    data_plane_.join();
  }
}

LinkStatus Link::status() const {
  std::lock_guard lock(status_mu_);
  return status_;
}

// ---------------------------------------------------------------------------------------------
// Discovery thread

// ---------------------------------------------------------------------------------------------
// Data plane

void Link::runDataPlane() {
  next_commit_ = Clock::now() + link_.commit_interval;
  while (!stop_requested_.load() && !failed_) {
    applySubscription();
    applyOperatorPause();
    pollSource();
    rd_kafka_poll(producer_.get(), 0);
    applyBackpressure();
    resumeReadyPartitions();
    const auto now = Clock::now();
    if (now >= next_commit_ && now >= commits_held_until_) {
      if (tail_) {
        std::vector<PartitionState*> all;
        for (auto& [key, state] : partitions_) {
          all.push_back(state.get());
        }
        saveRuns(all);
      }
      commitTransaction();
      commitAll(/*sync=*/false);
      next_commit_ = now + link_.commit_interval;
    }
    if (now >= next_status_) {
      std::erase_if(detached_, [](const auto& s) { return s->tracker.inFlightRecords() == 0; });
      publishStatus();
      next_status_ = now + kStatusInterval;
    }
  }
  drainAndClose();
}

void Link::applySubscription() {
  std::vector<std::string> topics;
  {
    std::lock_guard lock(ready_mu_);
    if (!ready_changed_) {
      return;
    }
    ready_changed_ = false;
    for (const auto& [topic, ready] : ready_topics_) {
      topics.push_back(topic);
      auto it = target_topics_.find(topic);
      if (it != target_topics_.end()) {
        it->second.partitions = ready.target_partitions;
      }
    }
  }
  if (topics == subscribed_) {
    return;
  }
  if (topics.empty()) {
    rd_kafka_unsubscribe(consumer_.get());
  } else {
    auto list = makeList(topics.size());
    for (const auto& topic : topics) {
      rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
    }
    rd_kafka_resp_err_t err = rd_kafka_subscribe(consumer_.get(), list.get());
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      fail("link '" + link_.name + "': subscribing to the source topics failed: " +
           rd_kafka_err2str(err));
      return;
    }
  }
  spdlog::info("link '{}': subscribed to {} source topic(s)", link_.name, topics.size());
  subscribed_ = std::move(topics);
}

void Link::pollSource() {
  // The first poll waits briefly for records (and serves rebalances); the rest of the batch
  // takes only what is already queued, so delivery reports are served at least every ~20 ms.
  int timeout_ms = 20;
  for (size_t i = 0; i < kMaxRecordsPerPoll && !failed_; ++i) {
    rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer_.get(), timeout_ms);
    if (message == nullptr) {
      return;
    }
    if (timeout_ms != 0) {
      poll_time_ms_ = wallClockMs();  // once per batch: the batch arrived together
    }
    timeout_ms = 0;
    replicate(message);
    if (backpressure_paused_) {
      return;
    }
    if (in_flight_records_ > link_.max_in_flight_records ||
        in_flight_bytes_ > link_.max_in_flight_bytes) {
      return;  // let applyBackpressure() pause fetching before taking more
    }
  }
}

Link::PartitionState* Link::lookup(const rd_kafka_message_t* message) {
  if (message->rkt == last_rkt_ && message->partition == last_partition_) {
    return last_state_;
  }
  auto it = partitions_.find(PartitionKey{rd_kafka_topic_name(message->rkt), message->partition});
  if (it == partitions_.end()) {
    return nullptr;
  }
  last_rkt_ = message->rkt;
  last_partition_ = message->partition;
  last_state_ = it->second.get();
  return last_state_;
}

void Link::replicate(rd_kafka_message_t* message) {
  if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    handleSourceError(message);
    rd_kafka_message_destroy(message);
    return;
  }
  PartitionState* state = lookup(message);
  if (state == nullptr || state->waiting_for_target) {
    // Not (or no longer, or not yet) ours to write: the record is not committed, so whoever
    // owns the partition when it is writable reads it again. Rewind so we do too.
    if (state != nullptr) {
      auto list = makeList(1);
      rd_kafka_topic_partition_list_add(list.get(), rd_kafka_topic_name(message->rkt),
                                        message->partition)
          ->offset = message->offset;
      if (rd_kafka_error_t* error = rd_kafka_seek_partitions(consumer_.get(), list.get(), 0)) {
        rd_kafka_error_destroy(error);
      }
    }
    rd_kafka_message_destroy(message);
    return;
  }
  if (message->offset <= state->tracker.lastDispatched()) {
    // The consumer went back (a seek after an offset reset): finish what is in flight for
    // this partition, then start the bookkeeping over from here.
    spdlog::warn("link '{}': {}[{}] rewound from {} to {}", link_.name, state->source_topic,
                 state->partition, state->tracker.lastDispatched(), message->offset);
    waitForDeliveries({state}, kRevokeFlushLimit);
    state->tracker.reset();
  }

  rd_kafka_headers_t* source_headers = nullptr;
  if (rd_kafka_message_headers(message, &source_headers) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    source_headers = nullptr;
  }
  // Provenance: never write a record into a cluster it already passed through.
  const void* origin = nullptr;
  size_t origin_size = 0;
  const bool has_origin =
      source_headers != nullptr &&
      rd_kafka_header_get_last(source_headers, kOriginHeader.data(), &origin, &origin_size) ==
          RD_KAFKA_RESP_ERR_NO_ERROR &&
      origin != nullptr;
  const std::string_view origin_path =
      has_origin ? std::string_view(static_cast<const char*>(origin), origin_size)
                 : std::string_view();
  if (has_origin && originContains(origin_path, target_.name)) {
    // Skipped, not lost: it came from the target. The commit point moves past it.
    state->tracker.ack(state->tracker.dispatch(message->offset, 0, nullptr));
    records_skipped_loop_ += 1;
    rd_kafka_message_destroy(message);
    return;
  }

  if (!beginTransactionIfNeeded()) {
    rd_kafka_message_destroy(message);  // not written, not committed: read again on restart
    return;
  }
  const auto bytes = static_cast<uint32_t>(message->len + message->key_len);
  OffsetTracker::Entry& entry = state->tracker.dispatch(message->offset, bytes, message);
  in_flight_records_ += 1;
  in_flight_bytes_ += bytes;

  // The source record's headers move over instead of being copied (the consumed message needs
  // them no more); the producer takes ownership of `headers` on success. origin_path points
  // into them, so it is copied out before the old causeway-origin is removed.
  rd_kafka_headers_t* headers = nullptr;
  if (source_headers == nullptr ||
      rd_kafka_message_detach_headers(message, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR ||
      headers == nullptr) {
    headers = rd_kafka_headers_new(2);
  }
  origin_buffer_.assign(origin_path);
  if (!origin_buffer_.empty()) {
    origin_buffer_.push_back(',');
  }
  origin_buffer_.append(source_.name);
  encodeSourceInto(source_buffer_, link_.name, message->offset);
  rd_kafka_header_remove(headers, kOriginHeader.data());
  rd_kafka_header_remove(headers, kSourceHeader.data());
  rd_kafka_header_add(headers, kOriginHeader.data(), static_cast<ssize_t>(kOriginHeader.size()),
                      origin_buffer_.data(), static_cast<ssize_t>(origin_buffer_.size()));
  rd_kafka_header_add(headers, kSourceHeader.data(), static_cast<ssize_t>(kSourceHeader.size()),
                      source_buffer_.data(), static_cast<ssize_t>(source_buffer_.size()));
  rd_kafka_timestamp_type_t timestamp_type;
  const int64_t timestamp = rd_kafka_message_timestamp(message, &timestamp_type);
  if (const int index = timestampIndex(timestamp_type); index >= 0 && timestamp >= 0) {
    record_age_at_poll_.by_type[static_cast<size_t>(index)].record(poll_time_ms_ - timestamp);
  }

  // Key and value are not copied: they point into the source message, which stays alive until
  // the delivery report frees it.
  rd_kafka_vu_t vus[7];
  size_t n = 0;
  vus[n].vtype = RD_KAFKA_VTYPE_RKT;
  vus[n++].u.rkt = state->target->handle.get();
  vus[n].vtype = RD_KAFKA_VTYPE_PARTITION;
  vus[n++].u.i32 = message->partition;
  vus[n].vtype = RD_KAFKA_VTYPE_KEY;
  vus[n].u.mem.ptr = message->key;
  vus[n++].u.mem.size = message->key_len;
  vus[n].vtype = RD_KAFKA_VTYPE_VALUE;
  vus[n].u.mem.ptr = message->payload;
  vus[n++].u.mem.size = message->len;
  vus[n].vtype = RD_KAFKA_VTYPE_OPAQUE;
  vus[n++].u.ptr = &entry;
  if (timestamp >= 0) {
    vus[n].vtype = RD_KAFKA_VTYPE_TIMESTAMP;
    vus[n++].u.i64 = timestamp;
  }
  vus[n].vtype = RD_KAFKA_VTYPE_HEADERS;
  vus[n++].u.headers = headers;

  while (true) {
    rd_kafka_error_t* error = rd_kafka_produceva(producer_.get(), vus, n);
    if (error == nullptr) {
      return;
    }
    const rd_kafka_resp_err_t code = rd_kafka_error_code(error);
    if (code == RD_KAFKA_RESP_ERR__QUEUE_FULL && !stop_requested_.load()) {
      rd_kafka_error_destroy(error);
      rd_kafka_poll(producer_.get(), 10);  // serve delivery reports to make room
      continue;
    }
    // Not produced: nothing in flight for this record and it is never committed.
    state->tracker.fail(entry);
    in_flight_records_ -= 1;
    in_flight_bytes_ -= bytes;
    rd_kafka_headers_destroy(headers);
    fail("link '" + link_.name + "': cannot produce " + state->source_topic + "[" +
         std::to_string(message->partition) + "]@" + std::to_string(message->offset) + " to " +
         kafka::describeCluster(target_) + " topic '" + state->target->name +
         "': " + errorText(error));
    rd_kafka_message_destroy(message);
    return;
  }
}

void Link::countError(const char* where, rd_kafka_resp_err_t err) {
  std::string kind = where;
  kind += ':';
  kind += rd_kafka_err2name(err);
  errors_[kind] += 1;
}

void Link::handleSourceError(const rd_kafka_message_t* message) {
  if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
    return;
  }
  countError("consume", message->err);
  std::string where = message->rkt != nullptr ? std::string(rd_kafka_topic_name(message->rkt)) +
                                                    "[" + std::to_string(message->partition) + "]"
                                              : std::string("consumer");
  std::string text = "source " + kafka::describeCluster(source_) + " " + where + ": " +
                     rd_kafka_message_errstr(message);
  if (message->err == RD_KAFKA_RESP_ERR__FATAL) {
    char reason[512];
    rd_kafka_fatal_error(consumer_.get(), reason, sizeof(reason));
    fail("link '" + link_.name + "': " + text + ": " + reason);
    return;
  }
  std::lock_guard lock(status_mu_);
  if (status_.last_error != text) {
    spdlog::warn("link '{}': {}", link_.name, text);
    status_.last_error = text;
  }
}

void Link::onDelivery(const rd_kafka_message_t* report) {
  if (report->_private == nullptr) {
    // A state record (saveRuns). Losing one costs only speed: the next save carries the same
    // runs, and translation checks everything against the target. (On transactional links a
    // failed write makes the transaction abortable, which stops the link like any failed
    // write.)
    if (report->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      countError("state", report->err);
    }
    return;
  }
  auto* entry = static_cast<OffsetTracker::Entry*>(report->_private);
  auto* state = static_cast<PartitionState*>(entry->tracker->context());
  auto* source = static_cast<rd_kafka_message_t*>(entry->source);
  const uint32_t bytes = entry->bytes;
  in_flight_records_ -= 1;
  in_flight_bytes_ -= bytes;
  if (report->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_timestamp_type_t timestamp_type;
    const int64_t timestamp = rd_kafka_message_timestamp(source, &timestamp_type);
    if (const int index = timestampIndex(timestamp_type); index >= 0 && timestamp >= 0) {
      replication_latency_.by_type[static_cast<size_t>(index)].record(wallClockMs() - timestamp);
      state->last_replicated_timestamp = timestamp;
    }
    if (tail_) {
      recordRun(*state, entry->offset, report->offset);
    }
    state->tracker.ack(*entry);  // may retire the entry: do not touch it after this
    state->records_replicated += 1;
    state->bytes_replicated += bytes;
    records_replicated_ += 1;
    bytes_replicated_ += bytes;
  } else {
    const int64_t offset = entry->offset;
    state->tracker.fail(*entry);
    countError("produce", report->err);
    const bool purged = report->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
                        report->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT;
    if (!purged) {
      fail("link '" + link_.name + "': " + kafka::describeCluster(target_) + " did not accept " +
           state->source_topic + "[" + std::to_string(state->partition) + "]@" +
           std::to_string(offset) + " (topic '" + state->target->name +
           "'): " + rd_kafka_err2str(report->err) +
           "; the source offset is not committed, so a restart retries it");
    }
  }
  rd_kafka_message_destroy(source);
}

// ---------------------------------------------------------------------------------------------
// Rebalances

// ---------------------------------------------------------------------------------------------
// Commits

// ---------------------------------------------------------------------------------------------
// Flow control

// ---------------------------------------------------------------------------------------------
// Shutdown

void Link::drainAndClose() {
  {
    std::lock_guard lock(status_mu_);
    if (status_.state != LinkState::kFailed) {
      status_.state = LinkState::kStopping;
    }
  }
  std::vector<PartitionState*> all;
  for (auto& [key, state] : partitions_) {
    all.push_back(state.get());
  }
  setPaused(all, true);  // stop fetching; what was read is written below

  const milliseconds drain(drain_timeout_ms_.load());
  const auto deadline = Clock::now() + drain;
  while (in_flight_records_ > 0 && Clock::now() < deadline) {
    rd_kafka_poll(producer_.get(), 20);
  }
  if (in_flight_records_ > 0) {
    spdlog::warn("link '{}': {} record(s) not acknowledged by {} within {} ms: not committed, "
                 "a restart writes them again",
                 link_.name, in_flight_records_, kafka::describeCluster(target_), drain.count());
    rd_kafka_purge(producer_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    const auto purge_deadline = Clock::now() + milliseconds(5000);
    while (in_flight_records_ > 0 && Clock::now() < purge_deadline) {
      rd_kafka_poll(producer_.get(), 20);
    }
  }
  if (tail_ && in_flight_records_ == 0) {
    saveRuns(all, /*force=*/true);
  }
  if (in_flight_records_ == 0) {
    commitTransaction();
  } else {
    abortTransaction("records were not acknowledged before the drain timeout");
  }
  commitAll(/*sync=*/true);
  // Leaving the group revokes our partitions (served through onRebalance) so other workers
  // take them over at once instead of after the session timeout.
  rd_kafka_consumer_close(consumer_.get());
  publishStatus();
  if (in_flight_records_ > 0) {
    // librdkafka would hang destroying a consumer with live messages: leak them instead.
    spdlog::error("link '{}': {} source record(s) never reported by the producer", link_.name,
                  in_flight_records_);
    (void)consumer_.release();
  }
  if (!link_.transactional && producer_) {
    rd_kafka_flush(producer_.get(), 5000);  // the state records just saved
  }
  target_topics_.clear();
  state_handle_.reset();
  partitions_.clear();
  detached_.clear();
  producer_.reset();
  consumer_.reset();
  {
    std::lock_guard lock(status_mu_);
    if (status_.state != LinkState::kFailed) {
      status_.state = failed_over_.load() ? LinkState::kFailedOver : LinkState::kStopped;
    }
    status_.partitions.clear();
    status_.in_flight_records = 0;
    status_.in_flight_bytes = 0;
  }
  spdlog::info("link '{}': stopped ({} records replicated by this worker)", link_.name,
               records_replicated_);
}

bool Link::beginTransactionIfNeeded() {
  if (!link_.transactional || in_transaction_ || failed_) {
    return !failed_;
  }
  if (rd_kafka_error_t* error = rd_kafka_begin_transaction(producer_.get())) {
    handleTransactionError("beginning a transaction", error);
    return false;
  }
  in_transaction_ = true;
  return true;
}

void Link::commitTransaction() {
  if (!link_.transactional || !in_transaction_ || failed_) {
    return;
  }
  std::vector<PartitionState*> states;
  for (auto& [key, state] : partitions_) {
    states.push_back(state.get());
  }
  // Offsets of acknowledged records only: wait for what is in flight first (bounded; the
  // commit below flushes whatever is left).
  waitForDeliveries(states, kRevokeFlushLimit);
  auto offsets = makeList(states.size());
  for (PartitionState* state : states) {
    if (auto point = state->tracker.commitPoint()) {
      rd_kafka_topic_partition_list_add(offsets.get(), state->source_topic.c_str(),
                                        state->partition)
          ->offset = *point;
    }
  }
  if (offsets->cnt > 0) {
    rd_kafka_consumer_group_metadata_t* group = rd_kafka_consumer_group_metadata(consumer_.get());
    rd_kafka_error_t* error =
        rd_kafka_send_offsets_to_transaction(producer_.get(), offsets.get(), group, 30000);
    rd_kafka_consumer_group_metadata_destroy(group);
    if (error != nullptr) {
      handleTransactionError("attaching source offsets to the transaction", error);
      return;
    }
  }
  if (rd_kafka_error_t* error = rd_kafka_commit_transaction(producer_.get(), 60000)) {
    handleTransactionError("committing the transaction", error);
    return;
  }
  in_transaction_ = false;
}

void Link::abortTransaction(const std::string& why) {
  if (!link_.transactional || !in_transaction_) {
    return;
  }
  spdlog::warn("link '{}': aborting the open transaction: {}", link_.name, why);
  if (rd_kafka_error_t* error = rd_kafka_abort_transaction(producer_.get(), 30000)) {
    spdlog::error("link '{}': aborting the transaction failed: {}", link_.name,
                  errorText(error));
  }
  in_transaction_ = false;
}

void Link::handleTransactionError(const std::string& what, rd_kafka_error_t* error) {
  const rd_kafka_resp_err_t code = rd_kafka_error_code(error);
  const bool fatal = rd_kafka_error_is_fatal(error) != 0;
  const bool abortable = rd_kafka_error_txn_requires_abort(error) != 0;
  const bool retriable = rd_kafka_error_is_retriable(error) != 0;
  const std::string text = errorText(error);
  countError("transaction", code);
  if (retriable && !fatal && !abortable) {
    spdlog::warn("link '{}': {} failed, retrying at the next commit: {}", link_.name, what,
                 text);
    return;
  }
  if (abortable) {
    abortTransaction(what + " failed: " + text);
  }
  fail("link '" + link_.name + "': " + what + " on " + kafka::describeCluster(target_) +
       (fatal ? " failed fatally (another worker may own these partitions now: this one is "
                "fenced): "
              : " failed and the transaction was aborted: ") +
       text + "; a restart resumes exactly after the last committed record on the target");
}

void Link::fail(const std::string& message) {
  failed_ = true;
  spdlog::error("{}", message);
  std::lock_guard lock(status_mu_);
  if (status_.state != LinkState::kFailed) {
    status_.state = LinkState::kFailed;
    status_.error = message;
  }
}

// ---------------------------------------------------------------------------------------------
// Status

// ---------------------------------------------------------------------------------------------
// librdkafka callbacks (all served on the data-plane thread by rd_kafka_poll/consumer_poll)

void Link::deliveryCallback(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  static_cast<Link*>(opaque)->onDelivery(message);
}

void Link::rebalanceCallback(rd_kafka_t*, rd_kafka_resp_err_t err,
                             rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  static_cast<Link*>(opaque)->onRebalance(err, partitions);
}

} // namespace causeway::replicator
