#include "replicator/link.h"

#include "kafka/client_factory.h"
#include "replicator/link_internal.h"
#include "replicator/provenance_stages.h"
#include "replicator/source_accounting.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace causeway::replicator {

using namespace link_internal;

Link::Link(config::LinkConfig link, config::ClusterConfig source, config::ClusterConfig target,
           kafka::TopicAdminPtr target_admin, LinkExtensionsPtr extensions)
    : link_(std::move(link)), source_(std::move(source)), target_(std::move(target)),
      target_admin_(std::move(target_admin)), extensions_(std::move(extensions)) {
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
  auto failStart = [this](const std::string& message) -> Status {
    fail("link '" + link_.name + "': " + message);
    publishStatus();
    return Error{status_.error};
  };
  auto selector = TopicSelector::create(link_);
  if (!selector) {
    fail(selector.error().message);
    publishStatus();
    return selector.error();
  }
  if (extensions_) {
    selector->restrict([extensions = extensions_, link = link_](std::string_view topic) {
      return extensions->allowsTopic(link, topic);
    });
  }

  reader_ =
      std::make_unique<SourceReader>(link_, source_, static_cast<SourceReader::Listener&>(*this));
  if (auto opened = reader_->open(); !opened) {
    return failStart(opened.message());
  }
  if (auto reachable = kafka::checkReachable(reader_->client(), source_); !reachable) {
    return failStart(reachable.message());
  }
  writer_ = std::make_unique<TargetWriter>(link_, source_, target_,
                                           static_cast<DeliveryListener&>(*this));
  auto opened = writer_->open([this](int err, const std::string& text) {
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
      fail("link '" + link_.name + "': " + text);
    } else {
      onProblem(std::string("client:") + rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)),
                text);
    }
  });
  if (!opened) {
    return failStart(opened.message());
  }

  if (link_.dlq.enabled) {
    kafka::TopicAdmin* admin = target_admin_.get();
    if (link_.dlq.on_source) {
      dlq_admin_ = kafka::makeTopicAdmin(source_);
      admin = dlq_admin_.get();
    }
    dlq_ = std::make_unique<DeadLetterWriter>(link_, link_.dlq.on_source ? source_ : target_,
                                              dlq_deliveries_);
    if (auto dlq_opened =
            dlq_->open(*admin, std::max(milliseconds(10000), target_.connect_timeout));
        !dlq_opened) {
      return failStart(dlq_opened.message());
    }
  }

  // The stages every record passes, in order. Loop prevention first (a record from the target is
  // not worth checking), provenance last (it describes what is written).
  chain_.add(std::make_unique<LoopPreventionStage>(target_.name));
  if (extensions_) {
    auto stages = extensions_->makeStages(link_);
    if (!stages) {
      return failStart(stages.error().message);
    }
    for (auto& stage : *stages) {
      chain_.add(std::move(stage));
    }
  }
  chain_.add(std::make_unique<ProvenanceStage>(link_.name, source_.name));

  if (link_.delivery == config::DeliveryMode::kExactlyOnce) {
    // The saved offset runs (translation state) live in a compacted topic on the target.
    const std::string state_topic = stateTopic(link_.name);
    auto created = target_admin_->ensureCompactedTopic(
        state_topic, 1, std::max(milliseconds(10000), target_.connect_timeout));
    if (!created) {
      return failStart("cannot create its offset state topic: " + created.error().message);
    }
    if (auto state = writer_->openState(state_topic); !state) {
      return failStart(state.message());
    }
    mark_reader_ = std::make_unique<OffsetStateReader>(target_, link_.name);
    if (auto reader_opened = mark_reader_->open(); !reader_opened) {
      return failStart(reader_opened.message());
    }
    if (auto read = mark_reader_->refresh(Clock::now() +
                                          std::max(milliseconds(10000), target_.connect_timeout));
        !read) {
      return failStart(read.message());
    }
    if (const auto& mark = mark_reader_->failoverMark()) {
      // Promoted target: replicating into it again would mix the old source back in.
      const std::string text = failedOverText(*mark);
      spdlog::error("{}", text);
      std::lock_guard lock(status_mu_);
      status_.state = LinkState::kFailedOver;
      status_.error = text;
      return Error{text};
    }
    // Where partitions resume is looked up off the data plane.
    ResumeFinder::Fence fence;
    if (link_.transactional) {
      fence = [writer = writer_.get()](const ResumeFinder::Request& r) {
        return writer->fence(r.source_topic, r.partition, r.mirror_topic);
      };
    }
    finder_ = std::make_unique<ResumeFinder>(target_, link_.name, link_.transactional,
                                             std::move(fence));
    if (auto finder_started = finder_->start(); !finder_started) {
      return failStart(finder_started.message());
    }
  }

  discovery_ =
      std::make_unique<TopicDiscovery>(source_, std::move(*selector), *target_admin_,
                                       std::max(milliseconds(10000), source_.connect_timeout));
  discoverOnce();
  if (link_.start == config::StartPosition::kLatest) {
    // `start: latest` applies to the topics that exist when the link first starts: a link whose
    // group committed nothing yet. Topics and partitions that appear later, or that a restarted
    // link has not committed yet, start from their first record.
    std::vector<std::string> topics;
    {
      std::lock_guard lock(ready_mu_);
      for (const auto& [topic, ready] : ready_topics_) {
        topics.push_back(topic);
      }
    }
    auto list = kafka::newPartitionList(topics.size() * 4);
    {
      std::lock_guard lock(ready_mu_);
      for (const auto& [topic, ready] : ready_topics_) {
        for (int32_t p = 0; p < ready.source_partitions; ++p) {
          rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p);
        }
      }
    }
    bool committed_any = false;
    if (list->cnt > 0) {
      if (rd_kafka_resp_err_t err = rd_kafka_committed(
              reader_->client(), list.get(),
              static_cast<int>(std::max(milliseconds(10000), source_.connect_timeout).count()))) {
        return failStart("reading the group's committed offsets on " +
                         kafka::describeCluster(source_) + " failed: " + rd_kafka_err2str(err));
      }
      for (int i = 0; i < list->cnt; ++i) {
        committed_any = committed_any || list->elems[i].offset >= 0;
      }
    }
    if (!committed_any) {
      reader_->setStartAtEnd(std::move(topics));
    }
  }

  {
    std::lock_guard lock(status_mu_);
    status_.state = LinkState::kRunning;
  }
  spdlog::info("link '{}': {} -> {} running (group '{}')", link_.name,
               kafka::describeCluster(source_), kafka::describeCluster(target_), link_.groupId());
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
  if (finder_) {
    finder_->stop();
    // Producers taken over for partitions that never started go while the writer whose wake-up
    // pipe they write to still exists.
    (void)finder_->takeAnswers();
  }
  // The writers first: their delivery reports reach the reader's partitions.
  dlq_.reset();
  writer_.reset();
  reader_.reset();
}

