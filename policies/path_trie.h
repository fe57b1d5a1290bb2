#pragma once

// The paths a payload reader resolves, as a trie of member names and array indexes: a reader
// walks a payload once and follows the trie, so a record is read in one pass whatever the
// number of paths. Built once per reader; read-only afterwards.

#include "policies/payload_format.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace causeway::policies {

class PathTrie {
public:
  explicit PathTrie(const std::vector<ReaderPath>& paths) {
    nodes_.emplace_back();
    for (const ReaderPath& path : paths) {
      uint32_t at = 0;
      for (const PathSegment& segment : path.segments) {
        at = node(at, segment);
      }
      nodes_[at].slot = path.slot;
    }
  }

  static constexpr int32_t kRoot = 0;
  // How many nodes there are (node ids are below this).
  size_t size() const { return nodes_.size(); }

  // The slot of the path ending at `node`, or -1.
  int slot(int32_t node) const { return node < 0 ? -1 : nodes_[static_cast<size_t>(node)].slot; }
  // Whether paths continue below `node`.
  bool hasChildren(int32_t node) const {
    return node >= 0 && (!nodes_[static_cast<size_t>(node)].names.empty() ||
                         !nodes_[static_cast<size_t>(node)].indexes.empty());
  }
  // The members named below `node` (name, node), in no particular order.
  const std::vector<std::pair<std::string, uint32_t>>& names(int32_t node) const {
    return nodes_[static_cast<size_t>(node)].names;
  }
  // The node for member `name` (or index `index`) below `node`; -1 when no path goes there
  // (also when `node` is -1).
  int32_t child(int32_t node, std::string_view name) const {
    if (node < 0) {
      return -1;
    }
    for (const auto& [n, c] : nodes_[static_cast<size_t>(node)].names) {
      if (n == name) {
        return static_cast<int32_t>(c);
      }
    }
    return -1;
  }
  int32_t child(int32_t node, uint32_t index) const {
    if (node < 0) {
      return -1;
    }
    for (const auto& [i, c] : nodes_[static_cast<size_t>(node)].indexes) {
      if (i == index) {
        return static_cast<int32_t>(c);
      }
    }
    return -1;
  }

private:
  struct Node {
    int slot = -1;
    std::vector<std::pair<std::string, uint32_t>> names;
    std::vector<std::pair<uint32_t, uint32_t>> indexes;
  };

  uint32_t node(uint32_t parent, const PathSegment& segment) {
    if (segment.is_index) {
      for (const auto& [index, c] : nodes_[parent].indexes) {
        if (index == segment.index) {
          return c;
        }
      }
      nodes_.emplace_back();
      const auto id = static_cast<uint32_t>(nodes_.size() - 1);
      nodes_[parent].indexes.emplace_back(segment.index, id);
      return id;
    }
    for (const auto& [name, c] : nodes_[parent].names) {
      if (name == segment.name) {
        return c;
      }
    }
    nodes_.emplace_back();
    const auto id = static_cast<uint32_t>(nodes_.size() - 1);
    nodes_[parent].names.emplace_back(segment.name, id);
    return id;
  }

  std::vector<Node> nodes_;
};

}  // namespace causeway::policies
