// libFuzzer target for decodeFailoverMark, which every worker of a link runs on what it finds
// under the "!failover" key of causeway.<link>.state (outside input: any bytes may be there).
// Any bytes give a mark or an error with a message, never a crash or an exception; an accepted
// mark describes itself and survives its own encoding unchanged.

#include "replicator/offset_state.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view value(reinterpret_cast<const char*>(data), size);
  auto mark = causeway::replicator::decodeFailoverMark(value);
  if (!mark.ok()) {
    if (mark.error().message.empty()) {
      std::abort();
    }
    return 0;
  }
  if (causeway::replicator::describeFailoverMark(*mark).empty()) {
    std::abort();
  }
  auto again =
      causeway::replicator::decodeFailoverMark(causeway::replicator::encodeFailoverMark(*mark));
  if (!again.ok() || again->at_ms != mark->at_ms || again->forced != mark->forced ||
      again->left_behind != mark->left_behind || again->by != mark->by) {
    std::abort();
  }
  return 0;
}
