#include "common/result.h"

namespace causeway {

const char* errorKindName(ErrorKind kind) {
  switch (kind) {
  case ErrorKind::kUnknown:
    return "unknown";
  case ErrorKind::kNotFound:
    return "not_found";
  case ErrorKind::kInvalidArgument:
    return "invalid_argument";
  case ErrorKind::kFailedPrecondition:
    return "failed_precondition";
  case ErrorKind::kUnavailable:
    return "unavailable";
  case ErrorKind::kPermissionDenied:
    return "permission_denied";
  case ErrorKind::kRejected:
    return "rejected";
  case ErrorKind::kInternal:
    return "internal";
  }
  return "unknown";
}

}  // namespace causeway
