// libFuzzer target for client filters (?filter=, gRPC Subscribe's filter): the partner's text
// before the predicate compiler (which predicate_fuzz covers on its own), the bounds, and the
// compiled filter run as a stage on a record. Input: "PREDICATE\nVALUE". Any predicate is
// refused with "filter: ..." or becomes a stage; the stage only passes or drops, never
// rewrites the record, and never crashes whatever the value's bytes.
//
//   build-fuzz/fuzz/client_filter_fuzz -max_total_time=60 fuzz/corpus/client_filter

#include "config/config.h"
#include "egress/filter_stages.h"
#include "pipeline/record.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace causeway;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  const std::string_view text = input.substr(0, newline);
  const std::string_view value =
      newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1);
  static const config::ProductConfig product;
  static const egress::FilterFactory factory = egress::predicateFilterFactory();
  const std::string problem = egress::checkClientFilter(text);
  auto stage = factory(text, product);
  if (!problem.empty()) {
    if (stage || problem.rfind("filter: ", 0) != 0) {
      std::abort();
    }
    return 0;
  }
  if (!stage) {
    std::abort();  // checked fine, must build
  }
  pipeline::RecordView view;
  view.topic = "payments.authorized";
  view.partition = static_cast<int32_t>(size % 4);
  view.offset = static_cast<int64_t>(size);
  view.key = value.substr(0, value.size() / 2);
  if (newline != std::string_view::npos) {
    view.value = value;
  }
  view.headers.push_back({"seq", value.substr(0, 3)});
  pipeline::Record record;
  record.reset(&view);
  const pipeline::Verdict verdict = (*stage)->process(record);
  if (verdict.outcome != pipeline::Outcome::kPass && verdict.outcome != pipeline::Outcome::kDrop) {
    std::abort();
  }
  if (record.value() != view.value || record.key() != view.key) {
    std::abort();
  }
  return 0;
}
