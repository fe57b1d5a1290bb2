#include "replicator/target_writer.h"

#include "common/concurrently.h"
#include "common/wall_clock.h"
#include "kafka/client_factory.h"
#include "replicator/offset_state.h"
#include "replicator/source_reader.h"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <algorithm>

namespace causeway::replicator {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// A partition's offset runs are saved when a run starts, and otherwise at most this often
// (translation searches the records written since).
constexpr milliseconds kRunsSaveInterval{10000};
// How long one takeover (init_transactions) may wait for the target, at least: aborting an
// earlier owner's open transaction takes a few round trips. One that runs out is asked again.
constexpr milliseconds kTakeoverAttempt{10000};

// How long one commit of a transactional producer may take: as long as its transaction may stay
// open on the coordinator (transaction.timeout.ms; Kafka aborts an older open transaction on its
// own). A commit that takes longer is left under way and called again at the next commit, so one
// slow coordinator stalls the data plane for that long and not librdkafka's 60 s.
int commitLimitMs(rd_kafka_t* producer) {
  char value[32];
  size_t size = sizeof(value);
  if (rd_kafka_conf_get(rd_kafka_conf(producer), "transaction.timeout.ms", value, &size) ==
      RD_KAFKA_CONF_OK) {
    if (const int ms = std::atoi(value); ms > 0) {
      return std::max(ms, 1000);
    }
  }
  return 60000;
}

// librdkafka writes a byte to `fd` when the producer's main queue (delivery reports, errors) gets
// work; -1 stops it.
void wakeOnReports(ProducerSlot& slot, int fd) {
  static const char kWake = 1;
  rd_kafka_queue_t* main_queue = rd_kafka_queue_get_main(slot.producer.get());
  rd_kafka_queue_io_event_enable(main_queue, fd, fd < 0 ? nullptr : &kWake, fd < 0 ? 0 : 1);
  rd_kafka_queue_destroy(main_queue);
}

}  // namespace

bool isRecordRejection(rd_kafka_resp_err_t error) {
  switch (error) {
  case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
  case RD_KAFKA_RESP_ERR_INVALID_RECORD:
  case RD_KAFKA_RESP_ERR_POLICY_VIOLATION:
  case RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP:
    return true;
  default:
    return false;
  }
}

TargetWriter::TargetWriter(const config::LinkConfig& link, const config::ClusterConfig& source,
                           const config::ClusterConfig& target, DeliveryListener& listener)
    : link_(link), source_(source), target_(target), listener_(listener) {
  shared_.writer = this;
}

TargetWriter::~TargetWriter() {
  for (Closing& closing : closing_) {
    closing.thread.join();
  }
  owned_.clear();
  shared_.state_handle.reset();
  topics_.clear();
  shared_.producer.reset();
  for (int fd : wake_fds_) {
    if (fd >= 0) {
      ::close(fd);
    }
  }
}

kafka::ClientSpec TargetWriter::producerSpec(ProducerSlot& slot) const {
  kafka::ClientSpec spec;
  spec.type = RD_KAFKA_PRODUCER;
  spec.cluster = &target_;
  spec.client_id = "causeway-" + link_.name;
  spec.defaults = {
      {"linger.ms", "5"},
      {"batch.size", "1000000"},
      // A target outage pauses replication (backpressure) instead of failing records: the producer
      // retries until the target is back.
      {"message.timeout.ms", "0"},
      {"queue.buffering.max.messages",
       std::to_string(std::max<size_t>(2 * link_.max_in_flight_records, 100000))},
      {"statistics.interval.ms", "5000"},  // for the produce retry count
  };
  spec.overrides = link_.producer_properties;
  spec.owned = {
      {"enable.idempotence", "true"},
      {"acks", "all"},
  };
  if (link_.delivery == config::DeliveryMode::kExactlyOnce && !link_.transactional) {
    // A refused record stops the producer before anything after it is written, so a restart (which
    // resumes after the last record on the target) cannot jump over it.
    spec.owned["enable.gapless.guarantee"] = "true";
  }
  if (!slot.transactional_id.empty()) {
    spec.owned["transactional.id"] = slot.transactional_id;
    spec.defaults["transaction.timeout.ms"] = std::to_string(config::kDefaultTransactionTimeoutMs);
  }
  spec.configure = [&slot](rd_kafka_conf_t* conf) {
    rd_kafka_conf_set_opaque(conf, &slot);
    rd_kafka_conf_set_dr_msg_cb(conf, &TargetWriter::deliveryCallback);
    rd_kafka_conf_set_stats_cb(conf, &TargetWriter::statsCallback);
    rd_kafka_conf_set_error_cb(conf, &TargetWriter::errorCallback);
  };
  return spec;
}

