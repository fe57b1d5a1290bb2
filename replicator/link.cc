#include "replicator/link.h"

#include "replicator/group_sync.h"
#include "replicator/record_headers.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>

namespace causeway::replicator {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kStatusInterval{250};
constexpr milliseconds kRevokeFlushLimit{10000};
constexpr size_t kMaxRecordsPerPoll = 2000;

int64_t wallClockMs() {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Index into TimestampedHistograms, or -1 for records without a usable timestamp.
int timestampIndex(rd_kafka_timestamp_type_t type) {
  switch (type) {
  case RD_KAFKA_TIMESTAMP_CREATE_TIME:
    return 0;
  case RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME:
    return 1;
  default:
    return -1;
  }
}

kafka::PartitionListPtr makeList(size_t capacity) {
  return kafka::PartitionListPtr(
      rd_kafka_topic_partition_list_new(static_cast<int>(std::max<size_t>(capacity, 1))));
}

std::string errorText(rd_kafka_error_t* error) {
  std::string text = rd_kafka_error_string(error);
  rd_kafka_error_destroy(error);
  return text;
}

} // namespace

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

  if (link_.delivery == config::DeliveryMode::kExactlyOnce) {
    tail_ = std::make_unique<TargetTail>(target_, link_.name);
    if (auto opened = tail_->open(); !opened) {
      fail("link '" + link_.name + "': " + opened.message());
      publishStatus();
      return opened.error();
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

void Link::runDiscovery() {
  std::unique_lock lock(stop_mu_);
  while (!stop_requested_.load()) {
    if (stop_cv_.wait_for(lock, link_.discovery_interval, [this] { return stop_requested_.load(); })) {
      break;
    }
    lock.unlock();
    discoverOnce();
    refreshPausedWatermarks();
    lock.lock();
  }
}

void Link::runGroupSync() {
  std::unique_ptr<GroupSync> sync;
  std::unique_lock lock(stop_mu_);
  while (!stop_requested_.load()) {
    lock.unlock();
    std::vector<GroupSyncOutcome> outcomes;
    std::string problem;
    if (!sync) {
      sync = std::make_unique<GroupSync>(link_, source_, target_);
      if (auto opened = sync->open(); !opened) {
        problem = opened.message();
        sync.reset();
      }
    }
    if (sync) {
      outcomes = sync->runOnce(milliseconds(30000));
    }
    {
      std::lock_guard status_lock(status_mu_);
      std::map<std::string, GroupStatus> previous;
      for (auto& g : status_.groups) {
        previous[g.group] = g;
      }
      if (!problem.empty()) {
        for (const auto& name : link_.groups.names) {
          previous[name].group = name;
          previous[name].synced = false;
          previous[name].problem = problem;
        }
      }
      for (const auto& outcome : outcomes) {
        GroupStatus& g = previous[outcome.group];
        if (outcome.committed && !g.synced) {
          spdlog::info("link '{}': group '{}' synced to {}", link_.name, outcome.group,
                       target_.name);
        } else if (!outcome.committed && g.problem != outcome.problem) {
          spdlog::warn("link '{}': group '{}' not synced: {}", link_.name, outcome.group,
                       outcome.problem);
        }
        g.group = outcome.group;
        g.synced = outcome.committed;
        g.problem = outcome.problem;
        if (outcome.committed) {
          g.last_synced_ms = std::chrono::duration_cast<milliseconds>(
                                 outcome.at.time_since_epoch())
                                 .count();
        }
        int64_t rpo = 0;
        for (const auto& t : outcome.offsets) {
          if (t.source_offset >= 0) {
            rpo = (rpo < 0 || t.not_yet_replicated < 0) ? -1 : rpo + t.not_yet_replicated;
          }
        }
        g.rpo_records = outcome.offsets.empty() ? -1 : rpo;
      }
      status_.groups.clear();
      for (auto& [name, g] : previous) {
        status_.groups.push_back(std::move(g));
      }
    }
    lock.lock();
    stop_cv_.wait_for(lock, link_.groups.sync_interval,
                      [this] { return stop_requested_.load(); });
  }
}

void Link::refreshPausedWatermarks() {
  if (!fetching_paused_.load()) {
    return;
  }
  std::vector<std::pair<std::string, int32_t>> partitions;
  {
    std::lock_guard lock(ready_mu_);
    for (const auto& [topic, ready] : ready_topics_) {
      for (int32_t p = 0; p < ready.source_partitions; ++p) {
        partitions.emplace_back(topic, p);
      }
    }
  }
  std::map<PartitionKey, int64_t> highs;
  for (const auto& [topic, partition] : partitions) {
    int64_t low = 0;
    int64_t high = 0;
    if (rd_kafka_query_watermark_offsets(consumer_.get(), topic.c_str(), partition, &low, &high,
                                         5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      highs[PartitionKey{topic, partition}] = high;
    }
  }
  std::lock_guard lock(ready_mu_);
  queried_high_ = std::move(highs);
}

void Link::discoverOnce() {
  auto result = discovery_->run(consumer_.get());
  std::lock_guard lock(ready_mu_);
  if (!result) {
    topic_problems_["*"] = result.error().message;
    spdlog::warn("link '{}': {}", link_.name, result.error().message);
    return;
  }
  for (const auto& [topic, problem] : result->problems) {
    if (topic_problems_[topic] != problem) {
      spdlog::error("link '{}': topic '{}' is not replicated: {}", link_.name, topic, problem);
    }
  }
  topic_problems_ = result->problems;
  bool changed = result->ready.size() != ready_topics_.size();
  if (!changed) {
    for (const auto& [topic, ready] : result->ready) {
      auto it = ready_topics_.find(topic);
      if (it == ready_topics_.end() || it->second.target_partitions != ready.target_partitions ||
          it->second.source_partitions != ready.source_partitions) {
        changed = true;
        break;
      }
    }
  }
  if (changed) {
    ready_topics_ = std::move(result->ready);
    ready_changed_ = true;
  }
}

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

void Link::onRebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions) {
  rebalances_ += 1;
  commits_held_until_ = {};
  last_rkt_ = nullptr;
  last_state_ = nullptr;
  last_partition_ = -1;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    assignPartitions(partitions);
  } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
    revokePartitions(partitions);
  } else {
    spdlog::error("link '{}': rebalance error: {}", link_.name, rd_kafka_err2str(err));
    std::vector<PartitionState*> all;
    for (auto& [key, state] : partitions_) {
      all.push_back(state.get());
    }
    waitForDeliveries(all, kRevokeFlushLimit);
    for (auto& [key, state] : partitions_) {
      if (state->tracker.inFlightRecords() > 0) {
        detached_.push_back(std::move(state));
      }
    }
    partitions_.clear();
    rd_kafka_assign(consumer_.get(), nullptr);
  }
}

Link::TargetTopic* Link::targetFor(const std::string& source_topic) {
  auto it = target_topics_.find(source_topic);
  if (it != target_topics_.end()) {
    return &it->second;
  }
  ReadyTopic ready;
  {
    std::lock_guard lock(ready_mu_);
    auto found = ready_topics_.find(source_topic);
    if (found == ready_topics_.end()) {
      return nullptr;
    }
    ready = found->second;
  }
  TargetTopic target;
  target.name = ready.target_topic;
  target.partitions = ready.target_partitions;
  target.handle.reset(rd_kafka_topic_new(producer_.get(), target.name.c_str(), nullptr));
  if (!target.handle) {
    return nullptr;
  }
  return &target_topics_.emplace(source_topic, std::move(target)).first->second;
}

void Link::assignPartitions(rd_kafka_topic_partition_list_t* partitions) {
  std::vector<PartitionState*> waiting;
  std::vector<PartitionState*> assigned;
  for (int i = 0; i < partitions->cnt; ++i) {
    const auto& tp = partitions->elems[i];
    auto& slot = partitions_[PartitionKey{tp.topic, tp.partition}];
    if (!slot) {
      slot = std::make_unique<PartitionState>();
    }
    slot->source_topic = tp.topic;
    slot->partition = tp.partition;
    slot->target = targetFor(tp.topic);
    slot->waiting_for_target = slot->target == nullptr || tp.partition >= slot->target->partitions;
    (slot->waiting_for_target ? waiting : assigned).push_back(slot.get());
  }
  if (tail_) {
    // Exactly-once: start each partition right after the last record this link actually wrote
    // to the target, whatever the source group says (its commits are advisory here).
    for (int i = 0; i < partitions->cnt; ++i) {
      auto& tp = partitions->elems[i];
      PartitionState& state = *partitions_[PartitionKey{tp.topic, tp.partition}];
      if (state.waiting_for_target) {
        continue;  // scanned when its mirror partition appears
      }
      auto resume = resumeOffset(state);
      if (!resume) {
        fail("link '" + link_.name + "': cannot find where " + tp.topic + "[" +
             std::to_string(tp.partition) + "] stopped on the target, so exactly-once " +
             "cannot be kept; not starting it: " + resume.error().message);
        return;
      }
      if (*resume) {
        tp.offset = **resume;
      }
    }
  }
  const bool cooperative =
      std::strcmp(rd_kafka_rebalance_protocol(consumer_.get()), "COOPERATIVE") == 0;
  if (cooperative) {
    if (rd_kafka_error_t* error = rd_kafka_incremental_assign(consumer_.get(), partitions)) {
      fail("link '" + link_.name + "': assigning partitions failed: " + errorText(error));
      return;
    }
  } else {
    rd_kafka_resp_err_t err = rd_kafka_assign(consumer_.get(), partitions);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      fail("link '" + link_.name + "': assigning partitions failed: " + rd_kafka_err2str(err));
      return;
    }
  }
  setPaused(waiting, true);
  if (backpressure_paused_ || user_paused_) {
    setPaused(assigned, true);
  }
  if (!waiting.empty()) {
    spdlog::warn("link '{}': {} assigned partition(s) wait for their mirror topic partitions",
                 link_.name, waiting.size());
  }
  spdlog::info("link '{}': assigned {} partition(s), {} in total", link_.name, partitions->cnt,
               partitions_.size());
}

