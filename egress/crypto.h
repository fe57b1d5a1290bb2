#pragma once

// The few OpenSSL 3 primitives egress needs, behind value types: SHA-256 and a keyed
// HMAC-SHA256 whose key schedule is computed once.

#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

namespace causeway::egress {

using Digest = std::array<uint8_t, 32>;

Digest sha256(std::string_view bytes);
std::string hex(const uint8_t* bytes, size_t n);

// Equal contents, in time that depends only on the lengths.
bool constantTimeEqual(std::string_view a, std::string_view b);

// HMAC-SHA256 with a fixed key. The inner and outer pads are hashed once at construction, so a
// MAC costs two hash finishes over the message. Immutable after construction; sign() may be
// called from several threads at once.
class HmacSha256 {
public:
  explicit HmacSha256(std::string_view key);
  ~HmacSha256();
  HmacSha256(const HmacSha256&) = delete;
  HmacSha256& operator=(const HmacSha256&) = delete;

  // The MAC of the concatenation of `parts`.
  Digest sign(std::initializer_list<std::string_view> parts) const;

private:
  EVP_MD_CTX* inner_ = nullptr;  // SHA-256 state after (key ^ ipad)
  EVP_MD_CTX* outer_ = nullptr;  // SHA-256 state after (key ^ opad)
};

// `n` random bytes from OpenSSL's CSPRNG.
std::string randomBytes(size_t n);

} // namespace causeway::egress
