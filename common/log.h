#pragma once

#include <spdlog/sinks/sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace causeway {

enum class LogFormat { kText, kJson };

// Process-wide logging setup. Logs go to stderr so stdout stays for command output (tables,
// the demo's summary). kJson writes one JSON object per line ({"ts","level","thread","msg"},
// the message escaped), for log pipelines. Never log per record: the hot path only counts.
// level: trace|debug|info|warn|error|off. Every line passes redactingSink first: secrets
// (common/secrets.h) never reach the log.
void initLogging(const std::string& level, LogFormat format = LogFormat::kText);

// Wraps `inner` so that each message has its secrets hidden (secrets::redactInPlace) before
// `inner` formats it. For every logger the process creates.
std::shared_ptr<spdlog::sinks::sink> redactingSink(std::shared_ptr<spdlog::sinks::sink> inner);

// The JSON line for one message (exposed for tests).
std::string jsonLogLine(const std::string& timestamp, const std::string& level, size_t thread,
                        const std::string& message);

} // namespace causeway