LinkStatus Link::status() const {
  std::lock_guard lock(status_mu_);
  return status_;
}

// ---------------------------------------------------------------------------------------------
// Data plane

void Link::runDataPlane() {
  next_commit_ = Clock::now() + link_.commit_interval;
  while (!stop_requested_.load() && !failed_) {
    applySubscription();
    applyOperatorPause();
    pollSource();
    writer_->poll(0);
    if (dlq_) {
      dlq_->poll(0);
      releaseBarriers();
    }
    applyBackpressure();
    resumeReadyPartitions();
    const auto now = Clock::now();
    if (finder_) {
      applyResumePositions();
      if (now >= next_position_ask_) {
        askPositionsAgain(now);
      }
    }
    if (now >= next_retry_check_) {
      reader_->updateFetching();  // partitions whose retry time came
      next_retry_check_ = now + milliseconds(100);
    }
    if (now >= next_commit_) {
      commitCycle(now);
      next_commit_ = now + link_.commit_interval;
    }
    if (now >= next_status_) {
      reader_->dropSettledDetached();
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
      if (TargetTopic* target = writer_->findTopic(topic)) {
        target->partitions = ready.target_partitions;
      }
    }
  }
  if (auto subscribed = reader_->subscribe(topics); !subscribed) {
    fail("link '" + link_.name + "': " + subscribed.message());
  }
}

void Link::pollSource() {
  // The first poll waits briefly for records (and serves rebalances); the rest of the batch takes
  // only what is already queued, so delivery reports are served at least every ~20 ms.
  int timeout_ms = 20;
  for (size_t i = 0; i < kMaxRecordsPerPoll && !failed_; ++i) {
    const SourceRecord* record = reader_->next(timeout_ms);
    if (record == nullptr) {
      return;
    }
    if (timeout_ms != 0) {
      poll_time_ms_ = wallClockMs();  // once per batch: the batch arrived together
    }
    timeout_ms = 0;
    process(*record);
    if (backpressure_paused_ || in_flight_records_ > link_.max_in_flight_records ||
        in_flight_bytes_ > link_.max_in_flight_bytes) {
      return;  // let applyBackpressure() pause fetching before taking more
    }
  }
}

void Link::process(const SourceRecord& record) {
  const pipeline::RecordView& view = record.view;
  if (const int index = timestampIndex(view.timestamp_type); index >= 0 && view.timestamp >= 0) {
    record_age_at_poll_.by_type[static_cast<size_t>(index)].record(poll_time_ms_ - view.timestamp);
  }
  if (!passBarrier(record)) {
    return;  // held before the stages run, so they see (and count) each record once
  }
  record_.reset(&view);
  pipeline::Verdict verdict = chain_.process(record_);
  switch (verdict.outcome) {
  case pipeline::Outcome::kPass:
    writeToTarget(record);
    return;
  case pipeline::Outcome::kDrop:
    skip(record);
    return;
  case pipeline::Outcome::kRetry:
    retryLater(record, verdict.retry_after);
    return;
  case pipeline::Outcome::kDeadLetter:
    if (dlq_) {
      deadLetter(record, verdict);
      return;
    }
    break;
  case pipeline::Outcome::kStop:
    break;
  }
  const std::string where = std::string(view.topic) + "[" + std::to_string(view.partition) + "]@" +
                            std::to_string(view.offset);
  fail("link '" + link_.name + "': " + std::string(chain_.decidedBy()) + " stopped the link at " +
       where + " (" + std::string(verdict.reason) +
       (verdict.rule.empty() ? "" : ", rule " + verdict.rule) + "): " + verdict.detail +
       (verdict.outcome == pipeline::Outcome::kDeadLetter
            ? " (the record was to go to the dead-letter queue, but this link "
              "has none)"
            : "") +
       "; nothing from this offset on is committed");
}

