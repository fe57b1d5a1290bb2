#pragma once

// The cryptographic primitives of field transforms, over OpenSSL 3 EVP: HMAC-SHA256 (hash,
// tokenize) and AES-256-GCM (encrypt, decrypt), plus base64url. Each object holds one key's
// prepared state and is used by one thread at a time (one per policy stage); computing never
// allocates.

#include "common/result.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

struct evp_mac_ctx_st;
struct evp_cipher_ctx_st;

namespace causeway::policies {

inline constexpr size_t kAesKeyBytes = 32;
inline constexpr size_t kGcmNonceBytes = 12;
inline constexpr size_t kGcmTagBytes = 16;
inline constexpr size_t kSha256Bytes = 32;

// HMAC-SHA256 with one key, prepared once.
class HmacSha256 {
public:
  static Result<HmacSha256> create(std::span<const uint8_t> key);
  HmacSha256(HmacSha256&&) noexcept;
  HmacSha256& operator=(HmacSha256&&) noexcept;
  ~HmacSha256();

  // MAC of the concatenation of `parts`. False only if OpenSSL fails (out of memory).
  bool compute(std::span<const std::string_view> parts, uint8_t (&out)[kSha256Bytes]);
  bool compute(std::string_view data, uint8_t (&out)[kSha256Bytes]) {
    return compute(std::span<const std::string_view>(&data, 1), out);
  }

private:
  HmacSha256() = default;
  struct Free {
    void operator()(evp_mac_ctx_st* ctx) const;
  };
  std::unique_ptr<evp_mac_ctx_st, Free> ctx_;
};

// AES-256-GCM with one key, its key schedule prepared once. 96-bit nonces, 128-bit tags.
class AesGcm {
public:
  static Result<AesGcm> create(std::span<const uint8_t, kAesKeyBytes> key);
  AesGcm(AesGcm&&) noexcept;
  AesGcm& operator=(AesGcm&&) noexcept;
  ~AesGcm();

  // Encrypts `plaintext` into `out` (same length) and writes the tag. False if OpenSSL fails.
  bool encrypt(std::span<const uint8_t, kGcmNonceBytes> nonce, std::string_view aad,
               std::string_view plaintext, uint8_t* out, uint8_t (&tag)[kGcmTagBytes]);
  // Decrypts into `out` (same length as `ciphertext`). False when the tag does not verify
  // (wrong key, tampered bytes).
  bool decrypt(std::span<const uint8_t, kGcmNonceBytes> nonce, std::string_view aad,
               std::string_view ciphertext, std::span<const uint8_t, kGcmTagBytes> tag,
               uint8_t* out);

private:
  AesGcm() = default;
  struct Free {
    void operator()(evp_cipher_ctx_st* ctx) const;
  };
  std::unique_ptr<evp_cipher_ctx_st, Free> encrypt_;
  std::unique_ptr<evp_cipher_ctx_st, Free> decrypt_;
};

// Fills `out` from OpenSSL's CSPRNG. False if it fails.
bool randomBytes(std::span<uint8_t> out);

// Base64url without padding (RFC 4648 section 5), appended to `out`.
void appendBase64Url(std::span<const uint8_t> data, std::string& out);
// Decodes base64url with or without padding; false on any other character.
bool decodeBase64Url(std::string_view text, std::string& out);
// Lowercase hex, appended to `out`.
void appendHex(std::span<const uint8_t> data, std::string& out);

// Overwrites memory that held key material.
void wipe(void* data, size_t size);

}  // namespace causeway::policies
