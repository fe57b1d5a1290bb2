// libFuzzer target for schema/avro_from_json.h, which encodes sample values people write
// (`causeway policy test --schema FILE.avsc`): any JSON gives a datum or an error with a path,
// never a crash or a hang. Every datum it writes must be one the strict Avro walk accepts to its
// last byte, and the plain JSON Causeway shows partners of that datum (avro_json.h) must encode
// back to a datum shown as the same JSON.

#include "schema/avro_from_json.h"
#include "schema/avro_json.h"
#include "schema/avro_model.h"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

namespace {

void check(bool condition) {
  if (!condition) {
    std::abort();
  }
}

const char* kSchema = R"({"type":"record","name":"R","fields":[
  {"name":"s","type":"string","default":""},
  {"name":"i","type":"int","default":0},
  {"name":"n","type":["null","long","double","string"],"default":null},
  {"name":"fl","type":"float","default":0},
  {"name":"a","type":{"type":"array","items":{"type":"map","values":"bytes"}},"default":[]},
  {"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"]},"default":"A"},
  {"name":"f","type":{"type":"fixed","name":"F","size":3},"default":"\u00ff\u0000a"},
  {"name":"b","type":"boolean","default":false},
  {"name":"next","type":["null","R"],"default":null}]})";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const causeway::schema::AvroModelPtr model = *causeway::schema::AvroModel::parse(kSchema);
  static const auto shape = *causeway::schema::AvroJsonShape::make(model, nullptr);
  const nlohmann::json value =
      nlohmann::json::parse(data, data + size, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) {
    return 0;
  }
  std::string bytes;
  if (!causeway::schema::appendAvroFromJson(model->root(), value, bytes)) {
    return 0;
  }
  size_t pos = 0;
  causeway::schema::AvroWalkError error;
  check(causeway::schema::walkAvro(model->root(), bytes, pos, error) && pos == bytes.size());
  std::string json;
  std::string problem;
  check(shape->append(bytes, json, problem));
  std::string again;
  check(static_cast<bool>(
      causeway::schema::appendAvroFromJson(model->root(), nlohmann::json::parse(json), again)));
  // Not always the same bytes: the plain JSON of a union does not name its branch, so a double
  // 2.0 shown as 2 comes back as the union's long. What it shows must be the same.
  std::string json_again;
  check(shape->append(again, json_again, problem));
  check(json_again == json);
  return 0;
}
