// libFuzzer target for the JSON Schema validator (schema/json_schema.h): both the schema (a
// registry or catalog holds it) and the document (a record's value) are outside input. The
// input is the schema text, a NUL byte, then the document. Any input compiles or gives an
// error, and validates or gives a violation with a message, never a crash, a hang or unbounded
// recursion.

#include "schema/json_schema.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

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
  if (split == std::string_view::npos) {
    return 0;
  }
  auto schema = causeway::schema::JsonSchema::compile(input.substr(0, split));
  if (!schema) {
    check(!schema.error().message.empty());
    return 0;
  }
  auto validator = causeway::schema::makeJsonValidator(*schema);
  causeway::schema::ValidationScratch scratch;
  causeway::schema::Violation violation;
  const std::string_view document = input.substr(split + 1);
  for (int round = 0; round < 2; ++round) {  // the second round reuses the scratch parser
    if (!validator->validate(document, causeway::schema::MessageIndexes{}, scratch, violation)) {
      check(!violation.message.empty());
    }
  }
  return 0;
}
