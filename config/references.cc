#include "config/references.h"

#include "config/yaml_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace causeway::config {
namespace {

constexpr std::string_view kForms =
    "${env:NAME}, ${file:/path}, ${file:/path:key} or ${directory:/path:key}";
constexpr std::string_view kEscapeHint = "; write $${ for a literal ${";

bool isEnvName(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0])) != 0) {
    return false;
  }
  for (char c : name) {
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '_') {
      return false;
    }
  }
  return true;
}

Error referenceError(std::string_view text, const std::string& message) {
  return Error{quoted(text) + ": " + message};
}

// Checks the part after "file:" or "directory:" and splits it into path and key.
Result<Reference> pathReference(ReferenceKind kind, std::string_view text, std::string_view rest) {
  const size_t colon = rest.find(':');
  Reference reference{kind, std::string(rest.substr(0, colon)), "", std::string(text)};
  if (reference.name.empty()) {
    return referenceError(text, "the path is missing; expected " + std::string(kForms));
  }
  if (reference.name.front() != '/') {
    return referenceError(text, "the path must be absolute (start with '/'); it is read on the "
                                "host that loads the configuration");
  }
  if (reference.name.find('\0') != std::string::npos) {
    return referenceError(text, "the path holds a NUL character");
  }
  if (colon != std::string_view::npos) {
    reference.key = std::string(rest.substr(colon + 1));
    if (reference.key.empty()) {
      return referenceError(text, "the key after the path's ':' is empty");
    }
  }
  if (kind == ReferenceKind::kDirectory) {
    if (colon == std::string_view::npos) {
      return referenceError(text, "a directory reference names a file in the folder: "
                                  "${directory:/path:key}");
    }
    if (reference.key.find('/') != std::string::npos || reference.key == "." ||
        reference.key == ".." || reference.key.find('\0') != std::string::npos) {
      return referenceError(text, "the key must be a file name in the folder (no '/'; not '.' "
                                  "or '..')");
    }
  }
  return reference;
}

Result<Reference> parseReference(std::string_view text) {
  // text is "${...}"
  const std::string_view body = text.substr(2, text.size() - 3);
  const size_t colon = body.find(':');
  if (colon == std::string_view::npos) {
    return referenceError(text, "not a reference; expected " + std::string(kForms) +
                                    std::string(kEscapeHint));
  }
  const std::string_view provider = body.substr(0, colon);
  const std::string_view rest = body.substr(colon + 1);
  if (provider == "env") {
    if (!isEnvName(rest)) {
      return referenceError(text, "expected an environment variable name (letters, digits and "
                                  "'_', not starting with a digit)");
    }
    return Reference{ReferenceKind::kEnv, std::string(rest), "", std::string(text)};
  }
  if (provider == "file") {
    return pathReference(ReferenceKind::kFile, text, rest);
  }
  if (provider == "directory") {
    return pathReference(ReferenceKind::kDirectory, text, rest);
  }
  return referenceError(text, "unknown provider " + quoted(provider) +
                                  suggestion(provider, {"env", "file", "directory"}) +
                                  std::string(kEscapeHint));
}

void appendUtf8(std::string& out, uint32_t code_point) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

// The four hex digits of a \uXXXX escape starting at text[pos] (after "\u"), or nullopt.
std::optional<uint32_t> hex4(std::string_view text, size_t pos) {
  if (pos + 4 > text.size()) {
    return std::nullopt;
  }
  uint32_t value = 0;
  for (size_t i = pos; i < pos + 4; ++i) {
    const char c = text[i];
    value <<= 4;
    if (c >= '0' && c <= '9') {
      value |= static_cast<uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      value |= static_cast<uint32_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      value |= static_cast<uint32_t>(c - 'A' + 10);
    } else {
      return std::nullopt;
    }
  }
  return value;
}

// java.util.Properties' loadConvert: the escapes of a key or value.
Result<std::string> unescape(std::string_view text, int line) {
  auto malformed = [line](const char* what) {
    return Error{"line " + std::to_string(line) + ": " + what};
  };
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c != '\\') {
      out += c;
      continue;
    }
    if (i + 1 >= text.size()) {
      break;  // a lone backslash at the very end (of the file) escapes nothing: dropped
    }
    const char e = text[++i];
    switch (e) {
    case 't':
      out += '\t';
      break;
    case 'n':
      out += '\n';
      break;
    case 'r':
      out += '\r';
      break;
    case 'f':
      out += '\f';
      break;
    case 'u': {
      auto unit = hex4(text, i + 1);
      if (!unit) {
        return malformed("malformed \\uxxxx escape (four hex digits expected)");
      }
      i += 4;
      uint32_t code_point = *unit;
      if (code_point >= 0xD800 && code_point <= 0xDBFF) {
        // A UTF-16 surrogate pair is two escapes: \uD83D\uDE00.
        std::optional<uint32_t> low;
        if (i + 2 < text.size() && text[i + 1] == '\\' && text[i + 2] == 'u') {
          low = hex4(text, i + 3);
        }
        if (!low || *low < 0xDC00 || *low > 0xDFFF) {
          return malformed("\\u escape of a lone UTF-16 high surrogate");
        }
        i += 6;
        code_point = 0x10000 + ((code_point - 0xD800) << 10) + (*low - 0xDC00);
      } else if (code_point >= 0xDC00 && code_point <= 0xDFFF) {
        return malformed("\\u escape of a lone UTF-16 low surrogate");
      }
      appendUtf8(out, code_point);
      break;
    }
    default:
      out += e;
    }
  }
  return out;
}

