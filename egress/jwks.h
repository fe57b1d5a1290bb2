#pragma once

// JSON Web Key Sets (RFC 7517): the public keys an identity provider signs partners' JWTs with.
// Only what egress verifies is kept: RSA keys (RS256, at least 2048 bits) and EC keys on P-256
// (ES256).

#include "common/result.h"

#include <openssl/evp.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace causeway::egress {

struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using PkeyPtr = std::shared_ptr<EVP_PKEY>;

enum class KeyType { kRsa, kEcP256 };

struct Jwk {
  std::string kid;  // may be empty
  KeyType type = KeyType::kRsa;
  PkeyPtr key;
};

struct Jwks {
  std::vector<Jwk> keys;
  // Keys left out, with the reason ("key 2 (kid 'enc-1'): use is 'enc', not 'sig'"): an
  // encryption key or another curve in a provider's set is normal, so they are not errors.
  std::vector<std::string> skipped;
};

// Parses a JWKS document ({"keys": [...]}) of at most 1 MiB. An error when the text is not one,
// or when no usable key is left.
Result<Jwks> parseJwks(std::string_view json);

// Reads and parses a JWKS file, naming the file in errors.
Result<Jwks> readJwksFile(const std::string& path);

} // namespace causeway::egress