Result<std::optional<int64_t>> Link::resumeOffset(const PartitionState& state) {
  auto last = tail_->lastSourceOffset(state.target->name, state.partition,
                                      std::max(milliseconds(30000), target_.connect_timeout));
  if (!last) {
    return last.error();
  }
  if (!*last) {
    return std::optional<int64_t>();
  }
  spdlog::info("link '{}': {}[{}] resumes at source offset {} (last one on the target)",
               link_.name, state.source_topic, state.partition, **last + 1);
  return std::optional<int64_t>(**last + 1);
}

void Link::revokePartitions(rd_kafka_topic_partition_list_t* partitions) {
  std::vector<PartitionState*> states;
  for (int i = 0; i < partitions->cnt; ++i) {
    const auto& tp = partitions->elems[i];
    auto it = partitions_.find(PartitionKey{tp.topic, tp.partition});
    if (it != partitions_.end()) {
      states.push_back(it->second.get());
    }
  }
  const bool lost = rd_kafka_assignment_lost(consumer_.get()) != 0;
  if (!lost) {
    // Hand over cleanly: what was read is written and committed before the next owner starts,
    // so it re-reads as little as possible.
    const auto limit = std::min(kRevokeFlushLimit, milliseconds(drain_timeout_ms_.load()));
    waitForDeliveries(states, limit);
    commit(states, /*sync=*/true);
  }
  for (PartitionState* state : states) {
    auto it = partitions_.find(PartitionKey{state->source_topic, state->partition});
    if (state->tracker.inFlightRecords() > 0) {
      spdlog::warn("link '{}': {}[{}] revoked with {} record(s) still in flight; the next "
                   "owner may write them again",
                   link_.name, state->source_topic, state->partition,
                   state->tracker.inFlightRecords());
      detached_.push_back(std::move(it->second));
    }
    partitions_.erase(it);
  }
  const bool cooperative =
      std::strcmp(rd_kafka_rebalance_protocol(consumer_.get()), "COOPERATIVE") == 0;
  if (cooperative) {
    if (rd_kafka_error_t* error = rd_kafka_incremental_unassign(consumer_.get(), partitions)) {
      spdlog::error("link '{}': unassign failed: {}", link_.name, errorText(error));
    }
  } else {
    rd_kafka_assign(consumer_.get(), nullptr);
  }
  spdlog::info("link '{}': revoked {} partition(s){}, {} left", link_.name, partitions->cnt,
               lost ? " (lost)" : "", partitions_.size());
}

