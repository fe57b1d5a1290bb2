#pragma once

// An Avro schema as Causeway reasons about it: parsed from the registry's JSON text (with the
// named types of its references), with what Avro C's schema API does not keep (field
// defaults, aliases, enum defaults). Used for three things Avro C cannot do for us:
//  - schema resolution as the Avro specification defines it (a reader field with a default
//    resolves; Avro C's resolver refuses it), to check a record's writer schema against the
//    contract's schema, with the path of the first mismatch;
//  - a strict, allocation-free walk over a record's bytes that names the path of the first
//    problem and refuses lengths beyond the bytes before Avro C allocates for them;
//  - the Parsing Canonical Form, in which references are inlined, for Avro C (which has no
//    named-type registry) and for comparing schemas across registries.
// Immutable after parse(); nodes point at each other (recursive types form cycles) and live as
// long as the model.

#include "common/result.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace causeway::schema {

struct AvroNode {
  enum class Kind : uint8_t {
    kNull,
    kBoolean,
    kInt,
    kLong,
    kFloat,
    kDouble,
    kBytes,
    kString,
    kRecord,
    kEnum,
    kArray,
    kMap,
    kUnion,
    kFixed,
  };
  struct Field {
    std::string name;
    const AvroNode* type = nullptr;
    bool has_default = false;
    std::string default_json;  // the default as the schema writes it (JSON text), when it has one
    std::vector<std::string> aliases;
  };

  Kind kind = Kind::kNull;
  std::string name;                  // full name of a record, enum or fixed
  std::vector<std::string> aliases;  // full names
  std::vector<Field> fields;         // record
  std::vector<std::string> symbols;  // enum
  bool has_enum_default = false;
  std::string enum_default;  // the symbol, when it has one
  int64_t size = 0;                       // fixed
  const AvroNode* items = nullptr;        // array items, map values
  std::vector<const AvroNode*> branches;  // union
  // The fewest bytes a datum of this type takes; 0 means always exactly 0 (null, empty
  // records, fixed(0)), which lets a huge block of such items be skipped without a loop.
  size_t min_size = 0;

  bool isNamed() const {
    return kind == Kind::kRecord || kind == Kind::kEnum || kind == Kind::kFixed;
  }
};

const char* avroKindName(AvroNode::Kind kind);

class AvroModel {
public:
  // Parses `text` after the texts of its references (each a JSON schema defining named types
  // the main schema uses by name), in the order given.
  static Result<std::shared_ptr<const AvroModel>>
  parse(std::string_view text, const std::vector<std::string_view>& references = {});

  const AvroNode& root() const { return *root_; }
  // The Parsing Canonical Form: full names, no doc/aliases/defaults, named types defined at
  // their first use (so references are inlined). Avro C parses it on its own.
  std::string canonical() const;
  const AvroNode* named(const std::string& full_name) const;

private:
  AvroModel() = default;
  friend class AvroParser;

  std::vector<std::unique_ptr<AvroNode>> nodes_;
  std::map<std::string, const AvroNode*> named_;
  const AvroNode* root_ = nullptr;
};

using AvroModelPtr = std::shared_ptr<const AvroModel>;

// Whether a writer's primitive of kind `writer` is read as `reader` by promotion (int to long,
// float or double; long to float or double; float to double; string and bytes both ways).
bool avroPromotes(AvroNode::Kind writer, AvroNode::Kind reader);

// Whether data written with `writer` can be read with `reader` (Avro schema resolution), or
// why not, naming the path ("field amount: long cannot be read as int").
Status avroResolves(const AvroNode& writer, const AvroNode& reader);

// Arrays and maps of items that take no bytes (nulls, empty records) may hold at most this
// many such items in one datum: a few bytes could otherwise make Avro C allocate (and a JSON
// rendering write) billions of items.
inline constexpr uint64_t kMaxEmptyAvroItems = 1u << 16;

// Walks one datum of `node` in `bytes` from `pos`; on success `pos` is past it. On failure
// `path` and `problem` say where and what ("items[2].price", "truncated: ...").
struct AvroWalkError {
  std::string path;
  std::string problem;
};
bool walkAvro(const AvroNode& node, std::string_view bytes, size_t& pos, AvroWalkError& error);

}  // namespace causeway::schema
