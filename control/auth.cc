#include "control/auth.h"

#include "common/secrets.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <tuple>

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
    return Error{"token in '" + path +
                 "' is shorter than 16 characters; use a random one, "
                 "e.g. `openssl rand -hex 32`"};
  }
  // Hidden wherever it could show (a log line, an error echoing a request header).
  secrets::registerSecret(token);
  return token;
}

namespace {

std::string tokenOf(const ReloadingFile<std::string>& file) {
  return file.value().value_or("");
}

} // namespace

TokenAuth::TokenAuth(std::string admin_token, std::string read_token) {
  const auto fixed = [](std::string token) {
    return ReloadingFile<std::string>(
        "", "", [token](const std::string&) -> Result<std::string> { return token; });
  };
  tokens_->admin = fixed(std::move(admin_token));
  tokens_->read = fixed(std::move(read_token));
  (void)tokens_->admin.load();
  (void)tokens_->read.load();
}

Result<TokenAuth> TokenAuth::fromFiles(const std::string& admin_file,
                                       const std::string& read_file) {
  TokenAuth auth;
  for (auto [path, file, what] :
       {std::tuple{&admin_file, &auth.tokens_->admin, "control admin token"},
        std::tuple{&read_file, &auth.tokens_->read, "control read-only token"}}) {
    if (path->empty()) {
      continue;
    }
    *file = ReloadingFile<std::string>(*path, what, readTokenFile);
    if (auto loaded = file->load(); !loaded) {
      return Error{std::string(what) + ": " + loaded.message()};
    }
  }
  const std::string admin = tokenOf(auth.tokens_->admin);
  const std::string read = tokenOf(auth.tokens_->read);
  if (!read.empty() && admin.empty()) {
    return Error{
        "a read-only control token needs an admin token as well "
        "(--control-token-file); otherwise nobody could pause, fail over or reload"};
  }
  if (!read.empty() && read == admin) {
    return Error{"the read-only and the admin control token are the same"};
  }
  return auth;
}

bool TokenAuth::enabled() const {
  std::lock_guard lock(tokens_->mu);
  return !tokenOf(tokens_->admin).empty() || !tokenOf(tokens_->read).empty();
}

void TokenAuth::refreshLocked() const {
  // A file may not take the other access level's token: that would silently turn a read-only
  // caller into an admin (or the reverse).
  for (auto [file, other] :
       {std::pair{&tokens_->admin, &tokens_->read}, std::pair{&tokens_->read, &tokens_->admin}}) {
    file->refresh(
        [file = file, other = other](const std::string& token) -> std::optional<std::string> {
          if (!token.empty() && token == tokenOf(*other)) {
            return "token file '" + file->path() + "' now holds the other access level's token";
          }
          return std::nullopt;
        });
  }
}

Result<Access> TokenAuth::authenticate(const std::optional<std::string_view>& authorization) const {
  std::string admin_token;
  std::string read_token;
  {
    std::lock_guard lock(tokens_->mu);
    refreshLocked();
    admin_token = tokenOf(tokens_->admin);
    read_token = tokenOf(tokens_->read);
  }
  if (admin_token.empty() && read_token.empty()) {
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
  const bool admin = !admin_token.empty() && constantTimeEquals(value, admin_token);
  const bool read = !read_token.empty() && constantTimeEquals(value, read_token);
  if (admin) {
    return Access::kAdmin;
  }
  if (read) {
    return Access::kReadOnly;
  }
  return Error{"unknown token"};
}

} // namespace causeway::control
