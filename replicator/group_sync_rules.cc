#include "replicator/group_sync_rules.h"

#include <charconv>

namespace causeway::replicator {
namespace {

constexpr std::string_view kMetadataPrefix = "causeway-sync:v1:";

}  // namespace

std::string syncMetadata(std::string_view link, int64_t source_offset) {
  std::string out(kMetadataPrefix);
  out += std::to_string(source_offset);
  out += ':';
  out += link;
  return out;
}

std::optional<int64_t> parseSyncMetadata(std::string_view metadata, std::string_view link) {
  if (!metadata.starts_with(kMetadataPrefix)) {
    return std::nullopt;
  }
  metadata.remove_prefix(kMetadataPrefix.size());
  const size_t colon = metadata.find(':');
  if (colon == std::string_view::npos || colon == 0 || metadata.substr(colon + 1) != link) {
    return std::nullopt;
  }
  int64_t offset = -1;
  const auto [end, ec] = std::from_chars(metadata.data(), metadata.data() + colon, offset);
  if (ec != std::errc() || end != metadata.data() + colon || offset < 0) {
    return std::nullopt;
  }
  return offset;
}

const char* toString(PartitionAction action) {
  switch (action) {
  case PartitionAction::kNoPosition:
    return "no_position";
  case PartitionAction::kWait:
    return "wait";
  case PartitionAction::kAlreadyThere:
    return "already_there";
  case PartitionAction::kCommit:
    return "commit";
  case PartitionAction::kMoveBack:
    return "move_back";
  case PartitionAction::kKeepAhead:
    return "keep_ahead";
  case PartitionAction::kForeignAhead:
    return "foreign_ahead";
  }
  return "unknown";
}

PartitionPlan planPartition(const PartitionTranslation& t, const CommittedOnTarget& current,
                            bool force) {
  if (t.source_offset < 0) {
    return {PartitionAction::kNoPosition, -1};
  }
  int64_t wanted = t.target_offset;
  if (wanted < 0) {
    if (!force || t.target_end < 0) {
      return {PartitionAction::kWait, -1};
    }
    wanted = t.target_end;  // forced: what is not replicated is left behind
  }
  if (current.offset < 0) {
    return {PartitionAction::kCommit, wanted};
  }
  if (current.offset == wanted) {
    return {PartitionAction::kAlreadyThere, wanted};
  }
  if (wanted > current.offset) {
    return {PartitionAction::kCommit, wanted};
  }
  if (!current.synced_source) {
    return {PartitionAction::kForeignAhead, current.offset};
  }
  if (t.source_offset < *current.synced_source) {
    return {PartitionAction::kMoveBack, wanted};
  }
  return {PartitionAction::kKeepAhead, current.offset};
}

GroupCommitPlan planGroup(const std::vector<PartitionTranslation>& translations,
                          const std::map<MirrorKey, CommittedOnTarget>& committed,
                          bool force) {
  GroupCommitPlan plan;
  plan.partitions.reserve(translations.size());
  for (const auto& t : translations) {
    auto it = committed.find({t.target_topic, t.partition});
    const PartitionPlan p =
        planPartition(t, it == committed.end() ? CommittedOnTarget{} : it->second, force);
    switch (p.action) {
    case PartitionAction::kWait:
      plan.waiting += 1;
      break;
    case PartitionAction::kCommit:
      plan.to_commit += 1;
      break;
    case PartitionAction::kMoveBack:
      plan.to_commit += 1;
      plan.move_backs += 1;
      break;
    case PartitionAction::kForeignAhead:
      plan.foreign_ahead += 1;
      break;
    default:
      break;
    }
    plan.partitions.push_back(p);
  }
  return plan;
}

bool moveBackConfirmed(const CommittedOnTarget& current, int64_t fresh_source) {
  return current.synced_source && fresh_source >= 0 && fresh_source < *current.synced_source;
}

}  // namespace causeway::replicator
