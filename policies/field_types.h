#pragma once

// What is known, at load, about the type of each field a policy names. Without a schema (JSON
// payloads today) a payload path may hold anything at run time; with a contract's schema (the
// schema/ subsystem's Avro and Protobuf decoders) a payload path has one type, and a path the
// schema lacks is an error at load. The record's own fields (timestamp, topic, ...) always have
// a type.

#include "policies/field_path.h"

#include <cstdint>
#include <optional>
#include <string>

namespace causeway::policies {

enum class FieldType : uint8_t { kAny, kBool, kNumber, kString, kBytes, kObject, kArray };

const char* typeName(FieldType type);

class FieldTypes {
public:
  virtual ~FieldTypes() = default;
  // The path's type, or nullopt with `problem` set ("no field 'cuntry' in the value schema
  // payments.Authorized; did you mean 'country'?").
  virtual std::optional<FieldType> typeOf(const FieldPath& path, std::string& problem) const;
};

// The record fields' own types, and kAny for every payload path: JSON without a schema. A key
// read as a string (the default key format) has no fields.
class SchemalessTypes : public FieldTypes {
public:
  explicit SchemalessTypes(bool key_is_structured = false)
      : key_is_structured_(key_is_structured) {}
  std::optional<FieldType> typeOf(const FieldPath& path, std::string& problem) const override;

private:
  bool key_is_structured_;
};

}  // namespace causeway::policies
