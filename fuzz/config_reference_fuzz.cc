// libFuzzer target for configuration references (config/references.h) and the redaction of
// secret-named assignments (common/secrets.h): the value parser, the Java-properties reader
// behind ${file:/path:key}, and the resolver, on any bytes. The input is a value, a NUL byte,
// then the content every referenced file has. Any input gives a value or an error with a
// message, never a crash, a hang or an exception; redaction is idempotent.
//
//   CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCAUSEWAY_FUZZ=ON -DCAUSEWAY_TESTS=OFF
//   ninja -C build-fuzz config_reference_fuzz
//   build-fuzz/fuzz/config_reference_fuzz -max_total_time=60 fuzz/corpus/config_reference

#include "common/secrets.h"
#include "config/references.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using causeway::Error;
using causeway::Result;

// Every variable is set except those starting with UNSET; every file holds `content` except
// paths under /missing.
class FuzzSource : public causeway::config::ReferenceSource {
public:
  explicit FuzzSource(std::string_view content) : content_(content) {}
  std::optional<std::string> environment(const std::string& name) const override {
    if (name.rfind("UNSET", 0) == 0) {
      return std::nullopt;
    }
    return "value-of-" + name;
  }
  Result<std::string> readFile(const std::string& path) const override {
    if (path.rfind("/missing", 0) == 0) {
      return Error{"No such file or directory"};
    }
    return std::string(content_);
  }

private:
  std::string_view content_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t split = input.find('\0');
  const std::string_view value = input.substr(0, split);
  const std::string_view file =
      split == std::string_view::npos ? std::string_view() : input.substr(split + 1);

  auto properties = causeway::config::parseProperties(file);
  if (!properties.ok() && properties.error().message.empty()) {
    std::abort();
  }

  auto parsed = causeway::config::parseValueTemplate(value);
  if (!parsed.ok()) {
    if (parsed.error().message.empty()) {
      std::abort();
    }
  } else {
    size_t references = 0;
    for (const auto& part : parsed->parts) {
      references += part.reference ? 1 : 0;
    }
    if (references > causeway::config::kMaxReferencesPerValue ||
        (references > 0) != parsed->hasReferences()) {
      std::abort();
    }
    FuzzSource source(file);
    causeway::config::ReferenceResolver resolver(source);
    auto resolved = resolver.resolve(*parsed);
    if (resolved.ok()) {
      if (resolved->from_references.size() != references) {
        std::abort();
      }
    } else if (resolved.error().message.empty()) {
      std::abort();
    }
  }

  // Redaction of secret-named assignments: never grows a value past the mask, and a second
  // pass finds nothing more to hide.
  std::string once(value);
  causeway::secrets::redactAssignmentsInPlace(once);
  std::string twice = once;
  if (causeway::secrets::redactAssignmentsInPlace(twice) || twice != once) {
    std::abort();
  }
  causeway::secrets::SecretSet set;
  set.add(file.substr(0, 64));
  std::string hidden(value);
  set.redactInPlace(hidden);
  return 0;
}
