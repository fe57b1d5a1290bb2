// libFuzzer target for JWKS files (a partner's identity provider keys): any bytes give a key
// set with at least one usable key, or an error; never a crash.

#include "egress/jwks.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto jwks =
      causeway::egress::parseJwks(std::string_view(reinterpret_cast<const char*>(data), size));
  if (jwks) {
    if (jwks->keys.empty()) {
      std::abort();
    }
    for (const auto& key : jwks->keys) {
      if (!key.key) {
        std::abort();
      }
    }
  } else if (jwks.error().message.empty()) {
    std::abort();
  }
  return 0;
}
