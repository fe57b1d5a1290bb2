#pragma once

// The two stages every link runs, first and last: loop prevention and provenance headers (see
// record_headers.h for the headers themselves).

#include "pipeline/stage.h"

#include <string>

namespace causeway::replicator {

// Drops a record whose causeway-origin already names the target cluster: it came from there
// (active-active links with identical topic names stay loop-free). A known skip, counted under
// reason "loop".
class LoopPreventionStage : public pipeline::Stage {
public:
  explicit LoopPreventionStage(std::string target_cluster)
      : target_cluster_(std::move(target_cluster)) {}
  std::string_view name() const override { return "loop-prevention"; }
  pipeline::Verdict process(pipeline::Record& record) override;

private:
  std::string target_cluster_;
};

// Sets causeway-origin (the path so far plus the source cluster) and causeway-src (the link and the
// source offset) on every record, replacing what the source record carried.
class ProvenanceStage : public pipeline::Stage {
public:
  ProvenanceStage(std::string link, std::string source_cluster)
      : link_(std::move(link)), source_cluster_(std::move(source_cluster)) {}
  std::string_view name() const override { return "provenance"; }
  pipeline::Verdict process(pipeline::Record& record) override;

private:
  std::string link_;
  std::string source_cluster_;
  std::string origin_buffer_;  // reused for each record
  std::string source_buffer_;
};

}  // namespace causeway::replicator
