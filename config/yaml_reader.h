#pragma once

// The generic half of configuration loading: reading typed values out of a
// yaml-cpp tree while collecting every problem with its line and column. Knows
// nothing about Causeway's own keys; each top-level section of the
// configuration has a loader of its own (config/*_section.cc, and the sections
// of schema/, policies/ and egress/) built on this reader.

#include "config/config.h"
#include "config/references.h"
#include "config/scalar_position.h"

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace causeway::config {

// One problem in a configuration file: where, and what was expected.
struct ConfigError {
  SourceLocation location;
  std::string message;

  // "file.yaml:12:5: links[0].naming: expected one of identity, prefix,
  // template"
  std::string str() const;
};

// A value together with where to report problems about it. A null value's own
// mark points at the token after it (often the next line), so for those the
// key's mark is used instead.
struct Field {
  YAML::Node node;
  YAML::Mark mark;
  std::string path;
  YAML::Mark key_mark;  // the key's own mark for map entries; `mark` otherwise
  // The map key the value belongs to ("sasl.password"); list items carry their list's key.
  // Decides whether the value is a secret by name (secrets::isSecretName).
  std::string key = {};
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

// Reads values out of one configuration file. Every reading method reports what
// is wrong (type, range, syntax) at the value's line:column and returns nullopt
// / leaves `out` alone, so a loader goes on and reports the next problem too.
//
// Every value is read through string(), which resolves references
// (config/references.h: ${env:NAME}, ${file:/path[:key]}, ${directory:/path:key},
// $${ for a literal ${) and registers secrets for redaction (common/secrets.h):
// the value of each reference, and the whole value of a key whose name marks a
// secret. A section loader that reads its strings through this reader gets both
// without code of its own. Files are read once per reader, so one reader per
// load (a reload makes a new one and sees changed files).
// Not thread-safe; one per load.
class YamlReader {
public:
  // `source` is the file's text, kept by the caller for the reader's lifetime; without it,
  // positions inside scalars (scalarText) fall back to the scalar's own mark.
  explicit YamlReader(std::string file, std::string_view source = {},
                      const ReferenceSource& references = systemReferenceSource())
      : file_(std::move(file)), source_(source), resolver_(references) {}

  const std::string& file() const { return file_; }

  // --- Errors ---
  SourceLocation location(const YAML::Mark& mark) const;
  void addError(SourceLocation where, std::string message);
  void error(const YAML::Mark& mark, const std::string& path, const std::string& message);
  void error(const Field& field, const std::string& message);
  void typeError(const Field& field, std::string_view expected);
  bool hasErrors() const { return !errors_.empty(); }
  // The errors so far, sorted by position.
  std::vector<ConfigError> takeErrors();

  // --- Structure ---
  // The root of a document.
  static Field root(const YAML::Node& node) { return Field{node, node.Mark(), "", node.Mark()}; }
  // The entries of a map whose keys are names chosen by the user (clusters,
  // properties), in document order. Non-string and duplicate keys are reported
  // and skipped.
  std::vector<std::pair<std::string, Field>> entries(const Field& map);
  // The items of a list (reports a non-list as `what`).
  std::optional<std::vector<Field>> items(const Field& list, std::string_view what);
  // A map with a fixed set of keys; unknown keys are reported with the closest
  // known one.
  std::optional<Object> object(const Field& field, const std::vector<std::string>& known,
                               std::string_view what, const std::vector<FutureKey>& future = {});
  // The field, or an error "missing required key" where the object is named.
  const Field* require(const Object& object, const std::string& key, std::string_view meaning);

  // --- Values ---
  // The scalar with its references resolved. A reference that cannot be
  // resolved (unset variable, missing file or key, bad syntax) is an error at
  // the value's line:column naming the reference as written.
  std::optional<std::string> string(const Field& field);
  // For keys that name a file holding a secret (`token_file: /path`): the
  // file's content, trailing line ends removed, registered as a secret. The
  // path follows the rules of ${file:/path} (absolute; a regular file of at
  // most 1 MiB); a file that cannot be read is an error at the value's
  // line:column. (Writing `token: ${file:/path}` does the same with no code.)
  std::optional<std::string> secretFile(const Field& field);
  // How a message shows a value read from `field`: quoted, or, when it came
  // from a reference, as "the value of '${env:NAME}'" (the value may be
  // secret).
  std::string shown(const Field& field, std::string_view value) const;
  std::optional<std::string> nonEmptyString(const Field& field);
  // A string with the file position of each of its bytes, for values that are parsed further
  // (predicates, field paths) and report problems at an offset inside the value.
  std::optional<ScalarText> scalarText(const Field& field);
  std::optional<bool> boolean(const Field& field);
  // A duration like 250ms, 5s, 2m, 1h; > 0.
  void duration(const Field* field, std::chrono::milliseconds& out);
  // A positive integer; with `units`, optionally followed by KiB, MiB or GiB.
  void positiveCount(const Field* field, size_t& out, bool units);
  // A single word out of `values`.
  std::optional<std::string> choice(const Field& field, const std::vector<std::string>& values);
  // A list of strings (each non-empty).
  void stringList(const Field& field, std::vector<std::string>& out, std::string_view what);
  // A list of ECMAScript regexes, each compiled to check it.
  void regexList(const Field& field, std::vector<std::string>& out);
  // "host:port" (IPv6 as "[::1]:port").
  void hostPort(const Field* field, std::string& out);

private:
  std::string file_;
  std::string_view source_;
  std::vector<ConfigError> errors_;
  ReferenceResolver resolver_;
};

// --- Text helpers shared by the section loaders
// -------------------------------------------------

// Valid in Kafka topic names, consumer group ids and our record headers.
bool isNameChar(char c);
bool isValidName(std::string_view s);
// The closest candidate within a few edits (case-insensitive), or nullopt.
std::optional<std::string> closest(std::string_view word,
                                   const std::vector<std::string>& candidates);
// "; did you mean 'x'?" or, when nothing is close, "; expected one of: a, b,
// c".
std::string suggestion(std::string_view word, const std::vector<std::string>& candidates,
                       std::string_view list_intro = "expected one of");
// 'text', shortened when long (a fuzzer, or a pasted blob, can make it huge).
std::string quoted(std::string_view text);
std::string trim(std::string_view s);
std::string join(const std::vector<std::string>& items, std::string_view separator = ", ");
// "a map", "a list", "the value 'x'", "no value".
std::string describe(const YAML::Node& node);

// std::regex compiles recursively, about one stack frame chain per character: a
// pattern of tens of thousands of characters overflows the stack. Topic names
// have at most 249 characters, so no useful topic regex comes near this.
inline constexpr size_t kMaxRegexLength = 1000;

}  // namespace causeway::config
