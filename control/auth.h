#pragma once

#include "common/reloading_file.h"
#include "common/result.h"

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace causeway::control {

// What a caller may do. Read-only callers may list links, read status and translate offsets;
// admins may also pause, resume, fail over and reload.
enum class Access { kReadOnly, kAdmin };

const char* toString(Access access);

// The access each method of causeway.v1.Control needs, by the method's name ("PauseLink"), or
// nullopt for a name this version does not know (refused: a new method must be classified here
// before it can be called).
std::optional<Access> requiredAccess(std::string_view method);

// Compares two secrets in time that depends only on their lengths, not on where they differ.
bool constantTimeEquals(std::string_view a, std::string_view b);

// Reads a token file: the first line without surrounding whitespace. Error when the file cannot
// be read, is empty, or holds a token shorter than 16 characters (too easy to guess).
Result<std::string> readTokenFile(const std::string& path);

// Bearer-token authentication of control calls (metadata `authorization: Bearer <token>`).
//
// With no token configured every caller is an admin: the API then relies on listening on
// loopback (the default) or on TLS client certificates. With an admin token, a call without a
// token or with an unknown token is UNAUTHENTICATED. The optional read-only token grants
// read-only access. Safe to use from any thread.
//
// Tokens from files (fromFiles) rotate without a restart: before each call the files are
// checked (one stat each) and read again when they changed. A changed file that no longer
// holds a valid token (empty, too short, unreadable, equal to the other token) is logged and
// the previous token stays in force, so a half-written file never locks everybody out.
class TokenAuth {
public:
  TokenAuth() = default;
  TokenAuth(std::string admin_token, std::string read_token);

  // admin_file is required for read_file. Errors as readTokenFile, plus the checks above.
  static Result<TokenAuth> fromFiles(const std::string& admin_file, const std::string& read_file);

  bool enabled() const;

  // The caller's access for the value of its `authorization` header (nullopt when absent), or
  // an error saying why it is not authenticated (never echoing the presented token).
  Result<Access> authenticate(const std::optional<std::string_view>& authorization) const;

private:
  struct Tokens {
    std::mutex mu;
    // A fixed token is a file with no path whose value is set directly.
    ReloadingFile<std::string> admin;
    ReloadingFile<std::string> read;
  };
  // Reads files that changed since they were last read; called with tokens_->mu held.
  void refreshLocked() const;

  std::shared_ptr<Tokens> tokens_ = std::make_shared<Tokens>();
};

} // namespace causeway::control
