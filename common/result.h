#pragma once

#include <string>
#include <utility>
#include <variant>

namespace causeway {

// What kind of failure an Error is, for callers that act on it by kind (the control API maps
// kinds to gRPC codes; the data plane decides between stopping and retrying) instead of
// matching message text.
enum class ErrorKind {
  kUnknown,             // not classified (callers treat it as a failed precondition)
  kNotFound,            // unknown link, group, topic, subject, schema ID
  kInvalidArgument,     // bad request, record or configuration
  kFailedPrecondition,  // valid, but not in this state (failed link, at-least-once link, ...)
  kUnavailable,         // a cluster or registry does not answer (retrying may help)
  kPermissionDenied,    // authorization refused
  kRejected,            // the target refused a record for good (size, policy, timestamp)
  kInternal,            // a bug or an impossible state
};

const char* errorKindName(ErrorKind kind);

// An error a person can act on: what failed and why. Subsystems put their own context in the
// message ("cluster 'east' (127.0.0.1:9092): ..."); errors are not rethrown as exceptions.
struct Error {
  std::string message;
  ErrorKind kind = ErrorKind::kUnknown;
};

// Result<T>: a value or an Error. Small on purpose (std::expected is C++23).
template <typename T> class [[nodiscard]] Result {
public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const Error& error() const { return std::get<1>(v_); }

private:
  std::variant<T, Error> v_;
};

// Status: success or an Error.
class [[nodiscard]] Status {
public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  static Status success() { return {}; }
  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }
  const std::string& message() const { return error_.message; }
  ErrorKind kind() const { return error_.kind; }

private:
  Error error_;
  bool ok_ = true;
};

}  // namespace causeway
