#include "tests/support/jwt_signer.h"

#include "common/base64.h"
#include "egress/crypto.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <stdexcept>

namespace causeway::testing {
namespace {

EVP_PKEY* pkey(void* p) {
  return static_cast<EVP_PKEY*>(p);
}

// Fixed RSA test keys: generating a 2048-bit key costs a few hundred milliseconds, which unit
// tests should not spend. Test keys only; they sign nothing outside tests.
const char* const kRsaKeys[] = {R"(-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQD1dHihnBZlInxP
6go1OP0Xhma/7pmulCqzB7oN6vCvcLy0y+sVOsrCdEHSOQ7YFMwKD8eoNSzqWGjr
GFo+WaXJhPkYTUdK9b7b3UTQcNwGmwWiUjQoIWhh6iU8ffqVWWTDmDRvDN+fLTYy
Aj20im/NMxjHQll9wqy4fHGVVi6aDEGZE0BKqiFLQxjL+xKUhs1kpG5FXFYPEiFg
l3KweS1FxZlXBe1pwCDvwitu/F6OMG+68BqZBNAilqPTqotoeIdYAw4yh/kSjo+u
ID8t6zCx2C+aMEnOdVCcBIP3oyOB+pgIyWSHb2o6njHIQSBYrJ4OaWWtvQJIlbcz
XL09GYs/AgMBAAECggEADnlTxgGZJQxwsCyNdYuz5YoX898qCNDVDOYoUM02/nO8
kYpyhTetKcAG+sBBc9SBjM97sEAkxVPCcvFmZXyOHipNMXWq2Wy+oZmUYmGp6iCo
8GRQjeZl2e37Av6/WcTvtw2MV7SkWNzdpvr+R11yeSoSw2itobVqz69UoQku0uMi
2U9Z5tYW4xfJsCaPP7Fokg+u5a6Np22+6HWfadsglGRd0h9K0JJweN+KbU+Wmxxm
GtzSRh5QRFvHLwIhocbrZZB6yeEVzIyeBsKWHgrJa769cti12FUzIgI++Ilh2w51
KVKn/Ilafrph0Wdr+eubR9R+Y+offmF/hCgSivfYIQKBgQD/xu0rVB4iBk1C3byq
4q2PYYKRG1uqmabZglZEUCtSxOBzVKvTWqTonXRL2Bk2laB1eCWu+NPAEOLl5ppO
BznFi0u04Ll11XFV5FdLQFM37Ue/r0fQI16hnQGm3csPNDAim1SX3s486xN6s9ny
Kx9c+KX5dw1xQGDOHI51akFhwwKBgQD1qz3UgYGC4bjDzZkaU0k7XBuhYSJTxfji
sUAEIP85Dekgu/KC/x/++1rdkIvCTuU3vsrptW0XT7PPYYaaAyTTXojELH3x426D
y1WOemw2HHxyibW+h5HuOarxIVDJGUSYkdhXhOvPxT6YKv6wuEXcDgS5N6yAdPfq
y+JQtPi81QKBgQD8Sbf4TAFo6DRfJx4IpIwzaCgEfyq8rNAxrWjv+u+wtXb662KM
l9UfiOeERAQinhXmqHrrCo663S0hPYOoQWJPouUq5ZqpSr5+zTr5g9pRyN9DiF3a
RHj8CkTt1cmMFpsAF5yqLF/bILhXCH2Ka9SEvNHhrfd5ZNnXk71EvWj+RwKBgFNR
r5eqEJWmHnbx/PILuzORqqFSA0VsSFwCB5ce5dCg4idC9x3sjxp4fznT80KEZYNB
hyo6aPRWCMLV7cPAOzYgwrvd5x0pqGq0hKDc7mRvxtlF0Uj8S8cC8fHz/aUml7gz
Bq+wGhYObItJUbX32WGns3xp4Gx0vzx3x5rdtdq9AoGAUd+5qWbKeaSyeHv28kop
mv0fd6kTEJcckEqq9P6x2iWeYAi6fXNHD6/qtUAFrGn0YXnL9ADbKNsZRyBJh6w3
QBOKB9hFCyyxBgE96cb2kGWRs1rY9LvkHChC/g1k+qNvxrpTNtq6ZhZK6FlKThFA
RWKFunTqZk0SFd6Notpo20k=
-----END PRIVATE KEY-----
)",
                                R"(-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCJC1fWVa6P0ahO
b/NzC/zHt3L52NgMNXZeDySa7wSB5mREP1V0qBsbYEpURMaF4olOxjUo0KW+KB6F
NtKOIqMkyzKnB5AH+z4C2wq3bGMEBfmk2aLnEIn1VdVZNcpjUiGXVHFTzpLvRTlv
BqwuMyOEiKgIWr6MRU/qARS5uM7OqKoQ8GIVa0OB+G4tCVT01BdFHPPlRXihq2Db
xWUJWlEJ5BdqHcuaCvu+rma0/HQAyJZJzD7lkJWoOXlf78UoGuP8CkAv6Fp1xB8h
hCpOu3I5cYF77v6bP0KZoZcJSiYR9aquokrnkZUd3ZMa8FRf6Ixj/9IITQNbDwj2
3yjieRQPAgMBAAECggEAOy//dS3XMP0TLCE0qyTrvRPRX+/Ty14Rq6jtnc6KC1JG
TqVt0m7CGk45e/CiLvO6ap+3GNQYKSrpl44oXMO/4yWxUCs3fQL48sHIfJSepP+x
pI1sSlA9zQwPkzJkoQW5RULumQv4MMeceQOQPHnQpq5gqA8NCcbrrzxdR6L2CpFy
6xStphk3oFdC/M+ho1XEI3F6u+LjG18FnCDHzP+I+cMLzelTONMeZEuAi6nFl8Sf
eDy0UudU8GBEOmAIrEMi1IRiQgVKQ+U9OiIv1zkK7A4YFZyrE5jQiEjvYvtYhNkE
0YgZcw9URvsUCrPCAsQrcZORld+iRgAPAGFLipszDQKBgQC7sKK5qVDLYCbQoFPQ
3UP1Qot9DCC6nEjCEnxwApszKaeZJwIYR/mgByrejWyRsKz3t+JClSHQA85I6/YK
dnKVAJ8fm8ewugH8i7mCccpeUYf/eekUDQd4eUvu3r9c10AaGu9U1MPr1rUblxjy
t3CDIiPgfiJEqb6u2hlUY5zofQKBgQC66/jeQKxE4YSZOvDxfXWOSxvKCUSpDbWj
zyNE9F/HZO61vdF5wED8EUpanlcvsDCukQILHVIiUcExRTDClSai/+TAK268sGOt
goAf8En4ZWworGx3L6CE50FL0pY5CkoHWCV0qKeUsuyxCj1n8HPRzHdKVH/cgIit
NZMazcjgewKBgQCfmGgWNVoFRYJb3ijHLo6ty2Lu9tQRufjIRY3YdO7hh2cC/L90
RCeIIvAaA+mwzKmXjp3vff4dck8DhNlXNjbian/kEcOwi8pKo8kfmYC5yNw6qcA+
k4GpuIKP4IqZ+FKCoCqoWK8sKAsiJc5J/R/H8czOBJNBDZGd/siREI8IxQKBgDMa
Ii645Z/rO7IcoBSVZRcix5UjlYbWPatsDMtkN+8uU+iR3Xv4qIuBOp+tnE5oT9bZ
xAI/4N2LFlMfBGaeGjMD3IkBFsQ1QPsFq3uP2Nk0+S3hfcHT3oGXK43MI8+yVWzO
l2beWPpZNEZucz1ASpm32YETuuUQqs0X0YDJc7qTAoGAV3wRqaJSxEXDL1tm7GAC
hRHFGHVTQFGy5UgPe5hxbHOw/z2g2ZtboNq+Ogce4wSY9W/YrSPEb71jvyfJ3h5D
SASGelrBaLT16A7lOfKpKatgbuVHjvaPi0Rf1EmLvMtfXyr9ydH7IYXngdm6qLnl
KUSdsMyWnoJHT9RkMW24e7U=
-----END PRIVATE KEY-----
)"};

EVP_PKEY* loadPem(const char* pem) {
  BIO* bio = BIO_new_mem_buf(pem, -1);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return key;
}

std::string bnParam(EVP_PKEY* key, const char* name, size_t pad = 0) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) {
    throw std::runtime_error("cannot read key parameter");
  }
  std::string out(std::max<size_t>(pad, static_cast<size_t>(BN_num_bytes(bn))), '\0');
  BN_bn2binpad(bn, reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(out.size()));
  BN_free(bn);
  return out;
}

} // namespace

