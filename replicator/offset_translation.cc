#include "replicator/offset_translation.h"

#include "kafka/client_factory.h"
#include "replicator/offset_state.h"
#include "replicator/partition_scanner.h"
#include "replicator/topic_selector.h"

#include <algorithm>
#include <map>
#include <optional>

namespace causeway::replicator {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Appended to every error about the saved runs: the way around them.
constexpr const char* kScanHint = " (--scan translates from the mirror partitions' records alone)";

int remainingMs(Clock::time_point deadline) {
  return static_cast<int>(std::max<int64_t>(
      1, std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count()));
}

struct Ours {
  int64_t target_offset;
  int64_t source_offset;
};

// The first record the link wrote at or after target offset `from` (below `end`), if any.
Result<std::optional<Ours>> firstOursFrom(PartitionScanner& scanner, const std::string& topic,
                                          int32_t partition, int64_t from, int64_t end,
                                          const std::string& link, Clock::time_point deadline) {
  std::optional<Ours> found;
  auto status =
      scanner.scan(topic, partition, from, end, deadline, [&](const rd_kafka_message_t& message) {
        if (auto source = sourceOffsetOf(message, link)) {
          found = Ours{message.offset, *source};
          return false;
        }
        return true;
      });
  if (!status) {
    return status.error();
  }
  return found;
}

// The link's last record in [low, end), reading back from `end` in growing windows past records
// other writers put there.
Result<std::optional<Ours>> lastOursBefore(PartitionScanner& scanner, const std::string& topic,
                                           int32_t partition, int64_t low, int64_t end,
                                           const std::string& link, Clock::time_point deadline) {
  std::optional<Ours> found;
  int64_t window = 16;  // most mirror partitions end with a record of the link
  while (end > low && !found) {
    const int64_t start = std::max(low, end - window);
    auto status = scanner.scan(topic, partition, start, end, deadline,
                               [&](const rd_kafka_message_t& message) {
                                 if (auto source = sourceOffsetOf(message, link)) {
                                   found = Ours{message.offset, *source};
                                 }
                                 return true;
                               });
    if (!status) {
      return status.error();
    }
    end = start;
    window *= 4;
  }
  return found;
}

// The first record of ours in [low, high) with a source offset >= source_offset, or nullopt. Binary
// search: "the first record of ours at or after t has source offset >= source_offset (or there is
// none)" only turns from false to true as t grows, because an exactly-once link writes source
// offsets in increasing order.
Result<std::optional<int64_t>> targetOffsetFor(PartitionScanner& scanner, const std::string& topic,
                                               int32_t partition, int64_t source_offset,
                                               int64_t low, int64_t high, const std::string& link,
                                               Clock::time_point deadline) {
  int64_t lo = low;
  int64_t hi = high;
  std::optional<Ours> answer;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    auto probe = firstOursFrom(scanner, topic, partition, mid, high, link, deadline);
    if (!probe) {
      return probe.error();
    }
    if (!*probe || (*probe)->source_offset >= source_offset) {
      hi = mid;
      answer = *probe;
    } else {
      lo = (*probe)->target_offset + 1;  // every record of ours before it is too early as well
    }
  }
  if (!answer) {
    return std::optional<int64_t>();
  }
  return std::optional<int64_t>(answer->target_offset);
}

struct Located {
  // The first readable record of ours with a source offset >= the position: nullopt when there is
  // none below the last stable offset.
  std::optional<int64_t> target_offset;
  const char* method = "search";
};

// The partition's ends, for the checks of saved runs against the target.
struct Ends {
  int64_t low = 0;
  int64_t stable = 0;  // readable end
  int64_t high = 0;    // records exist up to here (some unreadable yet)
};

