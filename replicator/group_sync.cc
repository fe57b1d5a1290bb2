#include "replicator/group_sync.h"

#include "common/wall_clock.h"
#include "kafka/client_factory.h"
#include "kafka/topic_admin.h"
#include "replicator/group_sync_lease.h"
#include "replicator/offset_state.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <regex>
#include <set>

namespace causeway::replicator {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

int toMs(milliseconds d) { return static_cast<int>(std::max<int64_t>(1, d.count())); }

bool matchesAny(const std::string& text, const std::vector<std::string>& patterns) {
  for (const auto& pattern : patterns) {
    try {
      if (std::regex_match(text, std::regex(pattern, std::regex::ECMAScript))) {
        return true;
      }
    } catch (const std::regex_error&) {
      // validated by the config loader
    }
  }
  return false;
}

std::string jsonEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out;
}

struct Listed {
  int64_t offset = -1;
  std::string metadata;
};

// A group's committed offsets for `partitions` (admin ListConsumerGroupOffsets: it never joins the
// group), with their commit metadata.
Result<std::map<std::pair<std::string, int32_t>, Listed>>
listGroupOffsets(rd_kafka_t* rk, const config::ClusterConfig& cluster, const std::string& group,
                 const std::vector<std::pair<std::string, int32_t>>& partitions,
                 milliseconds timeout) {
  kafka::PartitionListPtr wanted(
      rd_kafka_topic_partition_list_new(static_cast<int>(std::max<size_t>(1, partitions.size()))));
  for (const auto& [topic, partition] : partitions) {
    rd_kafka_topic_partition_list_add(wanted.get(), topic.c_str(), partition);
  }
  rd_kafka_ListConsumerGroupOffsets_t* request =
      rd_kafka_ListConsumerGroupOffsets_new(group.c_str(), wanted.get());
  kafka::QueuePtr queue(rd_kafka_queue_new(rk));
  kafka::AdminOptionsPtr options(
      rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS));
  char errstr[256];
  rd_kafka_AdminOptions_set_request_timeout(options.get(), toMs(timeout), errstr, sizeof(errstr));
  rd_kafka_ListConsumerGroupOffsets(rk, &request, 1, options.get(), queue.get());
  rd_kafka_ListConsumerGroupOffsets_destroy(request);
  kafka::EventPtr event(rd_kafka_queue_poll(queue.get(), toMs(timeout) + 1000));
  const std::string what = "reading the committed offsets of group '" + group + "' on " +
                           kafka::describeCluster(cluster);
  if (!event) {
    return Error{what + ": no answer in time"};
  }
  if (rd_kafka_event_error(event.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Error{what + ": " + rd_kafka_event_error_string(event.get())};
  }
  size_t count = 0;
  const rd_kafka_group_result_t** groups = rd_kafka_ListConsumerGroupOffsets_result_groups(
      rd_kafka_event_ListConsumerGroupOffsets_result(event.get()), &count);
  if (count != 1) {
    return Error{what + ": unexpected answer"};
  }
  if (const rd_kafka_error_t* error = rd_kafka_group_result_error(groups[0])) {
    return Error{what + ": " + rd_kafka_error_string(error)};
  }
  std::map<std::pair<std::string, int32_t>, Listed> out;
  const rd_kafka_topic_partition_list_t* listed = rd_kafka_group_result_partitions(groups[0]);
  for (int i = 0; listed != nullptr && i < listed->cnt; ++i) {
    const auto& tp = listed->elems[i];
    Listed entry;
    if (tp.err == RD_KAFKA_RESP_ERR_NO_ERROR && tp.offset >= 0) {
      entry.offset = tp.offset;
      if (tp.metadata != nullptr) {
        entry.metadata.assign(static_cast<const char*>(tp.metadata), tp.metadata_size);
      }
    }
    out[{tp.topic, tp.partition}] = std::move(entry);
  }
  return out;
}