Status TargetWriter::open(std::function<void(int err, const std::string& text)> on_error) {
  on_error_ = std::move(on_error);
  auto producer = kafka::makeClient(producerSpec(shared_));
  if (!producer) {
    return producer.error();
  }
  shared_.producer = std::move(*producer);
  if (auto reachable = kafka::checkReachable(shared_.producer.get(), target_); !reachable) {
    return reachable;
  }
  if (link_.transactional) {
    // Records go through the partitions' own producers (fence()); this one only showed that the
    // target answers and that the properties are valid.
    shared_.producer.reset();
    if (::pipe2(wake_fds_, O_NONBLOCK | O_CLOEXEC) != 0) {
      return Error{std::string("cannot create a pipe: ") + std::strerror(errno)};
    }
  }
  return {};
}

Result<std::unique_ptr<ProducerSlot>> TargetWriter::fence(const std::string& source_topic,
                                                          int32_t partition,
                                                          const std::string& mirror_topic) const {
  auto slot = std::make_unique<ProducerSlot>();
  slot->writer = const_cast<TargetWriter*>(this);  // callbacks run on the data plane, after adopt()
  slot->transactional_id = transactionalId(link_.name, source_topic, partition);
  slot->mirror_topic = mirror_topic;
  slot->partition = partition;
  auto failed = [&](const std::string& why, ErrorKind kind = ErrorKind::kUnknown) {
    return Error{"cannot take over transactional.id '" + slot->transactional_id + "' of " +
                     source_topic + "[" + std::to_string(partition) + "] on " +
                     kafka::describeCluster(target_) + ": " + why,
                 kind};
  };
  auto producer = kafka::makeClient(producerSpec(*slot));
  if (!producer) {
    return failed(producer.error().message);
  }
  slot->producer = std::move(*producer);
  slot->commit_limit_ms = commitLimitMs(slot->producer.get());
  // On Kafka this bumps the id's epoch: an open transaction of the previous owner is aborted (the
  // call waits for that), and the previous owner's writes and commits are refused from now on.
  // A call that runs out of time (the target or its transaction coordinator does not answer) is
  // retriable: the link asks again later with a new producer (Link::applyResumePositions). Any
  // other failure (an authorization error, a fatal one) stops the link.
  const int timeout_ms =
      static_cast<int>(std::max(kTakeoverAttempt, target_.connect_timeout).count());
  if (rd_kafka_error_t* error = rd_kafka_init_transactions(slot->producer.get(), timeout_ms)) {
    const ErrorKind kind =
        rd_kafka_error_is_retriable(error) != 0 ? ErrorKind::kUnavailable : ErrorKind::kUnknown;
    return failed("initializing transactions failed: " + kafka::takeErrorText(error), kind);
  }
  slot->mirror_handle.reset(
      rd_kafka_topic_new(slot->producer.get(), mirror_topic.c_str(), nullptr));
  slot->state_handle.reset(rd_kafka_topic_new(slot->producer.get(), state_topic_.c_str(), nullptr));
  if (!slot->mirror_handle || !slot->state_handle) {
    return failed("cannot open its topics on the producer");
  }
  // Wake pollOwned() when this producer has delivery reports to serve.
  wakeOnReports(*slot, wake_fds_[1]);
  return slot;
}

void TargetWriter::adopt(MirrorPartition& mirror, std::unique_ptr<ProducerSlot> slot) {
  if (mirror.slot != nullptr) {
    release(mirror, milliseconds(5000));
  }
  mirror.slot = slot.get();
  owned_[{slot->mirror_topic, slot->partition}] = std::move(slot);
}

