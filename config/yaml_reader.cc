#include "config/yaml_reader.h"

#include "common/duration.h"
#include "common/secrets.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <limits>
#include <regex>

namespace causeway::config {

std::string ConfigError::str() const {
  std::string out = location.file.empty() ? std::string("<config>") : location.file;
  if (location.line > 0) {
    out += ':' + std::to_string(location.line);
    if (location.column > 0) {
      out += ':' + std::to_string(location.column);
    }
  }
  out += ": ";
  out += message;
  return out;
}

// Valid in Kafka topic names, consumer group ids and our record headers.
bool isNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-';
}

bool isValidName(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), isNameChar);
}

namespace {

// Optimal string alignment distance (Levenshtein plus adjacent transpositions),
// ignoring case: "bootsrtap" and "Bootstrap" are both one edit from
// "bootstrap".
size_t editDistance(std::string_view a, std::string_view b) {
  auto lower = [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  };
  const size_t n = a.size();
  const size_t m = b.size();
  std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1, 0));
  for (size_t i = 0; i <= n; ++i) {
    d[i][0] = i;
  }
  for (size_t j = 0; j <= m; ++j) {
    d[0][j] = j;
  }
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      const size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
          lower(a[i - 2]) == lower(b[j - 1])) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}

}  // namespace

// The closest candidate within a few edits, or nullopt. Short words get less
// slack so that "id" does not turn into "at".
std::optional<std::string> closest(std::string_view word,
                                   const std::vector<std::string>& candidates) {
  if (word.size() > 64) {
    return std::nullopt;  // nobody mistypes a 64-character key; keeps the table
                          // small
  }
  const size_t limit = word.size() <= 3 ? 1 : (word.size() <= 8 ? 2 : 3);
  std::optional<std::string> best;
  size_t best_distance = limit + 1;
  for (const auto& candidate : candidates) {
    const size_t length_gap = candidate.size() > word.size() ? candidate.size() - word.size()
                                                             : word.size() - candidate.size();
    if (length_gap > limit) {
      continue;  // at least that many edits apart; skip the quadratic comparison
    }
    const size_t distance = editDistance(word, candidate);
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  return best;
}

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) {
      out += separator;
    }
    out += items[i];
  }
  return out;
}

// "; did you mean 'x'?" or, when nothing is close, "; expected one of: a, b,
// c".
std::string suggestion(std::string_view word, const std::vector<std::string>& candidates,
                       std::string_view list_intro) {
  if (auto best = closest(word, candidates)) {
    return "; did you mean '" + *best + "'?";
  }
  if (candidates.empty()) {
    return "";
  }
  return "; " + std::string(list_intro) + ": " + join(candidates);
}

// Shortens user-provided text quoted in messages (a fuzzer, or a pasted blob,
// can make it huge).
std::string quoted(std::string_view text) {
  constexpr size_t kMax = 80;
  if (text.size() <= kMax) {
    return "'" + std::string(text) + "'";
  }
  return "'" + std::string(text.substr(0, kMax)) + "...'";
}

std::string trim(std::string_view s) {
  size_t begin = 0;
  size_t end = s.size();
  while (begin < end && std::isspace(static_cast<unsigned char>(s[begin])) != 0) {
    ++begin;
  }
  while (end > begin && std::isspace(static_cast<unsigned char>(s[end - 1])) != 0) {
    --end;
  }
  return std::string(s.substr(begin, end - begin));
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
  case YAML::NodeType::Map:
    return "a map";
  case YAML::NodeType::Sequence:
    return "a list";
  case YAML::NodeType::Scalar:
    return "the value " + quoted(node.Scalar());
  case YAML::NodeType::Null:
    return "no value";
  case YAML::NodeType::Undefined:
    break;
  }
  return "nothing";
}

SourceLocation YamlReader::location(const YAML::Mark& mark) const {
  // yaml-cpp marks are 0-based and -1 when unknown.
  return SourceLocation{file_, mark.line >= 0 ? mark.line + 1 : 0,
                        mark.column >= 0 ? mark.column + 1 : 0};
}

