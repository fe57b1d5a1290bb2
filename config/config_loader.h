#pragma once

#include "config/config.h"
#include "config/yaml_reader.h"

#include <optional>
#include <string>
#include <vector>

namespace causeway::config {

// The outcome of loading: a Config only when there are no errors at all.
struct LoadResult {
  std::optional<Config> config;
  std::vector<ConfigError> errors;
  bool ok() const { return config.has_value() && errors.empty(); }
};

// Loads and validates a YAML configuration. Every error in the file is
// collected (not just the first), each with its line and column. Never throws.
LoadResult loadConfigFile(const std::string& path);

// Same, from text; `file_name` is only used in error locations.
LoadResult loadConfigString(const std::string& yaml, const std::string& file_name);

// The root map of a parsed document, section by section (for the loader and its
// tests).
Config loadRoot(YamlReader& reader, const YAML::Node& root);

}  // namespace causeway::config
