// libFuzzer target for the predicate language (a policy's `filter`) and field paths: any bytes
// must compile or give an error at an offset inside the text, never crash or hang; a compiled
// predicate must evaluate over missing fields.
//
//   build-fuzz/fuzz/predicate_fuzz -max_total_time=60 fuzz/corpus/predicate

#include "policies/predicate.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace causeway::policies;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  SchemalessTypes types(size % 2 == 0);
  FieldSlots slots;
  PredicateError error;
  std::optional<Predicate> predicate = Predicate::compile(text, types, slots, error);
  if (predicate) {
    std::vector<FieldValue> values(slots.size());
    for (size_t i = 0; i < values.size(); ++i) {
      // Alternate kinds so the evaluator meets each comparison path.
      switch (i % 4) {
      case 0:
        values[i] = FieldValue::ofString(text.substr(0, i));
        break;
      case 1:
        values[i] = FieldValue::ofNumber(static_cast<double>(i), "1");
        break;
      case 2:
        values[i] = FieldValue::null();
        break;
      default:
        break;  // missing
      }
    }
    (void)predicate->evaluate(values);
  } else if (error.message.empty() || error.offset > text.size()) {
    std::abort();
  }
  PredicateError path_error;
  if (!parseFieldPath(text, path_error) &&
      (path_error.message.empty() || path_error.offset > text.size())) {
    std::abort();
  }
  return 0;
}
