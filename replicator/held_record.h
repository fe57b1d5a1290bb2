#pragma once

#include "pipeline/record.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace causeway::replicator {

// A source record whose way is decided (a dead-letter verdict) but that must wait for an
// exactly-once barrier, copied so the stages do not run (and count) it a second time when the
// partition goes on. Rare, so it may allocate.
class HeldRecord {
public:
  HeldRecord(const pipeline::RecordView& view, std::string_view reason, std::string_view rule,
             std::string_view detail, uint32_t bytes)
      : topic_(view.topic), reason(reason), rule(rule), detail(detail), bytes(bytes) {
    if (view.key) {
      key_.emplace(*view.key);
    }
    if (view.value) {
      value_.emplace(*view.value);
    }
    headers_.reserve(view.headers.size());
    for (const auto& header : view.headers) {
      headers_.emplace_back(std::string(header.name),
                            header.value ? std::optional<std::string>(std::string(*header.value))
                                         : std::nullopt);
    }
    view_.topic = topic_;
    view_.partition = view.partition;
    view_.offset = view.offset;
    view_.key = key_ ? std::optional<std::string_view>(*key_) : std::nullopt;
    view_.value = value_ ? std::optional<std::string_view>(*value_) : std::nullopt;
    view_.timestamp = view.timestamp;
    view_.timestamp_type = view.timestamp_type;
    for (const auto& [name, value] : headers_) {
      view_.headers.push_back(
          {name, value ? std::optional<std::string_view>(*value) : std::nullopt});
    }
  }
  HeldRecord(const HeldRecord&) = delete;
  HeldRecord& operator=(const HeldRecord&) = delete;

  const pipeline::RecordView& view() const { return view_; }

private:
  std::string topic_;
  std::optional<std::string> key_;
  std::optional<std::string> value_;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers_;
  pipeline::RecordView view_;

public:
  const std::string reason;
  const std::string rule;
  const std::string detail;
  const uint32_t bytes;
};

}  // namespace causeway::replicator
