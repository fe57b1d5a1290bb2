#include "control/auth.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>

namespace causeway::control {

const char* toString(Access access) {
  return access == Access::kAdmin ? "admin" : "read-only";
}

std::optional<Access> requiredAccess(std::string_view method) {
  if (method == "ListLinks" || method == "GetLinkStatus" || method == "TranslateOffsets") {
    return Access::kReadOnly;
  }
  if (method == "PauseLink" || method == "ResumeLink" || method == "Failover" ||
      method == "ReloadConfig") {
    return Access::kAdmin;
  }
  return std::nullopt;
}

bool constantTimeEquals(std::string_view a, std::string_view b) {
  // Every byte of the longer input is visited whatever the contents, and the result is folded
  // without branches, so the time says nothing about the position of the first difference.
  const size_t n = a.size() > b.size() ? a.size() : b.size();
  volatile unsigned char diff = static_cast<unsigned char>(a.size() != b.size());
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff = diff | static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

Result<std::string> readTokenFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return Error{"token file '" + path + "' cannot be read"};
  }
  std::string line;
  std::getline(in, line);
  const auto first = line.find_first_not_of(" \t\r\n");
  const auto last = line.find_last_not_of(" \t\r\n");
  if (first == std::string::npos) {
    return Error{"token file '" + path + "' is empty (its first line is the token)"};
  }
  std::string token = line.substr(first, last - first + 1);
  if (token.size() < 16) {
    return Error{"token in '" + path + "' is shorter than 16 characters; use a random one, "
                 "e.g. `openssl rand -hex 32`"};
  }
  return token;
}

Result<Access> TokenAuth::authenticate(
    const std::optional<std::string_view>& authorization) const {
  if (!enabled()) {
    return Access::kAdmin;
  }
  if (!authorization) {
    return Error{"missing token: send the metadata 'authorization: Bearer <token>'"};
  }
  constexpr std::string_view kScheme = "Bearer ";
  std::string_view value = *authorization;
  if (value.size() < kScheme.size() ||
      !std::equal(kScheme.begin(), kScheme.end(), value.begin(), [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) ==
               std::tolower(static_cast<unsigned char>(y));
      })) {
    return Error{"the authorization metadata is not 'Bearer <token>'"};
  }
  value.remove_prefix(kScheme.size());
  // Both comparisons always run, so the time does not tell which token matched.
  const bool admin = !admin_token_.empty() && constantTimeEquals(value, admin_token_);
  const bool read = !read_token_.empty() && constantTimeEquals(value, read_token_);
  if (admin) {
    return Access::kAdmin;
  }
  if (read) {
    return Access::kReadOnly;
  }
  return Error{"unknown token"};
}

} // namespace causeway::control
