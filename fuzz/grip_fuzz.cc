// libFuzzer target for what egress parses of Pushpin's GRIP requests: the Grip-Last header
// (channel; last-id=ID, comma-separated) and the signed grip_session of a next link. Grip-Sig
// is a JWT (jwt_fuzz). The first byte picks the part:
//   0: "CHANNEL\nHEADER": gripLastId never crashes; an id it returns is part of the header,
//      without ';' or ' ', and the channel's item is in the header;
//   1: a session as given: decode() refuses it unless the MAC matches (only by luck);
//   2: the rest as a session body, signed as the worker signs: decode() accepts it exactly when
//      the body has the three fields, and what it decodes encodes to the same session.
//
//   build-fuzz/fuzz/grip_fuzz -max_total_time=60 fuzz/corpus/grip

#include "common/base64.h"
#include "egress/crypto.h"
#include "egress/partner_auth.h"
#include "egress/pushpin.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

constexpr std::string_view kSecret = "fuzz-grip-secret-0123456789abcdef";
constexpr std::string_view kProduct = "payments.authorized.v1";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace causeway::egress;
  if (size == 0) {
    return 0;
  }
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  static const GripSessions sessions(kSecret);
  switch (data[0] % 3) {
  case 0: {
    const size_t newline = text.find('\n');
    const std::string_view channel = newline == std::string_view::npos
                                         ? std::string_view("causeway:acme:p")
                                         : text.substr(0, newline);
    const std::string_view header =
        newline == std::string_view::npos ? text : text.substr(newline + 1);
    const std::optional<std::string> id = gripLastId(header, channel);
    if (id && (header.find(*id) == std::string_view::npos ||
               id->find_first_of("; ") != std::string::npos ||
               header.find(channel) == std::string_view::npos)) {
      std::abort();
    }
    break;
  }
  case 1:
    (void)sessions.decode(text, kProduct);
    break;
  default: {
    const HmacSha256 mac(std::string("causeway-grip-session\0", 22) + std::string(kSecret));
    const Digest d = mac.sign({text, std::string_view("\0", 1), kProduct});
    const std::string session =
        base64Url(text) + "." +
        base64Url(std::string_view(reinterpret_cast<const char*>(d.data()), 16));
    const std::optional<Identity> who = sessions.decode(session, kProduct);
    size_t nuls = 0;
    for (char c : text) {
      nuls += c == '\0' ? 1 : 0;
    }
    if (who.has_value() != (nuls >= 2)) {
      std::abort();
    }
    if (who && sessions.encode(*who, kProduct) != session) {
      std::abort();
    }
    if (sessions.decode(session, "another.product")) {
      std::abort();  // a session is bound to its product
    }
    break;
  }
  }
  return 0;
}
