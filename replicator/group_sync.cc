#include "replicator/group_sync.h"

#include "kafka/client_factory.h"
#include "kafka/topic_admin.h"

#include <spdlog/spdlog.h>

#include <algorithm>
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

} // namespace

GroupSync::GroupSync(config::LinkConfig link, config::ClusterConfig source,
                     config::ClusterConfig target)
    : link_(std::move(link)), source_(std::move(source)), target_(std::move(target)) {}

GroupSync::~GroupSync() {
  if (target_admin_) {
    rd_kafka_flush(target_admin_.get(), 5000);
  }
}

Status GroupSync::open() {
  auto translator = std::make_unique<OffsetTranslator>(link_, source_, target_,
                                                     StateUse::kIfPresent);
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
    rd_kafka_AdminOptions_set_request_timeout(options.get(), toMs(timeout), errstr,
                                              sizeof(errstr));
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
      spdlog::warn("link '{}': listing consumer groups on {} failed ({}); only the groups named "
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

GroupSyncOutcome GroupSync::syncGroup(const std::string& group, milliseconds timeout,
                                      bool force) {
  GroupSyncOutcome outcome;
  outcome.group = group;
  outcome.at = std::chrono::system_clock::now();
  auto translated = translator_->translate(group, timeout);
  if (!translated) {
    outcome.problem = translated.error().message;
    return outcome;
  }
  std::vector<PartitionTranslation> to_commit;
  size_t behind = 0;
  for (auto t : *translated) {
    if (force && t.source_offset >= 0 && t.target_offset < 0) {
      t.target_offset = t.target_end;
    }
    if (t.source_offset >= 0 && t.target_offset < 0) {
      ++behind;  // replication has not reached the group's position yet
      continue;
    }
    if (t.source_offset < 0) {
      continue;
    }
    auto last = last_.find({group, t.target_topic, t.partition});
    if (last != last_.end() && t.target_offset == last->second.second) {
      continue;  // already there
    }
    if (last != last_.end() && t.target_offset < last->second.second &&
        t.source_offset >= last->second.first) {
      continue;  // never move the target group back unless the source group went back
    }
    to_commit.push_back(t);
  }
  outcome.offsets = *translated;
  if (behind > 0) {
    outcome.problem = std::to_string(behind) +
                      " partition(s) not yet replicated up to the group's position; synced "
                      "once they are";
  }
  if (to_commit.empty()) {
    outcome.committed = behind == 0;  // nothing new
    return outcome;
  }
  if (auto committed = commitOnTarget(group, to_commit, timeout); !committed) {
    outcome.problem = committed.message();
    return outcome;
  }
  for (const auto& t : to_commit) {
    last_[{group, t.target_topic, t.partition}] = {t.source_offset, t.target_offset};
  }
  writeCheckpoints(group, to_commit);
  outcome.committed = behind == 0;
  return outcome;
}

Status GroupSync::commitOnTarget(const std::string& group,
                                 const std::vector<PartitionTranslation>& offsets,
                                 milliseconds timeout) {
  rd_kafka_t* rk = target_admin_.get();
  kafka::PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  for (const auto& t : offsets) {
    rd_kafka_topic_partition_list_add(list.get(), t.target_topic.c_str(), t.partition)->offset =
        t.target_offset;
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
  const std::string what =
      "committing group '" + group + "' on " + kafka::describeCluster(target_);
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
    if (code == RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID ||
        code == RD_KAFKA_RESP_ERR_NON_EMPTY_GROUP ||
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
  const int64_t now_ms = std::chrono::duration_cast<milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  for (const auto& t : offsets) {
    const std::string key = group + "/" + t.source_topic + "/" + std::to_string(t.partition);
    const std::string value =
        "{\"group\":\"" + jsonEscape(group) + "\",\"source_topic\":\"" +
        jsonEscape(t.source_topic) + "\",\"target_topic\":\"" + jsonEscape(t.target_topic) +
        "\",\"partition\":" + std::to_string(t.partition) +
        ",\"source_offset\":" + std::to_string(t.source_offset) +
        ",\"target_offset\":" + std::to_string(t.target_offset) +
        ",\"synced_at_ms\":" + std::to_string(now_ms) + "}";
    rd_kafka_producev(target_admin_.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
                      RD_KAFKA_V_PARTITION(0), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                      RD_KAFKA_V_KEY(key.data(), key.size()),
                      RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                      RD_KAFKA_V_END);
  }
  rd_kafka_poll(target_admin_.get(), 0);
}

} // namespace causeway::replicator
