#include "config/config_loader.h"

#include "common/duration.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <regex>
#include <set>
#include <sstream>
#include <string_view>
#include <utility>

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

namespace {

// Anything larger is certainly not a Causeway configuration; refusing it keeps a mistaken path
// (a log file, a device) from being read into memory.
constexpr size_t kMaxFileBytes = 16u << 20;

// std::regex compiles recursively, about one stack frame chain per character: a pattern of tens
// of thousands of characters overflows the stack. Topic names have at most 249 characters, so
// no useful topic regex comes near this.
constexpr size_t kMaxRegexLength = 1000;

// Link names end up in "causeway.<link>.checkpoints" (Kafka allows 249 characters per topic).
constexpr size_t kMaxLinkNameLength = 200;

// Valid in Kafka topic names, consumer group ids and our record headers.
bool isNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-';
}

bool isValidName(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), isNameChar);
}

// Optimal string alignment distance (Levenshtein plus adjacent transpositions), ignoring case:
// "bootsrtap" and "Bootstrap" are both one edit from "bootstrap".
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

// The closest candidate within a few edits, or nullopt. Short words get less slack so that
// "id" does not turn into "at".
std::optional<std::string> closest(std::string_view word,
                                   const std::vector<std::string>& candidates) {
  if (word.size() > 64) {
    return std::nullopt;  // nobody mistypes a 64-character key; keeps the table small
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

std::string join(const std::vector<std::string>& items, std::string_view separator = ", ") {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) {
      out += separator;
    }
    out += items[i];
  }
  return out;
}

// "; did you mean 'x'?" or, when nothing is close, "; expected one of: a, b, c".
std::string suggestion(std::string_view word, const std::vector<std::string>& candidates,
                       std::string_view list_intro = "expected one of") {
  if (auto best = closest(word, candidates)) {
    return "; did you mean '" + *best + "'?";
  }
  if (candidates.empty()) {
    return "";
  }
  return "; " + std::string(list_intro) + ": " + join(candidates);
}

// Shortens user-provided text quoted in messages (a fuzzer, or a pasted blob, can make it huge).
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

// librdkafka properties Causeway sets itself: a user value would break its guarantees.
struct OwnedProperty {
  std::string_view name;
  std::string_view reason;
};

constexpr std::array kOwnedByBootstrap = {
    OwnedProperty{"bootstrap.servers", "set the cluster's `bootstrap` instead"},
    OwnedProperty{"metadata.broker.list",
                  "it is an alias of bootstrap.servers; set the cluster's `bootstrap` instead"},
};

constexpr std::array kOwnedByConsumer = {
    OwnedProperty{"group.id", "Causeway sets it to causeway.<link> for each link"},
    OwnedProperty{"enable.auto.commit",
                  "Causeway commits source offsets itself, only once the target acknowledged "
                  "every record below them"},
    OwnedProperty{"enable.auto.offset.store",
                  "Causeway stores source offsets itself, only once the target acknowledged "
                  "every record below them"},
    OwnedProperty{"partition.assignment.strategy",
                  "Causeway uses cooperative-sticky so that workers can join and leave a link "
                  "without stopping it"},
};

constexpr std::array kOwnedByConsumerStart = {
    OwnedProperty{"auto.offset.reset", "set the link's `start` (earliest or latest) instead"},
    OwnedProperty{"enable.partition.eof",
                  "Causeway's data plane does not use partition-EOF events"},
};

constexpr std::array kOwnedByProducer = {
    OwnedProperty{"acks", "Causeway requires acks=all: a record counts as replicated only once "
                          "every in-sync replica of the target has it"},
    OwnedProperty{"enable.idempotence",
                  "Causeway's producer is idempotent so that retries never reorder or "
                  "duplicate records within a partition"},
    OwnedProperty{"transactional.id", "Causeway manages transactions itself"},
};

enum class PropertyScope { kCluster, kConsumer, kProducer };

// A value together with where to report problems about it. A null value's own mark points at
// the token after it (often the next line), so for those the key's mark is used instead.
struct Field {
  YAML::Node node;
  YAML::Mark mark;
  std::string path;
  YAML::Mark key_mark;  // the key's own mark for map entries; `mark` otherwise
};

