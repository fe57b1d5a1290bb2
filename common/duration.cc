#include "common/duration.h"

#include <charconv>
#include <cstdint>
#include <limits>

namespace causeway {

std::optional<std::chrono::milliseconds> parseDuration(std::string_view text) {
  if (text.empty()) {
    return std::nullopt;
  }
  int64_t number = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(begin, end, number);
  if (ec != std::errc() || ptr == begin || number < 0) {
    return std::nullopt;
  }
  std::string_view unit(ptr, static_cast<size_t>(end - ptr));
  int64_t factor = 0;
  if (unit.empty() || unit == "ms") {
    factor = 1;
  } else if (unit == "s") {
    factor = 1000;
  } else if (unit == "m") {
    factor = 60 * 1000;
  } else if (unit == "h") {
    factor = 3600 * 1000;
  } else {
    return std::nullopt;
  }
  if (number > std::numeric_limits<int64_t>::max() / factor) {
    return std::nullopt;
  }
  return std::chrono::milliseconds(number * factor);
}

std::string formatDuration(std::chrono::milliseconds d) {
  const int64_t ms = d.count();
  if (ms % 3600000 == 0 && ms != 0) {
    return std::to_string(ms / 3600000) + "h";
  }
  if (ms % 60000 == 0 && ms != 0) {
    return std::to_string(ms / 60000) + "m";
  }
  if (ms % 1000 == 0 && ms != 0) {
    return std::to_string(ms / 1000) + "s";
  }
  return std::to_string(ms) + "ms";
}

} // namespace causeway
