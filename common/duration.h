#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace causeway {

// Parses "250ms", "5s", "2m", "1h" (a bare integer means milliseconds). Returns nullopt on
// anything else, including negative values and overflow.
std::optional<std::chrono::milliseconds> parseDuration(std::string_view text);

// "1500ms", "5s", "2m": the inverse, in the largest unit that divides exactly.
std::string formatDuration(std::chrono::milliseconds d);

} // namespace causeway
