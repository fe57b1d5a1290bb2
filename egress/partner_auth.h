#pragma once

// Who is calling: a partner, from a bearer token (the partner's tokens file) or a JWT (the
// partner's identity provider). Secrets come only from files, are re-read when the files change
// (rotation without a restart, the mechanism the control API uses: common/reloading_file.h) and
// never appear in logs or errors.

#include "common/reloading_file.h"
#include "common/result.h"
#include "config/config.h"
#include "egress/crypto.h"
#include "egress/jwks.h"
#include "egress/jwt.h"

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace causeway::egress {

struct Identity {
  std::string partner;
  // Names the credential in audit lines: the ID from the tokens file ("ID TOKEN"), a hash
  // prefix of a token without one ("sha256:1a2b3c4d"), or a JWT's jti (else its sub).
  std::string token_id;
  std::string method;  // "token" or "jwt"
  // A JWT's products claim: the token may read only these (of the partner's products).
  std::optional<std::vector<std::string>> products;

  // The partner may read `product` (config) and the credential does not narrow it away.
  bool tokenAllows(std::string_view product) const;
};

// One line of a partner tokens file.
struct PartnerToken {
  std::string id;
  Digest digest;  // SHA-256 of the token: what is compared, so tokens are not kept in clear
};

// Parses a tokens file's text: one token per line, "TOKEN" or "ID TOKEN"; '#' starts a comment
// line; tokens have at least 16 characters. Errors name the line, never echo a token.
Result<std::vector<PartnerToken>> parsePartnerTokens(std::string_view text,
                                                     const std::string& path);
Result<std::vector<PartnerToken>> readPartnerTokensFile(const std::string& path);

// Reads the first line of a secret file (HS256 secret, Pushpin key), at least 16 bytes.
Result<std::string> readSecretFile(const std::string& path, const std::string& what);

enum class AuthProblem { kMissing, kInvalid };

struct AuthError {
  AuthProblem problem;
  std::string message;  // safe to return to the caller: no token, no partner name
};

// Authenticates partners. Thread-safe: calls refresh changed files under one mutex (a stat per
// file per call), then verify.
class PartnerAuth {
public:
  // Reads every partner's files; an error names the partner and the file.
  static Result<std::unique_ptr<PartnerAuth>> create(const config::Config& config);

  // `authorization`: the Authorization header value (or gRPC metadata). `now`: Unix seconds.
  std::variant<Identity, AuthError> authenticate(std::optional<std::string_view> authorization,
                                                 int64_t now);

private:
  struct Partner {
    std::string name;
    ReloadingFile<std::vector<PartnerToken>> tokens;
    std::optional<JwtExpectations> jwt;
    ReloadingFile<Jwks> jwks;
    ReloadingFile<std::string> secret;
  };

  std::mutex mu_;
  std::vector<std::unique_ptr<Partner>> partners_;
};

// The Unix time now, in seconds.
int64_t unixSeconds();

} // namespace causeway::egress