JwtSigner::JwtSigner(Kind kind, std::string kid, int rsa_key) : kind_(kind), kid_(std::move(kid)) {
  switch (kind) {
    case Kind::kRs256:
      key_ = loadPem(kRsaKeys[rsa_key % 2]);
      break;
    case Kind::kEs256:
      key_ = EVP_EC_gen("P-256");
      break;
    case Kind::kHs256:
      secret_ = egress::hex(reinterpret_cast<const uint8_t*>(egress::randomBytes(32).data()), 32);
      break;
  }
  if (kind != Kind::kHs256 && key_ == nullptr) {
    throw std::runtime_error("cannot generate a test key");
  }
}

JwtSigner::~JwtSigner() {
  EVP_PKEY_free(pkey(key_));
}

nlohmann::json JwtSigner::jwk() const {
  nlohmann::json jwk;
  if (kind_ == Kind::kRs256) {
    jwk = {{"kty", "RSA"},
           {"kid", kid_},
           {"use", "sig"},
           {"alg", "RS256"},
           {"n", base64Url(bnParam(pkey(key_), OSSL_PKEY_PARAM_RSA_N))},
           {"e", base64Url(bnParam(pkey(key_), OSSL_PKEY_PARAM_RSA_E))}};
  } else if (kind_ == Kind::kEs256) {
    jwk = {{"kty", "EC"},
           {"kid", kid_},
           {"crv", "P-256"},
           {"x", base64Url(bnParam(pkey(key_), OSSL_PKEY_PARAM_EC_PUB_X, 32))},
           {"y", base64Url(bnParam(pkey(key_), OSSL_PKEY_PARAM_EC_PUB_Y, 32))}};
  }
  return jwk;
}

