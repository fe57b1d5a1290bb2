#include "config/scalar_position.h"

namespace causeway::config {

SourceLocation ScalarText::at(size_t offset) const {
  if (positions.empty()) {
    return location;
  }
  const auto& [line, column] = positions[std::min(offset, positions.size() - 1)];
  return SourceLocation{location.file, line, column};
}

namespace {

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

int hexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

size_t utf8Length(uint32_t cp) { return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4; }

// Source bytes and value bytes of a double-quoted escape starting at s[j] == '\\'; 0 source
// bytes when unknown.
std::pair<size_t, size_t> escapeSize(std::string_view s, size_t j) {
  if (j + 1 >= s.size()) {
    return {0, 0};
  }
  const char e = s[j + 1];
  size_t digits = 0;
  switch (e) {
  case 'x':
    digits = 2;
    break;
  case 'u':
    digits = 4;
    break;
  case 'U':
    digits = 8;
    break;
  case 'N':
  case '_':
    return {2, 2};  // U+0085, U+00A0
  case 'L':
  case 'P':
    return {2, 3};  // U+2028, U+2029
  default:
    return {2, 1};
  }
  if (j + 2 + digits > s.size()) {
    return {0, 0};
  }
  uint32_t cp = 0;
  for (size_t k = 0; k < digits; ++k) {
    const int v = hexValue(s[j + 2 + k]);
    if (v < 0) {
      return {0, 0};
    }
    cp = cp << 4 | static_cast<uint32_t>(v);
  }
  return {2 + digits, utf8Length(cp)};
}

}  // namespace

ScalarText mapScalar(std::string_view s, size_t pos, int line, int column, std::string value,
                     SourceLocation mark) {
  ScalarText out{std::move(value), mark, {}};
  if (pos > s.size() || line < 0 || column < 0) {
    return out;
  }
  const std::string& v = out.text;
  // Position tracking as j moves forward (1-based for output).
  int32_t cur_line = line + 1;
  int32_t cur_col = column + 1;
  size_t j = pos;
  auto advance = [&](size_t n) {
    for (size_t k = 0; k < n && j < s.size(); ++k, ++j) {
      if (s[j] == '\n') {
        ++cur_line;
        cur_col = 1;
      } else {
        ++cur_col;
      }
    }
  };
  // Tags and anchors before the scalar.
  while (j < s.size() && (s[j] == '!' || s[j] == '&')) {
    while (j < s.size() && !isSpace(s[j])) {
      advance(1);
    }
    while (j < s.size() && isSpace(s[j])) {
      advance(1);
    }
  }
  char style = 'p';
  if (j < s.size() && (s[j] == '\'' || s[j] == '"')) {
    style = s[j];
    advance(1);
  } else if (j < s.size() && (s[j] == '|' || s[j] == '>')) {
    style = 'b';
    while (j < s.size() && s[j] != '\n') {
      advance(1);
    }
  }
  std::vector<std::pair<int32_t, int32_t>> positions;
  positions.reserve(v.size() + 1);
  for (size_t i = 0; i < v.size();) {
    const char c = v[i];
    if (j >= s.size()) {
      return out;  // the source ended first: keep the mark only
    }
    if (style == '\'' && s[j] == '\'' && j + 1 < s.size() && s[j + 1] == '\'' && c == '\'') {
      positions.emplace_back(cur_line, cur_col);
      advance(2);
      ++i;
      continue;
    }
    if (style == '"' && s[j] == '\\') {
      if (j + 1 < s.size() && (s[j + 1] == '\n' || s[j + 1] == '\r')) {
        advance(2);  // an escaped line break produces nothing
        while (j < s.size() && isSpace(s[j])) {
          advance(1);
        }
        continue;
      }
      const auto [source_bytes, value_bytes] = escapeSize(s, j);
      if (source_bytes == 0) {
        return out;
      }
      for (size_t k = 0; k < value_bytes && i < v.size(); ++k, ++i) {
        positions.emplace_back(cur_line, cur_col);
      }
      advance(source_bytes);
      continue;
    }
    if (s[j] == c && !(c == '\n' && style != 'b')) {
      positions.emplace_back(cur_line, cur_col);
      advance(1);
      ++i;
      continue;
    }
    if (isSpace(s[j])) {
      advance(1);  // indentation and folded line breaks
      continue;
    }
    if (c == ' ' || c == '\n') {
      positions.emplace_back(cur_line, cur_col);  // produced by folding a line break
      ++i;
      continue;
    }
    return out;  // not the value's source: keep the mark only
  }
  positions.emplace_back(cur_line, cur_col);
  out.positions = std::move(positions);
  return out;
}

}  // namespace causeway::config
