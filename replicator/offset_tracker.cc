#include "replicator/offset_tracker.h"

#include <cassert>

namespace causeway::replicator {

OffsetTracker::Entry& OffsetTracker::dispatch(int64_t offset, uint32_t bytes, int64_t timestamp) {
  assert(offset > last_dispatched_ && "source offsets must increase within a partition");
  last_dispatched_ = offset;
  Entry& entry = entries_.emplace_back();
  entry.offset = offset;
  entry.bytes = bytes;
  entry.tracker = this;
  entry.timestamp = timestamp;
  in_flight_records_ += 1;
  in_flight_bytes_ += bytes;
  return entry;
}

bool OffsetTracker::ack(Entry& entry) {
  assert(entry.tracker == this && !entry.acked && !entry.failed);
  entry.acked = true;
  in_flight_records_ -= 1;
  in_flight_bytes_ -= entry.bytes;
  if (&entry != &entries_.front()) {
    return false;  // an older record is still pending: the commit point cannot move yet
  }
  retireAckedPrefix();
  return true;
}

void OffsetTracker::fail(Entry& entry) {
  assert(entry.tracker == this && !entry.acked && !entry.failed);
  entry.failed = true;
  in_flight_records_ -= 1;
  in_flight_bytes_ -= entry.bytes;
  failed_ = true;
}

void OffsetTracker::retireAckedPrefix() {
  while (!entries_.empty() && entries_.front().acked) {
    next_after_acked_ = entries_.front().offset + 1;
    entries_.pop_front();
  }
}

std::optional<int64_t> OffsetTracker::commitPoint() const {
  if (!entries_.empty()) {
    // The front is unacknowledged (acked fronts are retired at once), so a restart must
    // begin there. Before any acknowledgement that is simply the first offset sent.
    return entries_.front().offset;
  }
  return next_after_acked_;
}

std::optional<int64_t> OffsetTracker::oldestUnacked() const {
  for (const Entry& entry : entries_) {
    if (!entry.acked) {
      return entry.offset;
    }
  }
  return std::nullopt;
}

const OffsetTracker::Entry* OffsetTracker::oldestPending() const {
  for (const Entry& entry : entries_) {
    if (!entry.acked && !entry.failed) {
      return &entry;
    }
  }
  return nullptr;
}

void OffsetTracker::reset() {
  entries_.clear();
  next_after_acked_.reset();
  last_dispatched_ = -1;
  in_flight_records_ = 0;
  in_flight_bytes_ = 0;
  failed_ = false;
}

} // namespace causeway::replicator