bool Link::passBarrier(const SourceRecord& record) {
  SourcePartition& partition = *record.partition;
  if (!exactly_once_ || !dlq_ || partition.in_flight_dead_letters == 0) {
    return true;  // at-least-once: the commit point alone keeps every record
  }
  const int64_t offset = record.view.offset;
  partition.waiting_for_barrier = true;
  if (auto rewound = reader_->rewind(partition, offset); !rewound) {
    fail("link '" + link_.name + "': " + rewound.message());
    return false;
  }
  reader_->updateFetching();
  return false;
}

void Link::releaseBarriers() {
  bool changed = false;
  for (const auto& [key, partition] : reader_->partitions()) {
    if (partition->waiting_for_barrier && partition->tracker.inFlightRecords() == 0) {
      partition->waiting_for_barrier = false;
      changed = true;
      if (auto held = std::move(partition->held_dead_letter)) {
        const SourceRecord record{held->view(), partition.get(), nullptr, held->bytes};
        writeDeadLetter(record, DeadLetterReason{held->reason, held->rule, held->detail});
      }
    }
  }
  if (changed) {
    reader_->updateFetching();
  }
}

void Link::deadLetter(const SourceRecord& record, const pipeline::Verdict& verdict) {
  SourcePartition& partition = *record.partition;
  if (exactly_once_ && partition.tracker.inFlightRecords() > partition.in_flight_dead_letters) {
    // Records before it are on their way to the target: it waits for them, decided, and the
    // partition goes on after it.
    partition.held_dead_letter = std::make_unique<HeldRecord>(
        record.view, verdict.reason, verdict.rule, verdict.detail, record.bytes);
    partition.waiting_for_barrier = true;
    if (auto rewound = reader_->rewind(partition, record.view.offset + 1); !rewound) {
      fail("link '" + link_.name + "': " + rewound.message());
      return;
    }
    reader_->updateFetching();
    return;
  }
  writeDeadLetter(record, DeadLetterReason{verdict.reason, verdict.rule, verdict.detail});
}

void Link::writeDeadLetter(const SourceRecord& record, const DeadLetterReason& why) {
  SourcePartition& partition = *record.partition;
  OffsetTracker::Entry& entry = dispatchEntry(record);
  entry.dead_letter = true;
  partition.in_flight_dead_letters += 1;
  in_flight_records_ += 1;
  in_flight_bytes_ += record.bytes;
  if (auto written = dlq_->write(record.view, why, entry); !written) {
    partition.tracker.fail(entry);
    partition.in_flight_dead_letters -= 1;
    in_flight_records_ -= 1;
    in_flight_bytes_ -= record.bytes;
    fail("link '" + link_.name + "': " + written.message());
  }
}

void Link::onDeadLettered(OffsetTracker::Entry& entry) {
  auto* partition = static_cast<SourcePartition*>(entry.tracker->context());
  in_flight_records_ -= 1;
  in_flight_bytes_ -= entry.bytes;
  partition->in_flight_dead_letters -= 1;
  partition->tracker.ack(entry);  // accounted for: the commit point moves past it
}

void Link::onDeadLetterFailed(OffsetTracker::Entry& entry, rd_kafka_resp_err_t error) {
  auto* partition = static_cast<SourcePartition*>(entry.tracker->context());
  const int64_t offset = entry.offset;
  in_flight_records_ -= 1;
  in_flight_bytes_ -= entry.bytes;
  partition->in_flight_dead_letters -= 1;
  partition->tracker.fail(entry);
  countError(std::string("dlq:") + rd_kafka_err2name(error));
  if (error == RD_KAFKA_RESP_ERR__PURGE_QUEUE || error == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT) {
    return;
  }
  fail("link '" + link_.name + "': the dead-letter topic '" + dlq_->topic() + "' on " +
       kafka::describeCluster(dlq_->cluster()) + " did not accept " + partition->topic + "[" +
       std::to_string(partition->partition) + "]@" + std::to_string(offset) + ": " +
       rd_kafka_err2str(error) + "; the source offset is not committed, so a restart retries it");
}

