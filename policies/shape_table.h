#pragma once

// (source topic, writer schema ID) -> what a policy made of that writer schema (its shape:
// the writer's schema as a reader needs it, and the derived schema). Filled by the control
// plane for exactly the IDs it translated on each topic, read by policy stages (each caches
// what it found). Thread-safe.

#include "schema/wire_format.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace causeway::policies {

template <class Shape> class ShapeTable {
public:
  using Ptr = std::shared_ptr<const Shape>;

  void put(std::string_view topic, uint32_t schema_id, Ptr shape) {
    std::lock_guard lock(mu_);
    auto it = shapes_.find(topic);
    if (it == shapes_.end()) {
      it = shapes_.emplace(std::string(topic), std::unordered_map<uint32_t, Ptr>()).first;
    }
    it->second[schema_id] = std::move(shape);
  }

  Ptr find(std::string_view topic, uint32_t schema_id) const {
    std::lock_guard lock(mu_);
    auto it = shapes_.find(topic);
    if (it == shapes_.end()) {
      return nullptr;
    }
    auto shape = it->second.find(schema_id);
    return shape == it->second.end() ? nullptr : shape->second;
  }

private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::unordered_map<uint32_t, Ptr>, Hash, std::equal_to<>> shapes_;
};

// One reader's view of a ShapeTable: the schema a source record names, looked up once per ID
// and topic (records of one ID mostly come from one topic). Not thread-safe: one per reader.
template <class Shape> class ShapeCache {
public:
  explicit ShapeCache(std::shared_ptr<const ShapeTable<Shape>> table) : table_(std::move(table)) {}

  // The schema ID in front of `payload` (0x00 and 4 bytes), if it has one.
  static std::optional<uint32_t> prefixId(std::string_view payload) {
    if (payload.size() < schema::kIdPrefixSize || payload[0] != 0) {
      return std::nullopt;
    }
    return schema::loadId(payload.data() + 1);
  }

  // The shape of (topic, id), or null when the control plane has not translated that ID for
  // that topic.
  const Shape* find(std::string_view topic, uint32_t id) {
    auto it = cache_.find(id);
    if (it == cache_.end() || it->second.first != topic) {
      typename ShapeTable<Shape>::Ptr shape = table_ ? table_->find(topic, id) : nullptr;
      if (shape == nullptr) {
        return nullptr;
      }
      if (cache_.size() > 10000) {
        cache_.clear();  // bounded
      }
      auto& entry = cache_[id];
      entry.first.assign(topic);
      entry.second = std::move(shape);
      return entry.second.get();
    }
    return it->second.second.get();
  }

private:
  std::shared_ptr<const ShapeTable<Shape>> table_;
  std::unordered_map<uint32_t, std::pair<std::string, typename ShapeTable<Shape>::Ptr>> cache_;
};

}  // namespace causeway::policies
