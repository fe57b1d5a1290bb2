#pragma once

#include "common/result.h"

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
// read-only access. Immutable after construction; safe to use from any thread.
class TokenAuth {
public:
  TokenAuth() = default;
  TokenAuth(std::string admin_token, std::string read_token)
      : admin_token_(std::move(admin_token)), read_token_(std::move(read_token)) {}

  bool enabled() const { return !admin_token_.empty() || !read_token_.empty(); }

  // The caller's access for the value of its `authorization` header (nullopt when absent), or
  // an error saying why it is not authenticated (never echoing the presented token).
  Result<Access> authenticate(const std::optional<std::string_view>& authorization) const;

private:
  std::string admin_token_;
  std::string read_token_;
};

} // namespace causeway::control
