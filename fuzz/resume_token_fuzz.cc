// libFuzzer target for resume tokens (Last-Event-ID, ?from=, gRPC resume_token): any text is
// refused with a reason or decodes to positions that re-encode to the same token, never a
// crash. The fuzzer can forge the MAC only by luck, so the input's first byte picks between
// decoding the text as given and decoding a token re-signed around the input's bytes.

#include "common/base64.h"
#include "egress/resume_token.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <variant>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace causeway::egress;
  static const ResumeTokenCodec codec("fuzz-secret-0123456789abcdef0123");
  if (size == 0) {
    return 0;
  }
  std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) {
    // Treat the bytes as a token body: sign them as the codec would, so the layout parser runs.
    const HmacSha256 mac("fuzz-secret-0123456789abcdef0123");
    const std::string_view domain("causeway-resume-v1\0", 19);
    std::string body = text;
    const Digest d = mac.sign({domain, "product", std::string_view("\0", 1), body});
    body.append(reinterpret_cast<const char*>(d.data()), 16);
    text = base64Url(body);
  }
  auto decoded = codec.decode("product", text);
  if (auto* positions = std::get_if<std::vector<TokenPosition>>(&decoded)) {
    // Accepted tokens are canonical: encoding the positions gives the token back.
    if (codec.encode("product", *positions) != text) {
      std::abort();
    }
  } else if (std::get<TokenError>(decoded).message.empty()) {
    std::abort();
  }
  return 0;
}
