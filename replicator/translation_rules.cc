#include "replicator/translation_rules.h"

#include <algorithm>

namespace causeway::replicator {

int64_t MirrorView::nextSource() const {
  return std::max<int64_t>({last_source + 1, accounted_end, 0});
}

const char* toString(ResumeReason reason) {
  switch (reason) {
  case ResumeReason::kCopy:
    return "copy";
  case ResumeReason::kAfterLastRecord:
    return "after_last_record";
  case ResumeReason::kPartitionStart:
    return "partition_start";
  case ResumeReason::kNotYetReplicated:
    return "not_yet_replicated";
  case ResumeReason::kHiddenByTransaction:
    return "hidden_by_transaction";
  case ResumeReason::kNoCommit:
    return "no_commit";
  }
  return "unknown";
}

ResumeDecision decideResume(int64_t source_offset, std::optional<int64_t> first_at_or_after,
                            const MirrorView& view) {
  if (source_offset < 0) {
    return {-1, ResumeReason::kNoCommit};
  }
  if (first_at_or_after && *first_at_or_after < view.stable) {
    return {std::max(*first_at_or_after, view.low), ResumeReason::kCopy};
  }
  if (view.nextSource() >= source_offset) {
    // Every record the group has not read yet is still to come: nothing of the link after it.
    if (view.last_target >= 0) {
      return {std::min(std::max(view.last_target + 1, view.low), view.stable),
              ResumeReason::kAfterLastRecord};
    }
    return {std::min(view.low, view.stable), ResumeReason::kPartitionStart};
  }
  return {-1, view.stable < view.high ? ResumeReason::kHiddenByTransaction
                                      : ResumeReason::kNotYetReplicated};
}

int64_t notYetReplicated(int64_t source_offset, int64_t source_end, const MirrorView& view) {
  return std::max<int64_t>(0, source_end - std::max(source_offset, view.nextSource()));
}

void FirstCopies::observe(int64_t target_offset, int64_t source_offset) {
  if (target_offset <= last_target_ || source_offset < 0) {
    return;  // read again (an overlapping scan) or not an offset
  }
  last_target_ = target_offset;
  if (first_target_ < 0) {
    first_target_ = target_offset;
  }
  if (source_offset > max_source_) {
    first_copies_.add(source_offset, target_offset);
    max_source_ = source_offset;
  }
}

std::optional<int64_t> FirstCopies::firstAtOrAfter(int64_t source_offset, int64_t low) const {
  const RunLookup lookup = first_copies_.lookup(source_offset);
  if (lookup.exact) {
    return lookup.target;
  }
  if (lookup.search_high < 0) {
    return std::nullopt;  // past every first copy observed
  }
  if (first_copies_.empty()) {
    return std::nullopt;
  }
  const OffsetRun& first = first_copies_.runs().front();
  if (first.target == first_target_) {
    return first.target;  // the first record observed: nothing of ours comes before it
  }
  // The oldest runs were dropped: the first copy may be anywhere from the partition's start.
  return low;
}

void FirstCopies::clear() {
  first_copies_.clear();
  first_target_ = -1;
  last_target_ = -1;
  max_source_ = -1;
}

}  // namespace causeway::replicator
