#include "common/log.h"

#include "common/json_string.h"
#include "common/secrets.h"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace causeway {
namespace {

// One JSON object per line on stderr.
class JsonStderrSink : public spdlog::sinks::base_sink<std::mutex> {
protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const auto time = std::chrono::system_clock::to_time_t(msg.time);
    const auto millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count() %
        1000;
    std::tm utc{};
    gmtime_r(&time, &utc);
    char stamp[40];
    std::snprintf(stamp, sizeof(stamp), "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", utc.tm_year + 1900,
                  utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                  static_cast<long long>(millis));
    const auto level = spdlog::level::to_string_view(msg.level);
    const std::string line =
        jsonLogLine(stamp, std::string(level.data(), level.size()), msg.thread_id,
                    std::string(msg.payload.data(), msg.payload.size()));
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
  void flush_() override { std::fflush(stderr); }
};

// Hides secrets (common/secrets.h) in each message before the wrapped sink formats it. The
// one place every log line passes, also librdkafka's own lines routed into the log.
class RedactingSink : public spdlog::sinks::sink {
public:
  explicit RedactingSink(std::shared_ptr<spdlog::sinks::sink> inner) : inner_(std::move(inner)) {}

  void log(const spdlog::details::log_msg& msg) override {
    std::string payload(msg.payload.data(), msg.payload.size());
    if (!secrets::redactInPlace(payload)) {
      inner_->log(msg);
      return;
    }
    spdlog::details::log_msg redacted = msg;
    redacted.payload = spdlog::string_view_t(payload.data(), payload.size());
    inner_->log(redacted);
  }
  void flush() override { inner_->flush(); }
  void set_pattern(const std::string& pattern) override { inner_->set_pattern(pattern); }
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override {
    inner_->set_formatter(std::move(formatter));
  }

private:
  std::shared_ptr<spdlog::sinks::sink> inner_;
};

}  // namespace

std::shared_ptr<spdlog::sinks::sink> redactingSink(std::shared_ptr<spdlog::sinks::sink> inner) {
  return std::make_shared<RedactingSink>(std::move(inner));
}

std::string jsonLogLine(const std::string& timestamp, const std::string& level, size_t thread,
                        const std::string& message) {
  std::string out = "{\"ts\":";
  appendJsonString(out, timestamp);
  out += ",\"level\":";
  appendJsonString(out, level);
  out += ",\"thread\":" + std::to_string(thread) + ",\"msg\":";
  appendJsonString(out, message);
  out += "}\n";
  return out;
}

void initLogging(const std::string& level, LogFormat format) {
  spdlog::drop("causeway");
  std::shared_ptr<spdlog::sinks::sink> sink;
  if (format == LogFormat::kJson) {
    sink = std::make_shared<JsonStderrSink>();
  } else {
    sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  }
  auto logger = std::make_shared<spdlog::logger>("causeway", redactingSink(std::move(sink)));
  if (format == LogFormat::kText) {
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v");
  }
  logger->set_level(spdlog::level::from_str(level));
  spdlog::set_default_logger(logger);
}

}  // namespace causeway
