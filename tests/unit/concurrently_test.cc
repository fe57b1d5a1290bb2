#include "common/concurrently.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace causeway {
namespace {

TEST(RunConcurrently, RunsEveryItemOnceAndNoMoreAtOnceThanTheWidth) {
  constexpr size_t kItems = 40;
  std::vector<std::atomic<int>> runs(kItems);
  std::atomic<int> running{0};
  std::atomic<int> peak{0};
  runConcurrently(kItems, 4, "test", [&](size_t i) {
    const int now = ++running;
    int seen = peak.load();
    while (seen < now && !peak.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::yield();
    runs[i] += 1;
    --running;
  });
  for (size_t i = 0; i < kItems; ++i) {
    EXPECT_EQ(runs[i].load(), 1) << "item " << i;
  }
  EXPECT_LE(peak.load(), 4);
  EXPECT_GE(peak.load(), 1);
}

// Each item waits until all of them have started: they finish only if they run at once.
TEST(RunConcurrently, ItemsRunAtOnceUpToTheWidth) {
  constexpr size_t kItems = 6;
  std::mutex mu;
  std::condition_variable cv;
  size_t started = 0;
  std::atomic<size_t> met{0};
  runConcurrently(kItems, kItems, "test", [&](size_t) {
    std::unique_lock lock(mu);
    ++started;
    cv.notify_all();
    if (cv.wait_for(lock, std::chrono::seconds(30), [&] { return started == kItems; })) {
      ++met;
    }
  });
  EXPECT_EQ(met.load(), kItems);
}

TEST(RunConcurrently, FewItemsRunOnTheCallingThread) {
  const auto caller = std::this_thread::get_id();
  std::vector<std::thread::id> ran_on;
  runConcurrently(1, 16, "test", [&](size_t) { ran_on.push_back(std::this_thread::get_id()); });
  runConcurrently(3, 1, "test", [&](size_t) { ran_on.push_back(std::this_thread::get_id()); });
  runConcurrently(0, 16, "test", [&](size_t) { ran_on.push_back(std::this_thread::get_id()); });
  ASSERT_EQ(ran_on.size(), 4u);
  EXPECT_TRUE(std::all_of(ran_on.begin(), ran_on.end(), [&](auto id) { return id == caller; }));
}

}  // namespace
}  // namespace causeway
