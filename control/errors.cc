#include "control/errors.h"

#include <algorithm>
#include <cctype>

namespace causeway::control {
namespace {

bool contains(const std::string& text, const char* phrase) {
  return text.find(phrase) != std::string::npos;
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

} // namespace

grpc::StatusCode toGrpcCode(ErrorKind kind) {
  switch (kind) {
  case ErrorKind::kNotFound:
    return grpc::StatusCode::NOT_FOUND;
  case ErrorKind::kInvalidArgument:
    return grpc::StatusCode::INVALID_ARGUMENT;
  case ErrorKind::kFailedPrecondition:
    return grpc::StatusCode::FAILED_PRECONDITION;
  case ErrorKind::kUnavailable:
    return grpc::StatusCode::UNAVAILABLE;
  case ErrorKind::kUnauthenticated:
    return grpc::StatusCode::UNAUTHENTICATED;
  case ErrorKind::kPermissionDenied:
    return grpc::StatusCode::PERMISSION_DENIED;
  case ErrorKind::kInternal:
    return grpc::StatusCode::INTERNAL;
  }
  return grpc::StatusCode::INTERNAL;
}

grpc::Status toGrpcStatus(ErrorKind kind, const std::string& message) {
  return grpc::Status(toGrpcCode(kind), message);
}

ErrorKind classifyReplicatorError(const Error& error) {
  switch (error.kind) {
  case causeway::ErrorKind::kNotFound:
    return ErrorKind::kNotFound;
  case causeway::ErrorKind::kInvalidArgument:
  case causeway::ErrorKind::kRejected:
    return ErrorKind::kInvalidArgument;
  case causeway::ErrorKind::kFailedPrecondition:
    return ErrorKind::kFailedPrecondition;
  case causeway::ErrorKind::kUnavailable:
    return ErrorKind::kUnavailable;
  case causeway::ErrorKind::kPermissionDenied:
    return ErrorKind::kPermissionDenied;
  case causeway::ErrorKind::kInternal:
    return ErrorKind::kInternal;
  case causeway::ErrorKind::kUnknown:
    break;
  }
  return classifyReplicatorError(error.message);
}

ErrorKind classifyReplicatorError(const std::string& message) {
  const std::string m = lower(message);
  if (contains(m, "unknown link") || contains(m, "unknown group") ||
      contains(m, "has no committed offset") || contains(m, "group_id_not_found")) {
    return ErrorKind::kNotFound;
  }
  if (contains(m, "unreachable") || contains(m, "no answer in time") ||
      contains(m, "timed out") || contains(m, "_transport") ||
      contains(m, "listing topics failed") ||
      contains(m, "no broker") || contains(m, "all brokers are down")) {
    return ErrorKind::kUnavailable;
  }
  if (contains(m, "invalid") || contains(m, "property '")) {
    return ErrorKind::kInvalidArgument;
  }
  return ErrorKind::kFailedPrecondition;
}

SecretRedactor::SecretRedactor(const config::Config& config) { add(config); }

void SecretRedactor::add(const config::Config& config) {
  for (const auto& [name, cluster] : config.clusters) {
    addProperties(cluster.properties);
  }
  for (const auto& link : config.links) {
    addProperties(link.consumer_properties);
    addProperties(link.producer_properties);
  }
}

void SecretRedactor::addProperties(const std::map<std::string, std::string>& properties) {
  for (const auto& [key, value] : properties) {
    // SecretSet skips very short values ("1", "true"): they would redact ordinary words.
    if (isSecretKey(key)) {
      secrets_.add(value);
    }
  }
}

bool SecretRedactor::isSecretKey(const std::string& key) { return secrets::isSecretName(key); }

std::string SecretRedactor::redact(std::string text) const {
  secrets_.redactInPlace(text);
  secrets::redactInPlace(text);
  return text;
}

} // namespace causeway::control