// The first record for `source_offset` using the saved runs of the partition: an exact answer is
// checked with one read (the record there must be ours and carry the expected source offset); a
// search range is searched. An answer at or past the last stable offset exists but is not readable
// yet: no answer. An error when the runs disagree with the target.
Result<Located> locateWithRuns(PartitionScanner& scanner, const OffsetRuns& runs,
                               const std::string& topic, int32_t partition, int64_t source_offset,
                               const Ends& ends, const std::string& link,
                               Clock::time_point deadline) {
  const RunLookup lookup = runs.lookup(source_offset);
  const std::string where = topic + "[" + std::to_string(partition) + "]";
  if (lookup.exact) {
    if (lookup.target < ends.low) {
      // Deleted from the target by retention since: search what is left.
      auto found = targetOffsetFor(scanner, topic, partition, source_offset, ends.low, ends.stable,
                                   link, deadline);
      if (!found) {
        return found.error();
      }
      return Located{*found, "search"};
    }
    if (lookup.target >= ends.high) {
      return Error{"saved offset runs place source offset " + std::to_string(lookup.source_there) +
                   " at " + where + " offset " + std::to_string(lookup.target) +
                   ", past the partition's end offset " + std::to_string(ends.high)};
    }
    if (lookup.target >= ends.stable) {
      return Located{std::nullopt, "runs"};  // written, not readable yet: an open transaction
    }
    auto there =
        firstOursFrom(scanner, topic, partition, lookup.target, lookup.target + 1, link, deadline);
    if (!there) {
      return there.error();
    }
    if (!*there || (*there)->target_offset != lookup.target ||
        (*there)->source_offset != lookup.source_there) {
      return Error{"saved offset runs place source offset " + std::to_string(lookup.source_there) +
                   " at " + where + " offset " + std::to_string(lookup.target) +
                   " but the record there " +
                   (*there && (*there)->target_offset == lookup.target
                        ? "carries source offset " + std::to_string((*there)->source_offset)
                        : std::string("was not written by link '") + link + "'")};
    }
    return Located{lookup.target, "runs"};
  }
  if (lookup.search_low > ends.high) {
    return Error{"saved offset runs reach " + where + " offset " +
                 std::to_string(lookup.search_low - 1) + ", past the partition's end offset " +
                 std::to_string(ends.high)};
  }
  if (lookup.search_high > ends.high) {
    return Error{"saved offset runs reach " + where + " offset " +
                 std::to_string(lookup.search_high) + ", past the partition's end offset " +
                 std::to_string(ends.high)};
  }
  // search_high: the next run's first record (the answer if nothing of ours in the range matches),
  // or -1 for "past the runs" (then no answer if nothing matches).
  const int64_t search_high =
      lookup.search_high < 0 ? ends.stable : std::min(lookup.search_high, ends.stable);
  const int64_t search_low = std::min(std::max(ends.low, lookup.search_low), search_high);
  auto found = targetOffsetFor(scanner, topic, partition, source_offset, search_low, search_high,
                               link, deadline);
  if (!found) {
    return found.error();
  }
  if (!*found && lookup.search_high >= 0 && lookup.search_high < ends.stable) {
    return Located{lookup.search_high, "runs+search"};
  }
  return Located{*found, "runs+search"};
}

// Where a consumer at t.source_offset resumes on the mirror partition: from the partition's saved
// runs when there are sound ones, else by searching the partition. With StateUse::kRequired, runs
// that do not decode or disagree with the target are an error.
Result<Located> locate(PartitionScanner& scanner, const OffsetStateReader* state, StateUse use,
                       const PartitionTranslation& t, const Ends& ends, const std::string& link,
                       Clock::time_point deadline) {
  const OffsetStateReader::Entry* saved =
      state != nullptr ? state->find(t.target_topic, t.partition) : nullptr;
  if (saved != nullptr && !saved->error.empty()) {
    if (use == StateUse::kRequired) {
      return Error{saved->error + kScanHint};
    }
    saved = nullptr;
  }
  if (saved != nullptr) {
    auto located = locateWithRuns(scanner, saved->runs, t.target_topic, t.partition,
                                  t.source_offset, ends, link, deadline);
    if (located) {
      return located;
    }
    if (use == StateUse::kRequired) {
      return Error{state->describe() + " (partition " + std::to_string(saved->state_partition) +
                   " offset " + std::to_string(saved->state_offset) +
                   ") disagrees with the target: " + located.error().message +
                   "; the state is corrupt or the mirror topic was recreated" + kScanHint};
    }
  }
  auto searched = targetOffsetFor(scanner, t.target_topic, t.partition, t.source_offset, ends.low,
                                  ends.stable, link, deadline);
  if (!searched) {
    return searched.error();
  }
  return Located{*searched, "search"};
}

}  // namespace

