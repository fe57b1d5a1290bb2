#pragma once

// The audit log of policy decisions: aggregated counts, one JSON line per policy, link and
// window, never a record's value or key. Lines go to an AuditSink: a file (below) or a Kafka
// topic (audit_topic_sink.h).
//
//   {"time":"2026-11-27T06:00:00Z","policy":"partner-acme","link":"east-to-acme",
//    "mode":"enforce","window_seconds":60,"records":1200,"passed":1000,"not_allowed":0,
//    "filtered":180,"dead_lettered":20,"skipped":0,"stopped":0,
//    "violations":{"unreadable-payload":20,"missing-field":0,"transform-failed":0},
//    "headers_removed":2400,"rules":{"value.card.number:mask":{"applied":1000,"kept":0,
//    "absent":0,"failed":0}}}

#include "common/result.h"
#include "policies/policy_counters.h"

#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace causeway::policies {

class AuditSink {
public:
  virtual ~AuditSink() = default;
  // Writes one line (without its newline). Called from the audit thread only.
  virtual Status write(std::string_view line) = 0;
};

// Appends lines to a file (created if missing), flushed after each batch.
class FileAuditSink : public AuditSink {
public:
  static Result<std::unique_ptr<FileAuditSink>> open(const std::string& path);
  ~FileAuditSink() override;
  Status write(std::string_view line) override;

private:
  FileAuditSink(std::string path, std::FILE* file) : path_(std::move(path)), file_(file) {}
  std::string path_;
  std::FILE* file_;
};

// The line for the counts gained between `before` and `now` (same policy and link).
std::string auditLine(const PolicyCountsSnapshot& before, const PolicyCountsSnapshot& now,
                      std::chrono::system_clock::time_point time, std::chrono::milliseconds window);

// Keeps the last snapshot of each counter set and writes a line per set whose counts moved.
// Thread-safe (flush() from the audit thread, add() from whoever builds stages).
class AuditLog {
public:
  AuditLog(std::unique_ptr<AuditSink> sink, std::chrono::milliseconds interval)
      : sink_(std::move(sink)), interval_(interval) {}

  void add(PolicyCountersPtr counters);
  std::chrono::milliseconds interval() const { return interval_; }
  // Writes the lines of the window that ends now. Errors are returned (the caller logs them
  // once, not per line).
  Status flush(std::chrono::system_clock::time_point now = std::chrono::system_clock::now());

private:
  struct Entry {
    PolicyCountersPtr counters;
    PolicyCountsSnapshot last;
    std::chrono::system_clock::time_point since;
  };
  std::mutex mutex_;
  std::unique_ptr<AuditSink> sink_;
  std::chrono::milliseconds interval_;
  std::vector<Entry> entries_;
};

}  // namespace causeway::policies