void Link::waitForDeliveries(const std::vector<PartitionState*>& states, milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  auto pending = [&] {
    return std::any_of(states.begin(), states.end(),
                       [](PartitionState* s) { return s->tracker.inFlightRecords() > 0; });
  };
  while (pending() && Clock::now() < deadline) {
    rd_kafka_poll(producer_.get(), 10);
  }
}

// ---------------------------------------------------------------------------------------------
// Commits

void Link::commit(const std::vector<PartitionState*>& states, bool sync) {
  auto list = makeList(states.size());
  std::vector<std::pair<PartitionState*, int64_t>> advanced;
  for (PartitionState* state : states) {
    const auto point = state->tracker.commitPoint();
    if (point && *point > state->committed) {
      rd_kafka_topic_partition_list_add(list.get(), state->source_topic.c_str(), state->partition)
          ->offset = *point;
      advanced.emplace_back(state, *point);
    }
  }
  if (list->cnt == 0) {
    return;
  }
  rd_kafka_resp_err_t err = rd_kafka_commit(consumer_.get(), list.get(), sync ? 0 : 1);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    countError("commit", err);
    // Not fatal: the next commit carries the same or a later offset.
    std::lock_guard lock(status_mu_);
    status_.last_error = "committing source offsets to " + kafka::describeCluster(source_) +
                         " failed: " + rd_kafka_err2str(err);
    return;
  }
  for (auto [state, offset] : advanced) {
    state->committed = offset;
  }
}