std::string describeWaiting(size_t waiting, const std::vector<PartitionTranslation>& offsets) {
  bool hidden = false;
  for (const auto& t : offsets) {
    hidden = hidden || t.resume == ResumeReason::kHiddenByTransaction;
  }
  return std::to_string(waiting) + " partition(s) not yet replicated up to the group's position" +
         (hidden ? " (records on the target wait behind an open transaction)" : "") +
         "; synced once they are";
}

}  // namespace

GroupSync::GroupSync(config::LinkConfig link, config::ClusterConfig source,
                     config::ClusterConfig target, GroupSyncRole role)
    : link_(std::move(link)), source_(std::move(source)), target_(std::move(target)), role_(role) {}

GroupSync::~GroupSync() {
  if (target_admin_) {
    rd_kafka_flush(target_admin_.get(), 5000);
  }
}

Status GroupSync::open() {
  // The state topic carries the lease and the failover mark. Exactly-once links create it when they
  // start; for at-least-once links the sync does.
  {
    auto admin = kafka::makeTopicAdmin(target_);
    auto state = admin->ensureCompactedTopic(
        stateTopic(link_.name), 1, std::max(milliseconds(10000), target_.connect_timeout));
    if (!state) {
      return Error{"link '" + link_.name +
                   "': the state topic for group sync: " + state.error().message};
    }
  }
  auto translator =
      std::make_unique<OffsetTranslator>(link_, source_, target_, StateUse::kIfPresent);
  if (auto opened = translator->open(); !opened) {
    return opened;
  }
  kafka::ClientSpec source_spec;
  source_spec.type = RD_KAFKA_PRODUCER;  // admin calls only
  source_spec.cluster = &source_;
  source_spec.client_id = "causeway-" + link_.name + "-groups";
  auto source_admin = kafka::makeClient(source_spec);
  if (!source_admin) {
    return source_admin.error();
  }
  kafka::ClientSpec target_spec;
  target_spec.type = RD_KAFKA_PRODUCER;  // admin calls and checkpoint records
  target_spec.cluster = &target_;
  target_spec.client_id = "causeway-" + link_.name + "-groups";
  target_spec.owned = {{"enable.idempotence", "true"}, {"acks", "all"}};
  auto target_admin = kafka::makeClient(target_spec);
  if (!target_admin) {
    return target_admin.error();
  }
  if (role_ == GroupSyncRole::kWorker) {
    auto mark =
        std::make_unique<OffsetStateReader>(target_, link_.name, Isolation::kReadUncommitted);
    if (auto opened = mark->open(); !opened) {
      return opened;
    }
    auto lease = std::make_unique<GroupSyncLease>(target_, link_.name);
    if (auto opened = lease->open(); !opened) {
      return opened;
    }
    mark_ = std::move(mark);
    lease_ = std::move(lease);
  }
  translator_ = std::move(translator);
  source_admin_ = std::move(*source_admin);
  target_admin_ = std::move(*target_admin);
  return {};
}

std::vector<std::string> GroupSync::selectedGroups(milliseconds timeout) {
  std::set<std::string> groups(link_.groups.names.begin(), link_.groups.names.end());
  if (!link_.groups.include.empty()) {
    rd_kafka_t* rk = source_admin_.get();
    kafka::QueuePtr queue(rd_kafka_queue_new(rk));
    kafka::AdminOptionsPtr options(
        rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS));
    char errstr[256];
    rd_kafka_AdminOptions_set_request_timeout(options.get(), toMs(timeout), errstr, sizeof(errstr));
    rd_kafka_ListConsumerGroups(rk, options.get(), queue.get());
    kafka::EventPtr event(rd_kafka_queue_poll(queue.get(), toMs(timeout) + 1000));
    std::string problem;
    if (!event) {
      problem = "no answer";
    } else if (rd_kafka_event_error(event.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      problem = rd_kafka_event_error_string(event.get());
    } else {
      const auto* result = rd_kafka_event_ListConsumerGroups_result(event.get());
      size_t count = 0;
      const rd_kafka_ConsumerGroupListing_t** listings =
          rd_kafka_ListConsumerGroups_result_valid(result, &count);
      for (size_t i = 0; i < count; ++i) {
        const std::string id = rd_kafka_ConsumerGroupListing_group_id(listings[i]);
        if (!id.starts_with("causeway.") && matchesAny(id, link_.groups.include) &&
            !matchesAny(id, link_.groups.exclude)) {
          groups.insert(id);
        }
      }
    }
    if (!problem.empty() && !listing_unsupported_reported_) {
      listing_unsupported_reported_ = true;
      spdlog::warn("link '{}': listing consumer groups on {} failed ({}); only "
                   "the groups named "
                   "in groups.names are synced",
                   link_.name, kafka::describeCluster(source_), problem);
    }
  }
  return {groups.begin(), groups.end()};
}

