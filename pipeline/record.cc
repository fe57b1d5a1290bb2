#include "pipeline/record.h"

#include <algorithm>

namespace causeway::pipeline {

void Record::reset(const RecordView* source) {
  source_ = source;
  key_state_ = Content::kSource;
  value_state_ = Content::kSource;
  timestamp_ = source->timestamp;
  timestamp_changed_ = false;
  removed_count_ = 0;
  added_count_ = 0;
}

std::optional<std::string_view> Record::key() const {
  switch (key_state_) {
  case Content::kSource:
    return source_->key;
  case Content::kOwned:
    return std::string_view(key_);
  case Content::kNull:
    break;
  }
  return std::nullopt;
}

std::optional<std::string_view> Record::value() const {
  switch (value_state_) {
  case Content::kSource:
    return source_->value;
  case Content::kOwned:
    return std::string_view(value_);
  case Content::kNull:
    break;
  }
  return std::nullopt;
}

bool Record::isRemoved(std::string_view name) const {
  for (size_t i = 0; i < removed_count_; ++i) {
    if (removed_[i] == name) {
      return true;
    }
  }
  return false;
}

std::optional<std::optional<std::string_view>> Record::header(std::string_view name) const {
  for (size_t i = added_count_; i > 0; --i) {
    if (added_[i - 1].name == name) {
      return addedValue(i - 1);
    }
  }
  if (isRemoved(name)) {
    return std::nullopt;
  }
  for (auto it = source_->headers.rbegin(); it != source_->headers.rend(); ++it) {
    if (it->name == name) {
      return it->value;
    }
  }
  return std::nullopt;
}

std::string& Record::rewriteKey() {
  key_state_ = Content::kOwned;
  key_.clear();
  return key_;
}

std::string& Record::rewriteValue() {
  value_state_ = Content::kOwned;
  value_.clear();
  return value_;
}

void Record::setNullKey() { key_state_ = Content::kNull; }

void Record::setTombstone() { value_state_ = Content::kNull; }

void Record::removeHeader(std::string_view name) {
  // Headers added earlier under this name go too (kept in order).
  size_t kept = 0;
  for (size_t i = 0; i < added_count_; ++i) {
    if (added_[i].name != name) {
      if (kept != i) {
        std::swap(added_[kept], added_[i]);
      }
      ++kept;
    }
  }
  added_count_ = kept;
  if (isRemoved(name)) {
    return;
  }
  if (removed_count_ == removed_.size()) {
    removed_.emplace_back();
  }
  removed_[removed_count_++].assign(name);
}

void Record::addHeader(std::string_view name, std::optional<std::string_view> value) {
  if (added_count_ == added_.size()) {
    added_.emplace_back();
  }
  Added& added = added_[added_count_++];
  added.name.assign(name);
  added.null = !value.has_value();
  if (value) {
    added.value.assign(*value);
  } else {
    added.value.clear();
  }
}

}  // namespace causeway::pipeline
