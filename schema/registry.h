#pragma once

// What Causeway needs from a schema registry, and the two kinds that provide it: a
// Confluent-compatible REST registry (rest_registry.h) and a local catalog folder (catalog.h).
//
// The interface follows the Confluent REST API (also served by Karapace, Redpanda and
// Apicurio's ccompat API): schemas by ID or GUID, subject versions, registration, lookup and
// compatibility. Calls block (network I/O): only the control plane (SchemaService) and commands
// call them, never a stage.

#include "schema/wire_format.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace causeway::schema {

enum class SchemaType : uint8_t { kAvro, kProtobuf, kJson };

// "AVRO", "PROTOBUF", "JSON": the registry's schemaType values.
const char* schemaTypeName(SchemaType type);
// The registry's schemaType; a missing one means AVRO (the REST API omits it for Avro).
std::optional<SchemaType> parseSchemaType(std::string_view text);
// "avro", "protobuf", "json": the configuration's words.
const char* formatName(SchemaType type);

// A named schema this one imports: a .proto import, an Avro named type, a JSON $ref target.
struct SchemaReference {
  std::string name;     // as the schema refers to it ("common/money.proto", "com.acme.Money")
  std::string subject;  // where the registry holds it
  int version = 0;
  bool operator==(const SchemaReference&) const = default;
};

// A schema as a registry holds it. `metadata` and `rule_set` are the registry's JSON objects
// (data contract metadata and rules) kept as text so they cross to another registry unchanged;
// empty when absent.
struct Schema {
  SchemaType type = SchemaType::kAvro;
  std::string text;
  std::vector<SchemaReference> references;
  std::string metadata;
  std::string rule_set;
};

// A schema with where a registry holds it.
struct RegisteredSchema {
  Schema schema;
  uint32_t id = 0;
  std::optional<Guid> guid;
  std::string subject;
  int version = 0;
};

struct CompatibilityResult {
  bool compatible = true;
  std::vector<std::string> messages;  // why not, as the registry says it
};

enum class RegistryErrc : uint8_t {
  kNotFound,      // 404: no such ID, GUID, subject or version
  kIncompatible,  // 409: the schema is incompatible with the subject
  kUnavailable,   // no answer, a timeout, 5xx or 429: retrying later may help
  kUnauthorized,  // 401 / 403
  kRejected,      // another 4xx (an invalid schema, a read-only catalog)
  kBadResponse,   // an answer that is not what the API documents
};
const char* registryErrcName(RegistryErrc code);

// An error with what the caller acts on (`code`) and what a person reads (`message`: the
// registry, the request and the registry's own message; never credentials).
struct RegistryError {
  RegistryErrc code = RegistryErrc::kUnavailable;
  int http_status = 0;  // 0 when there was no HTTP answer
  int error_code = 0;   // the registry's error_code (40401 subject not found, ...), 0 if none
  std::string message;

  bool retryable() const { return code == RegistryErrc::kUnavailable; }
};

template <typename T> class [[nodiscard]] RegistryResult {
public:
  RegistryResult(T value) : v_(std::move(value)) {}              // NOLINT
  RegistryResult(RegistryError error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  const RegistryError& error() const { return std::get<1>(v_); }

private:
  std::variant<T, RegistryError> v_;
};

// A schema registry. Implementations are used by one thread at a time (the control plane of
// one link, or a command); interrupt() may be called from any thread to cut short a call that
// is waiting (for an answer or between retries) so that shutdown is quick.
class Registry {
public:
  virtual ~Registry() = default;

  // The configured name ("east-sr"), for messages and status.
  virtual const std::string& name() const = 0;
  // Registries with the same identity hold the same IDs (same URL and context, or the same
  // catalog folder): a link between them needs no ID translation.
  virtual std::string identity() const = 0;

  // GET /schemas/ids/{id}; `subject` (may be empty) selects the context the ID belongs to.
  virtual RegistryResult<Schema> schemaById(uint32_t id, std::string_view subject) = 0;
  // GET /schemas/guids/{guid}
  virtual RegistryResult<Schema> schemaByGuid(const Guid& guid) = 0;
  // GET /subjects/{subject}/versions/{version}; version 0 means "latest".
  virtual RegistryResult<RegisteredSchema> subjectVersion(std::string_view subject,
                                                          int version) = 0;
  // POST /subjects/{subject}: where `schema` is registered under the subject (ID and version);
  // kNotFound when it is not.
  virtual RegistryResult<RegisteredSchema> lookup(std::string_view subject,
                                                  const Schema& schema) = 0;
  // POST /subjects/{subject}/versions: registers (or finds) the schema, answering its ID.
  virtual RegistryResult<uint32_t> registerSchema(std::string_view subject,
                                                  const Schema& schema) = 0;
  // POST /compatibility/subjects/{subject}/versions/latest. A subject with no versions yet
  // accepts anything: compatible.
  virtual RegistryResult<CompatibilityResult> checkCompatibility(std::string_view subject,
                                                                 const Schema& schema) = 0;

  virtual void interrupt() {}
};

using RegistryPtr = std::shared_ptr<Registry>;

}  // namespace causeway::schema