void YamlReader::addError(SourceLocation where, std::string message) {
  errors_.push_back(ConfigError{std::move(where), std::move(message)});
}

void YamlReader::error(const YAML::Mark& mark, const std::string& path,
                       const std::string& message) {
  addError(location(mark), path.empty() ? message : path + ": " + message);
}

void YamlReader::error(const Field& field, const std::string& message) {
  error(field.mark, field.path, message);
}

void YamlReader::typeError(const Field& field, std::string_view expected) {
  error(field, "expected " + std::string(expected) + ", found " + describe(field.node));
}

namespace {

Field child(const YAML::Node& key, const YAML::Node& value, std::string path, std::string name) {
  return Field{value, value.IsNull() ? key.Mark() : value.Mark(), std::move(path), key.Mark(),
               std::move(name)};
}

}  // namespace

// The entries of a map whose keys are names chosen by the user (clusters,
// properties), in document order. Non-string and duplicate keys are reported
// and skipped.
std::vector<std::pair<std::string, Field>> YamlReader::entries(const Field& map) {
  std::vector<std::pair<std::string, Field>> out;
  std::map<std::string, int> first_line;
  for (auto it = map.node.begin(); it != map.node.end(); ++it) {
    // Copies: `it->` yields a temporary proxy, references into it would dangle.
    const YAML::Node key = it->first;
    const YAML::Node value = it->second;
    if (!key.IsScalar()) {
      error(key.Mark(), map.path, "keys must be plain strings, found " + describe(key));
      continue;
    }
    const std::string name = key.Scalar();
    const std::string path = map.path.empty() ? name : map.path + "." + name;
    auto [seen, inserted] = first_line.emplace(name, location(key.Mark()).line);
    if (!inserted) {
      error(key.Mark(), path,
            "duplicate key (first defined at line " + std::to_string(seen->second) + ")");
      continue;
    }
    out.emplace_back(name, child(key, value, path, name));
  }
  return out;
}

// A map with a fixed set of keys; unknown keys are reported with the closest
// known one.
std::optional<Object> YamlReader::object(const Field& field, const std::vector<std::string>& known,
                                         std::string_view what,
                                         const std::vector<FutureKey>& future) {
  if (!field.node.IsMap()) {
    typeError(field, what);
    return std::nullopt;
  }
  // Missing keys are reported where the map is named ("east:", "topics:", "-
  // name: ..."), which for a map entry is its key.
  Object object{field.key_mark, field.path, {}};
  for (auto& entry : entries(field)) {
    const std::string& key = entry.first;
    Field& value = entry.second;
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      const auto later = std::find_if(future.begin(), future.end(),
                                      [&key](const FutureKey& f) { return f.key == key; });
      if (later != future.end()) {
        error(value.key_mark, field.path, std::string(later->message));
      } else {
        error(value.key_mark, field.path,
              "unknown key " + quoted(key) + suggestion(key, known, "valid keys are"));
      }
      continue;
    }
    object.fields.emplace(key, std::move(value));
  }
  return object;
}

const Field* YamlReader::require(const Object& object, const std::string& key,
                                 std::string_view meaning) {
  const Field* field = object.get(key);
  if (field == nullptr) {
    error(object.mark, object.path,
          "missing required key '" + key + "' (" + std::string(meaning) + ")");
  }
  return field;
}

// --- Values
// ---------------------------------------------------------------------------------

std::optional<std::string> YamlReader::string(const Field& field) {
  if (!field.node.IsScalar()) {
    typeError(field, "a string");
    return std::nullopt;
  }
  const std::string& raw = field.node.Scalar();
  std::string value;
  if (!mayHaveReferences(raw)) {
    value = raw;
  } else {
    auto parsed = parseValueTemplate(raw);
    if (!parsed) {
      error(field, parsed.error().message);
      return std::nullopt;
    }
    auto resolved = resolver_.resolve(*parsed);
    if (!resolved) {
      error(field, resolved.error().message);
      return std::nullopt;
    }
    for (const auto& secret : resolved->from_references) {
      secrets::registerSecret(secret);
    }
    value = std::move(resolved->value);
  }
  if (!field.key.empty() && secrets::isSecretName(field.key)) {
    secrets::registerSecret(value);
  }
  return value;
}

