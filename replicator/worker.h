#pragma once

#include "common/result.h"
#include "config/config.h"
#include "replicator/link_extensions.h"
#include "replicator/link_status.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace causeway::replicator {

class Link;

// Runs every link of a configuration in this process. Several workers (processes) started with
// the same configuration share each link's partitions through the source cluster's consumer
// group "causeway.<link>" (cooperative-sticky).
//
// Lifecycle: construct -> start() -> statuses() while running -> stop(). Not copyable. start()
// and stop() are called from one controlling thread; statuses() from any thread.
class Worker {
public:
  // `extensions` builds what other subsystems add to the links (policies, schema contracts) for
  // this configuration and every reloaded one; none when empty.
  explicit Worker(config::Config config, LinkExtensionsFactory extensions = {});
  ~Worker();  // stops (draining) if still running

  // Starts every link. A link whose clusters are unreachable within their connect_timeout
  // fails (see statuses()); start() returns an error only if no link could start, or if the
  // configuration's extensions could not be built.
  Status start();

  // Why the configuration's extensions could not be built (start() will refuse), or null:
  // lets the caller refuse before it opens any port.
  const Error* extensionsError() const { return extensions_error_ ? &*extensions_error_ : nullptr; }

  // Drains: stops fetching, waits up to `drain_timeout` for in-flight records to be
  // acknowledged by the target, commits the source offsets and leaves the consumer groups.
  void stop(std::chrono::milliseconds drain_timeout = std::chrono::seconds(30));

  std::vector<LinkStatus> statuses() const;

  // Pauses / resumes fetching for a link in this worker (records in flight still complete and
  // are committed; the link's lag grows while paused). Error: unknown link, or not running.
  Status pauseLink(const std::string& name);
  Status resumeLink(const std::string& name);

  // Applies a new configuration without a restart: links that are new are started, links that
  // are gone are drained and stopped, links whose settings changed are restarted, links that
  // are unchanged keep running untouched. Links whose stages depend on more than their own
  // settings (LinkExtensions::restartsOnReload: policies, contracts, schema-ID translation)
  // restart on every reload, so edited policies, rotated key files and catalogs take effect.
  // Returns which links were added, removed, restarted; an error (nothing changed) when the new
  // extensions cannot be built.
  struct ReloadResult {
    std::vector<std::string> added;
    std::vector<std::string> removed;
    std::vector<std::string> restarted;
    std::vector<std::string> unchanged;
  };
  Result<ReloadResult> reload(config::Config config);

  // The configuration currently applied.
  config::Config currentConfig() const;

  // True while at least one link is starting or running, or a reload is under way.
  bool anyRunning() const;

private:
  Link* find(const std::string& name) const;
  Status withRunningLink(const std::string& name, const std::function<void(Link&)>& act);

  std::mutex control_mu_;  // serializes start(), stop() and reload()
  mutable std::mutex mu_;  // guards config_ and links_ (held briefly, never while connecting)
  config::Config config_;
  LinkExtensionsFactory make_extensions_;
  LinkExtensionsPtr extensions_;  // of config_
  std::optional<Error> extensions_error_;
  std::atomic<bool> reloading_{false};
  std::vector<std::unique_ptr<Link>> links_;
};

}  // namespace causeway::replicator
