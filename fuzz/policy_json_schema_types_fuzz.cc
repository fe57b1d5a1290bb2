// libFuzzer target for what check-config reads from a contract's JSON Schema about a policy's
// paths (policies/json_schema_types.h): the schema comes from a registry or catalog, the path
// from the configuration. The input is the schema text, a NUL byte, then the path. Any input
// gives a type or a problem with a message, never a crash, a hang or unbounded recursion.

#include "policies/json_schema_types.h"
#include "policies/predicate.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t split = input.find('\0');
  if (split == std::string_view::npos) {
    return 0;
  }
  auto types = causeway::policies::JsonSchemaTypes::make(
      input.substr(0, split), causeway::policies::PathRoot::kValue, "the schema");
  if (!types) {
    return 0;
  }
  causeway::policies::PredicateError error;
  auto path = causeway::policies::parseFieldPath(input.substr(split + 1), error);
  if (!path) {
    return 0;
  }
  std::string problem;
  if (!(*types)->typeOf(*path, problem) && problem.empty()) {
    std::abort();  // a refusal always says why
  }
  return 0;
}