bool Link::deadLetterRefused(OffsetTracker::Entry& entry, rd_kafka_resp_err_t error,
                             const rd_kafka_message_t& report) {
  if (!dlq_ || link_.on_reject != config::RejectAction::kDeadLetter || !isRecordRejection(error)) {
    return false;
  }
  if (exactly_once_) {
    // Exactly-once: the producer stopped at the refused record (gapless), so nothing after it is on
    // the target; the link stops and a restart reads the record again.
    return false;
  }
  auto* partition = static_cast<SourcePartition*>(entry.tracker->context());
  // The refused record as it was produced: the source record's bytes, the stages' header edits.
  dlq_view_.topic = partition->topic;
  dlq_view_.partition = partition->partition;
  dlq_view_.offset = entry.offset;
  dlq_view_.key = report.key != nullptr ? std::optional<std::string_view>(std::string_view(
                                              static_cast<const char*>(report.key), report.key_len))
                                        : std::nullopt;
  dlq_view_.value = report.payload != nullptr
                        ? std::optional<std::string_view>(std::string_view(
                              static_cast<const char*>(report.payload), report.len))
                        : std::nullopt;
  dlq_view_.timestamp = entry.timestamp;
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(&report, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    headers = nullptr;
  }
  const std::string reason = std::string("rejected:") + rd_kafka_err2name(error);
  const DeadLetterReason why{reason, "on_reject", rd_kafka_err2str(error)};
  entry.dead_letter = true;
  partition->in_flight_dead_letters += 1;
  if (auto written = dlq_->write(dlq_view_, headers, why, entry); !written) {
    partition->in_flight_dead_letters -= 1;
    entry.dead_letter = false;
    return false;
  }
  refused_dead_lettered_[rd_kafka_err2name(error)] += 1;
  return true;
}

void Link::writeToTarget(const SourceRecord& record) {
  SourcePartition& partition = *record.partition;
  switch (writer_->beginTransactionIfNeeded(*partition.mirror)) {
  case TargetWriter::Begin::kOpen:
    break;
  case TargetWriter::Begin::kRetry:
    retryLater(record, milliseconds(1000));
    return;
  case TargetWriter::Begin::kFailed:
    return;
  }
  OffsetTracker::Entry& entry = dispatchEntry(record);
  in_flight_records_ += 1;
  in_flight_bytes_ += record.bytes;
  auto written = writer_->write(record_, record, *partition.mirror, entry);
  if (written) {
    return;
  }
  if (written.kind() == ErrorKind::kRejected && !exactly_once_ && dlq_ &&
      link_.on_reject == config::RejectAction::kDeadLetter) {
    // Refused before it left (larger than message.max.bytes): to the dead-letter queue.
    entry.dead_letter = true;
    partition.in_flight_dead_letters += 1;
    const DeadLetterReason why{"rejected:MSG_SIZE_TOO_LARGE", "on_reject", written.message()};
    if (dlq_->write(record.view, why, entry)) {
      refused_dead_lettered_["MSG_SIZE_TOO_LARGE"] += 1;
      return;
    }
    partition.in_flight_dead_letters -= 1;
  }
  // Not produced: nothing in flight for this record and it is never committed.
  partition.tracker.fail(entry);
  in_flight_records_ -= 1;
  in_flight_bytes_ -= record.bytes;
  fail("link '" + link_.name + "': " + written.message());
}

OffsetTracker::Entry& Link::dispatchEntry(const SourceRecord& record) {
  OffsetTracker::Entry& entry =
      record.partition->tracker.dispatch(record.view.offset, record.bytes, record.view.timestamp);
  entry.timestamp_index = static_cast<int8_t>(timestampIndex(record.view.timestamp_type));
  return entry;
}

void Link::skip(const SourceRecord& record) {
  // Accounted for, not lost: the commit point moves past it.
  OffsetTracker& tracker = record.partition->tracker;
  tracker.ack(tracker.dispatch(record.view.offset, 0));
}

void Link::retryLater(const SourceRecord& record, milliseconds after) {
  SourcePartition& partition = *record.partition;
  const int64_t offset = record.view.offset;
  partition.retry_at = Clock::now() + std::max(after, milliseconds(10));
  if (auto rewound = reader_->rewind(partition, offset); !rewound) {
    fail("link '" + link_.name + "': " + rewound.message());
    return;
  }
  reader_->updateFetching();
}

void Link::onDelivered(OffsetTracker::Entry& entry, int64_t target_offset) {
  auto* partition = static_cast<SourcePartition*>(entry.tracker->context());
  MirrorPartition& mirror = *partition->mirror;
  const uint32_t bytes = entry.bytes;
  in_flight_records_ -= 1;
  in_flight_bytes_ -= bytes;
  if (entry.timestamp_index >= 0 && entry.timestamp >= 0) {
    replication_latency_.by_type[static_cast<size_t>(entry.timestamp_index)].record(
        writer_->reportTimeMs() - entry.timestamp);
    mirror.last_replicated_timestamp = entry.timestamp;
  }
  if (exactly_once_) {
    TargetWriter::recordRun(mirror, entry.offset, target_offset);
  }
  partition->tracker.ack(entry);  // may retire the entry: do not touch it after this
  mirror.records_replicated += 1;
  mirror.bytes_replicated += bytes;
  records_replicated_ += 1;
  bytes_replicated_ += bytes;
}

