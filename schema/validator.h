#pragma once

// Checking one payload (a key or value without its schema prefix) against a compiled schema.
//
// A Validator is compiled once per (writer schema, contract schema) by the control plane and
// shared, immutable, by every data-plane thread; what decoding needs to mutate (Avro values, a
// Protobuf message, a JSON parser's buffers) lives in a ValidationScratch that each stage owns,
// so validating allocates nothing once the scratch has warmed up, and nothing is logged.
//
// A violation names the failing path below the key or value ("amount", "items[3].price") and
// what is wrong ("expected number, found string"), never a raw value from the record.

#include "common/result.h"
#include "schema/registry.h"
#include "schema/wire_format.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace causeway::schema {

struct Violation {
  std::string path;     // "" for the payload as a whole
  std::string message;  // "expected number, found string"

  // "value.amount: expected number" for side "value".
  std::string describe(std::string_view side) const;
};

// Mutable per-thread state of one validator (see ValidationScratch).
class ScratchState {
public:
  virtual ~ScratchState() = default;
};

class Validator;

// What one data-plane thread keeps between records for every validator it used. Not
// thread-safe; one per stage. Entries of validators that are gone are dropped by trim().
class ValidationScratch {
public:
  ScratchState& stateFor(const Validator& validator);
  // Keeps at most `max_entries` states (dropping all when over): called when the stage sees a
  // new snapshot, so states of replaced validators do not pile up.
  void trim(size_t max_entries);
  size_t size() const { return states_.size(); }

private:
  std::unordered_map<uint64_t, std::unique_ptr<ScratchState>> states_;
};

class Validator {
public:
  Validator() : serial_(next_serial_.fetch_add(1, std::memory_order_relaxed)) {}
  virtual ~Validator() = default;
  Validator(const Validator&) = delete;
  Validator& operator=(const Validator&) = delete;

  virtual SchemaType type() const = 0;
  // True when `payload` is valid; otherwise fills `violation` (allocating only then).
  virtual bool validate(std::string_view payload, const MessageIndexes& indexes,
                        ValidationScratch& scratch, Violation& violation) const = 0;

  // Appends the payload as plain JSON text to `out`: Avro in the shape schema/avro_json.h
  // describes, Protobuf in its JSON mapping with the .proto field names, a JSON payload as it
  // is. Call it right after validate() returned true for the same payload and indexes, with
  // the same scratch (a Protobuf message is printed from the state validate() left). False
  // with `violation` set when the payload has no JSON form.
  virtual bool toJson(std::string_view payload, const MessageIndexes& indexes,
                      ValidationScratch& scratch, std::string& out,
                      Violation& violation) const = 0;

  // A new per-thread state (nullptr when the validator needs none).
  virtual std::unique_ptr<ScratchState> newState() const { return nullptr; }
  // Unique for the process lifetime: keys the scratch states.
  uint64_t serial() const { return serial_; }

private:
  const uint64_t serial_;
  static inline std::atomic<uint64_t> next_serial_{1};
};

using ValidatorPtr = std::shared_ptr<const Validator>;

// A schema with the texts of everything it references, resolved by the control plane: the
// references of references come first, each once, in an order where a schema follows what it
// imports.
struct ResolvedSchema {
  Schema schema;
  // name (as the schema refers to it) -> the referenced schema's text
  std::vector<std::pair<std::string, Schema>> references;
};

}  // namespace causeway::schema

namespace causeway::config {
enum class Compatibility;
}  // namespace causeway::config

namespace causeway::schema {

// Compiles the validator for records written with `writer`, checked against the contract's
// schema `reader` (nullptr: decode and check with the writer's schema only) per
// `compatibility`:
//  - Avro and Protobuf decode with the writer's schema; the writer's schema (for Protobuf,
//    each message) must be compatible with the contract's, or records get a violation saying
//    why;
//  - JSON documents are validated against the contract's schema (the writer's when there is no
//    contract schema): what a JSON consumer relies on is the document, not the schema the
//    producer named.
// An error means the schema itself cannot be used (does not parse, unsupported keyword).
Result<ValidatorPtr> compileValidator(const ResolvedSchema& writer, const ResolvedSchema* reader,
                                      config::Compatibility compatibility);

}  // namespace causeway::schema
