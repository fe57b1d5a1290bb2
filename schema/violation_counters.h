#pragma once

// Contract violation counters of one link, per (domain, source topic, rule, reason). They
// outlive a link's schema service: the worker keeps one set per link name and hands it to each
// service the link starts with (startSchemaService), so a link restarted by a reload keeps
// counting where it was and /metrics never sees a counter go back.
//
// Threading: counter() and counts() from any thread. A contract stage asks counter() once per
// (side, reason) it meets and then only increments the atomic it got (stable for the object's
// life).

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace causeway::schema {

// A contract violation count (what the metrics show). `rule` is <domain>.<contract>.<side>.
struct ViolationCount {
  std::string domain;
  std::string topic;
  std::string rule;
  std::string reason;
  uint64_t records = 0;
};

class ViolationCounters {
public:
  std::atomic<uint64_t>* counter(std::string_view domain, std::string_view topic,
                                 std::string_view rule, std::string_view reason) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& slot = counters_[{std::string(domain), std::string(topic), std::string(rule),
                            std::string(reason)}];
    if (!slot) {
      slot = std::make_unique<std::atomic<uint64_t>>(0);
    }
    return slot.get();
  }

  // In (domain, topic, rule, reason) order.
  std::vector<ViolationCount> counts() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<ViolationCount> out;
    out.reserve(counters_.size());
    for (const auto& [key, value] : counters_) {
      out.push_back(ViolationCount{std::get<0>(key), std::get<1>(key), std::get<2>(key),
                                   std::get<3>(key), value->load(std::memory_order_relaxed)});
    }
    return out;
  }

private:
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, std::string, std::string>,
           std::unique_ptr<std::atomic<uint64_t>>>
      counters_;
};

}  // namespace causeway::schema
