#include "egress/http_request.h"

#include <algorithm>
#include <cctype>

namespace causeway::egress {
namespace {

bool isTchar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

std::string_view trimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

HttpParseError bad(std::string message) {
  return HttpParseError{400, std::move(message)};
}

} // namespace

const std::string* HttpRequest::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? nullptr : &it->second;
}

const std::string* HttpRequest::param(const std::string& name) const {
  auto it = query.find(name);
  return it == query.end() ? nullptr : &it->second;
}

std::optional<std::string> percentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) {
        return std::nullopt;
      }
      const int hi = hexValue(text[i + 1]);
      const int lo = hexValue(text[i + 2]);
      if (hi < 0 || lo < 0) {
        return std::nullopt;
      }
      c = static_cast<char>(hi * 16 + lo);
      if (c == '\0') {
        return std::nullopt;
      }
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    out += c;
  }
  return out;
}

std::variant<HttpRequest, NeedMore, HttpParseError> parseRequestHead(std::string_view bytes) {
  // Leading empty lines before a request line are allowed (RFC 9112 2.2).
  size_t start = 0;
  while (start + 1 < bytes.size() && bytes[start] == '\r' && bytes[start + 1] == '\n') {
    start += 2;
  }
  const size_t end = bytes.find("\r\n\r\n", start);
  if (end == std::string_view::npos) {
    if (bytes.size() > kMaxRequestHeadBytes) {
      return HttpParseError{431, "the request head is larger than 64 KiB"};
    }
    return NeedMore{};
  }
  if (end + 4 > kMaxRequestHeadBytes) {
    return HttpParseError{431, "the request head is larger than 64 KiB"};
  }
  HttpRequest request;
  request.head_bytes = end + 4;
  const std::string_view head = bytes.substr(start, end - start);
  const size_t line_end = std::min(head.find("\r\n"), head.size());
  const std::string_view line = head.substr(0, line_end);
  const size_t sp1 = line.find(' ');
  const size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == std::string_view::npos || sp2 == std::string_view::npos ||
      line.find(' ', sp2 + 1) != std::string_view::npos) {
    return bad("malformed request line");
  }
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  if (method.empty() || !std::all_of(method.begin(), method.end(), isTchar)) {
    return bad("malformed method");
  }
  if (version.size() != 8 || version.substr(0, 7) != "HTTP/1." || version[7] < '0' ||
      version[7] > '9') {
    return HttpParseError{505, "only HTTP/1.x is served here"};
  }
  request.minor_version = version[7] - '0';
  if (target.size() > kMaxTargetBytes) {
    return HttpParseError{414, "the request target is longer than 16 KiB"};
  }
  if (target.empty() || (target.front() != '/' && target != "*")) {
    return bad("the request target must be a path");
  }
  for (const char c : target) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return bad("control characters in the request target");
    }
  }
  request.method = std::string(method);
  request.target = std::string(target);
  const size_t q = target.find('?');
  auto path = percentDecode(target.substr(0, q), false);
  if (!path) {
    return bad("bad percent-encoding in the path");
  }
  request.path = std::move(*path);
  if (q != std::string_view::npos) {
    std::string_view query = target.substr(q + 1);
    const size_t hash = query.find('#');
    query = query.substr(0, hash);
    while (!query.empty()) {
      const size_t amp = std::min(query.find('&'), query.size());
      const std::string_view pair = query.substr(0, amp);
      query.remove_prefix(std::min(amp + 1, query.size()));
      if (pair.empty()) {
        continue;
      }
      const size_t eq = pair.find('=');
      auto key = percentDecode(pair.substr(0, eq), true);
      auto value = eq == std::string_view::npos ? std::optional<std::string>("")
                                                : percentDecode(pair.substr(eq + 1), true);
      if (!key || !value) {
        return bad("bad percent-encoding in the query");
      }
      request.query[*key] = std::move(*value);
    }
  }
  size_t pos = line_end;
  size_t fields = 0;
  while (pos < head.size()) {
    pos += 2;  // the CRLF before this field
    const size_t next = std::min(head.find("\r\n", pos), head.size());
    const std::string_view field = head.substr(pos, next - pos);
    pos = next;
    if (field.empty()) {
      continue;
    }
    if (++fields > kMaxHeaderFields) {
      return HttpParseError{431, "more than 100 header fields"};
    }
    if (field.front() == ' ' || field.front() == '\t') {
      return bad("obsolete line folding in header fields");
    }
    const size_t colon = field.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return bad("malformed header field");
    }
    const std::string_view name = field.substr(0, colon);
    if (!std::all_of(name.begin(), name.end(), isTchar)) {
      return bad("malformed header field name");
    }
    const std::string_view value = trimOws(field.substr(colon + 1));
    for (const char c : value) {
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) {
        return bad("control characters in a header field");
      }
    }
    std::string lower(name);
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    auto [it, inserted] = request.headers.emplace(lower, std::string(value));
    if (!inserted) {
      if (lower == "authorization" || lower == "host" || lower == "content-length" ||
          lower == "last-event-id") {
        return bad("the header field '" + lower + "' is repeated");
      }
      it->second += ", ";
      it->second += value;
    }
  }
  if (request.minor_version >= 1 && request.header("host") == nullptr) {
    return bad("HTTP/1.1 requests need a Host header");
  }
  if (const std::string* te = request.header("transfer-encoding")) {
    (void)te;
    return HttpParseError{501, "request bodies are not accepted"};
  }
  if (const std::string* length = request.header("content-length");
      length != nullptr && *length != "0") {
    return HttpParseError{400, "request bodies are not accepted"};
  }
  return request;
}

} // namespace causeway::egress
