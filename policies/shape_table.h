#pragma once

// (source topic, writer schema ID) -> what a policy made of that writer schema (its shape:
// the writer's schema as a reader needs it, and the derived schema). Filled by the control
// plane for exactly the IDs it translated on each topic, read by policy stages (each caches
// what it found). Thread-safe.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
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

}  // namespace causeway::policies
