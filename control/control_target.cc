#include "control/control_target.h"

namespace causeway::control {
namespace {

// replicator::Failover keeps a reference to its configuration: this object owns that
// configuration and is destroyed with the failover (members in declaration order).
class WorkerFailoverSteps : public FailoverSteps {
public:
  WorkerFailoverSteps(config::Config config, const std::string& link,
                      std::vector<std::string> groups)
      : config_(std::move(config)), failover_(config_, link, std::move(groups)) {}

  Status open() override { return failover_.open(); }
  Result<replicator::FailoverPlan> plan(std::chrono::milliseconds timeout) override {
    return failover_.plan(timeout);
  }
  Result<replicator::FailoverPlan> drain(
      std::chrono::milliseconds timeout,
      const std::function<void(const replicator::FailoverPlan&)>& progress) override {
    return failover_.drain(timeout, progress);
  }
  std::vector<replicator::GroupSyncOutcome> moveGroups(std::chrono::milliseconds timeout,
                                                       bool force) override {
    return failover_.moveGroups(timeout, force);
  }
  Status markFailedOver(bool forced, int64_t left_behind, const std::string& by,
                        std::chrono::milliseconds timeout) override {
    return failover_.markFailedOver(forced, left_behind, by, timeout);
  }

private:
  const config::Config config_;  // before failover_: it refers to it
  replicator::Failover failover_;
};

} // namespace

std::unique_ptr<FailoverSteps> WorkerControlTarget::failover(config::Config config,
                                                             const std::string& link,
                                                             std::vector<std::string> groups) {
  return std::make_unique<WorkerFailoverSteps>(std::move(config), link, std::move(groups));
}

} // namespace causeway::control
