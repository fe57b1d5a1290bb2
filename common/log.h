#pragma once

#include <spdlog/spdlog.h>

#include <string>

namespace causeway {

// Process-wide logging setup. Logs go to stderr so stdout stays for command output (tables,
// the demo's summary). Never log per record: the hot path only counts.
// level: trace|debug|info|warn|error|off.
void initLogging(const std::string& level);

} // namespace causeway
