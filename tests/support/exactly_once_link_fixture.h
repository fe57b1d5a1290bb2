#pragma once

// A test fixture for the data plane on real clients: a source topic "orders", an empty target and
// one running exactly-once link between them (tests/integration/resume_retry_test.cc,
// transactional_commit_test.cc).

#include "replicator/worker.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace causeway::testing {

class ExactlyOnceLinkTest : public ::testing::Test {
protected:
  // "orders" with `records` records in each of its `partitions` on a new source cluster, an
  // empty target cluster, and a running exactly-once link between them.
  void startLink(int32_t partitions, int records, bool transactional,
                 const std::map<std::string, std::string>& producer_properties = {}) {
    partitions_ = partitions;
    source_ = startCluster("source", 1, {{"orders", partitions}});
    target_ = startCluster("target", 1);
    ASSERT_TRUE(source_ && target_);
    ASSERT_TRUE(produceRecords(source_->bootstrap(), "orders", partitions, records, 0));
    auto config = makeConfig(*source_, *target_, {"orders"});
    config.links[0].delivery = config::DeliveryMode::kExactlyOnce;
    config.links[0].transactional = transactional;
    config.links[0].producer_properties = producer_properties;
    config_ = config;
    worker_.emplace(config);
    ASSERT_TRUE(worker_->start().ok());
  }

  // Stops the worker and starts a new one with the same configuration (a restart by a supervisor).
  void restartWorker() {
    worker_->stop();
    worker_.reset();
    worker_.emplace(config_);
    ASSERT_TRUE(worker_->start().ok());
  }

  replicator::LinkStatus status() const { return worker_->statuses().at(0); }
  bool failed() const { return status().state == replicator::LinkState::kFailed; }

  // Waits until the target holds `count` records in all, or the link failed.
  bool targetHolds(int64_t count, std::chrono::seconds limit) {
    return waitFor(
        [&] {
          return failed() || totalRecords(target_->bootstrap(), "orders", partitions_) >= count;
        },
        limit);
  }

  // Stops the worker and checks that every record is on the target once, in order.
  void expectMirrorIdentical() {
    worker_->stop();
    const auto check = verify::checkMirror("orders", readAll(source_->bootstrap(), "orders"),
                                           "orders", readAll(target_->bootstrap(), "orders"));
    EXPECT_TRUE(check.identical()) << check.describe();
  }

  embedded::EmbeddedClusterPtr source_;
  embedded::EmbeddedClusterPtr target_;
  config::Config config_;
  std::optional<replicator::Worker> worker_;
  int32_t partitions_ = 0;
};

}  // namespace causeway::testing