// The entries of a map with a fixed set of keys.
struct Object {
  YAML::Mark mark;
  std::string path;
  std::map<std::string, Field> fields;

  const Field* get(const std::string& key) const {
    auto it = fields.find(key);
    return it == fields.end() ? nullptr : &it->second;
  }
};

// Keys a later version will add, with a message better than "unknown key".
struct FutureKey {
  std::string_view key;
  std::string_view message;
};
constexpr std::array kFutureLinkKeys = {
    FutureKey{"policy", "policies are not available in this version"},
};

const std::vector<std::string> kTopLevelKeys = {"clusters", "links"};
const std::vector<std::string> kClusterKeys = {"bootstrap", "properties", "embedded_control",
                                               "connect_timeout"};
const std::vector<std::string> kLinkKeys = {"name",
                                            "source",
                                            "target",
                                            "topics",
                                            "naming",
                                            "start",
                                            "delivery",
                                            "transactional",
                                            "discovery_interval",
                                            "commit_interval",
                                            "max_in_flight_bytes",
                                            "max_in_flight_records",
                                            "consumer_properties",
                                            "producer_properties",
                                            "groups"};
const std::vector<std::string> kGroupsKeys = {"names", "include", "exclude", "sync_interval"};
const std::vector<std::string> kTopicsKeys = {"include", "exclude"};
const std::vector<std::string> kNamingKeys = {"prefix", "template"};
const std::vector<std::string> kNamingModes = {"identity", "prefix", "template"};
const std::vector<std::string> kStartValues = {"earliest", "latest"};
const std::vector<std::string> kDeliveryValues = {"at_least_once", "exactly_once"};
const std::vector<std::string> kTemplatePlaceholders = {"source", "target", "topic", "link"};

// Sees the parser's events only to learn where each document starts. YAML::LoadAll cannot be
// used: yaml-cpp 0.7 returns an endless series of empty documents for a stray ',' at document
// level (found by fuzz/config_fuzz.cc), so documents are counted here with a bound instead.
class DocumentCounter : public YAML::EventHandler {
public:
  struct Document {
    YAML::Mark first;  // mark of the document's first node
    bool only_null = true;
    bool has_node = false;
  };

  const std::vector<Document>& documents() const { return documents_; }

  void OnDocumentStart(const YAML::Mark& /*mark*/) override { documents_.emplace_back(); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t /*anchor*/) override { node(mark, true); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t /*anchor*/) override { node(mark, false); }
  void OnScalar(const YAML::Mark& mark, const std::string& /*tag*/, YAML::anchor_t /*anchor*/,
                const std::string& /*value*/) override {
    node(mark, false);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string& /*tag*/,
                       YAML::anchor_t /*anchor*/, YAML::EmitterStyle::value /*style*/) override {
    node(mark, false);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string& /*tag*/, YAML::anchor_t /*anchor*/,
                  YAML::EmitterStyle::value /*style*/) override {
    node(mark, false);
  }
  void OnMapEnd() override {}

  // True when the last two documents are the same empty document at the same place: the parser
  // is not advancing (it is stuck on a token that cannot start a node).
  bool stuck() const {
    if (documents_.size() < 2) {
      return false;
    }
    const Document& a = documents_[documents_.size() - 2];
    const Document& b = documents_.back();
    return a.only_null && b.only_null && a.first.pos == b.first.pos;
  }

private:
  void node(const YAML::Mark& mark, bool is_null) {
    if (documents_.empty()) {
      documents_.emplace_back();
    }
    Document& document = documents_.back();
    if (!document.has_node) {
      document.first = mark;
      document.has_node = true;
    }
    document.only_null = document.only_null && is_null;
  }

  std::vector<Document> documents_;
};

// One load: walks the YAML tree along the schema (never recursing on the document's own shape,
// so aliases that form cycles cannot make it loop) and collects every error it finds.
class Loader {
public:
  explicit Loader(std::string file) : file_(std::move(file)) {}

