#include "replicator/offset_state.h"

#include "kafka/client_factory.h"

#include <nlohmann/json.hpp>

#include <charconv>
#include <ctime>

namespace causeway::replicator {

std::string stateTopic(const std::string& link) { return "causeway." + link + ".state"; }

std::string stateKey(const std::string& mirror_topic, int32_t partition) {
  return mirror_topic + "/" + std::to_string(partition);
}

std::string encodeFailoverMark(const FailoverMark& mark) {
  return nlohmann::json{{"at_ms", mark.at_ms},
                        {"forced", mark.forced},
                        {"left_behind", mark.left_behind},
                        {"by", mark.by}}
      .dump();
}

Result<FailoverMark> decodeFailoverMark(std::string_view value) {
  auto json = nlohmann::json::parse(value.begin(), value.end(), nullptr,
                                    /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object() || !json.contains("at_ms") ||
      !json["at_ms"].is_number_integer()) {
    return Error{"the failover mark is not the JSON object Causeway writes"};
  }
  FailoverMark mark;
  mark.at_ms = json["at_ms"].get<int64_t>();
  // Fields of another type (another version's mark) are left at their defaults: the mark is still a
  // mark.
  if (json.contains("forced") && json["forced"].is_boolean()) {
    mark.forced = json["forced"].get<bool>();
  }
  if (json.contains("left_behind") && json["left_behind"].is_number_integer()) {
    mark.left_behind = json["left_behind"].get<int64_t>();
  }
  if (json.contains("by") && json["by"].is_string()) {
    mark.by = json["by"].get<std::string>();
  }
  return mark;
}

std::string describeFailoverMark(const FailoverMark& mark) {
  const std::time_t seconds = static_cast<std::time_t>(mark.at_ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char when[32];
  std::strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &utc);
  std::string text = std::string("failed over at ") + when;
  if (!mark.by.empty()) {
    text += " by " + mark.by;
  }
  if (mark.forced) {
    text += " (forced: " + std::to_string(mark.left_behind) + " record(s) left behind)";
  }
  return text;
}

Status writeFailoverMark(const config::ClusterConfig& target, const std::string& link,
                         const std::optional<FailoverMark>& mark,
                         std::chrono::milliseconds timeout) {
  const std::string topic = stateTopic(link);
  const std::string where = "state topic '" + topic + "' on " + kafka::describeCluster(target);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  {
    PartitionScanner scanner(target, link + "-mark");
    if (auto opened = scanner.open(); !opened) {
      return opened;
    }
    auto count = scanner.partitionCount(topic, deadline);
    if (!count) {
      return count.error();
    }
    if (!*count) {
      return Error{where + " does not exist: link '" + link +
                   "' creates it when it starts (exactly_once links, and links "
                   "with groups to "
                   "sync)"};
    }
  }
  struct Outcome {
    bool done = false;
    rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  } outcome;
  kafka::ClientSpec spec;
  spec.type = RD_KAFKA_PRODUCER;
  spec.cluster = &target;
  spec.client_id = "causeway-" + link + "-failover-mark";
  spec.owned = {{"acks", "all"}, {"enable.idempotence", "true"}};
  spec.configure = [&outcome](rd_kafka_conf_t* conf) {
    rd_kafka_conf_set_opaque(conf, &outcome);
    rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
      auto* out = static_cast<Outcome*>(opaque);
      out->done = true;
      out->err = m->err;
    });
  };
  auto producer = kafka::makeClient(spec);
  if (!producer) {
    return producer.error();
  }
  const std::string value = mark ? encodeFailoverMark(*mark) : std::string();
  void* payload = mark ? const_cast<char*>(value.data()) : nullptr;  // null: a tombstone
  rd_kafka_resp_err_t err =
      rd_kafka_producev(producer->get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(0),
                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                        RD_KAFKA_V_KEY(kFailoverMarkKey.data(), kFailoverMarkKey.size()),
                        RD_KAFKA_V_VALUE(payload, value.size()), RD_KAFKA_V_END);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Error{"writing the failover mark to the " + where + ": " + rd_kafka_err2str(err)};
  }
  while (!outcome.done && std::chrono::steady_clock::now() < deadline) {
    rd_kafka_poll(producer->get(), 50);
  }
  if (!outcome.done) {
    return Error{"writing the failover mark to the " + where + ": no acknowledgement within " +
                 std::to_string(timeout.count()) + " ms"};
  }
  if (outcome.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Error{"writing the failover mark to the " + where + ": " +
                 rd_kafka_err2str(outcome.err)};
  }
  return {};
}