void TargetWriter::release(MirrorPartition& mirror, milliseconds reports) {
  ProducerSlot* slot = std::exchange(mirror.slot, nullptr);
  if (slot == nullptr) {
    return;
  }
  auto it = owned_.find({slot->mirror_topic, slot->partition});
  if (it == owned_.end()) {
    return;
  }
  std::unique_ptr<ProducerSlot> released = std::move(it->second);
  owned_.erase(it);
  released->releasing = true;
  if (released->in_transaction) {
    // Given up with a transaction open (a lost assignment, a stopping link): what it holds is
    // withdrawn first, so the abort does not wait for records to a target that may not answer.
    rd_kafka_purge(released->producer.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    abort(*released, "the partition is given up");
  }
  // What is still queued on it is reported (acknowledged, or purged by an abort) before it goes:
  // the listener's bookkeeping must not wait for reports that can no longer come.
  const auto deadline = Clock::now() + reports;
  while (rd_kafka_outq_len(released->producer.get()) > 0 && Clock::now() < deadline) {
    rd_kafka_poll(released->producer.get(), 10);
  }
  rd_kafka_poll(released->producer.get(), 0);
  released_retries_ += released->produce_retries;
  close(std::move(released));
}

void TargetWriter::discard(std::unique_ptr<ProducerSlot> slot) {
  if (slot) {
    slot->releasing = true;
    close(std::move(slot));
  }
}

void TargetWriter::close(std::unique_ptr<ProducerSlot> slot) {
  // No callback of the closing producer reaches this writer, and its queue stops writing to the
  // wake-up pipe.
  slot->writer = nullptr;
  wakeOnReports(*slot, -1);
  std::erase_if(closing_, [](Closing& closing) {
    if (!closing.done->load()) {
      return false;
    }
    closing.thread.join();
    return true;
  });
  auto done = std::make_shared<std::atomic<bool>>(false);
  closing_.push_back(Closing{std::thread([closing = std::move(slot), done]() mutable {
                               closing.reset();
                               done->store(true);
                             }),
                             done});
}

TargetTopic* TargetWriter::findTopic(const std::string& source_topic) {
  auto it = topics_.find(source_topic);
  return it == topics_.end() ? nullptr : &it->second;
}

TargetTopic* TargetWriter::topic(const std::string& source_topic, const std::string& target_name,
                                 int32_t partitions) {
  if (TargetTopic* known = findTopic(source_topic)) {
    known->partitions = std::max(known->partitions, partitions);
    return known;
  }
  TargetTopic target;
  target.name = target_name;
  target.partitions = partitions;
  if (shared_.producer) {  // transactional links write through each partition's own handle
    target.handle.reset(rd_kafka_topic_new(shared_.producer.get(), target.name.c_str(), nullptr));
    if (!target.handle) {
      return nullptr;
    }
  }
  return &topics_.emplace(source_topic, std::move(target)).first->second;
}

Status TargetWriter::write(const pipeline::Record& record, const SourceRecord& source,
                           MirrorPartition& mirror, OffsetTracker::Entry& entry) {
  ProducerSlot* slot = slotOf(mirror);
  if (slot == nullptr) {
    return Error{"not writing " + std::string(source.view.topic) + "[" +
                     std::to_string(source.view.partition) + "]@" +
                     std::to_string(source.view.offset) +
                     ": this worker does not own the partition",
                 ErrorKind::kFailedPrecondition};
  }
  rd_kafka_t* producer = slot->producer.get();
  auto* message = static_cast<rd_kafka_message_t*>(source.handle);
  // The source record's headers move over instead of being copied (the consumed message needs them
  // no more); the edits of the stages are applied to them. The producer takes ownership of
  // `headers` on success.
  rd_kafka_headers_t* headers = nullptr;
  if (source.view.headers.empty() ||
      rd_kafka_message_detach_headers(message, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR ||
      headers == nullptr) {
    headers = rd_kafka_headers_new(record.addedCount() + 1);
  }
  for (size_t i = 0; i < record.removedCount(); ++i) {
    const std::string_view name = record.removed(i);
    // rd_kafka_header_remove wants a NUL-terminated name; removed() views a std::string.
    rd_kafka_header_remove(headers, name.data());
  }
  for (size_t i = 0; i < record.addedCount(); ++i) {
    const std::string_view name = record.addedName(i);
    const auto value = record.addedValue(i);
    rd_kafka_header_add(headers, name.data(), static_cast<ssize_t>(name.size()),
                        value ? value->data() : nullptr,
                        value ? static_cast<ssize_t>(value->size()) : 0);
  }

  const auto key = record.key();
  const auto value = record.value();
  rd_kafka_vu_t vus[8];
  size_t n = 0;
  vus[n].vtype = RD_KAFKA_VTYPE_RKT;
  vus[n++].u.rkt = slot->mirror_handle ? slot->mirror_handle.get() : mirror.topic->handle.get();
  vus[n].vtype = RD_KAFKA_VTYPE_PARTITION;
  vus[n++].u.i32 = mirror.partition;
  vus[n].vtype = RD_KAFKA_VTYPE_KEY;  // librdkafka always copies keys
  vus[n].u.mem.ptr = key ? const_cast<char*>(key->data()) : nullptr;
  vus[n++].u.mem.size = key ? key->size() : 0;
  vus[n].vtype = RD_KAFKA_VTYPE_VALUE;
  vus[n].u.mem.ptr = value ? const_cast<char*>(value->data()) : nullptr;
  vus[n++].u.mem.size = value ? value->size() : 0;
  // The value is copied into the produced message (one allocation with the message, as the key
  // always is), so the consumed message is freed at once: holding it would pin its whole fetch
  // response (up to fetch.max.bytes) for as long as the target takes, and in-flight memory would no
  // longer be what backpressure counts.
  vus[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
  vus[n++].u.i32 = RD_KAFKA_MSG_F_COPY;
  vus[n].vtype = RD_KAFKA_VTYPE_OPAQUE;
  vus[n++].u.ptr = &entry;
  if (record.timestamp() >= 0) {
    vus[n].vtype = RD_KAFKA_VTYPE_TIMESTAMP;
    vus[n++].u.i64 = record.timestamp();
  }
  vus[n].vtype = RD_KAFKA_VTYPE_HEADERS;
  vus[n++].u.headers = headers;

  while (true) {
    rd_kafka_error_t* error = rd_kafka_produceva(producer, vus, n);
    if (error == nullptr) {
      return {};
    }
    if (rd_kafka_error_code(error) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      rd_kafka_error_destroy(error);
      rd_kafka_poll(producer, 10);  // serve delivery reports to make room
      continue;
    }
    rd_kafka_headers_destroy(headers);
    return Error{"cannot produce " + std::string(source.view.topic) + "[" +
                 std::to_string(source.view.partition) + "]@" + std::to_string(source.view.offset) +
                 " to " + kafka::describeCluster(target_) + " topic '" + mirror.topic->name +
                 "': " + kafka::takeErrorText(error)};
  }
}

void TargetWriter::poll(int timeout_ms) {
  in_poll_ = true;
  report_time_ms_ = -1;
  if (link_.transactional) {
    pollOwned(timeout_ms);
  } else {
    rd_kafka_poll(shared_.producer.get(), timeout_ms);
  }
  in_poll_ = false;
}

int64_t TargetWriter::reportTimeMs() {
  if (in_poll_ && report_time_ms_ >= 0) {
    return report_time_ms_;
  }
  const int64_t now = wallClockMs();
  if (in_poll_) {
    report_time_ms_ = now;
  }
  return now;
}

void TargetWriter::pollOwned(int timeout_ms) {
  int served = 0;
  for (auto& [key, slot] : owned_) {
    served += rd_kafka_poll(slot->producer.get(), 0);
  }
  if (served > 0 || timeout_ms <= 0) {
    return;
  }
  // Nothing to serve yet: wait until a producer's main queue gets work (or the timeout).
  pollfd wake{wake_fds_[0], POLLIN, 0};
  if (::poll(&wake, 1, timeout_ms) > 0) {
    char drain[64];
    while (::read(wake_fds_[0], drain, sizeof(drain)) > 0) {
    }
    for (auto& [key, slot] : owned_) {
      rd_kafka_poll(slot->producer.get(), 0);
    }
  }
}

void TargetWriter::purge(bool in_flight) {
  const int flags = RD_KAFKA_PURGE_F_QUEUE | (in_flight ? RD_KAFKA_PURGE_F_INFLIGHT : 0);
  if (shared_.producer) {
    rd_kafka_purge(shared_.producer.get(), flags);
  }
  for (auto& [key, slot] : owned_) {
    rd_kafka_purge(slot->producer.get(), flags);
  }
}

void TargetWriter::flush(milliseconds timeout) {
  if (shared_.producer) {
    rd_kafka_flush(shared_.producer.get(), static_cast<int>(timeout.count()));
  }
}

void TargetWriter::deliveryCallback(rd_kafka_t*, const rd_kafka_message_t* report, void* opaque) {
  const auto* slot = static_cast<ProducerSlot*>(opaque);
  TargetWriter* self = slot->writer;
  if (self == nullptr) {
    return;  // a released producer closing
  }
  const auto turn = self->serializeCallbacks();
  if (report->_private == nullptr) {
    // A state record (saveRuns). Losing one costs only speed: the next save carries the same runs,
    // and translation checks everything against the target. (On transactional links a failed write
    // makes the transaction abortable, which stops the link like any failed write.)
    if (report->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      self->state_errors_ += 1;
    }
    return;
  }
  auto* entry = static_cast<OffsetTracker::Entry*>(report->_private);
  if (report->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    self->listener_.onDelivered(*entry, report->offset);
  } else if (slot->releasing) {
    // A partition given up: whatever failed (also a fence by its next owner) was withdrawn, not
    // refused by the target. Its next owner reads it again.
    self->listener_.onNotDelivered(*entry, RD_KAFKA_RESP_ERR__PURGE_INFLIGHT, *report);
  } else {
    self->listener_.onNotDelivered(*entry, report->err, *report);
  }
}

int TargetWriter::statsCallback(rd_kafka_t*, char* json, size_t json_len, void* opaque) {
  // librdkafka's statistics: sum the retried produce requests over the target's brokers.
  auto* slot = static_cast<ProducerSlot*>(opaque);
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
  // Brokers come and go from the statistics: never let the counter go back. (Only this
  // producer's callbacks write its slot's counter.)
  slot->produce_retries = std::max(slot->produce_retries, retries);
  return 0;  // librdkafka frees the JSON
}

void TargetWriter::errorCallback(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* slot = static_cast<ProducerSlot*>(opaque);
  TargetWriter* self = slot->writer;
  if (self == nullptr) {
    return;  // a released producer closing
  }
  const auto turn = self->serializeCallbacks();
  if (slot->releasing) {
    // The partition was given up; its next owner may have fenced this producer already.
    spdlog::info("link '{}': the producer of {}[{}], given up: {}", self->link_.name,
                 slot->mirror_topic, slot->partition, reason);
    return;
  }
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    char fatal[512];
    rd_kafka_fatal_error(rk, fatal, sizeof(fatal));
    self->on_error_(err,
                    "fatal error from " + kafka::describeCluster(self->target_) + ": " + fatal);
    return;
  }
  self->on_error_(err, kafka::describeCluster(self->target_) + ": " +
                           rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(err)) + ": " + reason);
}

// --- Offset runs ---------------------------------------------------------------------------------

Status TargetWriter::openState(const std::string& state_topic) {
  state_topic_ = state_topic;
  if (link_.transactional) {
    return {};  // each partition's producer opens it (fence())
  }
  shared_.state_handle.reset(
      rd_kafka_topic_new(shared_.producer.get(), state_topic_.c_str(), nullptr));
  if (!shared_.state_handle) {
    return Error{"cannot open the state topic '" + state_topic_ + "'"};
  }
  return {};
}

void TargetWriter::recordRun(MirrorPartition& mirror, int64_t source, int64_t target) {
  mirror.runs_dirty = true;
  if (mirror.runs.add(source, target)) {
    return;
  }
  if (target <= mirror.runs.lastTarget() || source <= mirror.runs.lastSource()) {
    mirror.runs.clear();  // the target went back: the saved history describes
                          // another log
  }
  mirror.runs.markUnknownGap();
  mirror.runs.add(source,
                  target);  // refused only for offsets no record has (-1)
}

void TargetWriter::saveRuns(const std::vector<MirrorPartition*>& partitions, bool force) {
  const auto now = Clock::now();
  for (MirrorPartition* mirror : partitions) {
    if (!mirror->runs_dirty || !mirror->runs_saveable || mirror->topic == nullptr) {
      continue;
    }
    // A growing last run needs no save every commit: translation searches the few records past the
    // saved runs. A new run (a skip, foreign records) is saved at the next commit.
    if (!force && mirror->runs.runs().size() == mirror->runs_saved_count &&
        now - mirror->runs_saved_at < kRunsSaveInterval) {
      continue;
    }
    ProducerSlot* slot = slotOf(*mirror);
    if (slot == nullptr || beginTransactionIfNeeded(*mirror) != Begin::kOpen) {
      continue;
    }
    const std::string key = stateKey(mirror->topic->name, mirror->partition);
    mirror->runs.encodeInto(state_buffer_);
    rd_kafka_resp_err_t err = rd_kafka_producev(
        slot->producer.get(), RD_KAFKA_V_RKT(slot->state_handle.get()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key.data(), key.size()),
        RD_KAFKA_V_VALUE(state_buffer_.data(), state_buffer_.size()), RD_KAFKA_V_OPAQUE(nullptr),
        RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      state_errors_ += 1;  // queue full: saved at the next commit
      continue;  // (transactional links: the other partitions have producers of their own)
    }
    mirror->runs_dirty = false;
    mirror->runs_saved_count = mirror->runs.runs().size();
    mirror->runs_saved_at = now;
  }
}

// --- Transactions --------------------------------------------------------------------------------

TargetWriter::Begin TargetWriter::beginTransactionIfNeeded(MirrorPartition& mirror) {
  if (!link_.transactional) {
    return Begin::kOpen;
  }
  ProducerSlot* slot = mirror.slot;
  if (slot == nullptr) {
    // Only a partition this worker owns may be written; its producer came with the ownership.
    const std::string text = "link '" + link_.name + "': nothing may be written to " +
                             (mirror.topic ? mirror.topic->name : std::string("?")) + "[" +
                             std::to_string(mirror.partition) +
                             "]: this worker does not own it (no producer of its own)";
    on_error_(RD_KAFKA_RESP_ERR__FATAL, text);
    return Begin::kFailed;
  }
  if (slot->in_transaction) {
    // A commit still under way: librdkafka takes no record until it completes.
    return slot->commit_pending ? Begin::kRetry : Begin::kOpen;
  }
  if (rd_kafka_error_t* error = rd_kafka_begin_transaction(slot->producer.get())) {
    return transactionError(*slot, "beginning a transaction", error).ok() ? Begin::kRetry
                                                                          : Begin::kFailed;
  }
  slot->in_transaction = true;
  return Begin::kOpen;
}

bool TargetWriter::inTransaction() const {
  return std::any_of(owned_.begin(), owned_.end(),
                     [](const auto& owned) { return owned.second->in_transaction; });
}

uint64_t TargetWriter::produceRetries() const {
  uint64_t retries = shared_.produce_retries + released_retries_;
  for (const auto& [key, slot] : owned_) {
    retries += slot->produce_retries;
  }
  return retries;
}

Status TargetWriter::commitTransaction() {
  // One transaction per partition written since the last commit, each ended by an EndTxn round
  // trip to its coordinator. Their records are flushed here first, one producer after the other:
  // delivery reports are served on the calling thread (the data plane's), and the records are in
  // flight together anyway. Then the EndTxn round trips run at once, up to kConcurrentCommits, so
  // a commit costs about ceil(P / kConcurrentCommits) round trips instead of P
  // (docs/failover.md). A callback a producer serves during its commit (a late report, an error)
  // runs on a helper thread, taking turns with the others while the data plane waits.
  constexpr size_t kConcurrentCommits = 16;
  constexpr int kResumedCommitLimitMs = 250;
  const auto started = std::chrono::steady_clock::now();
  std::vector<std::pair<const std::pair<std::string, int32_t>*, ProducerSlot*>> open;
  int flush_limit_ms = 0;
  for (auto& [key, slot] : owned_) {
    if (slot->in_transaction) {
      open.emplace_back(&key, slot.get());
      flush_limit_ms = std::max(flush_limit_ms, slot->commit_limit_ms);
    }
  }
  const auto flush_deadline = started + milliseconds(flush_limit_ms);
  // One limit for all flushes: one that runs out leaves its reports to its commit, which waits
  // for them with a limit of its own.
  for (auto& [key, slot] : open) {
    const auto left =
        std::chrono::duration_cast<milliseconds>(flush_deadline - std::chrono::steady_clock::now());
    rd_kafka_flush(slot->producer.get(), static_cast<int>(std::max<int64_t>(0, left.count())));
  }
  std::vector<rd_kafka_error_t*> errors(open.size(), nullptr);
  committing_in_parallel_ = open.size() > 1;  // seen by the helpers: set before they start
  runConcurrently(open.size(), kConcurrentCommits, "link '" + link_.name + "': committing",
                  [&](size_t i) {
                    ProducerSlot& slot = *open[i].second;
                    // A commit under way goes on in the background: its next call only collects the
                    // outcome, so one coordinator that stays away does not hold the others at every
                    // commit.
                    errors[i] = rd_kafka_commit_transaction(
                        slot.producer.get(),
                        slot.commit_pending ? std::min(slot.commit_limit_ms, kResumedCommitLimitMs)
                                            : slot.commit_limit_ms);
                  });
  committing_in_parallel_ = false;
  if (!open.empty()) {
    commits_ += 1;
    commit_time_ += std::chrono::steady_clock::now() - started;
  }
  // The answers, on the data plane: an abortable error aborts here, one after the other.
  Status first;
  for (size_t i = 0; i < open.size(); ++i) {
    auto& [key, slot] = open[i];
    if (rd_kafka_error_t* error = errors[i]) {
      // Anything but a retriable error ends the commit in librdkafka: an abortable one is aborted.
      slot->commit_pending = false;
      Status failed = transactionError(*slot,
                                       "committing the transaction of " + key->first + "[" +
                                           std::to_string(key->second) + "]",
                                       error);
      if (!failed && first) {
        first = failed;
      }
      // Retriable: the commit goes on in librdkafka and is called again at the next commit.
      slot->commit_pending = failed.ok() && slot->in_transaction;
      continue;
    }
    slot->in_transaction = false;
    slot->commit_pending = false;
  }
  return first;
}

void TargetWriter::abortTransaction(const std::string& why) {
  for (auto& [key, slot] : owned_) {
    abort(*slot, why);
  }
}

bool TargetWriter::abort(ProducerSlot& slot, const std::string& why) {
  if (!slot.in_transaction) {
    return false;
  }
  if (slot.commit_pending) {
    // librdkafka cannot abort a commit it has begun. On the coordinator it either completes or,
    // if its EndTxn never arrived, is aborted: by the transaction timeout or by the partition's
    // next owner taking the transactional.id over, which waits for the outcome either way.
    spdlog::warn("link '{}': the commit of {}[{}] is still under way and is left to the "
                 "coordinator: {}",
                 link_.name, slot.mirror_topic, slot.partition, why);
    slot.in_transaction = false;
    slot.commit_pending = false;
    return false;
  }
  spdlog::warn("link '{}': aborting the open transaction of {}[{}]: {}", link_.name,
               slot.mirror_topic, slot.partition, why);
  slot.in_transaction = false;
  if (rd_kafka_error_t* error = rd_kafka_abort_transaction(slot.producer.get(), 30000)) {
    spdlog::error("link '{}': aborting the transaction of {}[{}] failed: {}", link_.name,
                  slot.mirror_topic, slot.partition, kafka::takeErrorText(error));
    return false;
  }
  return true;
}

// Every librdkafka transactional error goes through here: retriable ones are retried at the next
// commit (ok status), fatal (fenced) and abortable ones stop the link (a restart resumes exactly
// after what is committed on the target).
Status TargetWriter::transactionError(ProducerSlot& slot, const std::string& what,
                                      rd_kafka_error_t* error) {
  const bool fatal = rd_kafka_error_is_fatal(error) != 0;
  const bool abortable = rd_kafka_error_txn_requires_abort(error) != 0;
  const bool retriable = rd_kafka_error_is_retriable(error) != 0;
  const rd_kafka_resp_err_t code = rd_kafka_error_code(error);
  const std::string text = kafka::takeErrorText(error);  // destroys `error`
  if (retriable && !fatal && !abortable) {
    spdlog::warn("link '{}': {} failed, retrying at the next commit: {}", link_.name, what, text);
    return {};
  }
  const bool aborted = abortable && abort(slot, what + " failed: " + text);
  std::string how = " failed: ";
  if (fatal && (code == RD_KAFKA_RESP_ERR__FENCED || code == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
                code == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH)) {
    how = " failed fatally (transactional.id '" + slot.transactional_id +
          "' was taken over: another worker owns the partition now, and this one is fenced): ";
  } else if (fatal) {
    how = " failed fatally: ";
  } else if (aborted) {
    how = " failed and the transaction was aborted: ";
  } else if (abortable) {
    how = " failed, and so did aborting its transaction (the target's coordinator aborts it after "
          "transaction.timeout.ms, or when the partition's next owner takes it over): ";
  }
  Error failure{what + " on " + kafka::describeCluster(target_) + how + text +
                "; a restart resumes exactly after the last committed record on the target"};
  on_error_(RD_KAFKA_RESP_ERR__FATAL, failure.message);
  return failure;
}

}  // namespace causeway::replicator
