#pragma once

#include <cstdint>
#include <deque>
#include <optional>

namespace causeway::replicator {

// Offset bookkeeping for one source partition: which records were sent to the target and which the
// target acknowledged, and so which source offset is safe to commit.
//
// The commit point is the first offset NOT yet acknowledged (or, when everything sent was
// acknowledged, the offset after the last one sent): committing it means a restart resumes at the
// first record the target might not have. Acknowledgements may arrive in any order; the commit
// point only moves over a contiguous acknowledged prefix. Offsets need not be contiguous
// (compaction, transaction markers).
//
// Entries live in a std::deque, whose elements keep their address while other elements are added at
// the back or removed at the front: a pointer to an Entry is valid from dispatch() until the commit
// point passes it. That lets the Kafka delivery report carry the Entry itself.
//
// Not thread-safe: owned by the link's data-plane thread.
class OffsetTracker {
public:
  struct Entry {
    int64_t offset = 0;
    uint32_t bytes = 0;
    bool acked = false;
    bool failed = false;       // delivery failed: the commit point stops here for good
    bool dead_letter = false;  // sent to the dead-letter queue instead of the target
    OffsetTracker* tracker = nullptr;
    int64_t timestamp = -1;       // the source record's timestamp (latency, time lag), -1 if none
    int8_t timestamp_index = -1;  // its type: 0 create time, 1 log-append time, -1 none
  };

  explicit OffsetTracker(void* context = nullptr) : context_(context) {}

  // The owner's context pointer (the link's partition state), for delivery reports.
  void* context() const { return context_; }

  // Records that `offset` was sent. Offsets must increase; a smaller or equal offset is a
  // programming error (asserted) because order per partition is the replicator's invariant.
  Entry& dispatch(int64_t offset, uint32_t bytes, int64_t timestamp = -1);

  // Marks an entry acknowledged by the target. Returns true when the commit point advanced.
  bool ack(Entry& entry);

  // Marks an entry as not delivered: the commit point will never pass it.
  void fail(Entry& entry);

  // The offset to commit, or nullopt before anything was sent or acknowledged.
  std::optional<int64_t> commitPoint() const;

  // Starts over for a new assignment.
  void reset();

  uint64_t inFlightRecords() const { return in_flight_records_; }
  uint64_t inFlightBytes() const { return in_flight_bytes_; }
  bool hasFailed() const { return failed_; }
  int64_t lastDispatched() const { return last_dispatched_; }
  // Offset of the oldest record not yet acknowledged, if any.
  std::optional<int64_t> oldestUnacked() const;
  // The oldest entry neither acknowledged nor failed, or null.
  const Entry* oldestPending() const;

private:
  void retireAckedPrefix();

  void* context_ = nullptr;
  std::deque<Entry> entries_;  // dispatched, not yet passed by the commit point; offsets increase
  std::optional<int64_t> next_after_acked_;  // commit point when entries_ is empty
  int64_t last_dispatched_ = -1;
  uint64_t in_flight_records_ = 0;
  uint64_t in_flight_bytes_ = 0;
  bool failed_ = false;
};

}  // namespace causeway::replicator
