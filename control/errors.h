#pragma once

#include "common/result.h"
#include "common/secrets.h"
#include "config/config.h"

#include <grpcpp/support/status.h>

#include <string>
#include <vector>

namespace causeway::control {

// The kinds of failure the control API tells apart; each maps to one gRPC code. This is the one
// place where replicator errors (plain messages) are translated for the API.
enum class ErrorKind {
  kNotFound,            // unknown link or group
  kInvalidArgument,     // bad request or configuration
  kFailedPrecondition,  // wrong state for the call (failed link, at-least-once link, ...)
  kUnavailable,         // a cluster does not answer, or the worker is not ready yet
  kUnauthenticated,
  kPermissionDenied,
  kInternal,
};

grpc::StatusCode toGrpcCode(ErrorKind kind);
grpc::Status toGrpcStatus(ErrorKind kind, const std::string& message);

// Classifies an error message of the replicator (translation, failover, pause, reload). The
// replicator's errors carry no code, so this reads the phrases they are built with; anything
// not recognised is a failed precondition (the operation is valid but cannot run now).
ErrorKind classifyReplicatorError(const std::string& message);
// The same for an Error: its kind when the replicator set one, else its message.
ErrorKind classifyReplicatorError(const Error& error);

// Hides secrets in text bound for a client (answers, error messages): the values of the
// secret-named properties of a configuration (a configuration built in code was never
// registered), everything registered process-wide (common/secrets.h: reference values, tokens)
// and secret-named assignments. Cheap to copy.
class SecretRedactor {
public:
  SecretRedactor() = default;
  explicit SecretRedactor(const config::Config& config);

  // Adds the secrets of another configuration (a reload's new one).
  void add(const config::Config& config);

  std::string redact(std::string text) const;

  // True for a property key whose value is a secret (secrets::isSecretName).
  static bool isSecretKey(const std::string& key);

private:
  void addProperties(const std::map<std::string, std::string>& properties);
  secrets::SecretSet secrets_;
};

} // namespace causeway::control
