#include "verify/mirror_check.h"

#include <algorithm>
#include <sstream>
#include <string_view>
#include <unordered_map>

namespace causeway::verify {
namespace {

constexpr std::string_view kCausewayHeaderPrefix = "causeway-";

bool isCausewayHeader(const std::string& name) {
  return name.size() >= kCausewayHeaderPrefix.size() &&
         std::string_view(name).substr(0, kCausewayHeaderPrefix.size()) == kCausewayHeaderPrefix;
}

// FNV-1a, 64 bit; every field is length-prefixed (or marked null) so that field boundaries
// cannot shift ("ab"+"c" vs "a"+"bc").
class Hasher {
public:
  void bytes(const void* data, size_t size) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < size; ++i) {
      hash_ ^= p[i];
      hash_ *= 1099511628211ull;
    }
  }
  template <typename T> void number(T value) { bytes(&value, sizeof(value)); }
  void optionalString(const std::optional<std::string>& s) {
    if (!s) {
      number<int64_t>(-1);
      return;
    }
    number<int64_t>(static_cast<int64_t>(s->size()));
    bytes(s->data(), s->size());
  }
  uint64_t value() const { return hash_; }

private:
  uint64_t hash_ = 14695981039346656037ull;
};

uint64_t fingerprint(const ConsumedRecord& record, bool skip_causeway_headers) {
  Hasher h;
  h.optionalString(record.key);
  h.optionalString(record.value);
  h.number(record.timestamp);
  h.number(record.timestamp_type);
  for (const auto& [name, value] : record.headers) {
    if (skip_causeway_headers && isCausewayHeader(name)) {
      continue;
    }
    h.optionalString(name);
    h.optionalString(value);
  }
  return h.value();
}

// Exact equality of two source records (no header is ignored).
bool sameContent(const ConsumedRecord& a, const ConsumedRecord& b) {
  return a.key == b.key && a.value == b.value && a.timestamp == b.timestamp &&
         a.timestamp_type == b.timestamp_type && a.headers == b.headers;
}

// All source records of one partition with the same content, in source order. Target copies
// consume them front to back; copies beyond that are duplicates.
struct SameContent {
  std::vector<size_t> source_indices;
  size_t matched = 0;
};

PartitionCheck checkPartition(int32_t partition, const std::vector<ConsumedRecord>& source,
                              const std::vector<ConsumedRecord>& target) {
  PartitionCheck check;
  check.partition = partition;
  check.source_records = source.size();
  check.target_records = target.size();

  std::vector<SameContent> groups;
  // fingerprint -> indices into `groups` (more than one only on a hash collision).
  std::unordered_map<uint64_t, std::vector<size_t>> by_fingerprint;
  by_fingerprint.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    auto& candidates = by_fingerprint[fingerprint(source[i], false)];
    bool placed = false;
    for (size_t g : candidates) {
      if (sameContent(source[i], source[groups[g].source_indices.front()])) {
        groups[g].source_indices.push_back(i);
        placed = true;
        break;
      }
    }
    if (!placed) {
      candidates.push_back(groups.size());
      groups.push_back(SameContent{{i}, 0});
    }
  }

  bool any_matched = false;
  size_t highest_matched = 0;
  for (const auto& record : target) {
    auto it = by_fingerprint.find(fingerprint(record, true));
    SameContent* group = nullptr;
    if (it != by_fingerprint.end()) {
      for (size_t g : it->second) {
        if (sameRecord(source[groups[g].source_indices.front()], record)) {
          group = &groups[g];
          break;
        }
      }
    }
    if (group == nullptr) {
      ++check.unexpected;
      continue;
    }
    if (group->matched == group->source_indices.size()) {
      ++check.duplicates;
      continue;
    }
    const size_t index = group->source_indices[group->matched++];
    if (any_matched && index < highest_matched) {
      ++check.out_of_order;
    } else {
      highest_matched = index;
      any_matched = true;
    }
  }
  for (const auto& group : groups) {
    check.missing += group.source_indices.size() - group.matched;
  }
  check.identical = check.missing == 0 && check.duplicates == 0 && check.unexpected == 0 &&
                    check.out_of_order == 0 && check.source_records == check.target_records;
  return check;
}

