#pragma once

#include "replicator/link_extensions.h"

#include "demo/sample_producer.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace causeway::demo {

struct DemoSettings {
  uint64_t records = 20000;
  double rate = 5000;  // records/s, 0 = as fast as possible
  std::chrono::milliseconds timeout{120000};  // for catching up after the producer finished
  bool tty = false;    // redraw the live table in place (else plain lines every few seconds)
  uint64_t seed = 42;
  std::vector<SampleTopic> topics = defaultSampleTopics();
  std::FILE* out = stdout;  // live view and summary
  // When set, the data-sharing part runs after the replication part (demo/sharing_demo.h) with
  // the partner policy compiled by these extensions.
  replicator::LinkExtensionsFactory extensions;
  // The data-sharing part ends by serving the payments as a data product over HTTP; this long
  // after its check, so a user can follow the stream with the printed curl command.
  std::chrono::milliseconds serve_for{0};
};

// What the demo found; exit code 0 only when `verified`.
struct DemoOutcome {
  bool verified = false;
  bool interrupted = false;
  std::string failure;  // what went wrong, when not verified
  uint64_t records = 0;     // records compared (on the source and on the target)
  uint64_t partitions = 0;
  int exitCode() const { return verified ? 0 : (interrupted ? 130 : 1); }
};

// `causeway demo`: two embedded clusters "east" and "west" (3 brokers each), the sample topics
// on east, one link "east-to-west" replicating them with identity naming, the sample producer at
// `rate`, a live progress view, then (once the target caught up) a drain and a record-by-record
// verification of every partition.
//
// Runs on the calling thread; the producer gets its own thread. Setting `interrupted` (from a
// signal handler, for example) stops everything cleanly: producer, worker, clusters, in that
// order; Kafka clients are always destroyed before the clusters they talk to.
DemoOutcome runDemoScenario(const DemoSettings& settings, const std::atomic<bool>& interrupted);

} // namespace causeway::demo