OffsetStateReader::OffsetStateReader(const config::ClusterConfig& target, std::string link,
                                     Isolation isolation)
    : target_(target), link_(std::move(link)), topic_(stateTopic(link_)),
      scanner_(target, link_ + "-state", isolation) {}

Status OffsetStateReader::open() { return scanner_.open(); }

std::string OffsetStateReader::describe() const {
  return "state topic '" + topic_ + "' on " + kafka::describeCluster(target_);
}

Status OffsetStateReader::refresh(std::chrono::steady_clock::time_point deadline) {
  auto count = scanner_.partitionCount(topic_, deadline);
  if (!count) {
    return Error{"reading the " + describe() + ": " + count.error().message, count.error().kind};
  }
  if (!*count) {
    return Error{describe() + " does not exist: link '" + link_ +
                     "' creates it when it starts (exactly_once links, and links "
                     "with groups to "
                     "sync; was it deleted, or has the link never run against this "
                     "cluster?)",
                 ErrorKind::kNotFound};
  }
  next_.resize(static_cast<size_t>(**count), -1);
  for (int32_t p = 0; p < **count; ++p) {
    auto marks = scanner_.watermarks(topic_, p, deadline);
    if (!marks) {
      return Error{"reading the " + describe() + ": " + marks.error().message, marks.error().kind};
    }
    int64_t& next = next_[static_cast<size_t>(p)];
    if (next > marks->second) {
      next = -1;  // the topic was recreated: read it again from its start
    }
    next = std::max(next, marks->first);
    auto scanned = scanner_.scan(
        topic_, p, next, marks->second, deadline, [&](const rd_kafka_message_t& message) {
          next = message.offset + 1;
          const std::string_view key(static_cast<const char*>(message.key), message.key_len);
          if (message.key != nullptr && key == kFailoverMarkKey) {
            if (message.payload == nullptr) {
              failover_mark_.reset();  // cleared by `causeway failover --undo`
              return true;
            }
            auto mark = decodeFailoverMark(
                std::string_view(static_cast<const char*>(message.payload), message.len));
            if (mark) {
              failover_mark_ = *mark;
            } else {
              FailoverMark unreadable;  // still a mark: stopping is the safe reading
              unreadable.by = "(unreadable mark at offset " + std::to_string(message.offset) +
                              ": " + mark.error().message + ")";
              failover_mark_ = unreadable;
            }
            return true;
          }
          const auto slash = key.rfind('/');
          int32_t partition = -1;
          if (message.key == nullptr || slash == std::string_view::npos || slash == 0 ||
              std::from_chars(key.data() + slash + 1, key.data() + key.size(), partition).ec !=
                  std::errc() ||
              partition < 0) {
            // Not Causeway's: it cannot stand for any partition's runs, so it is skipped (and
            // reported) rather than making every reader of the topic fail.
            ignored_ = describe() + " partition " + std::to_string(p) + " offset " +
                       std::to_string(message.offset) + ": key '" + std::string(key) +
                       "' is not '<topic>/<partition>' (not written by "
                       "Causeway; ignored)";
            return true;
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
    if (!scanned) {
      return Error{"reading the " + describe() + ": " + scanned.message(), scanned.kind()};
    }
  }
  return {};
}

const OffsetStateReader::Entry* OffsetStateReader::find(const std::string& mirror_topic,
                                                        int32_t partition) const {
  auto it = entries_.find(stateKey(mirror_topic, partition));
  return it == entries_.end() ? nullptr : &it->second;
}

}  // namespace causeway::replicator