std::vector<GroupSyncOutcome> GroupSync::runOnce(milliseconds timeout) {
  std::vector<GroupSyncOutcome> outcomes;
  for (const auto& group : selectedGroups(timeout)) {
    outcomes.push_back(syncGroup(group, timeout));
  }
  return outcomes;
}

bool GroupSync::failedOver(milliseconds timeout, std::string& why) {
  auto read = mark_->refresh(Clock::now() + timeout);
  if (!read) {
    why = "cannot check the link's failover mark before committing: " + read.message();
    return true;
  }
  if (const auto& mark = mark_->failoverMark()) {
    why = "link '" + link_.name + "' was " + describeFailoverMark(*mark) +
          ": its groups are not synced any more";
    return true;
  }
  return false;
}

Result<std::map<MirrorKey, CommittedOnTarget>>
GroupSync::committedOnTarget(const std::string& group,
                             const std::vector<PartitionTranslation>& offsets,
                             milliseconds timeout) {
  std::vector<std::pair<std::string, int32_t>> partitions;
  for (const auto& t : offsets) {
    partitions.emplace_back(t.target_topic, t.partition);
  }
  auto listed = listGroupOffsets(target_admin_.get(), target_, group, partitions, timeout);
  if (!listed) {
    return listed.error();
  }
  std::map<MirrorKey, CommittedOnTarget> out;
  for (const auto& [key, entry] : *listed) {
    out[key] = CommittedOnTarget{entry.offset, entry.offset >= 0
                                                   ? parseSyncMetadata(entry.metadata, link_.name)
                                                   : std::nullopt};
  }
  return out;
}

Result<std::map<std::pair<std::string, int32_t>, int64_t>>
GroupSync::committedOnSource(const std::string& group,
                             const std::vector<PartitionTranslation>& offsets,
                             milliseconds timeout) {
  std::vector<std::pair<std::string, int32_t>> partitions;
  for (const auto& t : offsets) {
    partitions.emplace_back(t.source_topic, t.partition);
  }
  auto listed = listGroupOffsets(source_admin_.get(), source_, group, partitions, timeout);
  if (!listed) {
    return listed.error();
  }
  std::map<std::pair<std::string, int32_t>, int64_t> out;
  for (const auto& [key, entry] : *listed) {
    out[key] = entry.offset;
  }
  return out;
}