std::string JwtSigner::jwks(std::initializer_list<const JwtSigner*> signers) {
  nlohmann::json keys = nlohmann::json::array();
  for (const JwtSigner* s : signers) {
    if (s->kind_ != Kind::kHs256) {
      keys.push_back(s->jwk());
    }
  }
  return nlohmann::json{{"keys", keys}}.dump();
}

std::string JwtSigner::sign(const nlohmann::json& claims) const {
  const char* alg = kind_ == Kind::kRs256 ? "RS256" : kind_ == Kind::kEs256 ? "ES256" : "HS256";
  return signWithHeader({{"alg", alg}, {"typ", "JWT"}, {"kid", kid_}}, claims);
}

std::string JwtSigner::signWithHeader(const nlohmann::json& header,
                                      const nlohmann::json& claims) const {
  std::string input = base64Url(header.dump()) + "." + base64Url(claims.dump());
  std::string signature;
  if (kind_ == Kind::kHs256) {
    const auto mac = egress::HmacSha256(secret_).sign({input});
    signature.assign(reinterpret_cast<const char*>(mac.data()), mac.size());
  } else {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    size_t n = 0;
    EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, pkey(key_));
    EVP_DigestSign(ctx, nullptr, &n, reinterpret_cast<const unsigned char*>(input.data()),
                   input.size());
    signature.resize(n);
    EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(signature.data()), &n,
                   reinterpret_cast<const unsigned char*>(input.data()), input.size());
    signature.resize(n);
    EVP_MD_CTX_free(ctx);
    if (kind_ == Kind::kEs256) {
      // DER -> JOSE r||s
      const unsigned char* p = reinterpret_cast<const unsigned char*>(signature.data());
      ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(signature.size()));
      std::string raw(64, '\0');
      BN_bn2binpad(ECDSA_SIG_get0_r(sig), reinterpret_cast<unsigned char*>(raw.data()), 32);
      BN_bn2binpad(ECDSA_SIG_get0_s(sig), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
      ECDSA_SIG_free(sig);
      signature = raw;
    }
  }
  return input + "." + base64Url(signature);
}

} // namespace causeway::testing
