#include "replicator/offset_translation.h"

#include "kafka/client_factory.h"
#include "replicator/partition_scanner.h"
#include "replicator/target_tail.h"
#include "replicator/topic_selector.h"

#include <unistd.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

namespace causeway::replicator {
namespace {

using Clock = std::chrono::steady_clock;

struct Ours {
  int64_t target_offset;
  int64_t source_offset;
};

// The first record the link wrote at or after target offset `from` (below `end`), if any.
Result<std::optional<Ours>> firstOursFrom(PartitionScanner& scanner, const std::string& topic,
                                          int32_t partition, int64_t from, int64_t end,
                                          const std::string& link, Clock::time_point deadline) {
  std::optional<Ours> found;
  auto status = scanner.scan(topic, partition, from, end, deadline,
                             [&](const rd_kafka_message_t& message) {
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

std::string joinNames(const std::vector<config::LinkConfig>& links) {
  std::string out;
  for (const auto& link : links) {
    out += (out.empty() ? "" : ", ") + link.name;
  }
  return out;
}

} // namespace

Result<std::vector<PartitionTranslation>> translateGroupOffsets(const config::Config& config,
                                                               const std::string& link_name,
                                                               const std::string& group,
                                                               std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  const config::LinkConfig* link = config.findLink(link_name);
  if (link == nullptr) {
    return Error{"unknown link '" + link_name + "'; the config has: " + joinNames(config.links)};
  }
  if (link->delivery != config::DeliveryMode::kExactlyOnce) {
    return Error{"link '" + link_name +
                 "' is at_least_once: its target may hold a record twice, so an offset has no "
                 "single exact translation; use delivery: exactly_once for failover links"};
  }
  const config::ClusterConfig& source = config.clusters.at(link->source);
  const config::ClusterConfig& target = config.clusters.at(link->target);
  auto selector = TopicSelector::create(*link);
  if (!selector) {
    return selector.error();
  }

  // The group's committed offsets, read with an assign-only client of that group (it never
  // joins, so it cannot disturb the group's members).
  kafka::ClientSpec spec;
  spec.type = RD_KAFKA_CONSUMER;
  spec.cluster = &source;
  spec.client_id = "causeway-translate";
  spec.owned = {{"group.id", group}, {"enable.auto.commit", "false"}};
  auto source_client = kafka::makeClient(spec);
  if (!source_client) {
    return source_client.error();
  }
  if (auto reachable = kafka::checkReachable(source_client->get(), source); !reachable) {
    return reachable.error();
  }
  auto source_topics = kafka::fetchAllTopics(source_client->get(), source, timeout);
  if (!source_topics) {
    return source_topics.error();
  }
  kafka::PartitionListPtr committed(rd_kafka_topic_partition_list_new(16));
  for (int i = 0; i < (*source_topics)->topic_cnt; ++i) {
    const auto& topic = (*source_topics)->topics[i];
    if (topic.err != RD_KAFKA_RESP_ERR_NO_ERROR || !selector->selects(topic.topic)) {
      continue;
    }
    for (int p = 0; p < topic.partition_cnt; ++p) {
      rd_kafka_topic_partition_list_add(committed.get(), topic.topic, p);
    }
  }
  if (committed->cnt == 0) {
    return Error{"link '" + link_name + "' selects no topic on " +
                 kafka::describeCluster(source)};
  }
  const int remaining = static_cast<int>(std::max<int64_t>(
      1, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count()));
  if (rd_kafka_resp_err_t err =
          rd_kafka_committed(source_client->get(), committed.get(), remaining)) {
    return Error{"reading the committed offsets of group '" + group + "' on " +
                 kafka::describeCluster(source) + ": " + rd_kafka_err2str(err)};
  }
  bool any = false;
  for (int i = 0; i < committed->cnt; ++i) {
    any = any || committed->elems[i].offset >= 0;
  }
  if (!any) {
    return Error{"group '" + group + "' has no committed offset on " +
                 kafka::describeCluster(source) + " for any topic of link '" + link_name +
                 "' (a group that never committed, or a misspelt group name)"};
  }

  PartitionScanner scanner(target, link_name + "-translate");
  if (auto opened = scanner.open(); !opened) {
    return opened.error();
  }
  TargetTail tail(target, link_name);
  if (auto opened = tail.open(); !opened) {
    return opened.error();
  }
  std::vector<PartitionTranslation> out;
  for (int i = 0; i < committed->cnt; ++i) {
    const auto& tp = committed->elems[i];
    PartitionTranslation t;
    t.source_topic = tp.topic;
    t.target_topic = selector->targetTopic(tp.topic);
    t.partition = tp.partition;
    t.source_offset = tp.offset >= 0 ? tp.offset : -1;
    if (t.source_offset < 0) {
      out.push_back(std::move(t));
      continue;
    }
    auto marks = scanner.watermarks(t.target_topic, t.partition, deadline);
    if (!marks) {
      return Error{"mirror topic '" + t.target_topic + "': " + marks.error().message};
    }
    const auto [low, high] = *marks;
    // Binary search for the smallest target offset t whose first record of ours (at or after
    // it) has source offset >= the group's, or has none: that predicate only turns from false
    // to true as t grows, because the link writes source offsets in increasing order.
    int64_t lo = low;
    int64_t hi = high;
    std::optional<Ours> answer;
    while (lo < hi) {
      const int64_t mid = lo + (hi - lo) / 2;
      auto probe = firstOursFrom(scanner, t.target_topic, t.partition, mid, high, link_name,
                                 deadline);
      if (!probe) {
        return probe.error();
      }
      if (!*probe || (*probe)->source_offset >= t.source_offset) {
        hi = mid;
        answer = *probe;
      } else {
        lo = (*probe)->target_offset + 1;  // every record of ours before it is also too early
      }
    }
    if (lo == low && !answer) {
      auto probe = firstOursFrom(scanner, t.target_topic, t.partition, lo, high, link_name,
                                 deadline);
      if (!probe) {
        return probe.error();
      }
      answer = *probe;
    }
    if (answer && answer->source_offset < t.source_offset) {
      answer.reset();
    }
    t.target_offset = answer ? answer->target_offset : high;

    // What the target does not have yet, past the group's position.
    int64_t source_low = 0;
    int64_t source_high = 0;
    if (rd_kafka_query_watermark_offsets(source_client->get(), tp.topic, tp.partition, &source_low,
                                         &source_high, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      auto last = tail.lastSourceOffset(t.target_topic, t.partition,
                                        std::chrono::duration_cast<std::chrono::milliseconds>(
                                            deadline - Clock::now()));
      if (last) {
        const int64_t next = std::max(t.source_offset, last->value_or(-1) + 1);
        t.not_yet_replicated = std::max<int64_t>(0, source_high - next);
      }
    }
    out.push_back(std::move(t));
  }
  return out;
}

} // namespace causeway::replicator
