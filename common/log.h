#pragma once

#include <spdlog/spdlog.h>

#include <string>

namespace causeway {

enum class LogFormat { kText, kJson };

// Process-wide logging setup. Logs go to stderr so stdout stays for command output (tables,
// the demo's summary). kJson writes one JSON object per line ({"ts","level","thread","msg"},
// the message escaped), for log pipelines. Never log per record: the hot path only counts.
// level: trace|debug|info|warn|error|off.
void initLogging(const std::string& level, LogFormat format = LogFormat::kText);

// The JSON line for one message (exposed for tests).
std::string jsonLogLine(const std::string& timestamp, const std::string& level, size_t thread,
                        const std::string& message);

} // namespace causeway