struct OffsetTranslator::Clients {
  explicit Clients(const config::LinkConfig& link, const config::ClusterConfig& target)
      : scanner(target, link.name + "-translate", Isolation::kReadCommitted) {}
  // At-least-once links: the first copies of each mirror partition, read once and then only what
  // was added.
  struct Copies {
    FirstCopies copies;
    int64_t next = -1;  // the next target offset to read
  };
  std::optional<TopicSelector> selector;
  kafka::HandlePtr source_admin;  // ListConsumerGroupOffsets, metadata, watermarks
  PartitionScanner scanner;
  std::unique_ptr<OffsetStateReader> state;  // exactly-once links, unless StateUse::kIgnored
  bool state_ok = false;                     // the last refresh succeeded
  std::map<std::pair<std::string, int32_t>, Copies> copies;
};

OffsetTranslator::OffsetTranslator(config::LinkConfig link, config::ClusterConfig source,
                                   config::ClusterConfig target, StateUse state_use)
    : link_(std::move(link)), source_(std::move(source)), target_(std::move(target)),
      state_use_(state_use) {
  if (!exactlyOnce()) {
    state_use_ = StateUse::kIgnored;  // at-least-once links save no offset runs
  }
}

OffsetTranslator::~OffsetTranslator() = default;

Status OffsetTranslator::open() {
  auto clients = std::make_unique<Clients>(link_, target_);
  auto selector = TopicSelector::create(link_);
  if (!selector) {
    return selector.error();
  }
  clients->selector = std::move(*selector);
  kafka::ClientSpec spec;
  spec.type = RD_KAFKA_PRODUCER;  // a plain handle for admin calls: it never produces
  spec.cluster = &source_;
  spec.client_id = "causeway-" + link_.name + "-translate";
  auto admin = kafka::makeClient(spec);
  if (!admin) {
    return admin.error();
  }
  clients->source_admin = std::move(*admin);
  if (auto reachable = kafka::checkReachable(clients->source_admin.get(), source_); !reachable) {
    return reachable;
  }
  if (auto opened = clients->scanner.open(); !opened) {
    return opened;
  }
  if (state_use_ != StateUse::kIgnored) {
    clients->state = std::make_unique<OffsetStateReader>(target_, link_.name);
    if (auto opened = clients->state->open(); !opened) {
      return opened;
    }
  }
  clients_ = std::move(clients);
  return {};
}

Status OffsetTranslator::refreshState(Clock::time_point deadline) {
  if (!clients_->state) {
    return {};
  }
  auto refreshed = clients_->state->refresh(deadline);
  clients_->state_ok = refreshed.ok();
  if (!refreshed && state_use_ == StateUse::kRequired) {
    return Error{refreshed.message() + kScanHint};
  }
  return {};
}

