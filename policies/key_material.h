#pragma once

// Keys and secrets of field transforms. They come from a file or an environment variable named
// in the configuration, never from the YAML itself, and are read and checked when a policy is
// compiled (at load), so a worker never starts with a key it cannot use.
//
// Key sets (encrypt, tokenize): entries `ID:HEX`, one per line (or separated by spaces or
// commas; '#' starts a comment), HEX being 64 hex digits (32 bytes). The LAST entry is the one
// that encrypts or tokenizes; the others only decrypt, so rotating is appending a line. IDs are
// 1-32 characters out of [A-Za-z0-9.-] and travel in each ciphertext's envelope.
//
// Secrets (hash): the bytes of the file or variable, without trailing whitespace; at least 32.

#include "common/result.h"
#include "policies/crypto.h"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace causeway::policies {

inline constexpr size_t kMaxKeyIdLength = 32;
inline constexpr size_t kMinSecretBytes = 32;

struct KeyEntry {
  std::string id;
  std::array<uint8_t, kAesKeyBytes> key{};
};

// Immutable after loading; shared by the stages that use it. Wiped when destroyed.
class KeySet {
public:
  KeySet() = default;
  explicit KeySet(std::vector<KeyEntry> keys) : keys_(std::move(keys)) {}
  KeySet(KeySet&&) = default;
  KeySet& operator=(KeySet&&) = default;
  ~KeySet();

  // The key that encrypts and tokenizes: the last one listed.
  const KeyEntry& active() const { return keys_.back(); }
  const KeyEntry* find(std::string_view id) const;
  const std::vector<KeyEntry>& keys() const { return keys_; }

private:
  std::vector<KeyEntry> keys_;
};

// Where key material is read from: exactly one of the two is set.
struct KeyLocation {
  std::string file;
  std::string env;
  // "key file /etc/causeway/acme.aead" or "environment variable ACME_KEYS", for messages.
  std::string describe() const;
};

// Parses key-set text; errors name `origin` and the line, never a key's bytes.
Result<KeySet> parseKeySet(std::string_view text, std::string_view origin);
Result<KeySet> loadKeySet(const KeyLocation& location);

// A hash secret: wiped when destroyed.
class Secret {
public:
  Secret() = default;
  explicit Secret(std::string bytes) : bytes_(std::move(bytes)) {}
  Secret(Secret&&) = default;
  Secret& operator=(Secret&&) = default;
  ~Secret();
  std::span<const uint8_t> bytes() const {
    return {reinterpret_cast<const uint8_t*>(bytes_.data()), bytes_.size()};
  }

private:
  std::string bytes_;
};

Result<Secret> parseSecret(std::string_view text, std::string_view origin);
Result<Secret> loadSecret(const KeyLocation& location);

// The text of a key file or variable (at most 64 KiB), or why it cannot be read.
Result<std::string> readKeyText(const KeyLocation& location);

}  // namespace causeway::policies
