// libFuzzer target for the configuration loader: any bytes must give a LoadResult (a config or
// errors with locations), never a crash, hang or exception.
//
//   CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCAUSEWAY_FUZZ=ON -DCAUSEWAY_TESTS=OFF
//   ninja -C build-fuzz config_fuzz
//   build-fuzz/fuzz/config_fuzz -max_total_time=60 fuzz/corpus/config

#include "common/secrets.h"
#include "config/config_loader.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const causeway::config::LoadResult result = causeway::config::loadConfigString(text, "fuzz.yaml");
  // The contract the rest of Causeway relies on: a config exactly when there are no errors, and
  // every error renders.
  if (result.config.has_value() != result.errors.empty()) {
    std::abort();
  }
  for (const auto& error : result.errors) {
    if (error.str().empty() || error.message.empty()) {
      std::abort();
    }
  }
  // Loading registers secret values process-wide; a fuzzer loads millions of configurations.
  causeway::secrets::clearRegisteredSecretsForTesting();
  return 0;
}