void Link::onNotDelivered(OffsetTracker::Entry& entry, rd_kafka_resp_err_t error,
                          const rd_kafka_message_t& report) {
  countError(std::string("produce:") + rd_kafka_err2name(error));
  if (deadLetterRefused(entry, error, report)) {
    return;  // still in flight, now to the dead-letter queue
  }
  auto* partition = static_cast<SourcePartition*>(entry.tracker->context());
  const int64_t offset = entry.offset;
  in_flight_records_ -= 1;
  in_flight_bytes_ -= entry.bytes;
  partition->tracker.fail(entry);
  if (error == RD_KAFKA_RESP_ERR__PURGE_QUEUE || error == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT) {
    return;  // withdrawn by Causeway (shutdown, lost assignment): read again by the next owner
  }
  // One refused batch reports every record in it: aggregate, and say it once per partition.
  Refusal& refusal = refusals_[{partition->topic, partition->partition}];
  if (refusal.count == 0) {
    refusal.first = offset;
    refusal.error = rd_kafka_err2str(error);
  }
  refusal.last = std::max(refusal.last, offset);
  refusal.count += 1;
  if (refusal.count == 1 && failed_) {
    // The link already stopped (a fatal producer error, which librdkafka reports before the records
    // it failed): name the first record that was not written.
    std::lock_guard lock(status_mu_);
    if (status_.error.find(" first record not written: ") == std::string::npos) {
      status_.error += "; first record not written: " + partition->topic + "[" +
                       std::to_string(partition->partition) + "]@" + std::to_string(offset) + " (" +
                       refusal.error + ")";
      spdlog::error("link '{}': {}", link_.name, status_.error);
    }
  } else if (refusal.count == 1) {
    const std::string target_topic =
        partition->mirror->topic != nullptr ? partition->mirror->topic->name : "?";
    fail("link '" + link_.name + "': " + kafka::describeCluster(target_) + " did not accept " +
         partition->topic + "[" + std::to_string(partition->partition) + "]@" +
         std::to_string(offset) + " (topic '" + target_topic + "'): " + refusal.error +
         "; the source offset is not committed, so a restart retries it");
  }
}

void Link::countError(const std::string& kind) { errors_[kind] += 1; }

void Link::onProblem(const std::string& kind, const std::string& message) {
  countError(kind);
  std::lock_guard lock(status_mu_);
  if (status_.last_error != message) {
    spdlog::warn("link '{}': {}", link_.name, message);
    status_.last_error = message;
  }
}

void Link::onCommitted() {
  std::lock_guard lock(status_mu_);
  if (status_.last_error.starts_with("committing")) {
    status_.last_error.clear();  // a later commit went through
  }
}

void Link::onFatal(const std::string& message) { fail("link '" + link_.name + "': " + message); }

// ---------------------------------------------------------------------------------------------
// Commits

std::vector<SourcePartition*> Link::assignedPartitions() const {
  std::vector<SourcePartition*> all;
  all.reserve(reader_->partitions().size());
  for (const auto& [key, partition] : reader_->partitions()) {
    all.push_back(partition.get());
  }
  return all;
}

std::vector<MirrorPartition*>
Link::runsToSave(const std::vector<SourcePartition*>& partitions) const {
  std::vector<MirrorPartition*> mirrors;
  mirrors.reserve(partitions.size());
  for (SourcePartition* partition : partitions) {
    MirrorPartition* mirror = partition->mirror.get();
    // Records dropped, dead-lettered or without a record (markers) past the last delivered one:
    // saved with the runs, so a partition ending in them translates and drains to the end.
    // A held partition may have a record decided but not yet dispatched below the end it
    // reached: only the commit point counts until it goes on.
    const bool held = partition->held(Clock::now()) || partition->held_dead_letter != nullptr;
    const int64_t accounted =
        accountedEnd(partition->tracker, held ? int64_t{-1} : partition->end_reached);
    if (mirror != nullptr && accounted > mirror->runs.accountedEnd()) {
      mirror->runs.markAccounted(accounted);
      mirror->runs_dirty = true;
    }
    mirrors.push_back(mirror);
  }
  return mirrors;
}

void Link::commitCycle(Clock::time_point now) {
  const auto all = assignedPartitions();
  if (exactly_once_) {
    writer_->saveRuns(runsToSave(all), /*force=*/false);
  }
  commitTransaction(all);
  // Only the source group's commit waits out a REBALANCE_IN_PROGRESS answer: the runs and the
  // target transaction live on the target and do not depend on the source group's generation.
  if (!reader_->commitsHeld(now)) {
    reader_->commit(/*sync=*/false);
  }
}

void Link::commitTransaction(const std::vector<SourcePartition*>& partitions) {
  if (!writer_->transactional() || !writer_->inTransaction() || failed_) {
    return;
  }
  // The records in flight first (bounded; the commit flushes whatever is left), so the offset
  // runs saved in this transaction describe what it makes visible. No source offsets are sent to
  // the transaction: the consumer group lives on the source cluster, and a transaction on the
  // target can only commit offsets to the target's group coordinator, which does not know the
  // source group's members (Kafka answers UNKNOWN_MEMBER_ID). Where a partition resumes comes from
  // the target (docs/failover.md); the source group's commits are for monitoring.
  waitForDeliveries(partitions, kRevokeFlushLimit);
  (void)writer_->commitTransaction();  // failures stop the link (on_error)
}

