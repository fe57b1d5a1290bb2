#include "replicator/worker.h"

#include "kafka/topic_admin.h"
#include "replicator/link.h"

#include <spdlog/spdlog.h>

#include <future>
#include <map>

namespace causeway::replicator {
namespace {

std::unique_ptr<Link> makeLink(const config::Config& config, const config::LinkConfig& link,
                               LinkExtensionsPtr extensions) {
  const auto& source = config.clusters.at(link.source);
  const auto& target = config.clusters.at(link.target);
  return std::make_unique<Link>(link, source, target, kafka::makeTopicAdmin(target),
                                std::move(extensions));
}

// Starts links in parallel so one unreachable cluster does not delay the others; returns the
// errors of those that failed.
std::vector<std::string> startAll(const std::vector<Link*>& links) {
  std::vector<std::future<Status>> started;
  for (Link* link : links) {
    started.push_back(std::async(std::launch::async, [link] { return link->start(); }));
  }
  std::vector<std::string> errors;
  for (auto& result : started) {
    Status status = result.get();
    if (!status) {
      errors.push_back(status.message());
    }
  }
  return errors;
}

bool sameCluster(const config::ClusterConfig& a, const config::ClusterConfig& b) {
  return a.name == b.name && a.bootstrap == b.bootstrap && a.properties == b.properties &&
         a.embedded_control == b.embedded_control && a.connect_timeout == b.connect_timeout &&
         a.registry == b.registry;
}

bool sameSchemas(const config::LinkSchemasConfig& a, const config::LinkSchemasConfig& b) {
  return a.translate_ids == b.translate_ids && a.subject_prefix == b.subject_prefix &&
         a.context == b.context && a.check_contracts == b.check_contracts &&
         a.translate_keys == b.translate_keys && a.retry_initial == b.retry_initial &&
         a.retry_max == b.retry_max && a.paused_recheck == b.paused_recheck;
}

// Same settings (where in the file they are written does not matter), and stages that depend
// on nothing else: `next` (the new configuration's extensions, or null) says when they do.
bool sameLink(const config::Config& old_config, const config::LinkConfig& a,
              const config::Config& new_config, const config::LinkConfig& b,
              const LinkExtensions* next) {
  if (next != nullptr && next->restartsOnReload(b)) {
    return false;
  }
  return a.name == b.name && a.source == b.source && a.target == b.target &&
         a.topics.include == b.topics.include && a.topics.exclude == b.topics.exclude &&
         a.naming.mode == b.naming.mode && a.naming.value == b.naming.value && a.start == b.start &&
         a.delivery == b.delivery && a.transactional == b.transactional &&
         a.discovery_interval == b.discovery_interval && a.commit_interval == b.commit_interval &&
         a.max_in_flight_bytes == b.max_in_flight_bytes &&
         a.max_in_flight_records == b.max_in_flight_records &&
         a.consumer_properties == b.consumer_properties &&
         a.producer_properties == b.producer_properties && a.groups.names == b.groups.names &&
         a.groups.include == b.groups.include && a.groups.exclude == b.groups.exclude &&
         a.groups.sync_interval == b.groups.sync_interval && a.on_reject == b.on_reject &&
         a.dlq.enabled == b.dlq.enabled && a.dlq.on_source == b.dlq.on_source &&
         a.dlq.topic == b.dlq.topic && a.policy == b.policy && sameSchemas(a.schemas, b.schemas) &&
         a.topic_configs.sync == b.topic_configs.sync &&
         a.topic_configs.exclude == b.topic_configs.exclude &&
         a.topic_configs.interval == b.topic_configs.interval &&
         sameCluster(old_config.clusters.at(a.source), new_config.clusters.at(b.source)) &&
         sameCluster(old_config.clusters.at(a.target), new_config.clusters.at(b.target));
}

}  // namespace

Worker::Worker(config::Config config, LinkExtensionsFactory extensions)
    : config_(std::move(config)), make_extensions_(std::move(extensions)) {
  if (make_extensions_) {
    auto built = make_extensions_(config_);
    if (built) {
      extensions_ = std::move(*built);
    } else {
      extensions_error_ = built.error();  // start() reports it
    }
  }
  // Built here, not in start(): statuses() may be called from other threads at any time.
  for (const auto& link : config_.links) {
    links_.push_back(makeLink(config_, link, extensions_));
  }
}

Worker::~Worker() { stop(); }

Status Worker::start() {
  std::lock_guard control(control_mu_);
  if (extensions_error_) {
    return *extensions_error_;
  }
  std::vector<Link*> links;
  {
    std::lock_guard lock(mu_);
    for (auto& link : links_) {
      links.push_back(link.get());
    }
  }
  const auto errors = startAll(links);
  if (!links.empty() && errors.size() == links.size()) {
    std::string text;
    for (const auto& e : errors) {
      text += (text.empty() ? "" : "\n") + e;
    }
    return Error{text};
  }
  return {};
}

void Worker::stop(std::chrono::milliseconds drain_timeout) {
  std::lock_guard control(control_mu_);  // links_ cannot change while we drain
  std::vector<Link*> links;
  {
    std::lock_guard lock(mu_);
    for (auto& link : links_) {
      links.push_back(link.get());
    }
  }
  // Not under mu_: statuses() (metrics, control API) keeps answering during the drain.
  for (Link* link : links) {
    link->requestStop(drain_timeout);
  }
  for (Link* link : links) {
    link->join();
  }
}

std::vector<LinkStatus> Worker::statuses() const {
  std::lock_guard lock(mu_);
  std::vector<LinkStatus> out;
  out.reserve(links_.size());
  for (const auto& link : links_) {
    out.push_back(link->status());
  }
  return out;
}

bool Worker::anyRunning() const {
  if (reloading_.load()) {
    return true;  // restarted links are between their old and their new instance
  }
  for (const auto& status : statuses()) {
    if (status.state == LinkState::kStarting || status.state == LinkState::kRunning ||
        status.state == LinkState::kPaused) {
      return true;
    }
  }
  return false;
}

Link* Worker::find(const std::string& name) const {
  for (const auto& link : links_) {
    if (link->name() == name) {
      return link.get();
    }
  }
  return nullptr;
}

Status Worker::pauseLink(const std::string& name) {
  return withRunningLink(name, [](Link& link) { link.pause(); });
}

Status Worker::resumeLink(const std::string& name) {
  return withRunningLink(name, [](Link& link) { link.resume(); });
}

Status Worker::withRunningLink(const std::string& name, const std::function<void(Link&)>& act) {
  std::lock_guard lock(mu_);
  Link* link = find(name);
  if (link == nullptr) {
    return Error{"unknown link '" + name + "'"};
  }
  const LinkState state = link->status().state;
  if (state != LinkState::kRunning && state != LinkState::kPaused) {
    return Error{"link '" + name + "' is " + toString(state) + ", not running"};
  }
  act(*link);
  return {};
}

config::Config Worker::currentConfig() const {
  std::lock_guard lock(mu_);
  return config_;
}

Result<Worker::ReloadResult> Worker::reload(config::Config config) {
  std::lock_guard control(control_mu_);
  ReloadResult result;
  reloading_.store(true);
  struct ReloadingScope {
    std::atomic<bool>& flag;
    ~ReloadingScope() { flag.store(false); }
  } reloading{reloading_};
  LinkExtensionsPtr extensions;
  if (make_extensions_) {
    auto built = make_extensions_(config);
    if (!built) {
      return built.error();
    }
    extensions = std::move(*built);
  }
  std::vector<std::unique_ptr<Link>> keep;
  std::vector<std::unique_ptr<Link>> retire;
  std::vector<std::unique_ptr<Link>> fresh;
  {
    std::lock_guard lock(mu_);
    std::map<std::string, std::unique_ptr<Link>> current;
    for (auto& link : links_) {
      current.emplace(link->name(), std::move(link));
    }
    links_.clear();
    for (const auto& link : config.links) {
      auto it = current.find(link.name);
      const config::LinkConfig* old = config_.findLink(link.name);
      if (it != current.end() && old != nullptr &&
          sameLink(config_, *old, config, link, extensions.get())) {
        result.unchanged.push_back(link.name);
        keep.push_back(std::move(it->second));
      } else {
        (it == current.end() ? result.added : result.restarted).push_back(link.name);
        if (it != current.end()) {
          retire.push_back(std::move(it->second));
        }
        fresh.push_back(makeLink(config, link, extensions));
      }
      if (it != current.end()) {
        current.erase(it);
      }
    }
    for (auto& [name, link] : current) {
      result.removed.push_back(name);
      retire.push_back(std::move(link));
    }
    // Until the swap below, statuses() shows the links that keep running.
    for (auto& link : keep) {
      links_.push_back(std::move(link));
    }
  }
  // Removed and changed links drain and leave their groups before replacements start, so a
  // restarted link never runs twice in this process.
  for (auto& link : retire) {
    link->requestStop(std::chrono::seconds(30));
  }
  for (auto& link : retire) {
    link->join();
  }
  std::vector<Link*> to_start;
  for (auto& link : fresh) {
    to_start.push_back(link.get());
  }
  const auto errors = startAll(to_start);
  for (const auto& e : errors) {
    spdlog::error("reload: {}", e);
  }
  {
    std::lock_guard lock(mu_);
    for (auto& link : fresh) {
      links_.push_back(std::move(link));
    }
    config_ = std::move(config);
    extensions_ = std::move(extensions);
  }
  spdlog::info("configuration reloaded: {} added, {} removed, {} restarted, {} unchanged",
               result.added.size(), result.removed.size(), result.restarted.size(),
               result.unchanged.size());
  return result;
}

}  // namespace causeway::replicator
