// libFuzzer target for policies on Protobuf records (policies/protobuf_payload.h,
// policies/protobuf_policy_schema.h): the input is the message of a record of the fixed
// writer file below. It is read or refused with a problem, never crashes; when read, the
// record with an edit at every occurrence must parse with protobuf's own parser as the derived
// file's message.
//
//   build-fuzz/fuzz/protobuf_payload_fuzz -max_total_time=60 fuzz/corpus/protobuf_payload

#include "policies/predicate.h"
#include "policies/protobuf_payload.h"

#include <google/protobuf/dynamic_message.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

using namespace causeway::policies;
namespace pb = google::protobuf;

const char* const kWriter = R"(syntax = "proto3";
message R {
  enum E { A = 0; B = 1; }
  message In { int32 x = 1; bytes b = 2; }
  string s = 1;
  int64 n = 2;
  optional double u = 3;
  E e = 4;
  In r = 5;
  repeated string a = 6;
  repeated int64 m = 7;
  bool d = 8;
  sint32 z = 9;
  fixed64 f = 10;
}
)";

struct Setup {
  std::vector<TransformRule> rules;
  std::vector<ReaderPath> paths;
  std::shared_ptr<ProtobufShapes> shapes = std::make_shared<ProtobufShapes>();
  ProtobufShapePtr shape;
  std::shared_ptr<const causeway::schema::ProtoFile> derived;
  pb::DynamicMessageFactory factory;
};

Setup* makeSetup() {
  auto* setup = new Setup;
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
                        {"value.m", Action::kDrop},
                        {"value.d", Action::kSet, ValueKind::kBool, "true"},
                        {"value.z", Action::kSet, ValueKind::kNumber, "42"},
                        {"value.f", Action::kRedact},
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
    setup->paths.push_back({slot, rule.path.segments});
    setup->rules.push_back(rule);
    ++slot;
  }
  causeway::schema::ResolvedSchema writer;
  writer.schema.type = causeway::schema::SchemaType::kProtobuf;
  writer.schema.text = kWriter;
  setup->shape = *makeProtobufShape(writer, setup->rules, setup->rules.size());
  if (!setup->shape->derived.problems.empty() || !setup->shape->derived.changed) {
    std::abort();
  }
  causeway::schema::ResolvedSchema derived = writer;
  derived.schema.text = setup->shape->derived.schema;
  setup->derived = *causeway::schema::compileProto(derived);
  setup->shapes->put("t", 7, setup->shape);
  return setup;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Setup* const setup = makeSetup();
  // Prefix: magic, ID 7, message indexes [0].
  const std::string payload =
      std::string("\0\0\0\0\7\0", 6) + std::string(reinterpret_cast<const char*>(data), size);
  ProtobufReader reader(setup->paths, setup->shapes);
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
    const TransformRule& rule = setup->rules[o.slot];
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
    std::abort();  // every edit here fits the derived file
  }
  const pb::Descriptor* message = setup->derived->file->message_type(0);
  std::unique_ptr<pb::Message> parsed(setup->factory.GetPrototype(message)->New());
  if (out.compare(0, 6, payload, 0, 6) != 0 || !parsed->ParseFromString(out.substr(6))) {
    std::fprintf(stderr, "not a message of the derived file:");
    for (unsigned char c : out) {
      std::fprintf(stderr, " %02x", c);
    }
    std::fprintf(stderr, "\n");
    std::abort();
  }
  return 0;
}