template <typename F> uint64_t sum(const std::vector<PartitionCheck>& partitions, F field) {
  uint64_t total = 0;
  for (const auto& p : partitions) {
    total += field(p);
  }
  return total;
}

} // namespace

// Full comparison behind a fingerprint match, so that a hash collision can never make two
// different records count as equal.
bool sameRecord(const ConsumedRecord& source, const ConsumedRecord& target) {
  if (source.key != target.key || source.value != target.value ||
      source.timestamp != target.timestamp || source.timestamp_type != target.timestamp_type) {
    return false;
  }
  size_t s = 0;
  for (const auto& header : target.headers) {
    if (isCausewayHeader(header.first)) {
      continue;
    }
    if (s >= source.headers.size() || source.headers[s] != header) {
      return false;
    }
    ++s;
  }
  return s == source.headers.size();
}

uint64_t MirrorCheck::sourceRecords() const {
  return sum(partitions, [](const PartitionCheck& p) { return p.source_records; });
}
uint64_t MirrorCheck::targetRecords() const {
  return sum(partitions, [](const PartitionCheck& p) { return p.target_records; });
}
uint64_t MirrorCheck::missing() const {
  return sum(partitions, [](const PartitionCheck& p) { return p.missing; });
}
uint64_t MirrorCheck::duplicates() const {
  return sum(partitions, [](const PartitionCheck& p) { return p.duplicates; });
}
uint64_t MirrorCheck::unexpected() const {
  return sum(partitions, [](const PartitionCheck& p) { return p.unexpected; });
}
uint64_t MirrorCheck::outOfOrder() const {
  return sum(partitions, [](const PartitionCheck& p) { return p.out_of_order; });
}

bool MirrorCheck::identical() const {
  return partition_count_matches &&
         std::all_of(partitions.begin(), partitions.end(),
                     [](const PartitionCheck& p) { return p.identical; });
}

bool MirrorCheck::atLeastOnce() const {
  // Extra (empty) target partitions do not break at-least-once; fewer show up as missing.
  return missing() == 0 && unexpected() == 0 && outOfOrder() == 0;
}

std::string MirrorCheck::describe() const {
  std::ostringstream out;
  out << source_topic << " -> " << target_topic << ": " << partitions.size() << " partitions"
      << (partition_count_matches ? "" : " (partition counts differ)") << "\n";
  auto line = [&out](const std::string& label, uint64_t source, uint64_t target, uint64_t missing,
                     uint64_t duplicates, uint64_t unexpected, uint64_t out_of_order,
                     bool identical) {
    out << "  " << label << ": source " << source << ", target " << target << ", missing "
        << missing << ", duplicates " << duplicates << ", unexpected " << unexpected
        << ", out of order " << out_of_order << (identical ? ", identical" : ", DIFFERENT")
        << "\n";
  };
  for (const auto& p : partitions) {
    line("partition " + std::to_string(p.partition), p.source_records, p.target_records,
         p.missing, p.duplicates, p.unexpected, p.out_of_order, p.identical);
  }
  line("total", sourceRecords(), targetRecords(), missing(), duplicates(), unexpected(),
       outOfOrder(), identical());
  return out.str();
}

MirrorCheck checkMirror(const std::string& source_topic,
                        const std::vector<std::vector<ConsumedRecord>>& source,
                        const std::string& target_topic,
                        const std::vector<std::vector<ConsumedRecord>>& target) {
  MirrorCheck check;
  check.source_topic = source_topic;
  check.target_topic = target_topic;
  check.partition_count_matches = source.size() == target.size();
  const size_t count = std::max(source.size(), target.size());
  static const std::vector<ConsumedRecord> kNone;
  for (size_t p = 0; p < count; ++p) {
    check.partitions.push_back(checkPartition(static_cast<int32_t>(p),
                                              p < source.size() ? source[p] : kNone,
                                              p < target.size() ? target[p] : kNone));
  }
  return check;
}

} // namespace causeway::verify
