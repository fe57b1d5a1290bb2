// libFuzzer target for policies on Avro records (policies/avro_payload.h,
// policies/avro_policy_schema.h). Two kinds of input:
//  - a writer schema (input starting with '{', '[' or '"'): the policy's derivation must
//    answer a schema or an error, never crash, and when the writer's schema is valid Avro and
//    the derivation reports no problem, the derived schema must be valid Avro too;
//  - a datum of the fixed writer schema below: read or refused with a problem, never crash;
//    when read, the record with an edit at every occurrence must be a valid datum of the
//    derived schema, with no byte left over.
//
//   build-fuzz/fuzz/avro_payload_fuzz -max_total_time=60 fuzz/corpus/avro_payload

#include "policies/avro_payload.h"
#include "policies/predicate.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using namespace causeway::policies;

const char* const kWriter = R"({"type": "record", "name": "R", "fields": [
  {"name": "s", "type": "string"},
  {"name": "n", "type": "long"},
  {"name": "u", "type": ["null", "double"]},
  {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["A", "B"]}},
  {"name": "r", "type": {"type": "record", "name": "In", "fields": [
    {"name": "x", "type": "int"}, {"name": "b", "type": "bytes"}]}},
  {"name": "a", "type": {"type": "array", "items": "string"}},
  {"name": "m", "type": {"type": "map", "values": "long"}},
  {"name": "f", "type": {"type": "fixed", "name": "F", "size": 2}},
  {"name": "d", "type": "boolean"}]})";

struct Setup {
  std::vector<TransformRule> rules;
  std::vector<ReaderPath> paths;
  std::shared_ptr<AvroShapes> shapes = std::make_shared<AvroShapes>();
  AvroShapePtr shape;
  causeway::schema::AvroModelPtr derived;
};

Setup makeSetup() {
  Setup setup;
  struct Rule {
    const char* path;
    Action action;
    ValueKind constant = ValueKind::kString;
    const char* text = "";
  };
  const Rule rules[] = {{"value.s", Action::kMask},
                        {"value.n", Action::kRedact},
                        {"value.u", Action::kRedact},
                        {"value.e", Action::kRedact},
                        {"value.r.x", Action::kDrop},
                        {"value.a[1]", Action::kRedact},
                        {"value.m.k", Action::kSet, ValueKind::kNumber, "42"},
                        {"value.d", Action::kSet, ValueKind::kBool, "true"},
                        {"value.r.b", Action::kRedact}};
  uint16_t slot = 0;
  for (const Rule& r : rules) {
    PredicateError error;
    TransformRule rule;
    rule.path = *parseFieldPath(r.path, error);
    rule.slot = slot;
    rule.action = r.action;
    rule.constant_kind = r.constant;
    rule.replacement = r.text;
    rule.name = r.path;
    setup.paths.push_back({slot, rule.path.segments});
    setup.rules.push_back(rule);
    ++slot;
  }
  setup.shape = *makeAvroShape(kWriter, {}, setup.rules, setup.rules.size());
  if (!setup.shape->derived.problems.empty()) {
    std::abort();
  }
  setup.derived = *causeway::schema::AvroModel::parse(setup.shape->derived.schema);
  setup.shapes->put("t", 7, setup.shape);
  return setup;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Setup setup = makeSetup();
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (!input.empty() && (input[0] == '{' || input[0] == '[' || input[0] == '"')) {
    auto derived = deriveAvroSchema(input, {}, setup.rules, setup.rules.size());
    if (derived && derived->problems.empty() && causeway::schema::AvroModel::parse(input) &&
        !causeway::schema::AvroModel::parse(derived->schema)) {
      std::abort();  // a valid writer schema derived into an invalid one
    }
    return 0;
  }
  const std::string payload = std::string("\0\0\0\0\7", 5) + std::string(input);
  AvroReader reader(setup.paths, setup.shapes);
  reader.selectWriter("t", payload, false);
  std::string problem;
  if (!reader.read(payload, problem)) {
    if (problem.empty()) {
      std::abort();
    }
    return 0;
  }
  std::vector<FieldEdit> edits;
  const std::string arena = "xyz42true";
  for (const FieldOccurrence& o : reader.occurrences()) {
    const TransformRule& rule = setup.rules[o.slot];
    if (o.value.kind == ValueKind::kNull) {
      continue;  // transforms keep nulls
    }
    FieldEdit edit;
    edit.handle = o.handle;
    if (rule.action == Action::kDrop) {
      edit.kind = FieldEdit::Kind::kRemove;
    } else if (rule.action == Action::kSet) {
      edit.value_kind = rule.constant_kind;
      edit.text_begin = rule.constant_kind == ValueKind::kNumber ? 3 : 5;
      edit.text_size = rule.constant_kind == ValueKind::kNumber ? 2 : 4;
    } else {
      edit.value_kind = ValueKind::kString;
      edit.text_size = 3;
    }
    edits.push_back(edit);
  }
  std::string out;
  if (!reader.write(edits, arena, out, problem)) {
    std::abort();  // every edit here fits the derived schema
  }
  size_t pos = 0;
  causeway::schema::AvroWalkError error;
  const std::string_view datum = std::string_view(out).substr(5);
  if (out.compare(0, 5, payload, 0, 5) != 0 ||
      !causeway::schema::walkAvro(setup.derived->root(), datum, pos, error) ||
      pos != datum.size()) {
    std::fprintf(stderr, "not a datum of the derived schema: %s: %s (at %zu of %zu)\n",
                 error.path.c_str(), error.problem.c_str(), pos, datum.size());
    std::abort();
  }
  return 0;
}
