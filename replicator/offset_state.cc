#include "replicator/offset_state.h"

#include "kafka/client_factory.h"

#include <charconv>

namespace causeway::replicator {

std::string stateTopic(const std::string& link) { return "causeway." + link + ".state"; }

std::string stateKey(const std::string& mirror_topic, int32_t partition) {
  return mirror_topic + "/" + std::to_string(partition);
}

OffsetStateReader::OffsetStateReader(const config::ClusterConfig& target, std::string link)
    : target_(target), link_(std::move(link)), topic_(stateTopic(link_)),
      scanner_(target, link_ + "-state") {}

Status OffsetStateReader::open() { return scanner_.open(); }

std::string OffsetStateReader::describe() const {
  return "state topic '" + topic_ + "' on " + kafka::describeCluster(target_);
}

Status OffsetStateReader::refresh(std::chrono::steady_clock::time_point deadline) {
  auto count = scanner_.partitionCount(topic_, deadline);
  if (!count) {
    return Error{"reading the " + describe() + ": " + count.error().message};
  }
  if (!*count) {
    return Error{describe() + " does not exist: link '" + link_ +
                 "' creates it when it starts as an exactly_once link (was it deleted, or has "
                 "the link never run against this cluster?)"};
  }
  next_.resize(static_cast<size_t>(**count), -1);
  for (int32_t p = 0; p < **count; ++p) {
    auto marks = scanner_.watermarks(topic_, p, deadline);
    if (!marks) {
      return Error{"reading the " + describe() + ": " + marks.error().message};
    }
    int64_t& next = next_[static_cast<size_t>(p)];
    next = std::max(next, marks->first);
    Status problem;
    auto scanned = scanner_.scan(
        topic_, p, next, marks->second, deadline, [&](const rd_kafka_message_t& message) {
          next = message.offset + 1;
          const std::string_view key(static_cast<const char*>(message.key), message.key_len);
          const auto slash = key.rfind('/');
          int32_t partition = -1;
          if (message.key == nullptr || slash == std::string_view::npos || slash == 0 ||
              std::from_chars(key.data() + slash + 1, key.data() + key.size(), partition).ec !=
                  std::errc() ||
              partition < 0) {
            problem = Error{describe() + " partition " + std::to_string(p) + " offset " +
                            std::to_string(message.offset) + ": key '" + std::string(key) +
                            "' is not '<topic>/<partition>': the topic holds records Causeway "
                            "did not write"};
            return false;
          }
          std::string name(key);
          if (message.payload == nullptr) {
            entries_.erase(name);  // tombstone: the runs were deleted on purpose
            return true;
          }
          Entry& entry = entries_[name];
          entry.state_partition = p;
          entry.state_offset = message.offset;
          auto runs = OffsetRuns::decode(
              std::string_view(static_cast<const char*>(message.payload), message.len));
          if (runs) {
            entry.runs = std::move(*runs);
            entry.error.clear();
          } else {
            entry.runs.clear();
            entry.error = describe() + " partition " + std::to_string(p) + " offset " +
                          std::to_string(message.offset) + " (key '" + name +
                          "') is corrupt: " + runs.error().message;
          }
          return true;
        });
    if (!problem) {
      return problem;
    }
    if (!scanned) {
      return Error{"reading the " + describe() + ": " + scanned.message()};
    }
  }
  return {};
}

const OffsetStateReader::Entry* OffsetStateReader::find(const std::string& mirror_topic,
                                                        int32_t partition) const {
  auto it = entries_.find(stateKey(mirror_topic, partition));
  return it == entries_.end() ? nullptr : &it->second;
}

} // namespace causeway::replicator