void Link::waitForDeliveries(const std::vector<SourcePartition*>& partitions,
                             milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  auto pending = [&] {
    return std::any_of(partitions.begin(), partitions.end(),
                       [](SourcePartition* p) { return p->tracker.inFlightRecords() > 0; });
  };
  while (pending() && Clock::now() < deadline) {
    writer_->poll(10);
  }
}

// ---------------------------------------------------------------------------------------------
// Rebalances

void Link::attachMirror(SourcePartition& partition) {
  if (!partition.mirror) {
    partition.mirror = std::make_shared<MirrorPartition>();
    partition.mirror->partition = partition.partition;
  }
  MirrorPartition& mirror = *partition.mirror;
  if (mirror.topic == nullptr) {
    ReadyTopic ready;
    bool found = false;
    {
      std::lock_guard lock(ready_mu_);
      auto it = ready_topics_.find(partition.topic);
      if (it != ready_topics_.end()) {
        ready = it->second;
        found = true;
      }
    }
    if (found) {
      mirror.topic = writer_->topic(partition.topic, ready.target_topic, ready.target_partitions);
    }
  }
  partition.waiting_for_target =
      mirror.topic == nullptr || partition.partition >= mirror.topic->partitions;
}

void Link::onAssigned(const std::vector<SourcePartition*>& partitions) {
  size_t waiting = 0;
  for (SourcePartition* partition : partitions) {
    partition->epoch = ++assignment_epoch_;
    attachMirror(*partition);
    if (partition->waiting_for_target) {
      waiting += 1;
      continue;  // exactly-once: looked up when its mirror partition appears
    }
    if (exactly_once_) {
      findResumePosition(*partition);
    }
  }
  if (waiting > 0) {
    spdlog::warn("link '{}': {} assigned partition(s) wait for their mirror topic partitions",
                 link_.name, waiting);
  }
}

void Link::findResumePosition(SourcePartition& partition) {
  // Exactly-once: the partition starts right after the last record this link actually wrote to
  // the target, whatever the source group says (its commits are advisory here). It is held
  // until the finder answers; the rebalance callback does not wait for the target.
  partition.waiting_for_position = true;
  finder_->request(ResumeFinder::Request{partition.topic, partition.partition,
                                         partition.mirror->topic->name, partition.epoch});
}

void Link::applyResumePositions() {
  bool changed = false;
  size_t asking_again = 0;
  const Error* why_again = nullptr;
  std::vector<ResumeFinder::Answer> answers = finder_->takeAnswers();
  for (ResumeFinder::Answer& answer : answers) {
    SourcePartition* partition =
        reader_->find(answer.request.source_topic, answer.request.partition);
    if (partition == nullptr || partition->epoch != answer.request.epoch ||
        !partition->waiting_for_position) {
      writer_->discard(std::move(answer.slot));
      continue;  // revoked (and maybe assigned again) since it asked
    }
    if (!answer.last_source && answer.last_source.error().kind == ErrorKind::kUnavailable) {
      // The target (or its transaction coordinator) did not answer in time: the partition stays
      // held and is asked about again, backing off, until the target answers or the partition is
      // revoked. Exactly-once is kept: nothing is written for it meanwhile.
      writer_->discard(std::move(answer.slot));
      partition->position_attempts += 1;
      const auto backoff = std::min<milliseconds>(
          kPositionRetryMax,
          kPositionRetryFirst * (1LL << std::min<uint32_t>(partition->position_attempts - 1, 10)));
      partition->ask_position_at = Clock::now() + backoff;
      next_position_ask_ = std::min(next_position_ask_, partition->ask_position_at);
      asking_again += 1;
      why_again = &answer.last_source.error();
      continue;
    }
    if (!answer.last_source) {
      writer_->discard(std::move(answer.slot));
      fail("link '" + link_.name + "': " + partition->topic + "[" +
           std::to_string(partition->partition) +
           "] cannot start without breaking exactly-once, so the link stops: " +
           answer.last_source.error().message);
      return;
    }
    const std::optional<int64_t> last = *answer.last_source;
    if (answer.slot) {
      writer_->adopt(*partition->mirror, std::move(answer.slot));
    }
    seedRuns(*partition->mirror, last, answer);
    if (last) {
      // Past the last record on the target, and past what the saved runs say was accounted for
      // after it (records dropped or dead-lettered before the last save), so a record that went
      // to the dead-letter queue is not sent there again. Any record of ours written after that
      // save lies at or past the accounted end, so the larger one is right.
      int64_t resume = *last + 1;
      const OffsetRuns& runs = partition->mirror->runs;
      if (answer.saved_runs && runs.lastSource() == *last && runs.accountedEnd() > resume) {
        resume = runs.accountedEnd();
      }
      spdlog::info("link '{}': {}[{}] resumes at source offset {} ({})", link_.name,
                   partition->topic, partition->partition, resume,
                   resume == *last + 1 ? "after the last one on the target"
                                       : "after the records accounted for past the last one on "
                                         "the target");
      partition->commit_start = false;
      if (auto rewound = reader_->rewind(*partition, resume); !rewound) {
        fail("link '" + link_.name + "': " + rewound.message());
        return;
      }
    }
    partition->waiting_for_position = false;
    partition->position_attempts = 0;
    changed = true;
  }
  if (asking_again > 0) {
    onProblem("resume:unavailable",
              std::string(kPositionRetryNote) + " " + std::to_string(asking_again) +
                  " partition(s) asked about again, the last because: " + why_again->message);
  }
  if (changed) {
    reader_->updateFetching();
  }
}

