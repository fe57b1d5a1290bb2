// libFuzzer target for the policies' JSON reader and writer (policies/json_payload.h): any
// payload must be read or refused with a problem, never crash; when read, removing, replacing
// and inserting at every path found must give valid JSON again (behind the same schema registry
// prefix, when the payload had one).
//
//   build-fuzz/fuzz/json_payload_fuzz -max_total_time=60 fuzz/corpus/json_payload

#include "policies/json_payload.h"
#include "policies/predicate.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

std::vector<causeway::policies::ReaderPath> fuzzPaths() {
  using namespace causeway::policies;
  std::vector<ReaderPath> paths;
  uint16_t slot = 0;
  for (const char* text : {"value", "value.a", "value.a.b", "value.b", "value.c[0]", "value.c[1].d",
                           "value[\"\"]", "value.x.y.z"}) {
    PredicateError error;
    paths.push_back({slot++, parseFieldPath(text, error)->segments});
  }
  return paths;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace causeway::policies;
  static const std::vector<ReaderPath> paths = fuzzPaths();
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  JsonReader reader(paths);
  std::string problem;
  if (!reader.read(payload, problem)) {
    if (problem.empty()) {
      std::abort();
    }
    return 0;
  }
  // One edit per occurrence below the top level (nested ones would overlap), chosen by slot.
  std::vector<FieldEdit> edits;
  std::string arena = "x\"\\\n\xc3\xa9";
  const std::string arena_copy = arena;
  std::vector<bool> taken(paths.size(), false);
  for (const FieldOccurrence& o : reader.occurrences()) {
    if (o.slot == 0 || o.slot == 2 || o.slot == 5 || o.slot == 7) {
      continue;  // leave nested paths alone: value.a and value.a.b would overlap
    }
    FieldEdit edit;
    edit.handle = o.handle;
    switch ((o.slot + size) % 3) {
    case 0:
      edit.kind = FieldEdit::Kind::kRemove;
      break;
    case 1:
      edit.kind = FieldEdit::Kind::kReplace;
      edit.value_kind = ValueKind::kString;
      edit.text_begin = 0;
      edit.text_size = static_cast<uint32_t>(arena.size());
      break;
    default:
      if (o.value.kind != ValueKind::kObject) {
        continue;
      }
      edit.kind = FieldEdit::Kind::kInsert;
      edit.name = "new";
      edit.value_kind = ValueKind::kNull;
      break;
    }
    edits.push_back(edit);
  }
  std::string out;
  if (!reader.write(edits, arena_copy, out, problem)) {
    return 0;
  }
  // A schema registry's prefix (0x00 and an ID, 0x01 and a GUID) comes back unchanged.
  const size_t prefix = payload[0] == '\x00'   ? kIdPrefixSize
                        : payload[0] == '\x01' ? kGuidPrefixSize
                                               : 0;
  if (out.compare(0, prefix, payload.substr(0, prefix)) != 0 ||
      !isValidJson(std::string_view(out).substr(prefix))) {
    std::abort();
  }
  return 0;
}
