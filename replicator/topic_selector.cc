#include "replicator/topic_selector.h"

namespace causeway::replicator {

Result<TopicSelector> TopicSelector::create(const config::LinkConfig& link) {
  TopicSelector selector;
  auto compile = [&](const std::vector<std::string>& patterns,
                     std::vector<std::regex>& out) -> Status {
    for (const auto& pattern : patterns) {
      try {
        out.emplace_back(pattern, std::regex::ECMAScript | std::regex::optimize);
      } catch (const std::regex_error& e) {
        return Error{"link '" + link.name + "': topic pattern '" + pattern + "': " + e.what()};
      }
    }
    return {};
  };
  if (auto s = compile(link.topics.include, selector.include_); !s) {
    return s.error();
  }
  if (auto s = compile(link.topics.exclude, selector.exclude_); !s) {
    return s.error();
  }
  selector.naming_ = link.naming;
  selector.link_ = link.name;
  selector.source_cluster_ = link.source;
  selector.target_cluster_ = link.target;
  return selector;
}

bool TopicSelector::isInternal(const std::string& topic) {
  return topic.starts_with("__") || topic.starts_with("causeway.");
}

bool TopicSelector::selects(const std::string& topic) const {
  if (isInternal(topic)) {
    return false;
  }
  bool included = false;
  for (const auto& re : include_) {
    if (std::regex_match(topic, re)) {
      included = true;
      break;
    }
  }
  if (!included) {
    return false;
  }
  for (const auto& re : exclude_) {
    if (std::regex_match(topic, re)) {
      return false;
    }
  }
  return !allows_ || allows_(topic);
}

std::string TopicSelector::targetTopic(const std::string& source_topic) const {
  switch (naming_.mode) {
  case config::NamingMode::kIdentity:
    return source_topic;
  case config::NamingMode::kPrefix:
    return naming_.value + source_topic;
  case config::NamingMode::kTemplate: {
    std::string out;
    const std::string& tpl = naming_.value;
    for (size_t i = 0; i < tpl.size();) {
      if (tpl[i] == '{') {
        size_t close = tpl.find('}', i);
        if (close != std::string::npos) {
          std::string_view key(tpl.data() + i + 1, close - i - 1);
          const std::string* value = nullptr;
          if (key == "topic") {
            value = &source_topic;
          } else if (key == "source") {
            value = &source_cluster_;
          } else if (key == "target") {
            value = &target_cluster_;
          } else if (key == "link") {
            value = &link_;
          }
          if (value != nullptr) {
            out += *value;
            i = close + 1;
            continue;
          }
        }
      }
      out += tpl[i++];
    }
    return out;
  }
  }
  return source_topic;
}

} // namespace causeway::replicator
