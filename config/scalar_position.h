#pragma once

// Where each byte of a YAML scalar's value came from in the file, so that a problem found later
// at an offset inside the value (a predicate's bad token, a path's bad segment) is reported at
// its own line:col. The value and the file differ by quoting: a single-quoted scalar starts one
// column after its quote and writes ' as '', a double-quoted one has escapes, and multi-line
// scalars fold line breaks and indentation.

#include "config/source_location.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace causeway::config {

struct ScalarText {
  std::string text;
  SourceLocation location;  // the scalar's own mark (its quote, for quoted scalars)
  // Line and column of each byte of `text`, then of the position after the last byte. Empty
  // when the mapping is unknown (no source text): at() answers `location` then.
  std::vector<std::pair<int32_t, int32_t>> positions;

  // The file position of byte `offset` of the text.
  SourceLocation at(size_t offset) const;
};

// Maps `value`, the scalar whose mark is at byte `pos` (0-based line and column `line`, `column`)
// of `source`. Falls back to the mark alone when the source does not match the value (it always
// should; the fallback keeps a message from pointing somewhere wrong).
ScalarText mapScalar(std::string_view source, size_t pos, int line, int column, std::string value,
                     SourceLocation mark);

}  // namespace causeway::config
