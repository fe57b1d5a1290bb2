#pragma once

// What a stage sees of one record. No Kafka types: the same records come from a
// Kafka SourceReader, from sample files (`causeway schema check`, `causeway
// policy test`) and from tests.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace causeway::pipeline {

enum class TimestampType : uint8_t { kNone, kCreateTime, kLogAppendTime };

// A header as read: a null value (no value at all) differs from an empty one in
// Kafka.
struct HeaderView {
  std::string_view name;
  std::optional<std::string_view> value;
};

// One source record, exactly as it was read. Views into memory the reader keeps
// alive for as long as the record is in flight.
struct RecordView {
  std::string_view topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::optional<std::string_view> key;    // nullopt: null key
  std::optional<std::string_view> value;  // nullopt: tombstone
  int64_t timestamp = -1;
  TimestampType timestamp_type = TimestampType::kNone;
  std::vector<HeaderView> headers;  // in record order; reused between records by the reader
};

// A record on its way through the stages: the source record plus what stages
// changed. Reading returns the current content; a stage that rewrites puts the
// new bytes in buffers the Record owns and reuses from one record to the next
// (no allocation once they have grown). A record nobody rewrote stays a view of
// the source bytes, which the sink writes without copying.
//
// Header edits are kept as edits (names removed, headers added after the
// source's), because a Kafka sink applies them to the source record's own
// header list without rebuilding it.
class Record {
public:
  // Starts over for a new source record.
  void reset(const RecordView* source);

  const RecordView& source() const { return *source_; }

  std::optional<std::string_view> key() const;
  std::optional<std::string_view> value() const;
  int64_t timestamp() const { return timestamp_; }

  // The last value of header `name` after the edits, nullopt if absent (or
  // removed). A header present with a null value answers an engaged optional
  // holding nullopt.
  std::optional<std::optional<std::string_view>> header(std::string_view name) const;
  // Visits the headers after the edits, in order: the source's that were not
  // removed, then the added ones.
  template <typename F> void forEachHeader(F&& visit) const {
    for (const HeaderView& h : source_->headers) {
      if (!isRemoved(h.name)) {
        visit(h.name, h.value);
      }
    }
    for (size_t i = 0; i < added_count_; ++i) {
      visit(std::string_view(added_[i].name),
            added_[i].null ? std::optional<std::string_view>()
                           : std::optional<std::string_view>(added_[i].value));
    }
  }

  // --- Rewrites (stages only) ---
  // The buffer the new key/value is written into; the record uses it from now
  // on. Valid until the next reset().
  std::string& rewriteKey();
  std::string& rewriteValue();
  void setNullKey();
  void setTombstone();
  void setTimestamp(int64_t timestamp) {
    timestamp_ = timestamp;
    timestamp_changed_ = true;
  }
  // Removes every header called `name` (the source's and those added before).
  void removeHeader(std::string_view name);
  // Adds a header after the others.
  void addHeader(std::string_view name, std::optional<std::string_view> value);

  // What changed, for sinks that can keep the source bytes where nothing did.
  bool keyChanged() const { return key_state_ != Content::kSource; }
  bool valueChanged() const { return value_state_ != Content::kSource; }
  bool timestampChanged() const { return timestamp_changed_; }
  bool headersChanged() const { return removed_count_ > 0 || added_count_ > 0; }
  size_t removedCount() const { return removed_count_; }
  std::string_view removed(size_t i) const { return removed_[i]; }
  size_t addedCount() const { return added_count_; }
  std::string_view addedName(size_t i) const { return added_[i].name; }
  std::optional<std::string_view> addedValue(size_t i) const {
    return added_[i].null ? std::optional<std::string_view>()
                          : std::optional<std::string_view>(added_[i].value);
  }

private:
  enum class Content : uint8_t { kSource, kOwned, kNull };
  struct Added {
    std::string name;
    std::string value;
    bool null = false;
  };
  bool isRemoved(std::string_view name) const;

  const RecordView* source_ = nullptr;
  Content key_state_ = Content::kSource;
  Content value_state_ = Content::kSource;
  std::string key_;
  std::string value_;
  int64_t timestamp_ = -1;
  bool timestamp_changed_ = false;
  // Grown once, then reused: counts say how many entries are live for this
  // record.
  std::vector<std::string> removed_;
  size_t removed_count_ = 0;
  std::vector<Added> added_;
  size_t added_count_ = 0;
};

}  // namespace causeway::pipeline
