#include "policies/field_types.h"

namespace causeway::policies {

const char* typeName(FieldType type) {
  switch (type) {
  case FieldType::kAny:
    return "any";
  case FieldType::kBool:
    return "a boolean";
  case FieldType::kNumber:
    return "a number";
  case FieldType::kString:
    return "a string";
  case FieldType::kBytes:
    return "bytes";
  case FieldType::kObject:
    return "an object";
  case FieldType::kArray:
    return "an array";
  }
  return "?";
}

std::optional<FieldType> FieldTypes::typeOf(const FieldPath& path, std::string& problem) const {
  switch (path.root) {
  case PathRoot::kTimestamp:
  case PathRoot::kPartition:
  case PathRoot::kOffset:
    return FieldType::kNumber;
  case PathRoot::kTopic:
  case PathRoot::kHeaders:
    return FieldType::kString;
  case PathRoot::kKey:
  case PathRoot::kValue:
    return FieldType::kAny;
  }
  problem = "unknown field";
  return std::nullopt;
}

std::optional<FieldType> SchemalessTypes::typeOf(const FieldPath& path,
                                                 std::string& problem) const {
  if (path.root == PathRoot::kKey && !path.segments.empty() && !key_is_structured_) {
    problem = "the key is read as a plain string (key format 'string'), so it has no fields; "
              "set formats: {key: json} to read fields of a JSON key";
    return std::nullopt;
  }
  if (path.root == PathRoot::kKey && path.segments.empty() && !key_is_structured_) {
    return FieldType::kString;
  }
  return FieldTypes::typeOf(path, problem);
}

}  // namespace causeway::policies
