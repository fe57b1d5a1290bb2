#include "egress/jwt.h"

#include "common/base64.h"
#include "egress/crypto.h"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>

#include <algorithm>

namespace causeway::egress {
namespace {

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
struct SigDeleter {
  void operator()(ECDSA_SIG* sig) const { ECDSA_SIG_free(sig); }
};

// Verifies an RS256 (PKCS #1 v1.5) or ES256 (DER, converted from JOSE's r||s) signature.
bool verifyWith(EVP_PKEY* key, std::string_view input, std::string_view der_or_raw) {
  std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) != 1) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(der_or_raw.data()),
                          der_or_raw.size(), reinterpret_cast<const unsigned char*>(input.data()),
                          input.size()) == 1;
}

// JOSE ES256 signatures are r||s, 32 bytes each; OpenSSL verifies DER.
std::optional<std::string> es256ToDer(std::string_view raw) {
  if (raw.size() != 64) {
    return std::nullopt;
  }
  std::unique_ptr<ECDSA_SIG, SigDeleter> sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
  BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  const int n = i2d_ECDSA_SIG(sig.get(), &der);
  if (n <= 0) {
    return std::nullopt;
  }
  std::string out(reinterpret_cast<const char*>(der), static_cast<size_t>(n));
  OPENSSL_free(der);
  return out;
}

// NumericDate: a JSON number of seconds (fractions allowed by RFC 7519; truncated).
std::optional<int64_t> numericDate(const nlohmann::json& payload, const char* name, bool& bad) {
  auto it = payload.find(name);
  if (it == payload.end()) {
    return std::nullopt;
  }
  if (it->is_number_integer()) {
    return it->get<int64_t>();
  }
  if (it->is_number_float()) {
    const double v = it->get<double>();
    if (v > -1e15 && v < 1e15) {
      return static_cast<int64_t>(v);
    }
  }
  bad = true;
  return std::nullopt;
}

} // namespace

bool looksLikeJwt(std::string_view token) {
  return std::count(token.begin(), token.end(), '.') == 2 && token.size() <= kMaxJwtBytes;
}

Result<ParsedJwt> ParsedJwt::parse(std::string_view token) {
  if (token.size() > kMaxJwtBytes) {
    return Error{"the token is longer than " + std::to_string(kMaxJwtBytes) + " bytes"};
  }
  const size_t dot1 = token.find('.');
  const size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return Error{"the token is not a JWT (three base64url parts)"};
  }
  auto header = decodeBase64Url(token.substr(0, dot1));
  auto payload = decodeBase64Url(token.substr(dot1 + 1, dot2 - dot1 - 1));
  auto signature = decodeBase64Url(token.substr(dot2 + 1));
  if (!header || !payload || !signature) {
    return Error{"the token is not a JWT (a part is not base64url)"};
  }
  ParsedJwt jwt;
  jwt.header_ = nlohmann::json::parse(*header, nullptr, false);
  jwt.payload_ = nlohmann::json::parse(*payload, nullptr, false);
  if (jwt.header_.is_discarded() || !jwt.header_.is_object()) {
    return Error{"the token's header is not a JSON object"};
  }
  if (jwt.payload_.is_discarded() || !jwt.payload_.is_object()) {
    return Error{"the token's claims are not a JSON object (encrypted tokens are not accepted)"};
  }
  auto alg = jwt.header_.find("alg");
  if (alg == jwt.header_.end() || !alg->is_string()) {
    return Error{"the token's header has no alg"};
  }
  jwt.alg_ = *alg;
  if (auto kid = jwt.header_.find("kid"); kid != jwt.header_.end() && kid->is_string()) {
    jwt.kid_ = *kid;
  }
  jwt.signing_input_ = std::string(token.substr(0, dot2));
  jwt.signature_ = std::move(*signature);
  return jwt;
}

