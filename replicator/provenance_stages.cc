#include "replicator/provenance_stages.h"

#include "replicator/record_headers.h"

namespace causeway::replicator {

pipeline::Verdict LoopPreventionStage::process(pipeline::Record& record) {
  const auto origin = record.header(kOriginHeader);
  if (origin && *origin && originContains(**origin, target_cluster_)) {
    // Skipped, not lost: it came from the target.
    return pipeline::Verdict::drop("loop", "loop-prevention");
  }
  return pipeline::Verdict::pass();
}

pipeline::Verdict ProvenanceStage::process(pipeline::Record& record) {
  // The old origin points into the source record's headers, which stay as they are until the edits
  // are applied by the sink: read it before replacing it.
  const auto origin = record.header(kOriginHeader);
  origin_buffer_.clear();
  if (origin && *origin && !(*origin)->empty()) {
    origin_buffer_.assign(**origin);
    origin_buffer_.push_back(',');
  }
  origin_buffer_.append(source_cluster_);
  encodeSourceInto(source_buffer_, link_, record.source().offset);
  record.removeHeader(kOriginHeader);
  record.removeHeader(kSourceHeader);
  record.addHeader(kOriginHeader, origin_buffer_);
  record.addHeader(kSourceHeader, source_buffer_);
  return pipeline::Verdict::pass();
}

}  // namespace causeway::replicator
