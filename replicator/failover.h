#pragma once

#include "common/result.h"
#include "config/config.h"
#include "replicator/group_sync.h"
#include "replicator/offset_translation.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace causeway::replicator {

// How far the target is behind the source in one partition, read from the
// clusters themselves: the source's readable end (its last stable offset: what
// the link's read_committed consumer can read) against the first source offset
// not accounted for on the target (the link's last record readable there, or
// the accounted end it saved past skipped records and transaction markers,
// whichever is further).
struct PartitionLag {
  std::string source_topic;
  std::string target_topic;
  int32_t partition = 0;
  int64_t source_high = 0;         // the source's readable end
  int64_t next_source_offset = 0;  // the first source offset not accounted for on the target
  int64_t lag = 0;                 // source_high - next_source_offset
  // The mirror partition has records past its last stable offset (an open
  // transaction): they do not count as replicated until it ends.
  bool target_hidden = false;
};

struct GroupPlan {
  std::string group;
  std::vector<PartitionTranslation> offsets;  // the group's positions on source and target
  int64_t rpo_records = 0;  // records past the group's position not yet on the target
  std::string problem;      // why it cannot be moved (no commits, unknown group, ...)
};

struct FailoverPlan {
  std::string link;
  std::vector<PartitionLag> partitions;
  int64_t total_lag = 0;
  std::vector<GroupPlan> groups;
  // At-least-once link: groups move to the first copy of their next record, so
  // consumers may read again records they already read on the source (never
  // skip one).
  bool rereads_possible = false;
};

// Failover of a link's consumer groups from the source to the target cluster,
// driven from outside the workers (an operator command; the control API will
// reuse it):
//   plan()        lag per partition, each group's translated position and its
//   RPO; drain()       wait until the running workers have replicated
//   everything (zero lag); moveGroups()  final sync: commit each group's
//   translated offsets on the target (refused by
//                 Kafka for a group already consuming there; a group whose
//                 consumers committed on the target past the translation is
//                 left as it is);
//   markFailedOver()  stop the link everywhere: writes the failover mark to the
//   link's state
//                 topic; every worker of the link stops within
//                 discovery_interval, saving its final offset runs, and the
//                 link does not start again until clearFailoverMark. Workers
//                 stop syncing groups at the mark; a worker's commit already on
//                 its way is undone (GroupSync::reassert).
// Exactly-once links are exact; at-least-once links move each group to the
// first copy of its next record (FailoverPlan::rereads_possible).
class Failover {
public:
  Failover(const config::Config& config, std::string link, std::vector<std::string> groups);
  ~Failover();

  Status open();
  Result<FailoverPlan> plan(std::chrono::milliseconds timeout);
  // Polls the lag until it is zero or `timeout` passes; `progress` sees each
  // measurement.
  Result<FailoverPlan> drain(std::chrono::milliseconds timeout,
                             const std::function<void(const FailoverPlan&)>& progress);
  std::vector<GroupSyncOutcome> moveGroups(std::chrono::milliseconds timeout, bool force);
  Status markFailedOver(bool forced, int64_t left_behind, const std::string& by,
                        std::chrono::milliseconds timeout);

  // Lets the link run again (`causeway failover --undo`). Errors: unknown link,
  // no state topic.
  static Status clearFailoverMark(const config::Config& config, const std::string& link,
                                  std::chrono::milliseconds timeout);

private:
  Result<std::vector<PartitionLag>> lags(std::chrono::milliseconds timeout);

  const config::Config& config_;
  std::string link_name_;
  std::vector<std::string> groups_;
  const config::LinkConfig* link_ = nullptr;
  std::unique_ptr<GroupSync> sync_;
  // What moveGroups() committed, per group: reasserted after the mark.
  std::map<std::string, std::vector<PartitionTranslation>> moved_;
  struct Clients;
  std::unique_ptr<Clients> clients_;
};

}  // namespace causeway::replicator
