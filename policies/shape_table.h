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

// One reader's view of a ShapeTable: the writer schema a source record names, looked up once
// per ID and topic (records of one ID mostly come from one topic). Not thread-safe: one per
// reader.
template <class Shape> class WriterSelection {
public:
  explicit WriterSelection(std::shared_ptr<const ShapeTable<Shape>> table)
      : table_(std::move(table)) {}

  // Selects the schema whose ID `source_payload` (the record as the source cluster has it)
  // starts with. None when it has no ID prefix, or the record's schema ID is in a header
  // (`id_in_header`: the payload is a bare datum whose first bytes are no ID).
  void select(std::string_view topic, std::optional<std::string_view> source_payload,
              bool id_in_header) {
    shape_ = nullptr;
    framed_ = false;
    id_in_header_ = id_in_header;
    if (!source_payload || id_in_header || source_payload->size() < schema::kIdPrefixSize ||
        (*source_payload)[0] != 0) {
      return;
    }
    framed_ = true;
    id_ = schema::loadId(source_payload->data() + 1);
    shape_ = find(topic, id_);
  }

  // The selected shape, or null with why not. `format`: "Avro"; `framing`: what follows the ID
  // in a framed record, "the datum (0x00 and 4 bytes)".
  const Shape* ready(const char* format, const char* framing, std::string& problem) const {
    if (!framed_) {
      problem = id_in_header_
                    ? std::string("the schema ID is in a header: ") + format +
                          " policies read records framed with the ID before " + framing
                    : std::string("the source record does not start with a schema ID "
                                  "(0x00 and 4 bytes): ") +
                          format + " records are read with the writer's schema the ID names";
      return nullptr;
    }
    if (shape_ == nullptr) {
      problem = "schema ID " + std::to_string(id_) + ": the policy has no " + format +
                " schema for it (it is derived when the link translates the ID)";
      return nullptr;
    }
    if (shape_->writer == nullptr) {
      problem =
          shape_->derived.problems.empty() ? "no writer schema" : shape_->derived.problems.front();
      return nullptr;
    }
    return shape_;
  }

  const Shape* shape() const { return shape_; }
  uint32_t id() const { return id_; }

private:
  const Shape* find(std::string_view topic, uint32_t id) {
    auto it = cache_.find(id);
    if (it != cache_.end() && it->second.first == topic) {
      return it->second.second.get();
    }
    typename ShapeTable<Shape>::Ptr shape = table_ ? table_->find(topic, id) : nullptr;
    if (shape == nullptr) {
      return nullptr;  // the control plane has not translated it for this topic
    }
    if (cache_.size() > 10000) {
      cache_.clear();  // bounded
    }
    auto& entry = cache_[id];
    entry.first.assign(topic);
    entry.second = std::move(shape);
    return entry.second.get();
  }

  std::shared_ptr<const ShapeTable<Shape>> table_;
  std::unordered_map<uint32_t, std::pair<std::string, typename ShapeTable<Shape>::Ptr>> cache_;
  const Shape* shape_ = nullptr;
  uint32_t id_ = 0;
  bool framed_ = false;
  bool id_in_header_ = false;
};

}  // namespace causeway::policies
