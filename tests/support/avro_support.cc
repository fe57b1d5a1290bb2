#include "tests/support/avro_support.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace causeway::testing {

std::string writeAvro(const std::string& schema_text,
                      const std::function<void(avro_value_t&)>& fill) {
  avro_schema_t schema = nullptr;
  EXPECT_EQ(avro_schema_from_json_length(schema_text.data(), schema_text.size(), &schema), 0)
      << avro_strerror();
  avro_value_iface_t* iface = avro_generic_class_from_schema(schema);
  avro_value_t value;
  avro_generic_value_new(iface, &value);
  fill(value);
  char buffer[16384];
  avro_writer_t writer = avro_writer_memory(buffer, sizeof(buffer));
  EXPECT_EQ(avro_value_write(writer, &value), 0) << avro_strerror();
  const std::string out(buffer, static_cast<size_t>(avro_writer_tell(writer)));
  avro_writer_free(writer);
  avro_value_decref(&value);
  avro_value_iface_decref(iface);
  avro_schema_decref(schema);
  return out;
}

std::optional<std::string> readAvroJson(const std::string& schema_text, std::string_view bytes) {
  avro_schema_t schema = nullptr;
  if (avro_schema_from_json_length(schema_text.data(), schema_text.size(), &schema) != 0) {
    ADD_FAILURE() << "Avro C refuses the schema: " << avro_strerror() << "\n" << schema_text;
    return std::nullopt;
  }
  avro_value_iface_t* iface = avro_generic_class_from_schema(schema);
  avro_value_t value;
  avro_generic_value_new(iface, &value);
  avro_reader_t reader = avro_reader_memory(bytes.data(), static_cast<int64_t>(bytes.size()));
  std::optional<std::string> out;
  char extra = 0;
  if (avro_value_read(reader, &value) == 0 && avro_read(reader, &extra, 1) != 0) {
    char* json = nullptr;
    if (avro_value_to_json(&value, 1, &json) == 0) {
      out = json;
      std::free(json);
    }
  }
  avro_reader_free(reader);
  avro_value_decref(&value);
  avro_value_iface_decref(iface);
  avro_schema_decref(schema);
  return out;
}

}  // namespace causeway::testing
