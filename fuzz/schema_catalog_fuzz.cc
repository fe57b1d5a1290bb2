// libFuzzer target for the local schema catalog loader (schema/catalog.h): index.yaml and the
// schema files it names are outside input (a folder a user or a pipeline writes). The input is
// the index text, a NUL byte, then the text every schema file gets. Any input gives entries
// and/or errors with a location, never a crash or a hang; what loaded is consistent (lookups
// by ID and version find entries, references point at entries).

#include "schema/catalog.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

void check(bool condition) {
  if (!condition) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t split = input.find('\0');
  const std::string index(input.substr(0, split));
  const std::string file =
      split == std::string_view::npos ? "" : std::string(input.substr(split + 1));
  std::vector<causeway::config::ConfigError> errors;
  const auto catalog = causeway::schema::Catalog::load(
      "fuzz",
      [&](const std::string& path) -> std::optional<std::string> {
        if (path == causeway::schema::Catalog::kIndexFile) {
          return index;
        }
        return file;
      },
      errors);
  for (const auto& error : errors) {
    check(!error.message.empty());
  }
  for (const auto& entry : catalog.entries()) {
    check(catalog.byId(entry.registered.id) != nullptr);
    check(catalog.byVersion(entry.registered.subject, entry.registered.version) == &entry);
    check(entry.registered.version > 0);
  }
  return 0;
}