std::string ParsedJwt::issuer() const {
  auto it = payload_.find("iss");
  return it != payload_.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::vector<std::string> ParsedJwt::audiences() const {
  std::vector<std::string> out;
  auto it = payload_.find("aud");
  if (it == payload_.end()) {
    return out;
  }
  if (it->is_string()) {
    out.push_back(*it);
  } else if (it->is_array()) {
    for (const auto& a : *it) {
      if (a.is_string()) {
        out.push_back(a);
      }
    }
  }
  return out;
}

Status ParsedJwt::verifySignature(const JwtKeys& keys) const {
  if (alg_ == "HS256") {
    if (keys.hs256_secret == nullptr || keys.hs256_secret->empty()) {
      return Error{"HS256 tokens are not accepted for this partner"};
    }
    const Digest mac = HmacSha256(*keys.hs256_secret).sign({signing_input_});
    if (!constantTimeEqual(
            signature_, std::string_view(reinterpret_cast<const char*>(mac.data()), mac.size()))) {
      return Error{"bad signature"};
    }
    return Status::success();
  }
  KeyType type;
  std::optional<std::string> der;
  if (alg_ == "RS256") {
    type = KeyType::kRsa;
  } else if (alg_ == "ES256") {
    type = KeyType::kEcP256;
    der = es256ToDer(signature_);
    if (!der) {
      return Error{"bad signature"};
    }
  } else {
    // "none", HS384, PS256, ...: never; the algorithm list is ours, not the token's.
    return Error{"algorithm '" + alg_.substr(0, 16) + "' is not accepted"};
  }
  if (keys.jwks == nullptr) {
    return Error{alg_ + " tokens are not accepted for this partner"};
  }
  bool candidate = false;
  for (const Jwk& jwk : keys.jwks->keys) {
    if (jwk.type != type || (!kid_.empty() && !jwk.kid.empty() && jwk.kid != kid_)) {
      continue;
    }
    candidate = true;
    if (verifyWith(jwk.key.get(), signing_input_, der ? std::string_view(*der) : signature_)) {
      return Status::success();
    }
  }
  return Error{candidate ? "bad signature" : "no key matches the token's kid and alg"};
}

Result<JwtClaims> ParsedJwt::verify(const JwtKeys& keys, const JwtExpectations& expect,
                                    int64_t now) const {
  if (auto crit = header_.find("crit"); crit != header_.end()) {
    return Error{"the token has critical header extensions this server does not understand"};
  }
  if (auto signature = verifySignature(keys); !signature) {
    return signature.error();
  }
  JwtClaims claims;
  claims.issuer = issuer();
  if (claims.issuer != expect.issuer) {
    return Error{"wrong issuer"};
  }
  const auto auds = audiences();
  if (!expect.audience.empty() &&
      std::find(auds.begin(), auds.end(), expect.audience) == auds.end()) {
    return Error{"wrong audience"};
  }
  bool bad = false;
  const auto exp = numericDate(payload_, "exp", bad);
  const auto nbf = numericDate(payload_, "nbf", bad);
  if (bad) {
    return Error{"exp or nbf is not a number"};
  }
  if (!exp) {
    return Error{"the token has no expiry (exp)"};
  }
  if (now >= *exp + expect.clock_skew_seconds) {
    return Error{"the token has expired"};
  }
  if (nbf && now + expect.clock_skew_seconds < *nbf) {
    return Error{"the token is not valid yet (nbf)"};
  }
  claims.expires_at = *exp;
  if (auto sub = payload_.find("sub"); sub != payload_.end() && sub->is_string()) {
    claims.subject = *sub;
  }
  if (auto jti = payload_.find("jti"); jti != payload_.end() && jti->is_string()) {
    claims.token_id = *jti;
  }
  if (auto products = payload_.find(expect.products_claim); products != payload_.end()) {
    std::vector<std::string> names;
    if (products->is_array()) {
      for (const auto& p : *products) {
        if (!p.is_string()) {
          return Error{"the claim " + expect.products_claim + " lists something not a name"};
        }
        names.push_back(p);
      }
    } else if (products->is_string()) {
      const std::string& text = products->get_ref<const std::string&>();
      size_t start = 0;
      while (start < text.size()) {
        const size_t end = std::min(text.find(' ', start), text.size());
        if (end > start) {
          names.push_back(text.substr(start, end - start));
        }
        start = end + 1;
      }
    } else {
      return Error{"the claim " + expect.products_claim + " is not a list of product names"};
    }
    claims.products = std::move(names);
  }
  return claims;
}

} // namespace causeway::egress
