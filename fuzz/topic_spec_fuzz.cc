// libFuzzer target for `causeway dev-cluster --topic NAME[:PARTITIONS]` specs: any bytes give a
// valid spec or an error, never a crash; an accepted spec always holds a valid name and count.

#include "embedded/embedded_cluster.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto spec = causeway::embedded::parseTopicSpec(text);
  if (spec.ok()) {
    if (!causeway::embedded::validateTopicName(spec->name).ok() ||
        !causeway::embedded::validatePartitionCount(spec->partitions).ok()) {
      std::abort();
    }
  } else if (spec.error().message.empty()) {
    std::abort();
  }
  return 0;
}