void Link::commitAll(bool sync) {
  std::vector<PartitionState*> states;
  states.reserve(partitions_.size());
  for (auto& [key, state] : partitions_) {
    states.push_back(state.get());
  }
  commit(states, sync);
}

// ---------------------------------------------------------------------------------------------
// Flow control

void Link::setPaused(const std::vector<PartitionState*>& states, bool paused) {
  if (states.empty()) {
    return;
  }
  auto list = makeList(states.size());
  for (PartitionState* state : states) {
    rd_kafka_topic_partition_list_add(list.get(), state->source_topic.c_str(), state->partition);
  }
  if (paused) {
    rd_kafka_pause_partitions(consumer_.get(), list.get());
  } else {
    rd_kafka_resume_partitions(consumer_.get(), list.get());
  }
}

std::vector<Link::PartitionState*> Link::fetchablePartitions() {
  std::vector<PartitionState*> states;
  for (auto& [key, state] : partitions_) {
    if (!state->waiting_for_target) {
      states.push_back(state.get());
    }
  }
  return states;
}

void Link::applyOperatorPause() {
  const bool wanted = pause_requested_.load();
  if (wanted == user_paused_) {
    return;
  }
  user_paused_ = wanted;
  if (wanted) {
    setPaused(fetchablePartitions(), true);
  } else if (!backpressure_paused_) {
    setPaused(fetchablePartitions(), false);
  }
  spdlog::info("link '{}': {} by the operator", link_.name, wanted ? "paused" : "resumed");
  std::lock_guard lock(status_mu_);
  if (status_.state == LinkState::kRunning || status_.state == LinkState::kPaused) {
    status_.state = wanted ? LinkState::kPaused : LinkState::kRunning;
  }
}

void Link::applyBackpressure() {
  const bool over = in_flight_records_ > link_.max_in_flight_records ||
                    in_flight_bytes_ > link_.max_in_flight_bytes;
  const bool under = in_flight_records_ <= link_.max_in_flight_records / 2 &&
                     in_flight_bytes_ <= link_.max_in_flight_bytes / 2;
  if (backpressure_paused_ == over || (backpressure_paused_ && !under)) {
    return;
  }
  backpressure_paused_ = over;
  if (!user_paused_) {
    setPaused(fetchablePartitions(), backpressure_paused_);
  }
}

