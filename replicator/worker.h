#pragma once

#include "common/result.h"
#include "config/config.h"
#include "replicator/link_status.h"

#include <chrono>
#include <memory>
#include <vector>

namespace causeway::replicator {

class Link;

// Runs every link of a configuration in this process. Several workers (processes) started with
// the same configuration share each link's partitions through the source cluster's consumer
// group "causeway.<link>" (cooperative-sticky).
//
// Lifecycle: construct -> start() -> statuses() while running -> stop(). Not copyable. start()
// and stop() are called from one controlling thread; statuses() from any thread.
class Worker {
public:
  explicit Worker(config::Config config);
  ~Worker();  // stops (draining) if still running

  // Starts every link. A link whose clusters are unreachable within their connect_timeout
  // fails (see statuses()); start() returns an error only if no link could start.
  Status start();

  // Drains: stops fetching, waits up to `drain_timeout` for in-flight records to be
  // acknowledged by the target, commits the source offsets and leaves the consumer groups.
  void stop(std::chrono::milliseconds drain_timeout = std::chrono::seconds(30));

  std::vector<LinkStatus> statuses() const;

  // True while at least one link is starting or running.
  bool anyRunning() const;

private:
  config::Config config_;
  std::vector<std::unique_ptr<Link>> links_;
};

} // namespace causeway::replicator
