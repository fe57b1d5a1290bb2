#include "replicator/target_tail.h"

#include <algorithm>

namespace causeway::replicator {
namespace {

constexpr int64_t kFirstWindow = 256;

} // namespace

TargetTail::TargetTail(const config::ClusterConfig& target, std::string link_name)
    : link_name_(std::move(link_name)), scanner_(target, link_name_ + "-tail") {}

Result<std::optional<int64_t>> TargetTail::lastSourceOffset(const std::string& topic,
                                                            int32_t partition,
                                                            std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto marks = scanner_.watermarks(topic, partition, deadline);
  if (!marks) {
    return marks.error();
  }
  const auto [low, high] = *marks;
  std::optional<int64_t> result;
  int64_t end = high;  // exclusive
  int64_t window = kFirstWindow;
  while (end > low && !result) {
    const int64_t start = std::max(low, end - window);
    auto status = scanner_.scan(topic, partition, start, end, deadline,
                                [&](const rd_kafka_message_t& message) {
                                  if (auto source = sourceOffsetOf(message, link_name_)) {
                                    result = std::max(result.value_or(-1), *source);
                                  }
                                  return true;
                                });
    if (!status) {
      return status.error();
    }
    end = start;
    window *= 4;
  }
  return result;
}

} // namespace causeway::replicator