void Link::askPositionsAgain(Clock::time_point now) {
  next_position_ask_ = Clock::time_point::max();
  for (const auto& [key, partition] : reader_->partitions()) {
    if (!partition->waiting_for_position || partition->ask_position_at == Clock::time_point{}) {
      continue;
    }
    if (now >= partition->ask_position_at) {
      partition->ask_position_at = {};
      finder_->request(ResumeFinder::Request{partition->topic, partition->partition,
                                             partition->mirror->topic->name, partition->epoch});
    } else {
      next_position_ask_ = std::min(next_position_ask_, partition->ask_position_at);
    }
  }
}

void Link::seedRuns(MirrorPartition& mirror, std::optional<int64_t> last_source,
                    const ResumeFinder::Answer& answer) {
  mirror.runs.clear();
  mirror.runs_dirty = false;
  mirror.runs_saved_count = 0;
  mirror.runs_saved_at = Clock::now();
  mirror.runs_saveable = answer.state_readable;
  if (answer.saved_runs) {
    if (last_source && answer.saved_runs->lastSource() <= *last_source) {
      mirror.runs = *answer.saved_runs;
      mirror.runs_saved_count = mirror.runs.runs().size();
    } else {
      // Runs past what the mirror partition holds: it was truncated or recreated.
      spdlog::warn("link '{}': saved offset runs of {}[{}] reach source offset {} but the target "
                   "holds up to {}; starting new ones",
                   link_.name, mirror.topic->name, mirror.partition,
                   answer.saved_runs->lastSource(), last_source.value_or(-1));
      mirror.runs_dirty = true;  // overwrite them
    }
  }
  if (last_source && mirror.runs.lastSource() != *last_source) {
    // Records of ours after the saved runs (a worker died before saving): leave a hole that
    // translation searches on the target.
    mirror.runs.markUnknownGap();
  }
}

void Link::onRevoking(const std::vector<SourcePartition*>& partitions, bool lost) {
  const auto assigned = reader_->partitions().size();
  if (finder_) {
    // A partition still waiting for its position must not be taken over any more: its next owner
    // may take its transactional.id over as soon as this callback returns.
    for (SourcePartition* partition : partitions) {
      if (partition->waiting_for_position) {
        finder_->cancel(partition->topic, partition->partition, partition->epoch);
      }
    }
  }
  if (!lost) {
    // Hand over cleanly: what was read is written and committed before the next owner starts, so
    // it re-reads as little as possible. An exactly-once partition may only go once every record
    // sent for it was acknowledged: the next owner resumes after the last record on the target,
    // and a record of ours landing after that would be a duplicate (and out of order). librdkafka
    // keeps heartbeating meanwhile; the group removes this member only when the rebalance waits
    // longer than max.poll.interval.ms, so the wait stays below that.
    const milliseconds limit =
        exactly_once_ ? revokeWaitLimit()
                      : std::min(kRevokeFlushLimit, milliseconds(drain_timeout_ms_.load()));
    waitForDeliveries(partitions, limit);
    if (exactly_once_) {
      for (SourcePartition* partition : partitions) {
        if (partition->tracker.inFlightRecords() > 0) {
          // Not acknowledged in time: stop writing at once (a restart resumes every partition
          // from the target). What is already on its way may still land after the next owner
          // looked: a duplicate at worst, never a loss (docs/failover.md).
          fail("link '" + link_.name + "': " + partition->topic + "[" +
               std::to_string(partition->partition) + "] was revoked with " +
               std::to_string(partition->tracker.inFlightRecords()) +
               " record(s) the target did not acknowledge within " + std::to_string(limit.count()) +
               " ms; stopping so nothing else is written");
          // The open transactions are aborted by the drain, outside this callback (on Kafka the
          // next owner's takeover aborts this partition's first, if it comes sooner).
          return;
        }
      }
      writer_->saveRuns(runsToSave(partitions), /*force=*/true);
    }
    commitTransaction(assignedPartitions());  // what was written becomes visible now
    reader_->commit(partitions, /*sync=*/true);
  } else if (exactly_once_ && partitions.size() < assigned) {
    // Aborting or purging acts on every partition's records, including those of partitions that
    // stay assigned; their bookkeeping would then be wrong. Stop instead: a restart resumes every
    // partition from the target.
    fail("link '" + link_.name + "': part of the assignment was lost (" +
         std::to_string(partitions.size()) + " of " + std::to_string(assigned) +
         " partitions); stopping so that nothing is written after their next owner");
  } else if (exactly_once_) {
    // Lost: this worker was out of its group longer than session.timeout.ms (frozen, cut off), and
    // another worker may be writing these partitions already. Nothing more of ours may land there:
    // the open transaction is aborted (on Kafka its records are never visible; committing it later
    // without offsets would publish them), and records not yet sent are dropped. The next owner
    // resumes from what is on the target.
    if (writer_->transactional()) {
      spdlog::warn("link '{}': the assignment was lost (out of the group for longer than "
                   "session.timeout.ms): aborting the open transactions of its partitions",
                   link_.name);  // release() below aborts each
    } else {
      writer_->purge(/*in_flight=*/false);
    }
  }
  if (writer_->transactional()) {
    // Each partition's producer goes with the partition (its transaction was committed or aborted
    // above): nothing more can be written for it here, and the next owner's init_transactions
    // finds no open transaction of ours.
    for (SourcePartition* partition : partitions) {
      if (partition->mirror) {
        writer_->release(*partition->mirror, milliseconds(5000));
      }
    }
  }
  for (SourcePartition* partition : partitions) {
    if (partition->tracker.inFlightRecords() > 0) {
      spdlog::warn("link '{}': {}[{}] revoked with {} record(s) still in flight; the next owner "
                   "may write them again",
                   link_.name, partition->topic, partition->partition,
                   partition->tracker.inFlightRecords());
    }
  }
}

