#pragma once

#include "common/result.h"
#include "config/config.h"
#include "kafka/handles.h"

#include <string>

namespace causeway::replicator {

// Which worker of a link syncs its consumer groups: exactly one at a time,
// chosen by Kafka's own group protocol rather than a coordinator of Causeway's.
// Every worker runs a consumer of the group "causeway.<link>.group-sync" on the
// TARGET cluster subscribed to the link's state topic causeway.<link>.state;
// the member assigned its partition 0 holds the lease. The consumer is paused
// at once (it never fetches a record) and never commits.
//
// Why it is exclusive: with the eager (range) protocol the group coordinator
// gives partition 0 to a new member only after the previous holder rejoined
// without it (its revocation ran in held()) or was removed from the group
// (session.timeout.ms without heartbeats, or max.poll.interval.ms without a
// poll). A holder therefore checks held() right before every commit: while it
// has not rejoined, no other member can be holding the lease. What it does not
// cover: a holder cut off from the target's coordinator beyond its session
// timeout still believes it holds the lease until its own client notices; its
// commits go to that same unreachable cluster.
//
// Lifecycle: open() subscribes; held() polls (serving the join, rebalances) and
// answers; destruction leaves the group so another worker takes over at once.
// Not thread-safe: owned by the group-sync thread, which must call held() at
// least every max.poll.interval.ms (default 5 minutes; GroupSync calls it
// before each group).
class GroupSyncLease {
public:
  GroupSyncLease(const config::ClusterConfig& target, std::string link);
  ~GroupSyncLease();

  GroupSyncLease(const GroupSyncLease&) = delete;
  GroupSyncLease& operator=(const GroupSyncLease&) = delete;

  // Joins the lease group (asynchronously: held() is false until the first
  // assignment).
  Status open();

  // Serves the consumer's events and says whether this worker holds the lease
  // now.
  bool held();
  // This worker is a member with an assignment (possibly empty): held() tells the
  // truth about this worker, not just "joining" or "rebalancing". False again from
  // a revocation until the next assignment.
  bool assigned() const { return assigned_; }

  static std::string groupId(const std::string& link) { return "causeway." + link + ".group-sync"; }

private:
  static void rebalanceCallback(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                rd_kafka_topic_partition_list_t* partitions, void* opaque);
  void onRebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* partitions);

  const config::ClusterConfig& target_;
  std::string link_;
  std::string topic_;
  kafka::HandlePtr consumer_;
  bool held_ = false;
  bool assigned_ = false;
};

}  // namespace causeway::replicator
