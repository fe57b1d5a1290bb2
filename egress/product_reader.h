#pragma once

// The Kafka side of one data product for one reader: which partitions the product has, where a
// client's positions are, and the records from there. Assign mode only: no consumer group, no
// commits; every reader's positions are its own (from a resume token, earliest, latest or a
// time). Nothing above this file includes librdkafka.

#include "common/result.h"
#include "config/config.h"
#include "egress/resume_token.h"
#include "pipeline/record.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <variant>
#include <vector>

namespace causeway::egress {

// One partition of a product. Products' partitions are kept sorted by (tag, partition), the
// order resume tokens use.
struct ProductPartition {
  std::string topic;
  uint32_t tag = 0;  // topicTag(topic)
  int32_t partition = 0;
};

// Where a client starts: ?from=earliest|latest|<RFC 3339 time>, or a resume token's positions.
struct StartEarliest {};
struct StartLatest {};
struct StartAtTime {
  int64_t unix_ms = 0;
};
using StartSpec = std::variant<StartEarliest, StartLatest, StartAtTime, std::vector<TokenPosition>>;

// Parses ?from= ("earliest", "latest", or an RFC 3339 date-time such as 2024-05-01T12:00:00Z or
// with an offset +02:00 and fractional seconds).
Result<StartSpec> parseFrom(std::string_view text);
// RFC 3339 date-time -> Unix milliseconds.
std::optional<int64_t> parseRfc3339(std::string_view text);

// Does `topic` belong to the product (a full match of one of its regexes; never internal
// topics)?
class ProductTopics {
public:
  explicit ProductTopics(const config::ProductConfig& product);
  bool contains(const std::string& topic) const;

private:
  std::vector<std::regex> patterns_;
};

// Statistics a reader keeps; read with stats() from any thread.
struct ReaderStats {
  uint64_t records = 0;
  uint64_t errors = 0;         // consume errors other than end-of-partition
  uint64_t offset_resets = 0;  // a position no longer on the cluster (retention): restarted
                               // at the earliest offset
};

// Not thread-safe: one thread opens it, resolves positions and polls.
class ProductReader {
public:
  // A batch of records as RecordViews, valid only during the callback. `index` is the
  // partition's index in partitions().
  using Visitor = std::function<void(const pipeline::RecordView& record, size_t index)>;

  ProductReader(const config::ProductConfig& product, const config::ClusterConfig& cluster,
                std::string purpose);
  ~ProductReader();
  ProductReader(const ProductReader&) = delete;
  ProductReader& operator=(const ProductReader&) = delete;

  Status open();

  // Lists the product's partitions now (one metadata request). An error when two of its topics
  // have the same tag (resume tokens could not tell them apart).
  Status discover(std::chrono::milliseconds timeout);
  const std::vector<ProductPartition>& partitions() const { return partitions_; }
  // Index of (tag, partition) in partitions(), or -1.
  int indexOf(uint32_t tag, int32_t partition) const;

  // [low, high) watermarks of partitions()[index].
  Result<std::pair<int64_t, int64_t>> watermarks(size_t index, std::chrono::milliseconds timeout);
  // Next offset per partition for `start`: earliest = low watermark, latest = high watermark,
  // time = the first offset at or after it (ListOffsets; the high watermark when none),
  // a token's positions (partitions missing from the token start at their low watermark: they
  // are new since; positions below the low watermark move up to it, counted as resets).
  Result<std::vector<int64_t>> resolve(const StartSpec& start, std::chrono::milliseconds timeout);

  // Starts reading every partition at `next[i]` (sizes match partitions()). Replaces the
  // current assignment.
  Status assign(const std::vector<int64_t>& next);

  // Waits up to `timeout` for records and visits at most `max` of them in order. Returns the
  // number visited.
  size_t poll(std::chrono::milliseconds timeout, size_t max, const Visitor& visit);

  // Newest high watermark and (when readable) the timestamp of the record before it, per
  // partition: what freshness is computed from.
  struct PartitionEnd {
    int64_t high = 0;
    int64_t last_timestamp = -1;
  };
  Result<std::vector<PartitionEnd>> ends(std::chrono::milliseconds timeout);

  ReaderStats stats() const;
  const config::ProductConfig& product() const { return product_; }

private:
  struct Impl;
  const config::ProductConfig& product_;
  const config::ClusterConfig& cluster_;
  std::string purpose_;
  ProductTopics topics_;
  std::vector<ProductPartition> partitions_;
  std::unique_ptr<Impl> impl_;
};

} // namespace causeway::egress