Result<MirrorView> OffsetTranslator::mirrorView(const std::string& target_topic, int32_t partition,
                                                Clock::time_point deadline) {
  PartitionScanner& scanner = clients_->scanner;
  auto ends = scanner.ends(target_topic, partition, deadline);
  if (!ends) {
    return Error{"mirror topic '" + target_topic + "': " + ends.error().message};
  }
  MirrorView view;
  view.low = ends->low;
  view.stable = ends->stable;
  view.high = ends->high;
  if (!exactlyOnce()) {
    Clients::Copies& known = clients_->copies[{target_topic, partition}];
    if (known.next < view.low || known.next > view.high) {
      known = Clients::Copies{};  // first look, retention passed it, or a
                                  // recreated topic
      known.next = view.low;
    }
    auto scanned = scanner.scan(target_topic, partition, known.next, view.stable, deadline,
                                [&](const rd_kafka_message_t& message) {
                                  known.next = message.offset + 1;
                                  if (auto source = sourceOffsetOf(message, link_.name)) {
                                    known.copies.observe(message.offset, *source);
                                  }
                                  return true;
                                });
    if (!scanned) {
      return scanned.error();
    }
    view.last_target = known.copies.lastTarget();
    view.last_source = known.copies.maxSource();
    return view;
  }
  auto last =
      lastOursBefore(scanner, target_topic, partition, view.low, view.stable, link_.name, deadline);
  if (!last) {
    return last.error();
  }
  if (*last) {
    view.last_target = (*last)->target_offset;
    view.last_source = (*last)->source_offset;
  }
  const OffsetStateReader::Entry* saved = clients_->state && clients_->state_ok
                                              ? clients_->state->find(target_topic, partition)
                                              : nullptr;
  // The accounted end counts only when the saved runs agree with what the target shows: runs past
  // the link's last readable record belong to another log (a recreated mirror topic) or to records
  // not readable yet.
  if (saved != nullptr && saved->error.empty() &&
      (saved->runs.empty() || saved->runs.lastSource() <= view.last_source)) {
    view.accounted_end = saved->runs.accountedEnd();
  }
  return view;
}

