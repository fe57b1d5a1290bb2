#pragma once

// Avro data as a producer's and a consumer's Avro library (Avro C) writes and reads it, for
// tests that check what a partner's deserializer makes of the bytes on the target.

#include <avro.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace causeway::testing {

// One datum written by Avro C with `schema_text`, filled by `fill`.
std::string writeAvro(const std::string& schema_text,
                      const std::function<void(avro_value_t&)>& fill);

// The datum `bytes` holds, read by Avro C with `schema_text` as the writer's schema, as Avro
// C's JSON (one-line); nullopt when Avro C cannot read it or bytes are left over.
std::optional<std::string> readAvroJson(const std::string& schema_text, std::string_view bytes);

}  // namespace causeway::testing