GroupSyncOutcome GroupSync::syncGroup(const std::string& group, milliseconds timeout, bool force) {
  GroupSyncOutcome outcome;
  outcome.group = group;
  outcome.at = std::chrono::system_clock::now();
  outcome.rereads_possible = link_.delivery != config::DeliveryMode::kExactlyOnce;
  if (lease_ && !lease_->held()) {
    outcome.leased_elsewhere = true;
    outcome.problem = lease_->assigned()
                          ? "synced by another worker of link '" + link_.name +
                                "' (the holder of the group-sync lease, consumer group '" +
                                GroupSyncLease::groupId(link_.name) + "' on the target)"
                          : "waiting for the group-sync lease (joining or rebalancing the "
                            "consumer group '" +
                                GroupSyncLease::groupId(link_.name) + "' on the target)";
    return outcome;
  }
  auto translated = translator_->translate(group, timeout);
  if (!translated) {
    outcome.problem = translated.error().message;
    return outcome;
  }
  outcome.offsets = *translated;
  auto committed = committedOnTarget(group, *translated, timeout);
  if (!committed) {
    outcome.problem = committed.error().message;
    return outcome;
  }
  GroupCommitPlan plan = planGroup(*translated, *committed, force);
  if (plan.leaveAlone()) {
    outcome.left_alone = true;
    outcome.problem = "the group consumes on the target: " + std::to_string(plan.foreign_ahead) +
                      " partition(s) have offsets committed there past the sync's, not by "
                      "Causeway; it is left as it is";
    return outcome;
  }
  if (plan.move_backs > 0) {
    // A translation made before another sync (or the failover) committed a later position is stale,
    // not a move back: only a source group that is still behind counts.
    auto fresh = committedOnSource(group, *translated, timeout);
    if (!fresh) {
      outcome.problem = fresh.error().message;
      return outcome;
    }
    for (size_t i = 0; i < plan.partitions.size(); ++i) {
      if (plan.partitions[i].action != PartitionAction::kMoveBack) {
        continue;
      }
      const auto& t = (*translated)[i];
      auto now = fresh->find({t.source_topic, t.partition});
      const auto current = committed->find({t.target_topic, t.partition});
      if (now == fresh->end() || current == committed->end() ||
          !moveBackConfirmed(current->second, now->second) || now->second != t.source_offset) {
        plan.partitions[i].action = PartitionAction::kKeepAhead;
        plan.to_commit -= 1;
      }
    }
  }
  std::vector<PartitionTranslation> to_commit;
  for (size_t i = 0; i < plan.partitions.size(); ++i) {
    const PartitionPlan& p = plan.partitions[i];
    if (p.action == PartitionAction::kCommit || p.action == PartitionAction::kMoveBack) {
      PartitionTranslation t = (*translated)[i];
      t.target_offset = p.target_offset;
      to_commit.push_back(std::move(t));
    }
  }
  if (plan.waiting > 0) {
    outcome.problem = describeWaiting(plan.waiting, *translated);
  }
  if (to_commit.empty()) {
    outcome.committed = plan.waiting == 0;  // nothing new
    return outcome;
  }
  if (role_ == GroupSyncRole::kWorker) {
    // Last checks right before the commit: a failover that marked the link, a lease lost.
    std::string why;
    if (failedOver(timeout, why)) {
      outcome.failed_over = true;
      outcome.problem = why;
      return outcome;
    }
    if (!lease_->held()) {
      outcome.leased_elsewhere = true;
      outcome.problem = "the group-sync lease moved to another worker of link '" + link_.name +
                        "' during the cycle; nothing was committed";
      return outcome;
    }
  }
  if (auto done = commitOnTarget(group, to_commit, timeout); !done) {
    outcome.problem = done.message();
    return outcome;
  }
  writeCheckpoints(group, to_commit);
  outcome.written = std::move(to_commit);
  outcome.committed = plan.waiting == 0;
  return outcome;
}

Result<size_t> GroupSync::reassert(const std::string& group,
                                   const std::vector<PartitionTranslation>& written,
                                   milliseconds timeout) {
  if (written.empty()) {
    return size_t{0};
  }
  auto committed = committedOnTarget(group, written, timeout);
  if (!committed) {
    return committed.error();
  }
  std::vector<PartitionTranslation> restore;
  for (const auto& t : written) {
    auto now = committed->find({t.target_topic, t.partition});
    if (now != committed->end() && now->second.offset != t.target_offset &&
        now->second.synced_source) {
      restore.push_back(t);  // a worker's commit landed after ours
    }
  }
  if (restore.empty()) {
    return size_t{0};
  }
  if (auto done = commitOnTarget(group, restore, timeout); !done) {
    return done.error();
  }
  return restore.size();
}

