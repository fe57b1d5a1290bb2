#include "egress/jwks.h"

#include "common/base64.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

namespace causeway::egress {
namespace {

constexpr size_t kMaxJwksBytes = 1u << 20;
constexpr int kMinRsaBits = 2048;

struct BnDeleter {
  void operator()(BIGNUM* bn) const { BN_free(bn); }
};
struct BldDeleter {
  void operator()(OSSL_PARAM_BLD* bld) const { OSSL_PARAM_BLD_free(bld); }
};
struct ParamDeleter {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};

// A base64url member of a JWK, decoded; empty when absent or invalid.
std::string member(const nlohmann::json& jwk, const char* name) {
  auto it = jwk.find(name);
  if (it == jwk.end() || !it->is_string()) {
    return {};
  }
  return decodeBase64Url(it->get_ref<const std::string&>()).value_or("");
}

Result<PkeyPtr> fromParams(const char* type, OSSL_PARAM_BLD* bld) {
  std::unique_ptr<OSSL_PARAM, ParamDeleter> params(OSSL_PARAM_BLD_to_param(bld));
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return Error{
        "OpenSSL does not accept the key (an EC point not on the curve, or a bad RSA modulus)"};
  }
  PkeyPtr key(raw, PkeyDeleter{});
  std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter> check(
      EVP_PKEY_CTX_new_from_pkey(nullptr, raw, nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    return Error{"the public key is not valid (for EC: the point is not on the curve)"};
  }
  return key;
}

Result<PkeyPtr> rsaKey(const nlohmann::json& jwk) {
  const std::string n = member(jwk, "n");
  const std::string e = member(jwk, "e");
  if (n.empty() || e.empty()) {
    return Error{"an RSA key needs base64url members n and e"};
  }
  std::unique_ptr<BIGNUM, BnDeleter> bn_n(BN_bin2bn(
      reinterpret_cast<const unsigned char*>(n.data()), static_cast<int>(n.size()), nullptr));
  std::unique_ptr<BIGNUM, BnDeleter> bn_e(BN_bin2bn(
      reinterpret_cast<const unsigned char*>(e.data()), static_cast<int>(e.size()), nullptr));
  if (!bn_n || !bn_e) {
    return Error{"out of memory reading an RSA key"};
  }
  if (BN_num_bits(bn_n.get()) < kMinRsaBits) {
    return Error{"the RSA modulus has " + std::to_string(BN_num_bits(bn_n.get())) +
                 " bits; at least " + std::to_string(kMinRsaBits) + " are required"};
  }
  std::unique_ptr<OSSL_PARAM_BLD, BldDeleter> bld(OSSL_PARAM_BLD_new());
  if (!bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    return Error{"out of memory reading an RSA key"};
  }
  return fromParams("RSA", bld.get());
}

Result<PkeyPtr> ecKey(const nlohmann::json& jwk) {
  auto crv = jwk.find("crv");
  if (crv == jwk.end() || !crv->is_string() || *crv != "P-256") {
    return Error{"only the curve P-256 (ES256) is supported"};
  }
  const std::string x = member(jwk, "x");
  const std::string y = member(jwk, "y");
  if (x.size() != 32 || y.size() != 32) {
    return Error{"a P-256 key needs base64url members x and y of 32 bytes each"};
  }
  std::string point = "\x04" + x + y;  // uncompressed SEC1 point
  std::unique_ptr<OSSL_PARAM_BLD, BldDeleter> bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    return Error{"out of memory reading an EC key"};
  }
  return fromParams("EC", bld.get());
}

} // namespace

Result<Jwks> parseJwks(std::string_view text) {
  if (text.size() > kMaxJwksBytes) {
    return Error{"the JWKS is larger than 1 MiB"};
  }
  const auto doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return Error{"the JWKS is not valid JSON"};
  }
  if (!doc.is_object() || !doc.contains("keys") || !doc["keys"].is_array()) {
    return Error{"the JWKS is not an object with a \"keys\" array"};
  }
  Jwks jwks;
  size_t index = 0;
  for (const auto& jwk : doc["keys"]) {
    const std::string where = "key " + std::to_string(index++);
    if (!jwk.is_object()) {
      jwks.skipped.push_back(where + ": not an object");
      continue;
    }
    std::string kid;
    if (auto it = jwk.find("kid"); it != jwk.end() && it->is_string()) {
      kid = *it;
    }
    const std::string name = where + (kid.empty() ? "" : " (kid '" + kid + "')");
    if (auto use = jwk.find("use"); use != jwk.end() && (!use->is_string() || *use != "sig")) {
      jwks.skipped.push_back(name + ": not a signing key (use is not 'sig')");
      continue;
    }
    auto kty = jwk.find("kty");
    if (kty == jwk.end() || !kty->is_string()) {
      jwks.skipped.push_back(name + ": no kty");
      continue;
    }
    std::string alg;
    if (auto it = jwk.find("alg"); it != jwk.end() && it->is_string()) {
      alg = *it;
    }
    Jwk out;
    out.kid = kid;
    Result<PkeyPtr> key = Error{""};
    if (*kty == "RSA") {
      if (!alg.empty() && alg != "RS256") {
        jwks.skipped.push_back(name + ": alg '" + alg + "' (only RS256 for RSA keys)");
        continue;
      }
      out.type = KeyType::kRsa;
      key = rsaKey(jwk);
    } else if (*kty == "EC") {
      if (!alg.empty() && alg != "ES256") {
        jwks.skipped.push_back(name + ": alg '" + alg + "' (only ES256 for EC keys)");
        continue;
      }
      out.type = KeyType::kEcP256;
      key = ecKey(jwk);
    } else {
      jwks.skipped.push_back(name + ": key type '" + kty->get<std::string>() +
                             "' (only RSA and EC)");
      continue;
    }
    if (!key) {
      jwks.skipped.push_back(name + ": " + key.error().message);
      continue;
    }
    out.key = std::move(*key);
    jwks.keys.push_back(std::move(out));
  }
  if (jwks.keys.empty()) {
    std::string why;
    for (const auto& s : jwks.skipped) {
      why += (why.empty() ? "" : "; ") + s;
    }
    return Error{"the JWKS has no usable RS256 or ES256 signing key" +
                 (why.empty() ? std::string() : " (" + why + ")")};
  }
  return jwks;
}

Result<Jwks> readJwksFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error{"JWKS file '" + path + "' cannot be read"};
  }
  std::string text(kMaxJwksBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  auto jwks = parseJwks(text);
  if (!jwks) {
    return Error{"JWKS file '" + path + "': " + jwks.error().message};
  }
  return jwks;
}

} // namespace causeway::egress