std::optional<std::string> YamlReader::secretFile(const Field& field) {
  auto path = string(field);
  if (!path) {
    return std::nullopt;
  }
  if (path->empty() || path->front() != '/') {
    error(field, "expected an absolute path to a file, found " + shown(field, *path));
    return std::nullopt;
  }
  Reference reference{ReferenceKind::kFile, *path, "", *path};
  auto content = resolver_.resolve(reference);
  if (!content) {
    error(field, content.error().message);
    return std::nullopt;
  }
  secrets::registerSecret(*content);
  return std::move(*content);
}

std::string YamlReader::shown(const Field& field, std::string_view value) const {
  if (field.node.IsScalar() && mayHaveReferences(field.node.Scalar())) {
    auto parsed = parseValueTemplate(field.node.Scalar());
    if (parsed && parsed->hasReferences()) {
      return "the value of " + quoted(field.node.Scalar());
    }
  }
  return quoted(value);
}

std::optional<std::string> YamlReader::nonEmptyString(const Field& field) {
  auto value = string(field);
  if (value && trim(*value).empty()) {
    error(field, "must not be empty");
    return std::nullopt;
  }
  return value;
}

std::optional<ScalarText> YamlReader::scalarText(const Field& field) {
  auto text = string(field);
  if (!text) {
    return std::nullopt;
  }
  const YAML::Mark& mark = field.node.Mark();
  if (source_.empty() || mark.pos < 0) {
    return ScalarText{std::move(*text), location(field.mark), {}};
  }
  return mapScalar(source_, static_cast<size_t>(mark.pos), mark.line, mark.column, std::move(*text),
                   location(mark));
}

void YamlReader::duration(const Field* field, std::chrono::milliseconds& out) {
  if (field == nullptr) {
    return;
  }
  auto text = string(*field);
  if (!text) {
    return;
  }
  auto parsed = parseDuration(trim(*text));
  if (!parsed) {
    error(*field, "expected a duration like 250ms, 5s, 2m or 1h, found " + shown(*field, *text));
    return;
  }
  if (parsed->count() <= 0) {
    error(*field, "must be greater than 0");
    return;
  }
  out = *parsed;
}

// A positive integer; with `units`, optionally followed by KiB, MiB or GiB.
void YamlReader::positiveCount(const Field* field, size_t& out, bool units) {
  if (field == nullptr) {
    return;
  }
  auto raw = string(*field);
  if (!raw) {
    return;
  }
  const std::string text = trim(*raw);
  const std::string expected = units ? "expected a byte count like 67108864, 512KiB, 64MiB or 1GiB"
                                     : "expected a positive whole number";
  uint64_t number = 0;
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(begin, end, number);
  if (ptr == begin) {
    error(*field, expected + ", found " + shown(*field, text));
    return;
  }
  if (ec == std::errc::result_out_of_range) {
    error(*field, "too large: " + shown(*field, text));
    return;
  }
  const std::string unit = trim(std::string_view(ptr, static_cast<size_t>(end - ptr)));
  uint64_t factor = 1;
  if (!unit.empty()) {
    if (!units) {
      error(*field, expected + ", found " + shown(*field, text));
      return;
    }
    if (unit == "KiB") {
      factor = uint64_t{1} << 10;
    } else if (unit == "MiB") {
      factor = uint64_t{1} << 20;
    } else if (unit == "GiB") {
      factor = uint64_t{1} << 30;
    } else {
      error(*field, "unknown unit " + shown(*field, unit) +
                        "; use KiB, MiB or GiB (powers of 1024) or a plain "
                        "number of bytes");
      return;
    }
  }
  if (number > std::numeric_limits<size_t>::max() / factor) {
    error(*field, "too large: " + shown(*field, text));
    return;
  }
  if (number == 0) {
    error(*field, "must be greater than 0");
    return;
  }
  out = static_cast<size_t>(number * factor);
}

