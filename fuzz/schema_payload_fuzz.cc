// libFuzzer target for the Avro and Protobuf payload checks (schema/avro_validator.h,
// schema/protobuf_validator.h): a record's key or value is outside input, and its bytes reach
// the strict Avro walk or protobuf's parser. Any bytes pass or give a violation with a
// message, never a crash, an unbounded allocation or a hang; what passes is then turned into
// JSON (Validator::toJson, what partner egress sends). Avro C is the walk's reference decoder:
// every datum the walk accepts, Avro C must decode to its last byte; protobuf's own JSON printer
// is the reference for Causeway's (schema/protobuf_json.h): the same JSON value. The first byte
// picks the schema and message indexes.

#include "config/domains.h"
#include "schema/proto_source.h"
#include "schema/validator.h"

#include <avro.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/util/json_util.h>
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace {

using causeway::schema::MessageIndexes;
using causeway::schema::ResolvedSchema;
using causeway::schema::Schema;
using causeway::schema::SchemaType;
using causeway::schema::ValidatorPtr;

void check(bool condition) {
  if (!condition) {
    std::abort();
  }
}

const char* kAvro = R"({"type":"record","name":"R","fields":[
  {"name":"s","type":"string"},{"name":"n","type":["null","long","double"]},
  {"name":"a","type":{"type":"array","items":{"type":"map","values":"bytes"}}},
  {"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"]}},
  {"name":"f","type":{"type":"fixed","name":"F","size":3}},
  {"name":"next","type":["null","R"]}]})";

const char* kProto = R"(syntax = "proto3";
package fz;
message M {
  string s = 1;
  repeated int64 tags = 2;
  M child = 3;
  double d = 4;
  fixed32 f = 5;
  message N { bytes b = 1; sint64 z = 2; }
  repeated N ns = 6;
  map<string, N> m = 7;
  float fl = 8;
}
message P { N2 n = 1; message N2 { string t = 1; } }
)";

std::vector<ValidatorPtr> validators() {
  std::vector<ValidatorPtr> out;
  for (auto [type, text] :
       {std::pair{SchemaType::kAvro, kAvro}, std::pair{SchemaType::kProtobuf, kProto}}) {
    ResolvedSchema schema{Schema{type, text, {}, {}, {}}, {}};
    auto validator =
        causeway::schema::compileValidator(schema, &schema, causeway::config::Compatibility::kFull);
    check(validator.ok());
    out.push_back(*validator);
  }
  return out;
}

// Avro C's decoding of kAvro: the schema and reader set up once, a fresh value per datum (a
// value reused across data keeps, and loses, the arrays of a union branch it switched away from).
class AvroC {
public:
  AvroC() {
    check(avro_schema_from_json_length(kAvro, std::char_traits<char>::length(kAvro), &schema_) ==
          0);
    iface_ = avro_generic_class_from_schema(schema_);
    check(iface_ != nullptr);
    reader_ = avro_reader_memory(nullptr, 0);
  }

  // True when Avro C decodes one datum from `payload` and that uses every byte.
  bool decodesAll(std::string_view payload) {
    avro_value_t value;
    check(avro_generic_value_new(iface_, &value) == 0);
    avro_reader_memory_set_source(reader_, payload.data(), static_cast<int64_t>(payload.size()));
    char extra = 0;  // (avro_reader_is_eof() answers 0 for every memory reader)
    const bool decoded =
        avro_value_read(reader_, &value) == 0 && avro_read(reader_, &extra, 1) != 0;
    avro_value_decref(&value);
    return decoded;
  }

private:
  avro_schema_t schema_ = nullptr;
  avro_value_iface_t* iface_ = nullptr;
  avro_reader_t reader_ = nullptr;
};

// protobuf's decoding and JSON printing of kProto's messages.
class ProtobufReference {
public:
  ProtobufReference() {
    google::protobuf::FileDescriptorProto file;
    std::vector<causeway::schema::ProtoSyntaxError> errors;
    check(causeway::schema::parseProtoText("fz.proto", kProto, file, errors));
    check(pool_.BuildFile(file) != nullptr);
  }

  // The JSON protobuf prints for `payload` as the message `indexes` name; nullopt when it
  // refuses messages nested too deep (as Causeway's printer does, at about the same depth).
  std::optional<std::string> json(std::string_view payload, const MessageIndexes& indexes) {
    const google::protobuf::Descriptor* descriptor =
        pool_.FindMessageTypeByName(indexes.path[0] == 0 ? "fz.M" : "fz.P");
    if (indexes.size == 2) {
      descriptor = descriptor->nested_type(0);
    }
    std::unique_ptr<google::protobuf::Message> message(factory_.GetPrototype(descriptor)->New());
    check(message->ParsePartialFromArray(payload.data(), static_cast<int>(payload.size())));
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    std::string out;
    const auto printed = google::protobuf::util::MessageToJsonString(*message, &out, options);
    if (!printed.ok()) {
      check(std::string(printed.message()).find("deep") != std::string::npos);
      return std::nullopt;
    }
    return out;
  }

private:
  google::protobuf::DescriptorPool pool_;
  google::protobuf::DynamicMessageFactory factory_{&pool_};
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<ValidatorPtr> kValidators = validators();
  static causeway::schema::ValidationScratch scratch;
  if (size == 0) {
    return 0;
  }
  const uint8_t selector = data[0];
  const std::string_view payload(reinterpret_cast<const char*>(data + 1), size - 1);
  MessageIndexes indexes;
  indexes.size = 1;
  indexes.path[0] = (selector >> 1) % 3;  // [0], [1], and [2] which names no message
  if (selector & 0x10) {
    indexes.size = 2;
    indexes.path[1] = 0;
  }
  causeway::schema::Violation violation;
  const auto& validator = kValidators[selector & 1];
  if (!validator->validate(payload, indexes, scratch, violation)) {
    check(!violation.message.empty());
    return 0;
  }
  if ((selector & 1) == 0) {
    static AvroC avro_c;
    check(avro_c.decodesAll(payload));
  }
  // What egress sends partners: a payload that validated has a JSON form or a reason why not.
  std::string json;
  if (!validator->toJson(payload, indexes, scratch, json, violation)) {
    check(!violation.message.empty());
  } else {
    const auto ours = nlohmann::json::parse(json, nullptr, false);
    check(!ours.is_discarded());
    if ((selector & 1) == 1) {
      static ProtobufReference reference;
      if (const auto theirs = reference.json(payload, indexes)) {
        check(ours == nlohmann::json::parse(*theirs));
      }
    }
  }
  return 0;
}
