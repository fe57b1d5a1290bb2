#include "policies/key_material.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace causeway::policies {
namespace {

constexpr size_t kMaxKeyTextBytes = 64 * 1024;

bool keyIdChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-';
}

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

}  // namespace

KeySet::~KeySet() {
  for (KeyEntry& entry : keys_) {
    wipe(entry.key.data(), entry.key.size());
  }
}

const KeyEntry* KeySet::find(std::string_view id) const {
  for (const KeyEntry& entry : keys_) {
    if (entry.id == id) {
      return &entry;
    }
  }
  return nullptr;
}

Secret::~Secret() { wipe(bytes_.data(), bytes_.size()); }

std::string KeyLocation::describe() const {
  return file.empty() ? "environment variable " + env : "key file " + file;
}

Result<std::string> readKeyText(const KeyLocation& location) {
  if (location.file.empty() == location.env.empty()) {
    return Error{"name either a file or an environment variable for the key"};
  }
  if (!location.env.empty()) {
    const char* value = std::getenv(location.env.c_str());
    if (value == nullptr) {
      return Error{"environment variable " + location.env + " is not set"};
    }
    std::string text(value);
    if (text.size() > kMaxKeyTextBytes) {
      return Error{"environment variable " + location.env + " is larger than 64 KiB"};
    }
    return text;
  }
  std::unique_ptr<std::FILE, decltype(&std::fclose)> file(std::fopen(location.file.c_str(), "rb"),
                                                          &std::fclose);
  if (!file) {
    return Error{"cannot read key file " + location.file + ": " + std::strerror(errno)};
  }
  std::string text(kMaxKeyTextBytes + 1, '\0');
  const size_t n = std::fread(text.data(), 1, text.size(), file.get());
  if (std::ferror(file.get()) != 0) {
    wipe(text.data(), text.size());
    return Error{"cannot read key file " + location.file + ": " + std::strerror(errno)};
  }
  if (n > kMaxKeyTextBytes) {
    wipe(text.data(), text.size());
    return Error{"key file " + location.file + " is larger than 64 KiB; it is not a key file"};
  }
  text.resize(n);
  return text;
}

Result<KeySet> parseKeySet(std::string_view text, std::string_view origin) {
  std::vector<KeyEntry> keys;
  size_t line = 1;
  size_t i = 0;
  auto fail = [&](const std::string& message) {
    for (KeyEntry& entry : keys) {
      wipe(entry.key.data(), entry.key.size());
    }
    return Error{std::string(origin) + " line " + std::to_string(line) + ": " + message};
  };
  while (i < text.size()) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
      ++i;
      continue;
    }
    if (std::isspace(static_cast<unsigned char>(c)) != 0 || c == ',') {
      ++i;
      continue;
    }
    if (c == '#') {
      while (i < text.size() && text[i] != '\n') {
        ++i;
      }
      continue;
    }
    size_t end = i;
    while (end < text.size() && std::isspace(static_cast<unsigned char>(text[end])) == 0 &&
           text[end] != ',' && text[end] != '#') {
      ++end;
    }
    const std::string_view entry = text.substr(i, end - i);
    i = end;
    const size_t colon = entry.find(':');
    if (colon == std::string_view::npos) {
      return fail("expected ID:HEX (a key id, ':', then 64 hex digits)");
    }
    const std::string_view id = entry.substr(0, colon);
    const std::string_view hex = entry.substr(colon + 1);
    if (id.empty() || id.size() > kMaxKeyIdLength ||
        !std::all_of(id.begin(), id.end(), keyIdChar)) {
      return fail("a key id is 1-32 characters out of letters, digits, '.' and '-'");
    }
    for (const KeyEntry& seen : keys) {
      if (seen.id == id) {
        return fail("key id '" + std::string(id) + "' is listed twice");
      }
    }
    if (hex.size() != 2 * kAesKeyBytes) {
      return fail("key '" + std::string(id) + "' has " + std::to_string(hex.size()) +
                  " hex digits; a key is 64 hex digits (32 bytes: openssl rand -hex 32)");
    }
    KeyEntry key;
    key.id = std::string(id);
    for (size_t b = 0; b < kAesKeyBytes; ++b) {
      const int hi = hexValue(hex[2 * b]);
      const int lo = hexValue(hex[2 * b + 1]);
      if (hi < 0 || lo < 0) {
        wipe(key.key.data(), key.key.size());
        return fail("key '" + std::string(id) + "' is not hex");
      }
      key.key[b] = static_cast<uint8_t>(hi << 4 | lo);
    }
    if (std::all_of(key.key.begin(), key.key.end(), [&](uint8_t b) { return b == key.key[0]; })) {
      wipe(key.key.data(), key.key.size());
      return fail("key '" + std::string(id) + "' repeats one byte; it is a placeholder, not a key");
    }
    keys.push_back(std::move(key));
  }
  if (keys.empty()) {
    line = 1;
    return fail("no key; expected lines of ID:HEX, the last one encrypting");
  }
  return KeySet(std::move(keys));
}

Result<KeySet> loadKeySet(const KeyLocation& location) {
  Result<std::string> text = readKeyText(location);
  if (!text) {
    return text.error();
  }
  Result<KeySet> keys = parseKeySet(*text, location.describe());
  wipe(text->data(), text->size());
  return keys;
}

Result<Secret> parseSecret(std::string_view text, std::string_view origin) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())) != 0) {
    text.remove_suffix(1);
  }
  if (text.size() < kMinSecretBytes) {
    return Error{std::string(origin) + ": the secret has " + std::to_string(text.size()) +
                 " bytes; at least " + std::to_string(kMinSecretBytes) +
                 " are needed (openssl rand -hex 32)"};
  }
  return Secret(std::string(text));
}

Result<Secret> loadSecret(const KeyLocation& location) {
  Result<std::string> text = readKeyText(location);
  if (!text) {
    return text.error();
  }
  Result<Secret> secret = parseSecret(*text, location.describe());
  wipe(text->data(), text->size());
  return secret;
}

}  // namespace causeway::policies
