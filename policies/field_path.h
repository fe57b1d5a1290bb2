#pragma once

// A path to one field of a record, as written in predicates and field rules:
//   key | value | headers.NAME | timestamp | topic | partition | offset
// followed, for key and value, by `.name`, `["any name"]` and `[index]` segments
// (`value.customer.address.country`, `value.items[0].sku`, `value["first-name"]`).
// Paths are compiled once at load; records never see this type.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace causeway::policies {

enum class PathRoot : uint8_t { kKey, kValue, kHeaders, kTimestamp, kTopic, kPartition, kOffset };

const char* rootName(PathRoot root);

struct PathSegment {
  bool is_index = false;
  std::string name;    // a member name (unescaped), when !is_index
  uint32_t index = 0;  // an array position, when is_index

  bool operator==(const PathSegment& other) const = default;
};

struct FieldPath {
  PathRoot root = PathRoot::kValue;
  // For kHeaders exactly one segment: the header name. For kKey and kValue any number (zero:
  // the whole key or value). Others: none.
  std::vector<PathSegment> segments;

  bool operator==(const FieldPath& other) const = default;
  // Canonical text: `value.items[0].sku`, `headers["content-type"]` where a name is not a plain
  // identifier.
  std::string text() const;
  // True for paths into a key or value payload (what a payload format resolves).
  bool inPayload() const {
    return (root == PathRoot::kKey || root == PathRoot::kValue) && !segments.empty();
  }
};

// [A-Za-z_][A-Za-z0-9_-]*: what may follow a '.' without brackets.
bool isIdentifier(std::string_view text);

}  // namespace causeway::policies

namespace causeway::policies {

// The distinct paths a policy reads, each with a slot number: the predicate and the transforms
// are compiled against slots, and a payload format resolves every slot in one pass over a
// record. Built at load, then read-only.
class FieldSlots {
public:
  // The slot of `path`, added if new.
  uint16_t slotOf(const FieldPath& path);
  size_t size() const { return paths_.size(); }
  const FieldPath& path(uint16_t slot) const { return paths_[slot]; }
  const std::vector<FieldPath>& paths() const { return paths_; }

private:
  std::vector<FieldPath> paths_;
};

}  // namespace causeway::policies