Result<std::vector<PartitionTranslation>> OffsetTranslator::translate(const std::string& group,
                                                                      milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  rd_kafka_t* admin = clients_->source_admin.get();
  auto source_topics = kafka::fetchAllTopics(admin, source_, timeout);
  if (!source_topics) {
    return source_topics.error();
  }
  kafka::PartitionListPtr wanted(rd_kafka_topic_partition_list_new(16));
  for (int i = 0; i < (*source_topics)->topic_cnt; ++i) {
    const auto& topic = (*source_topics)->topics[i];
    if (topic.err != RD_KAFKA_RESP_ERR_NO_ERROR || !clients_->selector->selects(topic.topic)) {
      continue;
    }
    for (int p = 0; p < topic.partition_cnt; ++p) {
      rd_kafka_topic_partition_list_add(wanted.get(), topic.topic, p);
    }
  }
  if (wanted->cnt == 0) {
    return Error{"link '" + link_.name + "' selects no topic on " +
                 kafka::describeCluster(source_)};
  }

  // The group's committed offsets (admin ListConsumerGroupOffsets: it never joins the group).
  rd_kafka_ListConsumerGroupOffsets_t* request =
      rd_kafka_ListConsumerGroupOffsets_new(group.c_str(), wanted.get());
  kafka::QueuePtr queue(rd_kafka_queue_new(admin));
  kafka::AdminOptionsPtr options(
      rd_kafka_AdminOptions_new(admin, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS));
  char errstr[256];
  rd_kafka_AdminOptions_set_request_timeout(options.get(), remainingMs(deadline), errstr,
                                            sizeof(errstr));
  rd_kafka_ListConsumerGroupOffsets(admin, &request, 1, options.get(), queue.get());
  rd_kafka_ListConsumerGroupOffsets_destroy(request);
  kafka::EventPtr event(rd_kafka_queue_poll(queue.get(), remainingMs(deadline)));
  const std::string what = "reading the committed offsets of group '" + group + "' on " +
                           kafka::describeCluster(source_);
  if (!event) {
    return Error{what + ": no answer in time"};
  }
  if (rd_kafka_event_error(event.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Error{what + ": " + rd_kafka_event_error_string(event.get())};
  }
  size_t group_count = 0;
  const rd_kafka_group_result_t** groups = rd_kafka_ListConsumerGroupOffsets_result_groups(
      rd_kafka_event_ListConsumerGroupOffsets_result(event.get()), &group_count);
  if (group_count != 1) {
    return Error{what + ": unexpected answer"};
  }
  if (const rd_kafka_error_t* error = rd_kafka_group_result_error(groups[0])) {
    return Error{what + ": " + rd_kafka_error_string(error)};
  }
  const rd_kafka_topic_partition_list_t* committed = rd_kafka_group_result_partitions(groups[0]);
  bool any = false;
  for (int i = 0; committed != nullptr && i < committed->cnt; ++i) {
    any = any || (committed->elems[i].err == 0 && committed->elems[i].offset >= 0);
  }
  if (!any) {
    return Error{"group '" + group + "' has no committed offset on " +
                 kafka::describeCluster(source_) + " for any topic of link '" + link_.name +
                 "' (a group that never committed, or a misspelt group name)"};
  }

  // The saved offset runs: read incrementally (only what was saved since the last call).
  if (auto refreshed = refreshState(deadline); !refreshed) {
    return refreshed.error();
  }

  std::vector<PartitionTranslation> out;
  for (int i = 0; i < committed->cnt; ++i) {
    const auto& tp = committed->elems[i];
    PartitionTranslation t;
    t.source_topic = tp.topic;
    t.target_topic = clients_->selector->targetTopic(tp.topic);
    t.partition = tp.partition;
    t.source_offset = tp.err == 0 && tp.offset >= 0 ? tp.offset : -1;
    t.rereads_possible = !exactlyOnce();
    if (t.source_offset < 0) {
      out.push_back(std::move(t));
      continue;
    }
    auto view = mirrorView(t.target_topic, t.partition, deadline);
    if (!view) {
      return view.error();
    }
    const uint64_t reads_before = clients_->scanner.recordsRead();
    std::optional<int64_t> first;
    if (exactlyOnce()) {
      const Ends ends{view->low, view->stable, view->high};
      auto located = locate(clients_->scanner, clients_->state_ok ? clients_->state.get() : nullptr,
                            state_use_, t, ends, link_.name, deadline);
      if (!located) {
        return located.error();
      }
      first = located->target_offset;
      t.method = located->method;
    } else {
      first = clients_->copies[{t.target_topic, t.partition}].copies.firstAtOrAfter(t.source_offset,
                                                                                    view->low);
      t.method = "first-copy";
    }
    t.records_read = clients_->scanner.recordsRead() - reads_before;
    const ResumeDecision decision = decideResume(t.source_offset, first, *view);
    t.target_offset = decision.target_offset;
    t.resume = decision.reason;
    t.target_end = view->stable;
    t.target_high = view->high;
    // What the target does not have yet past the group's position: the RPO of failing over now. The
    // source's end as a read_committed consumer (the link's) sees it.
    int64_t source_low = 0;
    int64_t source_end = 0;
    if (rd_kafka_query_watermark_offsets(admin, tp.topic, tp.partition, &source_low, &source_end,
                                         remainingMs(deadline)) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      t.not_yet_replicated = notYetReplicated(t.source_offset, source_end, *view);
    }
    out.push_back(std::move(t));
  }
  return out;
}

Result<std::vector<PartitionTranslation>>
translateGroupOffsets(const config::Config& config, const std::string& link_name,
                      const std::string& group, milliseconds timeout, StateUse state_use) {
  const config::LinkConfig* link = config.findLink(link_name);
  if (link == nullptr) {
    return Error{"unknown link '" + link_name + "'; the config has: " + config.linkNames()};
  }
  OffsetTranslator translator(*link, config.clusters.at(link->source),
                              config.clusters.at(link->target), state_use);
  if (auto opened = translator.open(); !opened) {
    return opened.error();
  }
  return translator.translate(group, timeout);
}

}  // namespace causeway::replicator
