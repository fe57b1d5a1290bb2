#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace causeway {

// Parses "250ms", "5s", "2m", "1h" (a bare integer means milliseconds). Returns nullopt on
// anything else, including negative values and overflow.
std::optional<std::chrono::milliseconds> parseDuration(std::string_view text);

// "1.5s", "250ms", "2m": the inverse, for messages and status output.
std::string formatDuration(std::chrono::milliseconds d);

} // namespace causeway