  LoadResult load(const std::string& text) {
    LoadResult result;
    try {
      DocumentCounter counter;
      {
        std::istringstream input(text);
        YAML::Parser parser(input);
        // Three documents are enough to tell "more than one" and "stuck" apart.
        for (int i = 0; i < 3 && !counter.stuck() && parser.HandleNextDocument(counter); ++i) {
        }
      }
      const auto& documents = counter.documents();
      if (counter.stuck()) {
        error(documents.back().first, "",
              "YAML syntax error: unexpected character (a stray ',' or similar outside [ ] "
              "and { })");
      } else if (documents.empty()) {
        addError(SourceLocation{file_, 1, 1},
                 "the file is empty; expected a map with `clusters` and `links`");
      } else {
        if (documents.size() > 1) {
          error(documents[1].first, "",
                "the file holds more than one YAML document (---); a configuration is exactly "
                "one");
        }
        Config config = loadRoot(YAML::Load(text));
        if (errors_.empty()) {
          result.config = std::move(config);
        }
      }
    } catch (const YAML::Exception& e) {
      // Syntax errors (ParserException, DeepRecursion): the mark is where the parser stopped.
      error(e.mark, "", "YAML syntax error: " + e.msg);
    } catch (const std::exception& e) {
      // Not expected (the walk checks every type before converting), but the loader never throws.
      addError(SourceLocation{file_, 0, 0}, std::string("cannot load: ") + e.what());
    }
    if (!errors_.empty()) {
      result.config.reset();
    }
    std::stable_sort(errors_.begin(), errors_.end(), [](const auto& a, const auto& b) {
      return std::pair(a.location.line, a.location.column) <
             std::pair(b.location.line, b.location.column);
    });
    result.errors = std::move(errors_);
    return result;
  }

private:
  // --- Errors ---------------------------------------------------------------------------------

  SourceLocation location(const YAML::Mark& mark) const {
    // yaml-cpp marks are 0-based and -1 when unknown.
    return SourceLocation{file_, mark.line >= 0 ? mark.line + 1 : 0,
                          mark.column >= 0 ? mark.column + 1 : 0};
  }

  void addError(SourceLocation where, std::string message) {
    errors_.push_back(ConfigError{std::move(where), std::move(message)});
  }

  void error(const YAML::Mark& mark, const std::string& path, const std::string& message) {
    addError(location(mark), path.empty() ? message : path + ": " + message);
  }

  void error(const Field& field, const std::string& message) {
    error(field.mark, field.path, message);
  }

  void typeError(const Field& field, std::string_view expected) {
    error(field, "expected " + std::string(expected) + ", found " + describe(field.node));
  }

  // --- Structure ------------------------------------------------------------------------------

  static Field child(const YAML::Node& key, const YAML::Node& value, std::string path) {
    return Field{value, value.IsNull() ? key.Mark() : value.Mark(), std::move(path), key.Mark()};
  }

