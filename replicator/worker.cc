#include "replicator/worker.h"

#include "kafka/topic_admin.h"
#include "replicator/link.h"

#include <spdlog/spdlog.h>

#include <future>

namespace causeway::replicator {

Worker::Worker(config::Config config) : config_(std::move(config)) {
  // Built here, not in start(): statuses() may be called from other threads at any time.
  for (const auto& link : config_.links) {
    const auto& source = config_.clusters.at(link.source);
    const auto& target = config_.clusters.at(link.target);
    links_.push_back(
        std::make_unique<Link>(link, source, target, kafka::makeTopicAdmin(target)));
  }
}

Worker::~Worker() { stop(); }

Status Worker::start() {
  // Links connect in parallel so one unreachable cluster does not delay the others.
  std::vector<std::future<Status>> started;
  for (auto& link : links_) {
    started.push_back(std::async(std::launch::async, [&link] { return link->start(); }));
  }
  size_t ok = 0;
  std::string errors;
  for (auto& result : started) {
    Status status = result.get();
    if (status) {
      ++ok;
    } else {
      errors += (errors.empty() ? "" : "\n") + status.message();
    }
  }
  if (ok == 0 && !links_.empty()) {
    return Error{errors};
  }
  return {};
}

void Worker::stop(std::chrono::milliseconds drain_timeout) {
  for (auto& link : links_) {
    link->requestStop(drain_timeout);
  }
  for (auto& link : links_) {
    link->join();
  }
}

std::vector<LinkStatus> Worker::statuses() const {
  std::vector<LinkStatus> out;
  out.reserve(links_.size());
  for (const auto& link : links_) {
    out.push_back(link->status());
  }
  return out;
}

bool Worker::anyRunning() const {
  for (const auto& link : links_) {
    const LinkState state = link->status().state;
    if (state == LinkState::kStarting || state == LinkState::kRunning) {
      return true;
    }
  }
  return false;
}

} // namespace causeway::replicator
