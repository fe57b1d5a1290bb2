#include "egress/crypto.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace causeway::egress {
namespace {

constexpr size_t kBlock = 64;  // SHA-256 block size

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

} // namespace

Digest sha256(std::string_view bytes) {
  Digest out{};
  unsigned int n = 0;
  EVP_Digest(bytes.data(), bytes.size(), out.data(), &n, EVP_sha256(), nullptr);
  return out;
}

std::string hex(const uint8_t* bytes, size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 15];
  }
  return out;
}

bool constantTimeEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  return a.empty() || CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

HmacSha256::HmacSha256(std::string_view key) {
  uint8_t block[kBlock] = {};
  if (key.size() > kBlock) {
    const Digest d = sha256(key);
    std::memcpy(block, d.data(), d.size());
  } else {
    std::memcpy(block, key.data(), key.size());
  }
  uint8_t ipad[kBlock];
  uint8_t opad[kBlock];
  for (size_t i = 0; i < kBlock; ++i) {
    ipad[i] = block[i] ^ 0x36;
    opad[i] = block[i] ^ 0x5c;
  }
  inner_ = EVP_MD_CTX_new();
  outer_ = EVP_MD_CTX_new();
  if (inner_ == nullptr || outer_ == nullptr ||
      EVP_DigestInit_ex(inner_, EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(inner_, ipad, kBlock) != 1 ||
      EVP_DigestInit_ex(outer_, EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(outer_, opad, kBlock) != 1) {
    // Only an out-of-memory OpenSSL gets here; there is nothing sensible to go on with.
    std::fputs("fatal: OpenSSL cannot initialize SHA-256\n", stderr);
    std::abort();
  }
  OPENSSL_cleanse(block, sizeof(block));
  OPENSSL_cleanse(ipad, sizeof(ipad));
  OPENSSL_cleanse(opad, sizeof(opad));
}

HmacSha256::~HmacSha256() {
  EVP_MD_CTX_free(inner_);
  EVP_MD_CTX_free(outer_);
}

Digest HmacSha256::sign(std::initializer_list<std::string_view> parts) const {
  // One context per thread, reused: copying a prepared state allocates nothing once the
  // context has been used with SHA-256.
  thread_local MdCtxPtr work(EVP_MD_CTX_new());
  Digest inner_digest{};
  Digest out{};
  unsigned int n = 0;
  EVP_MD_CTX_copy_ex(work.get(), inner_);
  for (std::string_view part : parts) {
    EVP_DigestUpdate(work.get(), part.data(), part.size());
  }
  EVP_DigestFinal_ex(work.get(), inner_digest.data(), &n);
  EVP_MD_CTX_copy_ex(work.get(), outer_);
  EVP_DigestUpdate(work.get(), inner_digest.data(), inner_digest.size());
  EVP_DigestFinal_ex(work.get(), out.data(), &n);
  return out;
}

std::string randomBytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    std::fputs("fatal: OpenSSL's random generator failed\n", stderr);
    std::abort();
  }
  return out;
}

} // namespace causeway::egress
