#include "common/concurrently.h"

#include <algorithm>
#include <atomic>
#include <system_error>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

namespace causeway {

void runConcurrently(size_t count, size_t width, std::string_view what,
                     const std::function<void(size_t)>& work) {
  std::atomic<size_t> next{0};
  auto drain = [&] {
    for (size_t i = next.fetch_add(1); i < count; i = next.fetch_add(1)) {
      work(i);
    }
  };
  const size_t helpers = count <= 1 ? 0 : std::min(std::max<size_t>(width, 1), count) - 1;
  std::vector<std::thread> threads;
  // Joined on every way out: a thread still running when `threads` goes would end the process.
  struct Joiner {
    std::vector<std::thread>& threads;
    ~Joiner() {
      for (std::thread& thread : threads) {
        thread.join();
      }
    }
  } joiner{threads};
  threads.reserve(helpers);
  for (size_t h = 0; h < helpers; ++h) {
    try {
      threads.emplace_back(drain);
    } catch (const std::system_error& e) {  // no thread to be had: fewer run at once
      spdlog::warn("{}: running with {} helper thread(s) instead of {}: {}", what, h, helpers,
                   e.what());
      break;
    }
  }
  drain();
}

}  // namespace causeway
