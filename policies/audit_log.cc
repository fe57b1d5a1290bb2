#include "policies/audit_log.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace causeway::policies {

Result<std::unique_ptr<FileAuditSink>> FileAuditSink::open(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "ab");
  if (file == nullptr) {
    return Error{"cannot open audit log " + path + ": " + std::strerror(errno)};
  }
  return std::unique_ptr<FileAuditSink>(new FileAuditSink(path, file));
}

FileAuditSink::~FileAuditSink() { std::fclose(file_); }

Status FileAuditSink::write(std::string_view line) {
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() ||
      std::fputc('\n', file_) == EOF || std::fflush(file_) != 0) {
    return Error{"cannot write audit log " + path_ + ": " + std::strerror(errno)};
  }
  return Status::success();
}

std::string auditLine(const PolicyCountsSnapshot& before, const PolicyCountsSnapshot& now,
                      std::chrono::system_clock::time_point time,
                      std::chrono::milliseconds window) {
  const std::time_t t = std::chrono::system_clock::to_time_t(time);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
  nlohmann::ordered_json line;
  line["time"] = stamp;
  line["policy"] = now.policy;
  line["link"] = now.link;
  line["mode"] = now.shadow ? "shadow" : "enforce";
  line["window_seconds"] = static_cast<double>(window.count()) / 1000.0;
  line["records"] = now.records - before.records;
  line["passed"] = now.passed - before.passed;
  line["not_allowed"] = now.not_allowed - before.not_allowed;
  line["filtered"] = now.filtered - before.filtered;
  line["dead_lettered"] = now.dead_lettered - before.dead_lettered;
  line["skipped"] = now.skipped - before.skipped;
  line["stopped"] = now.stopped - before.stopped;
  line["violations"] = {{"unreadable-payload", now.unreadable - before.unreadable},
                        {"missing-field", now.missing_field - before.missing_field},
                        {"transform-failed", now.transform_failed - before.transform_failed}};
  line["headers_removed"] = now.headers_removed - before.headers_removed;
  line["records_rewritten"] = now.records_rewritten - before.records_rewritten;
  nlohmann::ordered_json rules = nlohmann::ordered_json::object();
  for (size_t i = 0; i < now.rules.size(); ++i) {
    const RuleCountsSnapshot& r = now.rules[i];
    const RuleCountsSnapshot zero;
    const RuleCountsSnapshot& b = i < before.rules.size() ? before.rules[i] : zero;
    rules[r.rule] = {{"applied", r.applied - b.applied},
                     {"kept", r.kept - b.kept},
                     {"absent", r.absent - b.absent},
                     {"failed", r.failed - b.failed}};
  }
  line["rules"] = std::move(rules);
  return line.dump();
}

void AuditLog::add(PolicyCountersPtr counters) {
  std::lock_guard lock(mutex_);
  for (const Entry& entry : entries_) {
    if (entry.counters == counters) {
      return;
    }
  }
  Entry entry;
  entry.last = counters->snapshot();
  entry.counters = std::move(counters);
  entry.since = std::chrono::system_clock::now();
  entries_.push_back(std::move(entry));
}

Status AuditLog::flush(std::chrono::system_clock::time_point now) {
  std::lock_guard lock(mutex_);
  Status status;
  for (Entry& entry : entries_) {
    PolicyCountsSnapshot current = entry.counters->snapshot();
    if (current.records == entry.last.records) {
      continue;  // quiet windows write nothing
    }
    const auto window = std::chrono::duration_cast<std::chrono::milliseconds>(now - entry.since);
    Status written = sink_->write(auditLine(entry.last, current, now, window));
    if (!written.ok()) {
      status = written;
      continue;  // the counts stay unwritten and go into the next window's line
    }
    entry.last = std::move(current);
    entry.since = now;
  }
  return status;
}

}  // namespace causeway::policies