bool isBlank(char c) { return c == ' ' || c == '\t' || c == '\f'; }

// Natural lines of a properties file: split at \n, \r or \r\n.
class LineSplitter {
public:
  explicit LineSplitter(std::string_view text) : text_(text) {}
  bool next(std::string_view& line) {
    if (pos_ >= text_.size()) {
      return false;
    }
    size_t end = pos_;
    while (end < text_.size() && text_[end] != '\n' && text_[end] != '\r') {
      ++end;
    }
    line = text_.substr(pos_, end - pos_);
    pos_ = end;
    if (pos_ < text_.size() && text_[pos_] == '\r') {
      ++pos_;
    }
    if (pos_ < text_.size() && text_[pos_] == '\n') {
      ++pos_;  // "\n", or the "\n" of "\r\n"
    }
    ++number_;
    return true;
  }
  int number() const { return number_; }

private:
  std::string_view text_;
  size_t pos_ = 0;
  int number_ = 0;
};

std::string_view skipBlanks(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && isBlank(line[i])) {
    ++i;
  }
  return line.substr(i);
}

bool endsWithOddBackslashes(std::string_view line) {
  size_t count = 0;
  while (count < line.size() && line[line.size() - 1 - count] == '\\') {
    ++count;
  }
  return count % 2 == 1;
}

}  // namespace

bool ValueTemplate::hasReferences() const {
  for (const auto& part : parts) {
    if (part.reference) {
      return true;
    }
  }
  return false;
}

std::string_view trimLineEnds(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

Result<ValueTemplate> parseValueTemplate(std::string_view text) {
  ValueTemplate out;
  std::string literal;
  size_t references = 0;
  size_t i = 0;
  while (i < text.size()) {
    if (text.compare(i, 3, "$${") == 0) {
      literal += "${";
      i += 3;
      continue;
    }
    if (text.compare(i, 2, "${") != 0) {
      literal += text[i++];
      continue;
    }
    const size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      return Error{quoted(text.substr(i)) + ": a reference without its closing '}'; expected " +
                   std::string(kForms) + std::string(kEscapeHint)};
    }
    auto reference = parseReference(text.substr(i, close + 1 - i));
    if (!reference) {
      return reference.error();
    }
    if (++references > kMaxReferencesPerValue) {
      return Error{"more than " + std::to_string(kMaxReferencesPerValue) +
                   " references in one value"};
    }
    if (!literal.empty()) {
      out.parts.push_back({std::move(literal), std::nullopt});
      literal.clear();
    }
    out.parts.push_back({"", std::move(*reference)});
    i = close + 1;
  }
  if (!literal.empty() || out.parts.empty()) {
    out.parts.push_back({std::move(literal), std::nullopt});
  }
  return out;
}

Result<std::map<std::string, std::string>> parseProperties(std::string_view text) {
  std::map<std::string, std::string> out;
  LineSplitter lines(text);
  std::string_view natural;
  while (lines.next(natural)) {
    std::string_view line = skipBlanks(natural);
    if (line.empty() || line.front() == '#' || line.front() == '!') {
      continue;
    }
    const int first_line = lines.number();
    std::string logical;
    while (true) {
      if (!endsWithOddBackslashes(line)) {
        logical += line;
        break;
      }
      logical += line.substr(0, line.size() - 1);
      if (!lines.next(line)) {
        break;
      }
      line = skipBlanks(line);
    }
    // The key ends at the first unescaped '=', ':' or blank.
    size_t key_end = 0;
    bool separator = false;
    size_t value_start = logical.size();
    while (key_end < logical.size()) {
      const char c = logical[key_end];
      if (c == '\\') {
        key_end += 2;
        continue;
      }
      if (c == '=' || c == ':') {
        separator = true;
        value_start = key_end + 1;
        break;
      }
      if (isBlank(c)) {
        value_start = key_end + 1;
        break;
      }
      ++key_end;
    }
    key_end = std::min(key_end, logical.size());
    while (value_start < logical.size()) {
      const char c = logical[value_start];
      if (!isBlank(c)) {
        if (!separator && (c == '=' || c == ':')) {
          separator = true;
        } else {
          break;
        }
      }
      ++value_start;
    }
    auto key = unescape(std::string_view(logical).substr(0, key_end), first_line);
    if (!key) {
      return key.error();
    }
    auto value = unescape(std::string_view(logical).substr(value_start), first_line);
    if (!value) {
      return value.error();
    }
    out[std::move(*key)] = std::move(*value);
  }
  return out;
}

