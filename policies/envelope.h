#pragma once

// The envelope of an encrypted field (docs/encryption.md): a self-describing string
//
//   cwenc:<base64url, no padding, of the binary envelope>
//
// binary envelope: version (1 byte, 0x01) | key id length L (1 byte, 1-32) | key id (L bytes) |
// value type (1 byte: 's' string, 'n' number, 'b' boolean, 'j' JSON text, 'y' bytes) |
// nonce (12 bytes) | ciphertext | tag (16 bytes)
//
// AES-256-GCM with the key named by the key id; the additional authenticated data is the header
// (version, key id length, key id, value type), so neither the key id nor the type can be
// changed without the tag failing. A random nonce per value: the same plaintext encrypts to a
// different envelope every time.

#include "policies/crypto.h"
#include "policies/key_material.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace causeway::policies {

inline constexpr std::string_view kEnvelopePrefix = "cwenc:";
inline constexpr uint8_t kEnvelopeVersion = 1;

enum class PlainType : char {
  kString = 's',
  kNumber = 'n',
  kBool = 'b',
  kJson = 'j',
  kBytes = 'y',
};

// Encrypts with a key set's active key. One per thread (holds the cipher context and
// buffers); appending never allocates once the buffers have grown.
class EnvelopeSealer {
public:
  static Result<EnvelopeSealer> create(std::shared_ptr<const KeySet> keys);

  // Appends the envelope text of `plaintext` to `out`. False if OpenSSL fails.
  bool seal(PlainType type, std::string_view plaintext, std::string& out);

private:
  EnvelopeSealer(std::shared_ptr<const KeySet> keys, AesGcm cipher)
      : keys_(std::move(keys)), cipher_(std::move(cipher)) {}
  std::shared_ptr<const KeySet> keys_;
  AesGcm cipher_;
  std::string header_;
  std::string binary_;
  // Random nonces are drawn from OpenSSL's CSPRNG in batches: one RAND_bytes call costs far more
  // than one encryption, and each value still gets its own random nonce.
  static constexpr size_t kNonceBatch = 64;
  uint8_t nonces_[kNonceBatch * kGcmNonceBytes];
  size_t nonces_left_ = 0;
};

struct Opened {
  PlainType type = PlainType::kString;
  std::string key_id;
  std::string plaintext;
};

// Decrypts envelopes with any key of a key set (the `causeway decrypt` side). Not for the hot
// path: one cipher context per key, created on first use.
class EnvelopeOpener {
public:
  explicit EnvelopeOpener(std::shared_ptr<const KeySet> keys) : keys_(std::move(keys)) {}

  // The plaintext, or why not: not an envelope, an unknown version or key id, a failed tag.
  Result<Opened> open(std::string_view text);

private:
  std::shared_ptr<const KeySet> keys_;
  std::vector<std::pair<std::string, std::unique_ptr<AesGcm>>> ciphers_;
};

// True when `text` starts with the envelope prefix.
inline bool looksLikeEnvelope(std::string_view text) {
  return text.substr(0, kEnvelopePrefix.size()) == kEnvelopePrefix;
}

}  // namespace causeway::policies
