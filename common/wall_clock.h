#pragma once

#include <chrono>
#include <cstdint>

namespace causeway {

// Milliseconds since the Unix epoch: the unit of Kafka record timestamps.
inline int64_t wallClockMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace causeway
