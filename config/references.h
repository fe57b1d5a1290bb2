#pragma once

// References in configuration values, so that secrets live in the environment or in mounted
// files instead of the configuration itself (the syntax of Kafka's config providers):
//
//   ${env:NAME}            the environment variable NAME
//   ${file:/path}          the whole file, trailing line ends removed
//   ${file:/path:key}      the value of `key` in a Java-properties (key=value) file
//   ${directory:/path:key} the file named `key` in the folder /path (a mounted Kubernetes
//                          Secret), trailing line ends removed
//   $${                    a literal "${"
//
// A reference may be the whole value or a part of it ("user=\"x\" password=\"${env:PW}\";").
// Paths are absolute; a path ends at its first ':', so it cannot hold one. The parsing and the
// properties reader are pure (fuzz/config_reference_fuzz.cc); reading happens behind a
// ReferenceSource, so tests use fakes. YamlReader::string() resolves every value it reads.

#include "common/result.h"

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace causeway::config {

enum class ReferenceKind { kEnv, kFile, kDirectory };

struct Reference {
  ReferenceKind kind = ReferenceKind::kEnv;
  // kEnv: the variable's name; kFile and kDirectory: the absolute path.
  std::string name;
  // kFile: the key in a properties file, empty for the whole file. kDirectory: the file name.
  std::string key;
  // As written, "${file:/etc/kafka/client.properties:sasl.password}": what messages show.
  std::string text;
};

// A value as written: literal text (with $${ already turned into ${) and references, in order.
struct ValueTemplate {
  struct Part {
    std::string literal;
    std::optional<Reference> reference;  // set: this part is a reference, `literal` is empty
  };
  std::vector<Part> parts;

  bool hasReferences() const;
};

// One value may hold at most this many references (each may read a file).
inline constexpr size_t kMaxReferencesPerValue = 32;
// A referenced file larger than this is refused: it is not a secret, but a wrong path.
inline constexpr size_t kMaxReferencedFileBytes = 1u << 20;

// False when `text` certainly holds no reference and no escape (no '$'): the common case,
// checked before parsing.
inline bool mayHaveReferences(std::string_view text) {
  return text.find('$') != std::string_view::npos;
}

// Splits a value into literal text and references. An error, naming the reference as written,
// for a "${" that does not start a valid reference: no closing '}', an unknown provider, a bad
// variable name, a relative path, a missing or invalid key, too many references.
Result<ValueTemplate> parseValueTemplate(std::string_view text);

// A key=value file as java.util.Properties.load reads it (and so Kafka's FileConfigProvider):
// `#` and `!` comment lines, `=`, `:` or blanks between key and value, a trailing backslash
// continues the line, escapes \t \n \r \f \uXXXX and \<char>, the last of duplicate keys wins.
// Errors name the line, never a value (the file holds secrets).
Result<std::map<std::string, std::string>> parseProperties(std::string_view text);

// Removes trailing '\n' and '\r' (a file written by an editor or `echo` ends with one).
std::string_view trimLineEnds(std::string_view text);

// Where references are read from.
class ReferenceSource {
public:
  virtual ~ReferenceSource() = default;
  // The variable's value, or nullopt when it is not set.
  virtual std::optional<std::string> environment(const std::string& name) const = 0;
  // The content of a regular file of at most kMaxReferencedFileBytes, or why it cannot be read
  // ("No such file or directory", "is a directory", "larger than 1 MiB").
  virtual Result<std::string> readFile(const std::string& path) const = 0;
};

// The process environment and the file system. Never blocks on a FIFO or a device: only
// regular files are read.
const ReferenceSource& systemReferenceSource();

// Resolves the references of one configuration load. Each file is read once per resolver, so
// every reference into one file sees the same content even if the file changes meanwhile; a new
// load (a reload) makes a new resolver and sees the files as they are then. Not thread-safe.
class ReferenceResolver {
public:
  explicit ReferenceResolver(const ReferenceSource& source) : source_(source) {}

  struct Resolved {
    std::string value;
    // The value of each reference, in order: these are the secrets to hide.
    std::vector<std::string> from_references;
  };
  // The value with every reference replaced. The error names the reference as written and says
  // what is missing (never a value).
  Result<Resolved> resolve(const ValueTemplate& value);
  Result<std::string> resolve(const Reference& reference);

private:
  const Result<std::string>& file(const std::string& path);
  const Result<std::map<std::string, std::string>>& properties(const std::string& path);

  const ReferenceSource& source_;
  std::map<std::string, Result<std::string>> files_;
  std::map<std::string, Result<std::map<std::string, std::string>>> properties_;
};

}  // namespace causeway::config