void Link::resumeReadyPartitions() {
  std::vector<PartitionState*> ready;
  for (auto& [key, state] : partitions_) {
    if (!state->waiting_for_target) {
      continue;
    }
    if (state->target == nullptr) {
      state->target = targetFor(state->source_topic);
    }
    if (state->target != nullptr && state->partition < state->target->partitions) {
      if (tail_) {
        auto resume = resumeOffset(*state);
        if (!resume) {
          fail("link '" + link_.name + "': cannot find where " + state->source_topic + "[" +
               std::to_string(state->partition) + "] stopped on the target: " +
               resume.error().message);
          return;
        }
        if (*resume) {
          auto list = makeList(1);
          rd_kafka_topic_partition_list_add(list.get(), state->source_topic.c_str(),
                                            state->partition)
              ->offset = **resume;
          if (rd_kafka_error_t* error = rd_kafka_seek_partitions(consumer_.get(), list.get(),
                                                                 5000)) {
            fail("link '" + link_.name + "': seeking " + state->source_topic + " failed: " +
                 errorText(error));
            return;
          }
        }
      }
      state->waiting_for_target = false;
      ready.push_back(state.get());
    }
  }
  if (!ready.empty() && !backpressure_paused_ && !user_paused_) {
    setPaused(ready, false);
  }
}

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
  target_topics_.clear();
  partitions_.clear();
  detached_.clear();
  producer_.reset();
  consumer_.reset();
  {
    std::lock_guard lock(status_mu_);
    if (status_.state != LinkState::kFailed) {
      status_.state = LinkState::kStopped;
    }
    status_.partitions.clear();
    status_.in_flight_records = 0;
    status_.in_flight_bytes = 0;
  }
  spdlog::info("link '{}': stopped ({} records replicated by this worker)", link_.name,
               records_replicated_);
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

void Link::publishStatus() {
  std::vector<PartitionStatus> partitions;
  const int64_t now_ms = wallClockMs();
  fetching_paused_.store(backpressure_paused_ || user_paused_);
  std::map<PartitionKey, int64_t> queried_high;
  {
    std::lock_guard lock(ready_mu_);
    queried_high = queried_high_;
  }
  if (consumer_ && !partitions_.empty()) {
    auto list = makeList(partitions_.size());
    for (auto& [key, state] : partitions_) {
      rd_kafka_topic_partition_list_add(list.get(), key.first.c_str(), key.second);
    }
    rd_kafka_position(consumer_.get(), list.get());
    int i = 0;
    for (auto& [key, state] : partitions_) {
      PartitionStatus p;
      p.source_topic = key.first;
      p.partition = key.second;
      p.target_topic = state->target != nullptr ? state->target->name : "";
      if (auto oldest = state->tracker.oldestUnacked()) {
        p.next_offset = *oldest;
      } else if (list->elems[i].offset >= 0) {
        p.next_offset = list->elems[i].offset;
      } else if (state->committed >= 0) {
        p.next_offset = state->committed;
      }
      int64_t low = -1;
      int64_t high = -1;
      if (rd_kafka_get_watermark_offsets(consumer_.get(), key.first.c_str(), key.second, &low,
                                         &high) == RD_KAFKA_RESP_ERR_NO_ERROR &&
          high >= 0) {
        if (auto q = queried_high.find(key); q != queried_high.end()) {
          high = std::max(high, q->second);  // fresher while fetching is paused
        }
        p.high_watermark = high;
        if (p.next_offset < 0 && low >= 0 && low == high) {
          p.next_offset = high;  // empty partition: nothing to replicate
        }
      }
      if (p.high_watermark >= 0 && p.next_offset >= 0) {
        p.lag = std::max<int64_t>(0, p.high_watermark - p.next_offset);
      }
      p.last_replicated_timestamp_ms = state->last_replicated_timestamp;
      if (p.lag == 0) {
        p.time_lag_ms = 0;
      } else if (const auto* pending = state->tracker.oldestPending()) {
        const int64_t ts = rd_kafka_message_timestamp(
            static_cast<const rd_kafka_message_t*>(pending->source), nullptr);
        p.time_lag_ms = ts >= 0 ? std::max<int64_t>(0, now_ms - ts) : -1;
      } else if (state->last_replicated_timestamp >= 0) {
        p.time_lag_ms = std::max<int64_t>(0, now_ms - state->last_replicated_timestamp);
      }
      p.records_replicated = state->records_replicated;
      p.bytes_replicated = state->bytes_replicated;
      p.paused = backpressure_paused_ || user_paused_ || state->waiting_for_target;
      partitions.push_back(std::move(p));
      ++i;
    }
  }
  std::vector<std::string> topics;
  std::string problems;
  {
    std::lock_guard lock(ready_mu_);
    for (const auto& [topic, ready] : ready_topics_) {
      topics.push_back(topic);
    }
    for (const auto& [topic, problem] : topic_problems_) {
      problems += (problems.empty() ? "" : "; ") + problem;
    }
  }
  std::lock_guard lock(status_mu_);
  status_.partitions = std::move(partitions);
  status_.topics = std::move(topics);
  status_.records_replicated = records_replicated_;
  status_.bytes_replicated = bytes_replicated_;
  status_.in_flight_records = in_flight_records_;
  status_.in_flight_bytes = in_flight_bytes_;
  status_.rebalances = rebalances_;
  status_.records_skipped_loop = records_skipped_loop_;
  status_.produce_retries = produce_retries_;
  status_.replication_latency = replication_latency_;
  status_.record_age_at_poll = record_age_at_poll_;
  status_.errors = errors_;
  if (!problems.empty()) {
    status_.last_error = problems;
  }
  status_.updated_at = Clock::now();
}

