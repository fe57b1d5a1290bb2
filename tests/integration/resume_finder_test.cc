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

// Where held takeovers wait until the test opens it.
class Gate {
public:
  void open() {
    std::call_once(once_, [this] { promise_.set_value(); });
  }
  void wait() const { opened_.wait(); }

private:
  std::promise<void> promise_;
  std::shared_future<void> opened_ = promise_.get_future().share();
  std::once_flag once_;
};

// Opens `gate` when the test ends however it ends. Declared after the finder, so a takeover held
// at the gate ends before the finder joins its threads.
struct OpenAtExit {
  Gate& gate;
  ~OpenAtExit() { gate.open(); }
};

// An embedded target cluster with `partitions` partitions of topic "mirror".
struct Target {
  embedded::EmbeddedClusterPtr cluster;
  config::ClusterConfig config;
};
Target startTarget(int32_t partitions) {
  Target target;
  target.cluster = testing::startCluster("target", 1, {{"mirror", partitions}});
  if (target.cluster) {
    target.config.name = "target";
    target.config.bootstrap = target.cluster->bootstrap();
  }
  return target;
}

// The finder's answers until `count` arrived (or 90 s passed); stops the finder.
std::vector<ResumeFinder::Answer> answersOf(ResumeFinder& finder, size_t count) {
  std::vector<ResumeFinder::Answer> answers;
  const auto deadline = Clock::now() + 90s;
  while (answers.size() < count && Clock::now() < deadline) {
    for (auto& answer : finder.takeAnswers()) {
      answers.push_back(std::move(answer));
    }
    std::this_thread::sleep_for(20ms);
  }
  finder.stop();
  return answers;
}

TEST(ResumeFinderFencing, ARevokedPartitionIsNeverTakenOverAndRevokingWaitsForATakeoverUnderWay) {
  // given: a finder whose takeover of partition 0 is held until the test lets it go
  auto target = startTarget(3);
  ASSERT_TRUE(target.cluster);
  std::mutex mu;
  std::set<int32_t> fenced;
  Gate gate;
  std::promise<void> first_started;
  ResumeFinder finder(target.config, "test-link", /*read_committed=*/true,
                      [&](const ResumeFinder::Request& r) -> Result<std::unique_ptr<ProducerSlot>> {
                        if (r.partition == 0) {
                          first_started.set_value();
                          gate.wait();
                        }
                        std::lock_guard lock(mu);
                        fenced.insert(r.partition);
                        return std::make_unique<ProducerSlot>();
                      });
  OpenAtExit at_exit{gate};
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
  gate.open();
  revoke.join();
  EXPECT_TRUE(revoked_0.load());

  // ... and partitions 0 and 2 are answered with their producers; partition 1 was never taken over
  // (its request was withdrawn before the finder took it)
  const auto answers = answersOf(finder, 2);
  ASSERT_EQ(answers.size(), 2u);
  for (const auto& answer : answers) {
    EXPECT_NE(answer.request.partition, 1);
    EXPECT_TRUE(answer.last_source.ok()) << answer.last_source.error().message;
    EXPECT_NE(answer.slot, nullptr) << answer.request.partition;
  }
  std::lock_guard lock(mu);
  EXPECT_EQ(fenced, (std::set<int32_t>{0, 2}));
}

TEST(ResumeFinderFencing, PartitionsAssignedTogetherAreTakenOverAtOnce) {
  // given: a finder whose takeovers each wait (up to 20 s) until four are under way together
  auto target = startTarget(5);
  ASSERT_TRUE(target.cluster);
  Gate gate;
  std::promise<void> first_started;
  std::mutex mu;
  std::condition_variable cv;
  int inside = 0;
  int most_inside = 0;
  ResumeFinder finder(target.config, "test-link", /*read_committed=*/true,
                      [&](const ResumeFinder::Request& r) -> Result<std::unique_ptr<ProducerSlot>> {
                        if (r.partition == 0) {  // holds the finder so 1-4 arrive as one batch
                          first_started.set_value();
                          gate.wait();
                          return std::make_unique<ProducerSlot>();
                        }
                        std::unique_lock lock(mu);
                        most_inside = std::max(most_inside, ++inside);
                        cv.notify_all();
                        cv.wait_for(lock, 20s, [&] { return most_inside >= 4; });
                        --inside;
                        return std::make_unique<ProducerSlot>();
                      });
  OpenAtExit at_exit{gate};
  ASSERT_TRUE(finder.start().ok());
  finder.request({"orders", 0, "mirror", 1});
  ASSERT_EQ(first_started.get_future().wait_for(30s), std::future_status::ready);
  for (int32_t p = 1; p <= 4; ++p) {
    finder.request({"orders", p, "mirror", static_cast<uint64_t>(p + 1)});
  }

  // when: the first takeover ends and the four others are looked up together
  gate.open();
  const auto answers = answersOf(finder, 5);

  // then: all four were under way at once, and every partition is answered
  EXPECT_EQ(answers.size(), 5u);
  std::lock_guard lock(mu);
  EXPECT_EQ(most_inside, 4);
}

TEST(ResumeFinderFencing, ARequestWithdrawnWhileItsBatchIsTakenOverIsSkipped) {
  // given: 17 partitions asked for before the finder starts (one batch), the first 16 takeovers
  // held (all under way at once), the 17th waiting for a free hand
  auto target = startTarget(17);
  ASSERT_TRUE(target.cluster);
  Gate gate;
  std::mutex mu;
  std::condition_variable cv;
  std::set<int32_t> fenced;
  ResumeFinder finder(target.config, "test-link", /*read_committed=*/true,
                      [&](const ResumeFinder::Request& r) -> Result<std::unique_ptr<ProducerSlot>> {
                        {
                          std::lock_guard lock(mu);
                          fenced.insert(r.partition);
                        }
                        cv.notify_all();
                        gate.wait();
                        return std::make_unique<ProducerSlot>();
                      });
  OpenAtExit at_exit{gate};
  for (int32_t p = 0; p < 17; ++p) {
    finder.request({"orders", p, "mirror", 100 + static_cast<uint64_t>(p)});
  }
  ASSERT_TRUE(finder.start().ok());
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 30s, [&] { return fenced.size() >= 16; }));
  }

  // when: the 17th is revoked before a hand is free for it, then the 16 end
  finder.cancel("orders", 16, 116);
  gate.open();

  // then: the 16 are answered with their producers; the 17th was never taken over and is
  // answered as revoked
  const auto answers = answersOf(finder, 17);
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
