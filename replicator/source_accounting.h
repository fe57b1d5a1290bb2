#pragma once

#include "replicator/offset_tracker.h"

#include <cstdint>

namespace causeway::replicator {

// How far a link has accounted for a source partition: the offset below which every source
// offset was delivered to the target, dropped by a stage (loop prevention, filters),
// acknowledged by the dead-letter queue, or holds no record at all (a transaction marker, an
// aborted or compacted-away record). OffsetRuns::markAccounted() takes it, so translation and
// failover know that a partition ending in records the link did not copy has nothing left to
// wait for (docs/failover.md, "Translation").
//
// `tracker`: the partition's offset bookkeeping; its commit point already covers delivered,
// dropped and dead-lettered records. `end_reached`: the partition's end offset from the last
// end-of-partition event since the consumer last moved (SourcePartition::end_reached), -1 if
// none. It extends the commit point only when nothing is pending: then every record below the
// end was handed to the tracker (the reader forgets the end on a rewind or a discarded record),
// so what lies between is offsets without a record (markers, aborted or compacted away).
//
// Returns -1 when nothing is known (nothing dispatched since the assignment). Pure.
int64_t accountedEnd(const OffsetTracker& tracker, int64_t end_reached);

}  // namespace causeway::replicator
