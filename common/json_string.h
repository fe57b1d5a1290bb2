#pragma once

#include <string>
#include <string_view>

namespace causeway {

// Appends `text` as a JSON string literal: quotes around it, and escapes for '"', '\\' and the
// control characters. Bytes from 0x80 up are copied as they are, so `text` must be valid UTF-8
// for the result to be valid JSON. Used wherever Causeway writes JSON by hand on a hot path
// (policy rewrites, egress events, Pushpin publishes).
void appendJsonString(std::string& out, std::string_view text);

// Appends a float or double as JSON: its shortest round-trip text, or the strings "NaN",
// "Infinity" and "-Infinity" (as the Protobuf JSON mapping writes them; JSON has no such
// numbers). Used for decoded Avro and Protobuf records.
void appendJsonReal(std::string& out, double value);
void appendJsonReal(std::string& out, float value);

}  // namespace causeway
