#pragma once

#include "common/result.h"
#include "config/config.h"

#include <functional>
#include <regex>
#include <string_view>
#include <string>
#include <vector>

namespace causeway::replicator {

// Which source topics a link replicates and what their mirror topics are called. Pure logic:
// built once per link from its config, then asked per topic by topic discovery.
class TopicSelector {
public:
  // Fails if a regex does not compile (the config loader reports that earlier, with a line).
  static Result<TopicSelector> create(const config::LinkConfig& link);

  // True when `topic` fully matches an include regex and no exclude regex, and is not an
  // internal topic ("__consumer_offsets", "__transaction_state", Causeway's "causeway.*").
  bool selects(const std::string& topic) const;

  // Narrows selects() further (a partner policy's topic allow-list): topics it refuses are not
  // selected, so they get no mirror topic and no records.
  void restrict(std::function<bool(std::string_view)> allows) { allows_ = std::move(allows); }

  // The mirror topic name on the target cluster.
  std::string targetTopic(const std::string& source_topic) const;

  static bool isInternal(const std::string& topic);

private:
  TopicSelector() = default;

  std::vector<std::regex> include_;
  std::vector<std::regex> exclude_;
  std::function<bool(std::string_view)> allows_;
  config::NamingConfig naming_;
  std::string link_;
  std::string source_cluster_;
  std::string target_cluster_;
};

} // namespace causeway::replicator
