#pragma once

// HTTP/1.1 request heads as egress reads them from the network: the request line, the header
// fields and the query string. Pure; every byte comes from outside, so the parser is strict,
// bounded and fuzzed (fuzz/http_request_fuzz.cc).

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace causeway::egress {

struct HttpRequest {
  std::string method;                          // "GET", "OPTIONS", ...
  std::string target;                          // as sent ("/v1/products/x/events?from=earliest")
  std::string path;                            // percent-decoded path
  std::map<std::string, std::string> query;    // decoded; the last of repeated keys wins
  std::map<std::string, std::string> headers;  // lower-case names; repeated fields joined ", "
  int minor_version = 1;                       // HTTP/1.x
  size_t head_bytes = 0;                       // bytes of the head including the blank line

  const std::string* header(const std::string& lower_name) const;
  const std::string* param(const std::string& name) const;
};

// A request head that cannot be served: the status to answer with and why.
struct HttpParseError {
  int status = 400;  // 400, 414 (URI too long), 431 (headers too large), 501, 505
  std::string message;
};

struct NeedMore {};

inline constexpr size_t kMaxRequestHeadBytes = 64 * 1024;
inline constexpr size_t kMaxTargetBytes = 16 * 1024;
inline constexpr size_t kMaxHeaderFields = 100;

// Parses the head at the start of `bytes` (which may hold more than the head). NeedMore when
// the blank line has not arrived yet (and the head is still under the limit). Requests with a
// body (Content-Length > 0, Transfer-Encoding) are refused: egress has only GET endpoints.
std::variant<HttpRequest, NeedMore, HttpParseError> parseRequestHead(std::string_view bytes);

// Decodes %XX escapes (and '+' as space when `plus_is_space`); nullopt for a bad escape or a
// decoded NUL.
std::optional<std::string> percentDecode(std::string_view text, bool plus_is_space);

} // namespace causeway::egress
