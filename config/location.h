#pragma once

#include <string>

namespace causeway::config {

// Where a value came from in the YAML file, for error messages and status output.
struct SourceLocation {
  std::string file;
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based; 0 when unknown
};

}  // namespace causeway::config
