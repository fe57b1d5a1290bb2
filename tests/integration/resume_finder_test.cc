// The resume finder on a transactional link: it takes each partition's transactional.id over
// before reading where the partition resumes, and a partition revoked meanwhile is never taken
// over any more. A takeover after the partition's next owner took it would fence that owner, so
// the revoke waits for a takeover under way, and a withdrawn request is never fenced.

#include "replicator/resume_finder.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

namespace causeway {
namespace {

using namespace std::chrono_literals;
using replicator::ProducerSlot;
using replicator::ResumeFinder;
using Clock = std::chrono::steady_clock;

TEST(ResumeFinderFencing, ARevokedPartitionIsNeverTakenOverAndRevokingWaitsForATakeoverUnderWay) {
  // given: a finder whose takeover of partition 0 is held until the test lets it go
  auto cluster = testing::startCluster("target", 1, {{"mirror", 3}});
  ASSERT_TRUE(cluster);
  config::ClusterConfig target;
  target.name = "target";
  target.bootstrap = cluster->bootstrap();
  std::mutex mu;
  std::set<int32_t> fenced;
  std::promise<void> release_first;
  std::shared_future<void> first_released = release_first.get_future().share();
  std::promise<void> first_started;
  ResumeFinder finder(target, "test-link", /*read_committed=*/true,
                      [&](const ResumeFinder::Request& r) -> Result<std::unique_ptr<ProducerSlot>> {
                        if (r.partition == 0) {
                          first_started.set_value();
                          first_released.wait();
                        }
                        std::lock_guard lock(mu);
                        fenced.insert(r.partition);
                        return std::make_unique<ProducerSlot>();
                      });
  // Whatever happens below, the held takeover ends before the finder is destroyed.
  bool released = false;
  auto releaseFirst = [&] {
    if (!std::exchange(released, true)) {
      release_first.set_value();
    }
  };
  struct Guard {
    std::function<void()> at_exit;
    ~Guard() { at_exit(); }
  } guard{releaseFirst};
  ASSERT_TRUE(finder.start().ok());
  finder.request({"orders", 0, "mirror", 1});
  ASSERT_EQ(first_started.get_future().wait_for(30s), std::future_status::ready);
  finder.request({"orders", 1, "mirror", 2});
  finder.request({"orders", 2, "mirror", 3});

  // when: partition 1 is revoked before its takeover, and partition 0 during its takeover
  finder.cancel("orders", 1, 2);
  std::atomic<bool> revoked_0{false};
  std::thread revoke([&] {
    finder.cancel("orders", 0, 1);
    revoked_0 = true;
  });
  std::this_thread::sleep_for(300ms);
  // then: revoking partition 0 waits while its takeover is under way
  EXPECT_FALSE(revoked_0.load());
  releaseFirst();
  revoke.join();
  EXPECT_TRUE(revoked_0.load());

  // ... and partitions 0 and 2 are answered with their producers; partition 1 was never taken over
  std::vector<ResumeFinder::Answer> answers;
  const auto deadline = Clock::now() + 60s;
  while (answers.size() < 2 && Clock::now() < deadline) {
    for (auto& answer : finder.takeAnswers()) {
      if (answer.request.partition != 1) {
        answers.push_back(std::move(answer));
      }
    }
    std::this_thread::sleep_for(20ms);
  }
  finder.stop();
  ASSERT_EQ(answers.size(), 2u);
  for (const auto& answer : answers) {
    EXPECT_TRUE(answer.last_source.ok()) << answer.last_source.error().message;
    EXPECT_NE(answer.slot, nullptr) << answer.request.partition;
  }
  std::lock_guard lock(mu);
  EXPECT_EQ(fenced, (std::set<int32_t>{0, 2}));
}

TEST(ResumeFinderFencing, PartitionsAssignedTogetherAreTakenOverAtOnce) {
  // given: a finder whose takeovers each wait (up to 20 s) until four are under way together
  auto cluster = testing::startCluster("target", 1, {{"mirror", 5}});
  ASSERT_TRUE(cluster);
  config::ClusterConfig target;
  target.name = "target";
  target.bootstrap = cluster->bootstrap();
  std::promise<void> release_first;
  std::shared_future<void> first_released = release_first.get_future().share();
  std::promise<void> first_started;
  std::mutex mu;
  std::condition_variable cv;
  int inside = 0;
  int most_inside = 0;
  ResumeFinder finder(target, "test-link", /*read_committed=*/true,
                      [&](const ResumeFinder::Request& r) -> Result<std::unique_ptr<ProducerSlot>> {
                        if (r.partition == 0) {  // holds the finder so 1-4 arrive as one batch
                          first_started.set_value();
                          first_released.wait();
                          return std::make_unique<ProducerSlot>();
                        }
                        std::unique_lock lock(mu);
                        most_inside = std::max(most_inside, ++inside);
                        cv.notify_all();
                        cv.wait_for(lock, 20s, [&] { return most_inside >= 4; });
                        --inside;
                        return std::make_unique<ProducerSlot>();
                      });
  bool released = false;
  auto releaseFirst = [&] {
    if (!std::exchange(released, true)) {
      release_first.set_value();
    }
  };
  struct Guard {
    std::function<void()> at_exit;
    ~Guard() { at_exit(); }
  } guard{releaseFirst};
  ASSERT_TRUE(finder.start().ok());
  finder.request({"orders", 0, "mirror", 1});
  ASSERT_EQ(first_started.get_future().wait_for(30s), std::future_status::ready);
  for (int32_t p = 1; p <= 4; ++p) {
    finder.request({"orders", p, "mirror", static_cast<uint64_t>(p + 1)});
  }

  // when: the first takeover ends and the four others are looked up together
  releaseFirst();
  size_t answered = 0;
  const auto deadline = Clock::now() + 90s;
  while (answered < 5 && Clock::now() < deadline) {
    answered += finder.takeAnswers().size();
    std::this_thread::sleep_for(20ms);
  }
  finder.stop();

  // then: all four were under way at once, and every partition is answered
  EXPECT_EQ(answered, 5u);
  std::lock_guard lock(mu);
  EXPECT_EQ(most_inside, 4);
}

TEST(ResumeFinderFencing, ARequestWithdrawnWhileItsBatchIsTakenOverIsSkipped) {
  // given: 17 partitions asked for before the finder starts (one batch), the first 16 takeovers
  // held (all under way at once), the 17th waiting for a free hand
  auto cluster = testing::startCluster("target", 1, {{"mirror", 17}});
  ASSERT_TRUE(cluster);
  config::ClusterConfig target;
  target.name = "target";
  target.bootstrap = cluster->bootstrap();
  std::promise<void> release_all;
  std::shared_future<void> released_all = release_all.get_future().share();
  std::mutex mu;
  std::condition_variable cv;
  std::set<int32_t> fenced;
  int started = 0;
  ResumeFinder finder(target, "test-link", /*read_committed=*/true,
                      [&](const ResumeFinder::Request& r) -> Result<std::unique_ptr<ProducerSlot>> {
                        {
                          std::lock_guard lock(mu);
                          ++started;
                          fenced.insert(r.partition);
                        }
                        cv.notify_all();
                        released_all.wait();
                        return std::make_unique<ProducerSlot>();
                      });
  bool released = false;
  auto releaseAll = [&] {
    if (!std::exchange(released, true)) {
      release_all.set_value();
    }
  };
  struct Guard {
    std::function<void()> at_exit;
    ~Guard() { at_exit(); }
  } guard{releaseAll};
  for (int32_t p = 0; p < 17; ++p) {
    finder.request({"orders", p, "mirror", 100 + static_cast<uint64_t>(p)});
  }
  ASSERT_TRUE(finder.start().ok());
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 30s, [&] { return started >= 16; }));
  }

  // when: the 17th is revoked before a hand is free for it, then the 16 end
  finder.cancel("orders", 16, 116);
  releaseAll();

  // then: the 16 are answered with their producers; the 17th was never taken over and is
  // answered as revoked
  std::vector<ResumeFinder::Answer> answers;
  const auto deadline = Clock::now() + 90s;
  while (answers.size() < 17 && Clock::now() < deadline) {
    for (auto& answer : finder.takeAnswers()) {
      answers.push_back(std::move(answer));
    }
    std::this_thread::sleep_for(20ms);
  }
  finder.stop();
  ASSERT_EQ(answers.size(), 17u);
  for (const auto& answer : answers) {
    if (answer.request.partition == 16) {
      ASSERT_FALSE(answer.last_source.ok());
      EXPECT_NE(answer.last_source.error().message.find("revoked"), std::string::npos);
      EXPECT_EQ(answer.slot, nullptr);
    } else {
      EXPECT_TRUE(answer.last_source.ok()) << answer.last_source.error().message;
      EXPECT_NE(answer.slot, nullptr);
    }
  }
  std::lock_guard lock(mu);
  EXPECT_EQ(fenced.size(), 16u);
  EXPECT_EQ(fenced.count(16), 0u);
}

}  // namespace
}  // namespace causeway