Status GroupSync::commitOnTarget(const std::string& group,
                                 const std::vector<PartitionTranslation>& offsets,
                                 milliseconds timeout) {
  rd_kafka_t* rk = target_admin_.get();
  kafka::PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  for (const auto& t : offsets) {
    rd_kafka_topic_partition_t* tp =
        rd_kafka_topic_partition_list_add(list.get(), t.target_topic.c_str(), t.partition);
    tp->offset = t.target_offset;
    // Which source position this offset stands for, and that the sync wrote it (freed by the list).
    const std::string metadata = syncMetadata(link_.name, t.source_offset);
    tp->metadata = std::malloc(metadata.size());
    std::memcpy(tp->metadata, metadata.data(), metadata.size());
    tp->metadata_size = metadata.size();
  }
  rd_kafka_AlterConsumerGroupOffsets_t* request =
      rd_kafka_AlterConsumerGroupOffsets_new(group.c_str(), list.get());
  kafka::QueuePtr queue(rd_kafka_queue_new(rk));
  kafka::AdminOptionsPtr options(
      rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS));
  char errstr[256];
  rd_kafka_AdminOptions_set_request_timeout(options.get(), toMs(timeout), errstr, sizeof(errstr));
  rd_kafka_AlterConsumerGroupOffsets(rk, &request, 1, options.get(), queue.get());
  rd_kafka_AlterConsumerGroupOffsets_destroy(request);
  kafka::EventPtr event(rd_kafka_queue_poll(queue.get(), toMs(timeout) + 1000));
  const std::string what = "committing group '" + group + "' on " + kafka::describeCluster(target_);
  if (!event) {
    return Error{what + ": no answer in time"};
  }
  if (rd_kafka_event_error(event.get()) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Error{what + ": " + rd_kafka_event_error_string(event.get())};
  }
  size_t count = 0;
  const rd_kafka_group_result_t** groups = rd_kafka_AlterConsumerGroupOffsets_result_groups(
      rd_kafka_event_AlterConsumerGroupOffsets_result(event.get()), &count);
  if (count != 1) {
    return Error{what + ": unexpected answer"};
  }
  auto refused = [&](rd_kafka_resp_err_t code, const std::string& text) -> Status {
    if (code == RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID || code == RD_KAFKA_RESP_ERR_NON_EMPTY_GROUP ||
        code == RD_KAFKA_RESP_ERR_GROUP_SUBSCRIBED_TO_TOPIC ||
        code == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS ||
        code == RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION) {
      return Error{what + ": refused, the group has active members on the target (" + text +
                   "); it is left as it is"};
    }
    return Error{what + ": " + text};
  };
  if (const rd_kafka_error_t* error = rd_kafka_group_result_error(groups[0])) {
    return refused(rd_kafka_error_code(error), rd_kafka_error_string(error));
  }
  const rd_kafka_topic_partition_list_t* parts = rd_kafka_group_result_partitions(groups[0]);
  for (int i = 0; parts != nullptr && i < parts->cnt; ++i) {
    if (parts->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return refused(parts->elems[i].err, rd_kafka_err2str(parts->elems[i].err));
    }
  }
  return {};
}

void GroupSync::writeCheckpoints(const std::string& group,
                                 const std::vector<PartitionTranslation>& offsets) {
  const std::string topic = checkpointTopic(link_.name);
  if (!checkpoints_ready_) {
    auto admin = kafka::makeTopicAdmin(target_);
    auto created = admin->ensureTopic(topic, 1, milliseconds(10000));
    if (!created) {
      spdlog::warn("link '{}': checkpoint topic '{}' not available: {}", link_.name, topic,
                   created.error().message);
      return;
    }
    checkpoints_ready_ = true;
  }
  const int64_t now_ms = wallClockMs();
  for (const auto& t : offsets) {
    const std::string key = group + "/" + t.source_topic + "/" + std::to_string(t.partition);
    const std::string value = "{\"group\":\"" + jsonEscape(group) + "\",\"source_topic\":\"" +
                              jsonEscape(t.source_topic) + "\",\"target_topic\":\"" +
                              jsonEscape(t.target_topic) +
                              "\",\"partition\":" + std::to_string(t.partition) +
                              ",\"source_offset\":" + std::to_string(t.source_offset) +
                              ",\"target_offset\":" + std::to_string(t.target_offset) +
                              ",\"synced_at_ms\":" + std::to_string(now_ms) + "}";
    rd_kafka_producev(
        target_admin_.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(0),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key.data(), key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()), RD_KAFKA_V_END);
  }
  rd_kafka_poll(target_admin_.get(), 0);
}

}  // namespace causeway::replicator
