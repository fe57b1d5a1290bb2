#pragma once

// What other subsystems add to a link without the replicator knowing them: stages between loop
// prevention and provenance (partner policies, schema contracts) and which discovered topics the
// link may mirror at all. The application composes them (app/link_extensions.cc); tests pass
// their own or none.

#include "common/result.h"
#include "config/config.h"
#include "pipeline/stage.h"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace causeway::replicator {

// Built once per configuration (start and each reload) and shared by the links started with it,
// which keep it alive while they run. Thread-safe: links call it from their own threads.
class LinkExtensions {
public:
  virtual ~LinkExtensions() = default;

  // Once per link start: the stages every record of the link passes after loop prevention and
  // before provenance, in order. They run on the link's data-plane thread only. An error fails
  // the link's start with its message.
  virtual Result<std::vector<pipeline::StagePtr>> makeStages(const config::LinkConfig& link) = 0;

  // Topic discovery: false keeps a topic off the link entirely (no mirror topic, no records).
  virtual bool allowsTopic(const config::LinkConfig& link, std::string_view topic) const = 0;
  // True when the link's stages depend on more than its own settings: on files read at start
  // (policy keys, schema catalogs) or on other sections (policies, registries, domains). A reload
  // restarts such a link even when its own settings did not change, so the edit takes effect.
  virtual bool restartsOnReload(const config::LinkConfig& link) const = 0;

  // What the link's stages have to say about its source topics, for its status (`causeway ctl
  // status`): source topic -> one line, only topics with something to say, e.g. why a topic's
  // records wait ("paused (ID translation): value schema id 7 is incompatible with subject ...").
  // The link asks a few times a second from its data-plane thread while its stages exist, so
  // answers are cheap and never block on I/O. Default: nothing to say.
  virtual std::map<std::string, std::string> topicNotes(const config::LinkConfig& link) const {
    (void)link;
    return {};
  }
};

using LinkExtensionsPtr = std::shared_ptr<LinkExtensions>;

// Builds the extensions of a configuration; an error names what does not compile or load.
using LinkExtensionsFactory = std::function<Result<LinkExtensionsPtr>(const config::Config&)>;

}  // namespace causeway::replicator