  // The entries of a map whose keys are names chosen by the user (clusters, properties), in
  // document order. Non-string and duplicate keys are reported and skipped.
  std::vector<std::pair<std::string, Field>> entries(const Field& map) {
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
      out.emplace_back(name, child(key, value, path));
    }
    return out;
  }

  // A map with a fixed set of keys; unknown keys are reported with the closest known one.
  std::optional<Object> object(const Field& field, const std::vector<std::string>& known,
                               std::string_view what, const FutureKey* future_begin = nullptr,
                               const FutureKey* future_end = nullptr) {
    if (!field.node.IsMap()) {
      typeError(field, what);
      return std::nullopt;
    }
    // Missing keys are reported where the map is named ("east:", "topics:", "- name: ..."),
    // which for a map entry is its key.
    Object object{field.key_mark, field.path, {}};
    for (auto& entry : entries(field)) {
      const std::string& key = entry.first;
      Field& value = entry.second;
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        const auto future = std::find_if(future_begin, future_end,
                                         [&key](const FutureKey& f) { return f.key == key; });
        if (future != future_end) {
          error(value.key_mark, field.path, std::string(future->message));
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

  const Field* require(const Object& object, const std::string& key, std::string_view meaning) {
    const Field* field = object.get(key);
    if (field == nullptr) {
      error(object.mark, object.path,
            "missing required key '" + key + "' (" + std::string(meaning) + ")");
    }
    return field;
  }

  // --- Values ---------------------------------------------------------------------------------

  std::optional<std::string> string(const Field& field) {
    if (!field.node.IsScalar()) {
      typeError(field, "a string");
      return std::nullopt;
    }
    return field.node.Scalar();
  }

  std::optional<std::string> nonEmptyString(const Field& field) {
    auto value = string(field);
    if (value && trim(*value).empty()) {
      error(field, "must not be empty");
      return std::nullopt;
    }
    return value;
  }

  void duration(const Field* field, std::chrono::milliseconds& out) {
    if (field == nullptr) {
      return;
    }
    auto text = string(*field);
    if (!text) {
      return;
    }
    auto parsed = parseDuration(trim(*text));
    if (!parsed) {
      error(*field, "expected a duration like 250ms, 5s, 2m or 1h, found " + quoted(*text));
      return;
    }
    if (parsed->count() <= 0) {
      error(*field, "must be greater than 0");
      return;
    }
    out = *parsed;
  }

  // A positive integer; with `units`, optionally followed by KiB, MiB or GiB.
  void positiveCount(const Field* field, size_t& out, bool units) {
    if (field == nullptr) {
      return;
    }
    auto raw = string(*field);
    if (!raw) {
      return;
    }
    const std::string text = trim(*raw);
    const std::string expected = units
                                     ? "expected a byte count like 67108864, 512KiB, 64MiB or 1GiB"
                                     : "expected a positive whole number";
    uint64_t number = 0;
    const char* begin = text.data();
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(begin, end, number);
    if (ptr == begin) {
      error(*field, expected + ", found " + quoted(text));
      return;
    }
    if (ec == std::errc::result_out_of_range) {
      error(*field, "too large: " + quoted(text));
      return;
    }
    const std::string unit = trim(std::string_view(ptr, static_cast<size_t>(end - ptr)));
    uint64_t factor = 1;
    if (!unit.empty()) {
      if (!units) {
        error(*field, expected + ", found " + quoted(text));
        return;
      }
      if (unit == "KiB") {
        factor = uint64_t{1} << 10;
      } else if (unit == "MiB") {
        factor = uint64_t{1} << 20;
      } else if (unit == "GiB") {
        factor = uint64_t{1} << 30;
      } else {
        error(*field, "unknown unit " + quoted(unit) +
                          "; use KiB, MiB or GiB (powers of 1024) or a plain number of bytes");
        return;
      }
    }
    if (number > std::numeric_limits<size_t>::max() / factor) {
      error(*field, "too large: " + quoted(text));
      return;
    }
    if (number == 0) {
      error(*field, "must be greater than 0");
      return;
    }
    out = static_cast<size_t>(number * factor);
  }

  // A single word out of `values` (start, delivery).
  std::optional<std::string> choice(const Field& field, const std::vector<std::string>& values) {
    auto text = string(field);
    if (!text) {
      return std::nullopt;
    }
    if (std::find(values.begin(), values.end(), *text) == values.end()) {
      error(field, "unknown value " + quoted(*text) + suggestion(*text, values));
      return std::nullopt;
    }
    return text;
  }

  // librdkafka passthrough: string -> string; scalars of any YAML type are taken as written.
  void properties(const Field* field, PropertyScope scope,
                  std::map<std::string, std::string>& out) {
    if (field == nullptr) {
      return;
    }
    if (!field->node.IsMap()) {
      typeError(*field, "a map of librdkafka property -> value");
      return;
    }
    for (auto& [key, value] : entries(*field)) {
      if (const char* reason = ownedReason(key, scope)) {
        error(value.key_mark, value.path,
              "Causeway owns this property and it cannot be set here: " + std::string(reason));
        continue;
      }
      if (value.node.IsNull()) {
        error(value, "has no value (write \"\" for an empty string)");
        continue;
      }
      if (!value.node.IsScalar()) {
        typeError(value, "a string, number or boolean");
        continue;
      }
      out[key] = value.node.Scalar();
    }
  }

  static const char* ownedReason(const std::string& key, PropertyScope scope) {
    for (const auto& owned : kOwnedByBootstrap) {
      if (owned.name == key) {
        return owned.reason.data();
      }
    }
    if (scope != PropertyScope::kProducer) {
      for (const auto& owned : kOwnedByConsumer) {
        if (owned.name == key) {
          return owned.reason.data();
        }
      }
      for (const auto& owned : kOwnedByConsumerStart) {
        if (owned.name == key) {
          return owned.reason.data();
        }
      }
    }
    if (scope != PropertyScope::kConsumer) {
      for (const auto& owned : kOwnedByProducer) {
        if (owned.name == key) {
          return owned.reason.data();
        }
      }
    }
    return nullptr;
  }

  // "host:port" (IPv6 as "[::1]:port").
  void hostPort(const Field* field, std::string& out) {
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
        "expected host:port (like 127.0.0.1:19090), found " + quoted(value);
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

  // --- Clusters -------------------------------------------------------------------------------

  void loadClusters(const Field& field, Config& config) {
    if (!field.node.IsMap()) {
      typeError(field, "a map of cluster name -> cluster settings");
      return;
    }
    if (field.node.size() == 0) {
      error(field, "at least one cluster is required");
      return;
    }
    have_clusters_ = true;
    auto clusters = entries(field);
    for (auto& [name, value] : clusters) {
      const YAML::Mark key_mark = value.key_mark;
      cluster_names_.push_back(name);
      ClusterConfig cluster;
      cluster.name = name;
      cluster.location = location(key_mark);
      if (!isValidName(name)) {
        error(key_mark, value.path,
              "cluster names may only use letters, digits, '.', '_' and '-' (they appear in "
              "mirror topic names and record headers)");
      }
      if (auto object = this->object(value, kClusterKeys, "a map of cluster settings")) {
        if (const Field* bootstrap =
                require(*object, "bootstrap", "the brokers to connect to, host:port[,host:port]")) {
          if (auto text = nonEmptyString(*bootstrap)) {
            cluster.bootstrap = trim(*text);
          }
        }
        properties(object->get("properties"), PropertyScope::kCluster, cluster.properties);
        hostPort(object->get("embedded_control"), cluster.embedded_control);
        duration(object->get("connect_timeout"), cluster.connect_timeout);
      }
      config.clusters.emplace(name, std::move(cluster));
    }
  }

  // --- Links ----------------------------------------------------------------------------------

  void loadLinks(const Field& field, Config& config) {
    if (!field.node.IsSequence()) {
      typeError(field, "a list of links");
      return;
    }
    if (field.node.size() == 0) {
      error(field, "at least one link is required");
      return;
    }
    std::map<std::string, int> first_line;
    size_t index = 0;
    for (auto it = field.node.begin(); it != field.node.end(); ++it, ++index) {
      const YAML::Node node = *it;
      const Field link_field{node, node.Mark(), field.path + "[" + std::to_string(index) + "]",
                             node.Mark()};
      LinkConfig link;
      link.location = location(node.Mark());
      if (auto object =
              this->object(link_field, kLinkKeys, "a map of link settings", kFutureLinkKeys.data(),
                           kFutureLinkKeys.data() + kFutureLinkKeys.size())) {
        loadLink(*object, config, first_line, link);
      }
      config.links.push_back(std::move(link));
    }
  }

  void loadLink(const Object& object, const Config& config, std::map<std::string, int>& first_line,
                LinkConfig& link) {
    if (const Field* name = require(object, "name", "a unique name for the link")) {
      if (auto text = string(*name)) {
        if (!isValidName(*text)) {
          error(*name,
                "link names may only use letters, digits, '.', '_' and '-' and must not be "
                "empty (the name becomes a consumer group id and topic names), found " +
                    quoted(*text));
        } else if (text->size() > kMaxLinkNameLength) {
          error(*name, "link names may be at most " + std::to_string(kMaxLinkNameLength) +
                           " characters (the name becomes part of topic names)");
        } else {
          auto [seen, inserted] = first_line.emplace(*text, location(name->mark).line);
          if (!inserted) {
            error(*name, "duplicate link name " + quoted(*text) + " (first defined at line " +
                             std::to_string(seen->second) + ")");
          }
        }
        link.name = *text;
      }
    }
    const Field* source = require(object, "source", "the cluster to read from");
    const Field* target = require(object, "target", "the cluster to write to");
    if (source != nullptr) {
      clusterReference(*source, link.source);
    }
    if (target != nullptr) {
      clusterReference(*target, link.target);
    }
    if (const Field* topics = require(object, "topics", "which source topics to replicate")) {
      loadTopics(*topics, link.topics);
    }
    if (const Field* naming = object.get("naming")) {
      loadNaming(*naming, link.naming);
    }
    if (const Field* start = object.get("start")) {
      if (auto value = choice(*start, kStartValues)) {
        link.start = *value == "latest" ? StartPosition::kLatest : StartPosition::kEarliest;
      }
    }
    if (const Field* delivery = object.get("delivery")) {
      if (auto value = choice(*delivery, kDeliveryValues)) {
        link.delivery =
            *value == "exactly_once" ? DeliveryMode::kExactlyOnce : DeliveryMode::kAtLeastOnce;
      }
    }
    duration(object.get("discovery_interval"), link.discovery_interval);
    duration(object.get("commit_interval"), link.commit_interval);
    positiveCount(object.get("max_in_flight_bytes"), link.max_in_flight_bytes, true);
    positiveCount(object.get("max_in_flight_records"), link.max_in_flight_records, false);
    properties(object.get("consumer_properties"), PropertyScope::kConsumer,
               link.consumer_properties);
    properties(object.get("producer_properties"), PropertyScope::kProducer,
               link.producer_properties);
    if (const Field* transactional = object.get("transactional")) {
      if (auto value = string(*transactional)) {
        if (*value == "true" || *value == "false") {
          link.transactional = *value == "true";
        } else {
          error(*transactional, "expected true or false, found " + quoted(*value));
        }
      }
      if (link.transactional && link.delivery != DeliveryMode::kExactlyOnce) {
        error(*transactional, "transactional writes need delivery: exactly_once");
      }
    }
    if (const Field* groups = object.get("groups")) {
      loadGroups(*groups, link.groups);
      if (link.groups.enabled() && link.delivery != DeliveryMode::kExactlyOnce) {
        error(*groups, "group offset sync needs delivery: exactly_once (an at-least-once "
                       "target may hold a record twice, so offsets have no exact translation)");
      }
    }

    if (target != nullptr && !link.source.empty() && link.source == link.target) {
      error(*target, "the target is the source cluster " + quoted(link.source) +
                         (link.naming.mode == NamingMode::kIdentity
                              ? "; with identity naming every mirror topic would be its own source "
                                "(a replication loop)"
                              : "; a link replicates between two different clusters"));
    } else if (target != nullptr && !link.source.empty() && !link.target.empty()) {
      const auto s = config.clusters.find(link.source);
      const auto t = config.clusters.find(link.target);
      if (s != config.clusters.end() && t != config.clusters.end() &&
          !s->second.bootstrap.empty() && s->second.bootstrap == t->second.bootstrap) {
        error(*target, "clusters " + quoted(link.source) + " and " + quoted(link.target) +
                           " have the same bootstrap " + quoted(s->second.bootstrap) +
                           ", so this link would write into the cluster it reads from");
      }
    }
  }

  void clusterReference(const Field& field, std::string& out) {
    auto name = string(field);
    if (!name) {
      return;
    }
    if (have_clusters_ &&
        std::find(cluster_names_.begin(), cluster_names_.end(), *name) == cluster_names_.end()) {
      error(field, "unknown cluster " + quoted(*name) +
                       suggestion(*name, cluster_names_, "the clusters are"));
      return;
    }
    out = *name;
  }

  void loadTopics(const Field& field, TopicSelectionConfig& out) {
    auto object = this->object(field, kTopicsKeys, "a map with include (and exclude) regex lists");
    if (!object) {
      return;
    }
    if (const Field* include = require(*object, "include", "regexes of the topics to replicate")) {
      if (include->node.IsSequence() && include->node.size() == 0) {
        error(*include, "must list at least one regex");
      } else {
        regexList(*include, out.include);
      }
    }
    if (const Field* exclude = object->get("exclude")) {
      regexList(*exclude, out.exclude);
    }
  }

  void loadGroups(const Field& field, GroupSyncConfig& out) {
    auto object = this->object(field, kGroupsKeys,
                               "a map with names (a list of groups) and/or include/exclude regexes");
    if (!object) {
      return;
    }
    if (const Field* names = object->get("names")) {
      if (!names->node.IsSequence()) {
        typeError(*names, "a list of consumer group names");
      } else {
        size_t index = 0;
        for (auto it = names->node.begin(); it != names->node.end(); ++it, ++index) {
          const YAML::Node node = *it;
          const Field item{node, node.Mark(), names->path + "[" + std::to_string(index) + "]",
                           node.Mark()};
          if (auto name = string(item)) {
            if (name->empty()) {
              error(item, "a consumer group name cannot be empty");
            } else {
              out.names.push_back(*name);
            }
          }
        }
      }
    }
    if (const Field* include = object->get("include")) {
      regexList(*include, out.include);
    }
    if (const Field* exclude = object->get("exclude")) {
      regexList(*exclude, out.exclude);
    }
    duration(object->get("sync_interval"), out.sync_interval);
    if (object->get("names") == nullptr && object->get("include") == nullptr) {
      error(field, "name the groups to sync: names (a list) and/or include (regexes)");
    }
  }

  void regexList(const Field& field, std::vector<std::string>& out) {
    if (!field.node.IsSequence()) {
      typeError(field, "a list of regexes");
      return;
    }
    size_t index = 0;
    for (auto it = field.node.begin(); it != field.node.end(); ++it, ++index) {
      const YAML::Node node = *it;
      const Field item{node, node.Mark(), field.path + "[" + std::to_string(index) + "]",
                       node.Mark()};
      auto pattern = string(item);
      if (!pattern) {
        continue;
      }
      if (pattern->empty()) {
        error(item, "an empty regex matches no topic");
        continue;
      }
      if (pattern->size() > kMaxRegexLength) {
        error(item, "the regex is " + std::to_string(pattern->size()) +
                        " characters long; at most " + std::to_string(kMaxRegexLength) +
                        " are allowed (list several shorter regexes instead)");
        continue;
      }
      try {
        std::regex compiled(*pattern, std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        error(item, "invalid regex " + quoted(*pattern) + ": " + e.what());
        continue;
      }
      out.push_back(*pattern);
    }
  }

  void loadNaming(const Field& field, NamingConfig& out) {
    if (field.node.IsScalar()) {
      const std::string& mode = field.node.Scalar();
      if (mode == "identity") {
        out.mode = NamingMode::kIdentity;
      } else if (mode == "prefix") {
        error(field, "prefix needs a value, like naming: {prefix: \"east.\"}");
      } else if (mode == "template") {
        error(field, "template needs a value, like naming: {template: \"{source}.{topic}\"}");
      } else {
        error(field, "unknown naming " + quoted(mode) + suggestion(mode, kNamingModes) +
                         " (identity, {prefix: \"east.\"} or {template: \"{source}.{topic}\"})");
      }
      return;
    }
    auto object = this->object(field, kNamingKeys,
                               "identity, {prefix: \"east.\"} or {template: \"{source}.{topic}\"}");
    if (!object) {
      return;
    }
    const Field* prefix = object->get("prefix");
    const Field* templ = object->get("template");
    if (prefix != nullptr && templ != nullptr) {
      error(object->mark, object->path, "set either prefix or template, not both");
      return;
    }
    if (prefix == nullptr && templ == nullptr) {
      if (field.node.size() == 0) {
        error(object->mark, object->path, "expected prefix or template");
      }
      return;  // otherwise only unknown keys, already reported
    }
    if (prefix != nullptr) {
      if (auto value = nonEmptyString(*prefix)) {
        if (!isValidName(*value)) {
          error(*prefix,
                "the prefix becomes part of topic names and may only use letters, "
                "digits, '.', '_' and '-', found " +
                    quoted(*value));
          return;
        }
        out.mode = NamingMode::kPrefix;
        out.value = *value;
      }
      return;
    }
    if (auto value = nonEmptyString(*templ)) {
      if (auto problem = templateProblem(*value)) {
        error(*templ, *problem);
        return;
      }
      out.mode = NamingMode::kTemplate;
      out.value = *value;
    }
  }

  // Why a naming template is unusable, or nullopt when it is fine.
  static std::optional<std::string> templateProblem(const std::string& text) {
    bool has_topic = false;
    for (size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      if (c == '{') {
        const size_t close = text.find('}', i + 1);
        if (close == std::string::npos) {
          return "unclosed '{' in template " + quoted(text);
        }
        const std::string name = text.substr(i + 1, close - i - 1);
        if (std::find(kTemplatePlaceholders.begin(), kTemplatePlaceholders.end(), name) ==
            kTemplatePlaceholders.end()) {
          auto best = closest(name, kTemplatePlaceholders);
          return "unknown placeholder " + quoted("{" + name + "}") +
                 (best ? "; did you mean '{" + *best + "}'?" : std::string()) +
                 " (allowed: {source}, {target}, {topic}, {link})";
        }
        has_topic = has_topic || name == "topic";
        i = close;
      } else if (c == '}') {
        return "'}' without a matching '{' in template " + quoted(text);
      } else if (!isNameChar(c)) {
        return "template " + quoted(text) +
               " has a character topic names cannot contain; use letters, digits, '.', '_', '-'";
      }
    }
    if (!has_topic) {
      return "the template must contain {topic}, or every source topic would map to the same "
             "mirror topic";
    }
    return std::nullopt;
  }

  // --- Root -----------------------------------------------------------------------------------

  Config loadRoot(const YAML::Node& root) {
    Config config;
    const Field root_field{root, root.Mark(), "", root.Mark()};
    if (root.IsNull()) {
      addError(SourceLocation{file_, 1, 1},
               "the file has no settings; expected a map with `clusters` and `links`");
      return config;
    }
    auto object = this->object(root_field, kTopLevelKeys, "a map with `clusters` and `links`");
    if (!object) {
      return config;
    }
    if (const Field* clusters = require(*object, "clusters", "the Kafka clusters, by name")) {
      loadClusters(*clusters, config);
    }
    if (const Field* links = require(*object, "links", "the list of replication links")) {
      loadLinks(*links, config);
    }
    return config;
  }

  std::string file_;
  std::vector<ConfigError> errors_;
  // Every cluster key, valid or not, so links are not also flagged for a cluster with errors.
  std::vector<std::string> cluster_names_;
  // False when `clusters` is missing or unusable: links' cluster names then cannot be checked,
  // and reporting each of them as unknown would bury the one real error.
  bool have_clusters_ = false;
};

} // namespace

LoadResult loadConfigString(const std::string& yaml, const std::string& file_name) {
  return Loader(file_name).load(yaml);
}

LoadResult loadConfigFile(const std::string& path) {
  auto fail = [&](const std::string& message) {
    LoadResult result;
    result.errors.push_back(ConfigError{SourceLocation{path, 0, 0}, message});
    return result;
  };
  std::unique_ptr<std::FILE, decltype(&std::fclose)> file(std::fopen(path.c_str(), "rb"),
                                                          &std::fclose);
  if (!file) {
    return fail(std::string("cannot open: ") + std::strerror(errno));
  }
  std::string text;
  std::array<char, 64 * 1024> buffer;
  while (true) {
    const size_t n = std::fread(buffer.data(), 1, buffer.size(), file.get());
    text.append(buffer.data(), n);
    if (text.size() > kMaxFileBytes) {
      return fail("cannot read: larger than " + std::to_string(kMaxFileBytes >> 20) +
                  " MiB, which is not a Causeway configuration");
    }
    if (n < buffer.size()) {
      if (std::ferror(file.get()) != 0) {
        return fail(std::string("cannot read: ") + std::strerror(errno));
      }
      break;
    }
  }
  return loadConfigString(text, path);
}

} // namespace causeway::config