milliseconds Link::revokeWaitLimit() const {
  // max.poll.interval.ms as configured for the source consumer (librdkafka's default 300 s),
  // less a margin for the commit that follows.
  int64_t interval = 300000;
  for (const auto* properties : {&source_.properties, &link_.consumer_properties}) {
    if (auto it = properties->find("max.poll.interval.ms"); it != properties->end()) {
      try {
        interval = std::stoll(it->second);
      } catch (const std::exception&) {
      }
    }
  }
  return milliseconds(std::max<int64_t>(1000, interval - 15000));
}

// ---------------------------------------------------------------------------------------------
// Flow control

void Link::applyOperatorPause() {
  const bool wanted = pause_requested_.load();
  if (wanted == user_paused_) {
    return;
  }
  user_paused_ = wanted;
  reader_->setGloballyPaused(user_paused_ || backpressure_paused_);
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
  reader_->setGloballyPaused(user_paused_ || backpressure_paused_);
}

void Link::resumeReadyPartitions() {
  bool changed = false;
  for (SourcePartition* partition : assignedPartitions()) {
    if (!partition->waiting_for_target) {
      continue;
    }
    attachMirror(*partition);
    if (partition->waiting_for_target) {
      continue;
    }
    if (exactly_once_) {
      findResumePosition(*partition);
    }
    changed = true;
  }
  if (changed) {
    reader_->updateFetching();
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
  reader_->setGloballyPaused(true);  // stop fetching; what was read is written below

  const milliseconds drain(drain_timeout_ms_.load());
  const auto deadline = Clock::now() + drain;
  while (in_flight_records_ > 0 && Clock::now() < deadline) {
    writer_->poll(dlq_ ? 10 : 20);
    if (dlq_) {
      dlq_->poll(10);
    }
  }
  if (in_flight_records_ > 0) {
    spdlog::warn("link '{}': {} record(s) not acknowledged by {} within {} ms: "
                 "not committed, "
                 "a restart writes them again",
                 link_.name, in_flight_records_, kafka::describeCluster(target_), drain.count());
    writer_->purge(/*in_flight=*/true);
    if (dlq_) {
      dlq_->purge();
    }
    const auto purge_deadline = Clock::now() + milliseconds(5000);
    while (in_flight_records_ > 0 && Clock::now() < purge_deadline) {
      writer_->poll(10);
      if (dlq_) {
        dlq_->poll(10);
      }
    }
  }
  const auto all = assignedPartitions();
  if (exactly_once_ && in_flight_records_ == 0) {
    writer_->saveRuns(runsToSave(all), /*force=*/true);
  }
  if (in_flight_records_ == 0 && !failed_) {
    commitTransaction(all);
  } else {
    writer_->abortTransaction(failed_ ? "the link stopped on an error"
                                      : "records were not acknowledged before the drain timeout");
  }
  reader_->commit(/*sync=*/true);
  // Leaving the group revokes our partitions (served through onRevoking) so other workers take them
  // over at once instead of after the session timeout.
  reader_->close();
  publishStatus();
  for (const auto& [key, refusal] : refusals_) {
    if (refusal.count > 1) {
      spdlog::error("link '{}': {} record(s) of {}[{}] at offsets {}..{} were "
                    "not accepted: {}",
                    link_.name, refusal.count, key.first, key.second, refusal.first, refusal.last,
                    refusal.error);
    }
  }
  if (in_flight_records_ > 0) {
    spdlog::error("link '{}': {} record(s) never reported by the producer", link_.name,
                  in_flight_records_);
  }
  if (!link_.transactional) {
    writer_->flush(milliseconds(5000));  // the state records just saved
  }
  // The writer and the reader are destroyed in join(), once the discovery thread (which reads
  // metadata through the consumer) has ended.
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

void Link::fail(const std::string& message) {
  const bool first = !failed_;
  failed_ = true;
  std::lock_guard lock(status_mu_);
  if (status_.state != LinkState::kFailed) {
    status_.state = LinkState::kFailed;
    status_.error = message;
  }
  if (first) {
    spdlog::error("{}", message);
  }
}

}  // namespace causeway::replicator
