#pragma once

// JSON Web Tokens (RFC 7519) signed with RS256, ES256 or HS256 (RFC 7515/7518), as partners'
// identity providers issue them. Verification is strict: the algorithm must be one the
// configured keys can check (`none`, and HS256 without a secret, never pass), issuer and
// audience must match, `exp` is required, `nbf` is honoured, and unknown critical headers are
// refused.

#include "common/result.h"
#include "egress/jwks.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace causeway::egress {

// Longest token accepted; real ones are a few hundred bytes to a few KiB.
inline constexpr size_t kMaxJwtBytes = 16 * 1024;

// True when `token` has the JWS compact shape (three base64url parts), so it is worth parsing
// as a JWT rather than looking it up as a plain bearer token.
bool looksLikeJwt(std::string_view token);

struct JwtExpectations {
  std::string issuer;
  std::string audience;  // empty: not checked (Pushpin's Grip-Sig has none)
  std::string products_claim = "causeway_products";
  int64_t clock_skew_seconds = 60;
};

struct JwtKeys {
  const Jwks* jwks = nullptr;                 // RS256 / ES256
  const std::string* hs256_secret = nullptr;  // HS256
};

struct JwtClaims {
  std::string issuer;
  std::string subject;
  std::string token_id;  // jti, or empty
  int64_t expires_at = 0;
  // The products claim, when the token has one.
  std::optional<std::vector<std::string>> products;
};

// A token split and decoded, not yet verified: issuer and audiences tell which partner's keys
// to check it with.
class ParsedJwt {
public:
  // Syntax only: three base64url parts, a JSON object header with a string alg, a JSON object
  // payload. Errors are short and never contain the token.
  static Result<ParsedJwt> parse(std::string_view token);

  const std::string& algorithm() const { return alg_; }
  const std::string& keyId() const { return kid_; }
  std::string issuer() const;
  std::vector<std::string> audiences() const;

  // Signature, then claims, against `now` (Unix seconds).
  Result<JwtClaims> verify(const JwtKeys& keys, const JwtExpectations& expect, int64_t now) const;

private:
  Status verifySignature(const JwtKeys& keys) const;

  std::string signing_input_;  // "header.payload" as received
  std::string signature_;
  std::string alg_;
  std::string kid_;
  nlohmann::json header_;
  nlohmann::json payload_;
};

} // namespace causeway::egress
