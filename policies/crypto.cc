#include "policies/crypto.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <climits>

namespace causeway::policies {
namespace {

Error opensslError(std::string_view what) {
  return Error{std::string(what) + " failed in OpenSSL"};
}

}  // namespace

void HmacSha256::Free::operator()(evp_mac_ctx_st* ctx) const { EVP_MAC_CTX_free(ctx); }

HmacSha256::HmacSha256(HmacSha256&&) noexcept = default;
HmacSha256& HmacSha256::operator=(HmacSha256&&) noexcept = default;
HmacSha256::~HmacSha256() = default;

Result<HmacSha256> HmacSha256::create(std::span<const uint8_t> key) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac == nullptr) {
    return opensslError("fetching HMAC");
  }
  HmacSha256 out;
  out.ctx_.reset(EVP_MAC_CTX_new(mac));
  EVP_MAC_free(mac);  // the context keeps its own reference
  if (!out.ctx_) {
    return opensslError("creating an HMAC context");
  }
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  if (EVP_MAC_init(out.ctx_.get(), key.data(), key.size(), params) != 1) {
    return opensslError("initialising HMAC-SHA256");
  }
  return out;
}

bool HmacSha256::compute(std::span<const std::string_view> parts, uint8_t (&out)[kSha256Bytes]) {
  // A null key re-initialises with the prepared key: no key schedule per record.
  if (EVP_MAC_init(ctx_.get(), nullptr, 0, nullptr) != 1) {
    return false;
  }
  for (std::string_view part : parts) {
    if (EVP_MAC_update(ctx_.get(), reinterpret_cast<const unsigned char*>(part.data()),
                       part.size()) != 1) {
      return false;
    }
  }
  size_t length = 0;
  return EVP_MAC_final(ctx_.get(), out, &length, kSha256Bytes) == 1 && length == kSha256Bytes;
}

void AesGcm::Free::operator()(evp_cipher_ctx_st* ctx) const { EVP_CIPHER_CTX_free(ctx); }

AesGcm::AesGcm(AesGcm&&) noexcept = default;
AesGcm& AesGcm::operator=(AesGcm&&) noexcept = default;
AesGcm::~AesGcm() = default;

Result<AesGcm> AesGcm::create(std::span<const uint8_t, kAesKeyBytes> key) {
  AesGcm out;
  out.encrypt_.reset(EVP_CIPHER_CTX_new());
  out.decrypt_.reset(EVP_CIPHER_CTX_new());
  if (!out.encrypt_ || !out.decrypt_) {
    return opensslError("creating an AES-GCM context");
  }
  if (EVP_EncryptInit_ex(out.encrypt_.get(), EVP_aes_256_gcm(), nullptr, key.data(), nullptr) !=
          1 ||
      EVP_DecryptInit_ex(out.decrypt_.get(), EVP_aes_256_gcm(), nullptr, key.data(), nullptr) !=
          1) {
    return opensslError("initialising AES-256-GCM");
  }
  return out;
}

bool AesGcm::encrypt(std::span<const uint8_t, kGcmNonceBytes> nonce, std::string_view aad,
                     std::string_view plaintext, uint8_t* out, uint8_t (&tag)[kGcmTagBytes]) {
  if (plaintext.size() > INT_MAX || aad.size() > INT_MAX) {
    return false;
  }
  EVP_CIPHER_CTX* ctx = encrypt_.get();
  int n = 0;
  // Only the nonce changes: the key schedule set at create() is kept.
  if (EVP_EncryptInit_ex2(ctx, nullptr, nullptr, nonce.data(), nullptr) != 1 ||
      EVP_EncryptUpdate(ctx, nullptr, &n, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(ctx, out, &n, reinterpret_cast<const unsigned char*>(plaintext.data()),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx, out + n, &n) != 1) {
    return false;
  }
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag, kGcmTagBytes),
      OSSL_PARAM_construct_end()};
  return EVP_CIPHER_CTX_get_params(ctx, params) == 1;
}

bool AesGcm::decrypt(std::span<const uint8_t, kGcmNonceBytes> nonce, std::string_view aad,
                     std::string_view ciphertext, std::span<const uint8_t, kGcmTagBytes> tag,
                     uint8_t* out) {
  if (ciphertext.size() > INT_MAX || aad.size() > INT_MAX) {
    return false;
  }
  EVP_CIPHER_CTX* ctx = decrypt_.get();
  int n = 0;
  uint8_t tag_copy[kGcmTagBytes];
  std::copy(tag.begin(), tag.end(), tag_copy);
  return EVP_DecryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce.data()) == 1 &&
         EVP_DecryptUpdate(ctx, nullptr, &n, reinterpret_cast<const unsigned char*>(aad.data()),
                           static_cast<int>(aad.size())) == 1 &&
         EVP_DecryptUpdate(ctx, out, &n, reinterpret_cast<const unsigned char*>(ciphertext.data()),
                           static_cast<int>(ciphertext.size())) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kGcmTagBytes, tag_copy) == 1 &&
         EVP_DecryptFinal_ex(ctx, out + n, &n) == 1;
}

bool randomBytes(std::span<uint8_t> out) {
  return out.size() <= INT_MAX && RAND_bytes(out.data(), static_cast<int>(out.size())) == 1;
}

namespace {

constexpr char kBase64Url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int base64Value(char c) {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  if (c == '-') {
    return 62;
  }
  if (c == '_') {
    return 63;
  }
  return -1;
}

}  // namespace

void appendBase64Url(std::span<const uint8_t> data, std::string& out) {
  size_t i = 0;
  for (; i + 3 <= data.size(); i += 3) {
    const uint32_t v = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8) | data[i + 2];
    out += kBase64Url[(v >> 18) & 63];
    out += kBase64Url[(v >> 12) & 63];
    out += kBase64Url[(v >> 6) & 63];
    out += kBase64Url[v & 63];
  }
  const size_t rest = data.size() - i;
  if (rest == 1) {
    const uint32_t v = uint32_t{data[i]} << 16;
    out += kBase64Url[(v >> 18) & 63];
    out += kBase64Url[(v >> 12) & 63];
  } else if (rest == 2) {
    const uint32_t v = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8);
    out += kBase64Url[(v >> 18) & 63];
    out += kBase64Url[(v >> 12) & 63];
    out += kBase64Url[(v >> 6) & 63];
  }
}

bool decodeBase64Url(std::string_view text, std::string& out) {
  while (!text.empty() && text.back() == '=') {
    text.remove_suffix(1);
  }
  if (text.size() % 4 == 1) {
    return false;
  }
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const int v = base64Value(c);
    if (v < 0) {
      return false;
    }
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  // Non-canonical trailing bits (a different string for the same bytes) are refused.
  return (acc & ((1u << bits) - 1)) == 0;
}

void appendHex(std::span<const uint8_t> data, std::string& out) {
  constexpr char kHex[] = "0123456789abcdef";
  for (uint8_t b : data) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
}

void wipe(void* data, size_t size) { OPENSSL_cleanse(data, size); }

}  // namespace causeway::policies