namespace {

class SystemSource : public ReferenceSource {
public:
  std::optional<std::string> environment(const std::string& name) const override {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) {
      return std::nullopt;
    }
    return std::string(value);
  }

  Result<std::string> readFile(const std::string& path) const override {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below anyway.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
      return Error{std::strerror(errno)};
    }
    struct Closer {
      int fd;
      ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat info {};
    if (::fstat(fd, &info) != 0) {
      return Error{std::strerror(errno)};
    }
    if (S_ISDIR(info.st_mode)) {
      return Error{"it is a directory"};
    }
    if (!S_ISREG(info.st_mode)) {
      return Error{"it is not a regular file"};
    }
    const std::string too_large =
        "larger than " + std::to_string(kMaxReferencedFileBytes >> 10) + " KiB";
    if (static_cast<size_t>(info.st_size) > kMaxReferencedFileBytes) {
      return Error{too_large};
    }
    std::string content;
    char buffer[16 * 1024];
    while (true) {
      const ssize_t n = ::read(fd, buffer, sizeof(buffer));
      if (n < 0) {
        if (errno == EINTR) {
          continue;
        }
        return Error{std::strerror(errno)};
      }
      if (n == 0) {
        break;
      }
      content.append(buffer, static_cast<size_t>(n));
      if (content.size() > kMaxReferencedFileBytes) {
        return Error{too_large};  // it grew while being read
      }
    }
    return content;
  }
};

}  // namespace

const ReferenceSource& systemReferenceSource() {
  static const SystemSource source;
  return source;
}

const Result<std::string>& ReferenceResolver::file(const std::string& path) {
  auto it = files_.find(path);
  if (it == files_.end()) {
    it = files_.emplace(path, source_.readFile(path)).first;
  }
  return it->second;
}

const Result<std::map<std::string, std::string>>&
ReferenceResolver::properties(const std::string& path) {
  auto it = properties_.find(path);
  if (it == properties_.end()) {
    const auto& content = file(path);
    if (!content) {
      it = properties_.emplace(path, content.error()).first;
    } else {
      it = properties_.emplace(path, parseProperties(*content)).first;
    }
  }
  return it->second;
}

Result<std::string> ReferenceResolver::resolve(const Reference& reference) {
  const std::string where = quoted(reference.text) + ": ";
  switch (reference.kind) {
  case ReferenceKind::kEnv: {
    auto value = source_.environment(reference.name);
    if (!value) {
      return Error{where + "the environment variable " + reference.name + " is not set"};
    }
    return std::move(*value);
  }
  case ReferenceKind::kFile: {
    if (reference.key.empty()) {
      const auto& content = file(reference.name);
      if (!content) {
        return Error{where + "cannot read " + reference.name + ": " + content.error().message};
      }
      return std::string(trimLineEnds(*content));
    }
    const auto& content = file(reference.name);
    if (!content) {
      return Error{where + "cannot read " + reference.name + ": " + content.error().message};
    }
    const auto& table = properties(reference.name);
    if (!table) {
      return Error{where + reference.name +
                   " is not a valid properties file: " + table.error().message};
    }
    auto entry = table->find(reference.key);
    if (entry == table->end()) {
      std::vector<std::string> keys;
      for (const auto& [key, value] : *table) {
        keys.push_back(key);
      }
      return Error{where + reference.name + " has no key " + quoted(reference.key) +
                   (keys.empty() ? " (it holds no key=value line)"
                                 : suggestion(reference.key, keys, "its keys are"))};
    }
    return entry->second;
  }
  case ReferenceKind::kDirectory: {
    std::string path = reference.name;
    if (path.back() != '/') {
      path += '/';
    }
    path += reference.key;
    const auto& content = file(path);
    if (!content) {
      return Error{where + "cannot read " + path + ": " + content.error().message};
    }
    return std::string(trimLineEnds(*content));
  }
  }
  return Error{where + "unknown reference kind"};
}

Result<ReferenceResolver::Resolved> ReferenceResolver::resolve(const ValueTemplate& value) {
  Resolved out;
  for (const auto& part : value.parts) {
    if (!part.reference) {
      out.value += part.literal;
      continue;
    }
    auto resolved = resolve(*part.reference);
    if (!resolved) {
      return resolved.error();
    }
    out.value += *resolved;
    out.from_references.push_back(std::move(*resolved));
  }
  return out;
}

}  // namespace causeway::config
