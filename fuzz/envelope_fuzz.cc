// libFuzzer target for what `causeway decrypt` and key loading parse: encryption envelopes
// (policies/envelope.h) and key-set text (policies/key_material.h). Any input must decrypt or
// be refused with a message, never crash.
//
//   build-fuzz/fuzz/envelope_fuzz -max_total_time=60 fuzz/corpus/envelope

#include "policies/envelope.h"
#include "policies/key_material.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace causeway::policies;
  using causeway::Result;
  static const auto keys = std::make_shared<const KeySet>(
      *parseKeySet("k1:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"
                   "k2:f0e0d0c0b0a090807060504030201000f1e1d1c1b1a191817161514131211101\n",
                   "fuzz"));
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  EnvelopeOpener opener(keys);
  Result<Opened> opened = opener.open(text);
  if (!opened.ok() && opened.error().message.empty()) {
    std::abort();
  }
  // The same bytes as an envelope body (past the prefix) reach the binary parser more often.
  Result<Opened> body = opener.open(std::string(kEnvelopePrefix) + std::string(text));
  if (!body.ok() && body.error().message.empty()) {
    std::abort();
  }
  Result<KeySet> parsed = parseKeySet(text, "fuzz");
  if (!parsed.ok() && parsed.error().message.empty()) {
    std::abort();
  }
  return 0;
}
