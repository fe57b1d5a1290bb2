// libFuzzer target for HTTP request heads read by the egress server: any bytes give a request,
// "need more", or an error status, never a crash; an accepted head fits the limits.

#include "egress/http_request.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace causeway::egress;
  auto parsed = parseRequestHead(std::string_view(reinterpret_cast<const char*>(data), size));
  if (auto* request = std::get_if<HttpRequest>(&parsed)) {
    if (request->head_bytes > size || request->head_bytes > kMaxRequestHeadBytes ||
        request->target.size() > kMaxTargetBytes || request->path.find('\0') != std::string::npos) {
      std::abort();
    }
  } else if (auto* error = std::get_if<HttpParseError>(&parsed)) {
    if (error->status < 400 || error->message.empty()) {
      std::abort();
    }
  }
  return 0;
}
