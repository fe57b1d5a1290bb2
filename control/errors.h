#pragma once

#include "common/result.h"
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

// Replaces the values of secret properties (sasl.password, ssl.key.password, sasl.jaas.config,
// ...) in text bound for a client by "***". Built from a configuration; cheap to copy.
class SecretRedactor {
public:
  SecretRedactor() = default;
  explicit SecretRedactor(const config::Config& config);

  // Adds the secrets of another configuration (a reload's new one).
  void add(const config::Config& config);

  std::string redact(std::string text) const;

  // True for a property key whose value is a secret.
  static bool isSecretKey(const std::string& key);

private:
  void addProperties(const std::map<std::string, std::string>& properties);
  std::vector<std::string> secrets_;
};

} // namespace causeway::control