// A single word out of `values` (start, delivery).
std::optional<std::string> YamlReader::choice(const Field& field,
                                              const std::vector<std::string>& values) {
  auto text = string(field);
  if (!text) {
    return std::nullopt;
  }
  if (std::find(values.begin(), values.end(), *text) == values.end()) {
    error(field, "unknown value " + shown(field, *text) + suggestion(*text, values));
    return std::nullopt;
  }
  return text;
}

// "host:port" (IPv6 as "[::1]:port").
void YamlReader::hostPort(const Field* field, std::string& out) {
  if (field == nullptr) {
    return;
  }
  auto text = string(*field);
  if (!text) {
    return;
  }
  const std::string value = trim(*text);
  const size_t colon = value.rfind(':');
  const std::string expected =
      "expected host:port (like 127.0.0.1:19090), found " + shown(*field, value);
  if (colon == std::string::npos || colon == 0 || colon + 1 == value.size()) {
    error(*field, expected);
    return;
  }
  const std::string_view port_text(value.data() + colon + 1, value.size() - colon - 1);
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port == 0 ||
      port > 65535) {
    error(*field, expected + " (the port must be 1-65535)");
    return;
  }
  out = value;
}
std::vector<ConfigError> YamlReader::takeErrors() {
  std::stable_sort(errors_.begin(), errors_.end(), [](const auto& a, const auto& b) {
    return std::pair(a.location.line, a.location.column) <
           std::pair(b.location.line, b.location.column);
  });
  return std::move(errors_);
}

std::optional<bool> YamlReader::boolean(const Field& field) {
  auto value = string(field);
  if (!value) {
    return std::nullopt;
  }
  if (*value == "true" || *value == "false") {
    return *value == "true";
  }
  error(field, "expected true or false, found " + shown(field, *value));
  return std::nullopt;
}

std::optional<std::vector<Field>> YamlReader::items(const Field& list, std::string_view what) {
  if (!list.node.IsSequence()) {
    typeError(list, what);
    return std::nullopt;
  }
  std::vector<Field> out;
  size_t index = 0;
  for (auto it = list.node.begin(); it != list.node.end(); ++it, ++index) {
    const YAML::Node node = *it;
    out.push_back(Field{node, node.Mark(), list.path + "[" + std::to_string(index) + "]",
                        node.Mark(), list.key});
  }
  return out;
}

void YamlReader::stringList(const Field& field, std::vector<std::string>& out,
                            std::string_view what) {
  auto list = items(field, what);
  if (!list) {
    return;
  }
  for (const Field& item : *list) {
    if (auto text = string(item)) {
      if (text->empty()) {
        error(item, "must not be empty");
      } else {
        out.push_back(*text);
      }
    }
  }
}

void YamlReader::regexList(const Field& field, std::vector<std::string>& out) {
  auto list = items(field, "a list of regexes");
  if (!list) {
    return;
  }
  for (const Field& item : *list) {
    auto pattern = string(item);
    if (!pattern) {
      continue;
    }
    if (pattern->empty()) {
      error(item, "an empty regex matches no topic");
      continue;
    }
    if (pattern->size() > kMaxRegexLength) {
      error(item, "the regex is " + std::to_string(pattern->size()) + " characters long; at most " +
                      std::to_string(kMaxRegexLength) +
                      " are allowed (list several shorter regexes instead)");
      continue;
    }
    try {
      std::regex compiled(*pattern, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      error(item, "invalid regex " + shown(item, *pattern) + ": " + e.what());
      continue;
    }
    out.push_back(*pattern);
  }
}

}  // namespace causeway::config
