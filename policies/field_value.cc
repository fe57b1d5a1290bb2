#include "policies/field_value.h"

namespace causeway::policies {

const char* kindName(ValueKind kind) {
  switch (kind) {
  case ValueKind::kMissing:
    return "missing";
  case ValueKind::kNull:
    return "null";
  case ValueKind::kBool:
    return "a boolean";
  case ValueKind::kNumber:
    return "a number";
  case ValueKind::kString:
    return "a string";
  case ValueKind::kBytes:
    return "bytes";
  case ValueKind::kObject:
    return "an object";
  case ValueKind::kArray:
    return "an array";
  }
  return "?";
}

}  // namespace causeway::policies
