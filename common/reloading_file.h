#pragma once

// A file whose parsed content follows the file: secrets (bearer tokens, JWKS, HMAC keys) that an
// operator rotates by replacing the file, without restarting the process.

#include "common/result.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>

namespace causeway {

// What tells one version of a file from the next without reading it: a rename over the file
// changes the inode, an in-place write changes mtime and (usually) size.
struct FileIdentity {
  int64_t mtime_ns = -1;
  int64_t size = -1;
  uint64_t inode = 0;

  bool operator==(const FileIdentity&) const = default;

  // nullopt when the file cannot be stat()ed.
  static std::optional<FileIdentity> of(const std::string& path);
};

// The last good parse of a file, read again whenever the file changed (one stat() per
// refresh()). A changed file whose new content does not parse, or fails the caller's extra
// check, is logged once (as "<what>: <problem>; the previous content stays in force") and the
// previous value stays in force, so a half-written file never locks anybody out; it is read
// again at the next refresh().
//
// Not thread-safe: the owner serializes load()/refresh()/value() (a mutex around a set of
// files, as control/auth.cc and egress/partner_auth.cc do).
template <typename T>
class ReloadingFile {
public:
  using Parser = std::function<Result<T>(const std::string& path)>;
  // A check that needs more than the file itself (two token files must differ).
  using Check = std::function<std::optional<std::string>(const T&)>;

  ReloadingFile() = default;
  ReloadingFile(std::string path, std::string what, Parser parse)
      : path_(std::move(path)), what_(std::move(what)), parse_(std::move(parse)) {}

  // The first read: an error when the file cannot be read or parsed.
  Status load() {
    const auto id = FileIdentity::of(path_);
    auto parsed = parse_(path_);
    if (!parsed) {
      return parsed.error();
    }
    value_ = std::move(*parsed);
    id_ = id.value_or(FileIdentity{});
    return Status::success();
  }

  // Reads the file again when it changed since the last accepted read. True when a new value
  // came into force.
  bool refresh(const Check& check = {}) {
    if (path_.empty()) {
      return false;
    }
    const auto id = FileIdentity::of(path_);
    if (id && *id == id_) {
      return false;
    }
    auto parsed = parse_(path_);
    std::string problem;
    if (!parsed) {
      problem = parsed.error().message;
    } else if (check) {
      problem = check(*parsed).value_or("");
    }
    if (!problem.empty()) {
      if (problem != problem_) {
        logRejected(what_, problem);
        problem_ = problem;
      }
      return false;
    }
    problem_.clear();
    value_ = std::move(*parsed);
    id_ = id.value_or(FileIdentity{});
    logAccepted(what_, path_);
    return true;
  }

  const std::optional<T>& value() const { return value_; }
  const std::string& path() const { return path_; }
  bool configured() const { return !path_.empty(); }

private:
  // Out of line so this header does not pull in spdlog.
  static void logRejected(const std::string& what, const std::string& problem);
  static void logAccepted(const std::string& what, const std::string& path);

  std::string path_;
  std::string what_;
  Parser parse_;
  std::optional<T> value_;
  FileIdentity id_;
  std::string problem_;
};

namespace detail {
void logReloadRejected(const std::string& what, const std::string& problem);
void logReloadAccepted(const std::string& what, const std::string& path);
} // namespace detail

template <typename T>
void ReloadingFile<T>::logRejected(const std::string& what, const std::string& problem) {
  detail::logReloadRejected(what, problem);
}

template <typename T>
void ReloadingFile<T>::logAccepted(const std::string& what, const std::string& path) {
  detail::logReloadAccepted(what, path);
}

} // namespace causeway
