#pragma once

// Issues JWTs for tests, as a partner's identity provider would: RSA (RS256), P-256 (ES256)
// and HMAC (HS256) keys, the matching JWKS document, and signed tokens with any claims.

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

namespace causeway::testing {

class JwtSigner {
public:
  enum class Kind { kRs256, kEs256, kHs256 };

  // A fresh P-256 key or 32-byte secret; for RSA one of two fixed 2048-bit test keys
  // (`rsa_key` 0 or 1), because generating one takes too long for unit tests.
  explicit JwtSigner(Kind kind, std::string kid = "test-key", int rsa_key = 0);
  ~JwtSigner();
  JwtSigner(const JwtSigner&) = delete;
  JwtSigner& operator=(const JwtSigner&) = delete;

  // {"keys": [this key's public JWK]} (empty keys for HS256).
  nlohmann::json jwk() const;
  static std::string jwks(std::initializer_list<const JwtSigner*> signers);
  // The HS256 secret.
  const std::string& secret() const { return secret_; }

  // header.payload.signature with {"alg", "typ": "JWT", "kid"} and `claims`.
  std::string sign(const nlohmann::json& claims) const;
  // A token with an arbitrary header (alg none, crit, another kid), signed by this key.
  std::string signWithHeader(const nlohmann::json& header, const nlohmann::json& claims) const;

private:
  Kind kind_;
  std::string kid_;
  void* key_ = nullptr;  // EVP_PKEY*
  std::string secret_;
};

} // namespace causeway::testing
