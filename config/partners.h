#pragma once

#include "config/source_location.h"

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace causeway::config {

// JSON Web Tokens a partner's identity provider issues. Signatures are checked against the keys
// of a JWKS file (RS256, ES256) and/or an HMAC secret file (HS256); `alg: none` never passes.
struct PartnerJwtConfig {
  std::string issuer;       // must equal the `iss` claim
  std::string audience;     // must be (one of) the `aud` claim(s)
  std::string jwks_file;    // RS256 / ES256 public keys; re-read when it changes
  std::string secret_file;  // HS256 shared secret (first line); re-read when it changes
  SourceLocation jwks_file_location;
  SourceLocation secret_file_location;
  // A claim listing the products a token may read (a JSON array of names, or a string of
  // space-separated names). Absent from a token: every product of the partner.
  std::string products_claim = "causeway_products";
  // Tolerated clock difference for exp and nbf.
  std::chrono::milliseconds clock_skew{60000};
  SourceLocation location;
};

struct PartnerAuthConfig {
  // Bearer tokens, one per line: "TOKEN" or "ID TOKEN" (the ID names the token in audit lines;
  // without one a hash prefix does). Lines starting with '#' are comments. Re-read when the
  // file changes.
  std::string tokens_file;
  SourceLocation tokens_file_location;
  std::optional<PartnerJwtConfig> jwt;
  SourceLocation location;
};

// An organization that receives data products.
struct PartnerConfig {
  std::string name;
  // The policy every record passes before this partner sees it (policies/). Empty: records
  // pass unchanged.
  std::string policy;
  std::vector<std::string> products;  // names of products (config/products.h)
  PartnerAuthConfig auth;
  // Concurrent streams (SSE and gRPC together) of this partner on one worker.
  size_t max_connections = 20;
  SourceLocation location;
};

} // namespace causeway::config
