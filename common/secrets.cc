#include "common/secrets.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <mutex>

namespace causeway::secrets {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::vector<std::string> words(std::string_view name) {
  std::vector<std::string> out;
  std::string word;
  for (char c : lower(name)) {
    if (c == '.' || c == '_' || c == '-') {
      out.push_back(std::move(word));
      word.clear();
    } else {
      word += c;
    }
  }
  out.push_back(std::move(word));
  return out;
}

constexpr std::array kSecretLastWords = {"password", "passwd", "passphrase", "secret", "key"};
constexpr std::array kSecretWordParts = {"password",   "passwd", "secret", "token",
                                         "credential", "jaas",   "private"};

// Characters of property names and configuration keys as they appear in text.
bool isNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '_' || c == '-';
}

bool isValueEnd(char c) {
  switch (c) {
  case ',':
  case ';':
  case '&':
  case ')':
  case ']':
  case '}':
  case '"':
  case '\'':
    return true;
  default:
    return std::isspace(static_cast<unsigned char>(c)) != 0;
  }
}

// Keeps longest first; ties in byte order, so the order (and lookups) are deterministic.
bool before(const std::string& a, std::string_view b) {
  return a.size() != b.size() ? a.size() > b.size() : std::string_view(a) < b;
}

struct Registry {
  std::mutex mu;
  std::shared_ptr<const SecretSet> set = std::make_shared<SecretSet>();
};

Registry& registry() {
  // Never destroyed: log sinks may redact while static objects are torn down at exit.
  static auto* instance = new Registry;
  return *instance;
}

}  // namespace

bool isSecretName(std::string_view name) {
  const std::vector<std::string> parts = words(name);
  const std::string& last = parts.back();
  for (const char* word : kSecretLastWords) {
    if (last == word) {
      return true;
    }
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    for (const char* part : kSecretWordParts) {
      if (parts[i].find(part) != std::string::npos) {
        return true;
      }
    }
    if (i + 1 < parts.size() && parts[i] == "ssl" && parts[i + 1] == "key") {
      return true;
    }
  }
  return last == "userinfo" ||
         (parts.size() >= 2 && parts[parts.size() - 2] == "user" && last == "info");
}

bool SecretSet::add(std::string_view value) {
  if (value.size() < kMinRedactedLength) {
    return false;
  }
  auto it = std::lower_bound(values_.begin(), values_.end(), value, before);
  if (it != values_.end() && *it == value) {
    return false;
  }
  values_.insert(it, std::string(value));
  return true;
}

bool SecretSet::contains(std::string_view value) const {
  auto it = std::lower_bound(values_.begin(), values_.end(), value, before);
  return it != values_.end() && *it == value;
}

bool SecretSet::redactInPlace(std::string& text) const {
  bool changed = false;
  for (const auto& value : values_) {
    size_t pos = 0;
    while ((pos = text.find(value, pos)) != std::string::npos) {
      text.replace(pos, value.size(), kMask);
      pos += kMask.size();
      changed = true;
    }
  }
  return changed;
}

void registerSecret(std::string_view value) {
  if (value.size() < kMinRedactedLength) {
    return;
  }
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  if (r.set->contains(value)) {
    return;
  }
  // Copy on write: readers keep the snapshot they took, without a lock while they search.
  auto next = std::make_shared<SecretSet>(*r.set);
  next->add(value);
  r.set = std::move(next);
}

std::shared_ptr<const SecretSet> registeredSecrets() {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  return r.set;
}

void clearRegisteredSecretsForTesting() {
  Registry& r = registry();
  std::lock_guard lock(r.mu);
  r.set = std::make_shared<SecretSet>();
}

bool redactAssignmentsInPlace(std::string& text) {
  bool changed = false;
  size_t pos = 0;
  while (pos < text.size()) {
    if (!isNameChar(text[pos]) || (pos > 0 && isNameChar(text[pos - 1]))) {
      ++pos;
      continue;
    }
    size_t end = pos;
    while (end < text.size() && isNameChar(text[end])) {
      ++end;
    }
    const std::string_view name(text.data() + pos, end - pos);
    size_t k = end;
    // "name": value (JSON) takes ':' as well as '='; in prose ("password: wrong") ':' is not an
    // assignment.
    const bool quoted_name = pos > 0 && text[pos - 1] == '"' && k < text.size() && text[k] == '"';
    if (quoted_name) {
      ++k;
    }
    while (k < text.size() && (text[k] == ' ' || text[k] == '\t')) {
      ++k;
    }
    const bool assignment = k < text.size() && (text[k] == '=' || (text[k] == ':' && quoted_name));
    if (!assignment || lower(name) == "key" || !isSecretName(name)) {
      pos = end;
      continue;
    }
    ++k;
    while (k < text.size() && (text[k] == ' ' || text[k] == '\t')) {
      ++k;
    }
    size_t value_begin = k;
    size_t value_end = k;
    if (text.compare(k, 10, "[redacted]") == 0) {
      pos = k + 10;  // librdkafka's own mark for a sensitive property
      continue;
    }
    if (k < text.size() && (text[k] == '"' || text[k] == '\'')) {
      value_begin = k + 1;
      value_end = text.find(text[k], value_begin);
      if (value_end == std::string::npos) {
        value_end = text.size();
      }
    } else {
      while (value_end < text.size() && !isValueEnd(text[value_end])) {
        ++value_end;
      }
    }
    const std::string_view value(text.data() + value_begin, value_end - value_begin);
    if (value.empty() || value == kMask) {
      pos = value_end;
      continue;
    }
    text.replace(value_begin, value_end - value_begin, kMask);
    changed = true;
    pos = value_begin + kMask.size();
  }
  return changed;
}

bool redactInPlace(std::string& text) {
  const auto registered = registeredSecrets();
  const bool by_value = registered->redactInPlace(text);
  const bool by_name = redactAssignmentsInPlace(text);
  return by_value || by_name;
}

std::string redact(std::string_view text) {
  std::string out(text);
  redactInPlace(out);
  return out;
}

}  // namespace causeway::secrets
