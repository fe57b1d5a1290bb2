// libFuzzer target for bearer JWTs as partners send them: any text is refused with a reason
// or parsed; verification of a parsed token never crashes and, since the fuzzer holds no key,
// never succeeds.

#include "egress/jwks.h"
#include "egress/jwt.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace causeway::egress;
  static const std::string secret = "fuzz-secret-never-in-the-input!!";
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto parsed = ParsedJwt::parse(text);
  if (!parsed) {
    if (parsed.error().message.empty()) {
      std::abort();
    }
    return 0;
  }
  (void)parsed->issuer();
  (void)parsed->audiences();
  JwtExpectations expect;
  expect.issuer = parsed->issuer();
  JwtKeys keys;
  keys.hs256_secret = &secret;
  auto claims = parsed->verify(keys, expect, 1700000000);
  if (claims) {
    std::abort();  // a forged token passed
  }
  return 0;
}
