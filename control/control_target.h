#pragma once

#include "common/result.h"
#include "config/config.h"
#include "replicator/failover.h"
#include "replicator/link_status.h"
#include "replicator/offset_translation.h"
#include "replicator/worker.h"

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace causeway::control {

// The steps of one failover (replicator::Failover's interface), so the service can be tested
// with a fake.
class FailoverSteps {
public:
  virtual ~FailoverSteps() = default;
  virtual Status open() = 0;
  virtual Result<replicator::FailoverPlan> plan(std::chrono::milliseconds timeout) = 0;
  virtual Result<replicator::FailoverPlan> drain(
      std::chrono::milliseconds timeout,
      const std::function<void(const replicator::FailoverPlan&)>& progress) = 0;
  virtual std::vector<replicator::GroupSyncOutcome> moveGroups(std::chrono::milliseconds timeout,
                                                               bool force) = 0;
  virtual Status markFailedOver(bool forced, int64_t left_behind, const std::string& by,
                                std::chrono::milliseconds timeout) = 0;
};

// What the control service controls: the worker of this process. The seam between the gRPC
// layer and the replicator; tests of the service put a hand-written fake behind it.
// Implementations must be safe to call from several request threads at once.
class ControlTarget {
public:
  virtual ~ControlTarget() = default;
  virtual std::vector<replicator::LinkStatus> statuses() const = 0;
  virtual config::Config currentConfig() const = 0;
  virtual Status pauseLink(const std::string& link) = 0;
  virtual Status resumeLink(const std::string& link) = 0;
  virtual Result<replicator::Worker::ReloadResult> reload(config::Config config) = 0;
  virtual Result<std::vector<replicator::PartitionTranslation>> translateOffsets(
      const config::Config& config, const std::string& link, const std::string& group,
      std::chrono::milliseconds timeout) = 0;
  // A failover over `config` (the steps own a copy of it).
  virtual std::unique_ptr<FailoverSteps> failover(config::Config config, const std::string& link,
                                                  std::vector<std::string> groups) = 0;
};

// The real target: a replicator::Worker (borrowed; it must outlive this object) plus
// replicator::translateGroupOffsets and replicator::Failover.
class WorkerControlTarget : public ControlTarget {
public:
  explicit WorkerControlTarget(replicator::Worker& worker) : worker_(worker) {}

  std::vector<replicator::LinkStatus> statuses() const override { return worker_.statuses(); }
  config::Config currentConfig() const override { return worker_.currentConfig(); }
  Status pauseLink(const std::string& link) override { return worker_.pauseLink(link); }
  Status resumeLink(const std::string& link) override { return worker_.resumeLink(link); }
  Result<replicator::Worker::ReloadResult> reload(config::Config config) override {
    return worker_.reload(std::move(config));
  }
  Result<std::vector<replicator::PartitionTranslation>> translateOffsets(
      const config::Config& config, const std::string& link, const std::string& group,
      std::chrono::milliseconds timeout) override {
    return replicator::translateGroupOffsets(config, link, group, timeout);
  }
  std::unique_ptr<FailoverSteps> failover(config::Config config, const std::string& link,
                                          std::vector<std::string> groups) override;

private:
  replicator::Worker& worker_;
};

} // namespace causeway::control
