#pragma once

// The semantic checks of the schema sections that need this subsystem, for
// `causeway check-config` and worker start-up (after config::loadConfigFile succeeded): every
// catalog loads (index and schema files, with file:line:col), every catalog schema compiles
// (Avro names and types, .proto imports, JSON Schema keywords), and contracts agree with what
// the catalogs hold (format of the subject's schema). Nothing is fetched from REST registries.

#include "config/config.h"
#include "config/yaml_reader.h"

#include <vector>

namespace causeway::schema {

std::vector<config::ConfigError> checkConfig(const config::Config& config);

}  // namespace causeway::schema
