#pragma once

// Base64 (RFC 4648): the URL-safe alphabet without padding for resume tokens and JWTs, the
// standard alphabet with padding for binary keys and values in event JSON.

#include <optional>
#include <string>
#include <string_view>

namespace causeway {

void appendBase64(std::string& out, std::string_view bytes);     // standard, padded
void appendBase64Url(std::string& out, std::string_view bytes);  // URL-safe, no padding
std::string base64Url(std::string_view bytes);

// Strict URL-safe decoding as JWS requires: no padding, no whitespace, no other alphabet, and
// the unused bits of the last character zero (so each text has one meaning). nullopt if not.
std::optional<std::string> decodeBase64Url(std::string_view text);

} // namespace causeway