// ---------------------------------------------------------------------------------------------
// librdkafka callbacks (all served on the data-plane thread by rd_kafka_poll/consumer_poll)

void Link::deliveryCallback(rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
  static_cast<Link*>(opaque)->onDelivery(message);
}

void Link::rebalanceCallback(rd_kafka_t*, rd_kafka_resp_err_t err,
                             rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  static_cast<Link*>(opaque)->onRebalance(err, partitions);
}

void Link::errorCallback(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* self = static_cast<Link*>(opaque);
  const bool is_producer = rd_kafka_type(rk) == RD_KAFKA_PRODUCER;
  const config::ClusterConfig& cluster = is_producer ? self->target_ : self->source_;
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    char fatal[512];
    rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
    self->fail("link '" + self->link_.name + "': fatal error from " +
               kafka::describeCluster(cluster) + ": " + fatal);
    return;
  }
  self->countError("client", static_cast<rd_kafka_resp_err_t>(err));
  // Everything else is retried by librdkafka (brokers down, timeouts): report, keep going.
  std::string text = kafka::describeCluster(cluster) + ": " +
                     rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(err)) + ": " + reason;
  std::lock_guard lock(self->status_mu_);
  if (self->status_.last_error != text) {
    spdlog::warn("link '{}': {}", self->link_.name, text);
    self->status_.last_error = std::move(text);
  }
}

int Link::statsCallback(rd_kafka_t*, char* json, size_t json_len, void* opaque) {
  // librdkafka's statistics: sum the retried produce requests over the target's brokers.
  auto* self = static_cast<Link*>(opaque);
  const auto stats = nlohmann::json::parse(json, json + json_len, nullptr, false);
  if (stats.is_discarded() || !stats.contains("brokers") || !stats["brokers"].is_object()) {
    return 0;
  }
  uint64_t retries = 0;
  for (const auto& [name, broker] : stats["brokers"].items()) {
    if (broker.contains("txretries") && broker["txretries"].is_number_unsigned()) {
      retries += broker["txretries"].get<uint64_t>();
    }
  }
  // Brokers come and go from the statistics: never let the counter go back.
  self->produce_retries_ = std::max(self->produce_retries_, retries);
  return 0;  // librdkafka frees the JSON
}

void Link::commitCallback(rd_kafka_t*, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t* offsets, void* opaque) {
  auto* self = static_cast<Link*>(opaque);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR || err == RD_KAFKA_RESP_ERR__NO_OFFSET) {
    std::lock_guard lock(self->status_mu_);
    if (self->status_.last_error.starts_with("committing")) {
      self->status_.last_error.clear();  // a later commit went through
    }
    return;
  }
  self->countError("commit", err);
  if (err == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS) {
    self->commits_held_until_ = Clock::now() + std::chrono::seconds(10);
  }
  // Forget what we believed committed so the next cycle commits these partitions again.
  for (int i = 0; offsets != nullptr && i < offsets->cnt; ++i) {
    auto it = self->partitions_.find(
        PartitionKey{offsets->elems[i].topic, offsets->elems[i].partition});
    if (it != self->partitions_.end()) {
      it->second->committed = -1;
    }
  }
  std::lock_guard lock(self->status_mu_);
  self->status_.last_error = "committing source offsets to " +
                             kafka::describeCluster(self->source_) +
                             " failed: " + rd_kafka_err2str(err);
}

} // namespace causeway::replicator
