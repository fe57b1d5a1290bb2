#pragma once

// The local catalog: a folder of schema files (.avsc, .proto, .json) with an index.yaml that
// gives each a stable ID, its subject and version. It is the registry that needs no server
// (the default for demos and most tests), and it is read-only: registering a schema that is
// not in it is refused with a message saying which entry to add.
//
//   # index.yaml
//   schemas:
//     - {id: 1, subject: payments.authorized-value, file: payments/authorized.avsc}
//     - id: 2
//       subject: orders-value
//       file: orders.proto
//       version: 1                                 # default: counts up per subject, in order
//       guid: 6f1c8f3a-0f2e-4c35-9d1a-2b3c4d5e6f70    # optional
//       references: [{name: money.proto, subject: money, version: 1}]
//
// Loading checks what can be checked without compiling: the index's shape (with line:col),
// unique IDs, GUIDs and subject versions, that files exist and are JSON (.avsc, .json, with the
// line and column of a syntax error) or Protobuf syntax (.proto), and that references name
// entries of the catalog. Compiling the schemas (Avro names, Protobuf types, JSON Schema
// keywords) is schema::checkConfig's job (schema/check_config.h).

#include "config/yaml_reader.h"
#include "schema/registry.h"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace causeway::schema {

struct CatalogEntry {
  RegisteredSchema registered;      // subject, version, id, guid, the schema and its references
  std::string file;                 // as written in the index, relative to the folder
  config::SourceLocation location;  // the entry in index.yaml
};

// Reads one file of the catalog (a path relative to its folder); nullopt when it cannot.
using CatalogFileReader = std::function<std::optional<std::string>(const std::string& path)>;

class Catalog {
public:
  inline static const std::string kIndexFile = "index.yaml";
  // Larger schema files are refused (and a catalog index is a few kilobytes).
  static constexpr size_t kMaxFileBytes = 4u << 20;

  // Loads `folder`. Problems are appended to `errors` (file:line:col); the entries that
  // loaded are kept, so one bad file does not hide the others' problems.
  static Catalog load(const std::string& folder, std::vector<config::ConfigError>& errors);
  // The same from any reader (fuzzing, tests); `folder` only names files in messages.
  static Catalog load(const std::string& folder, const CatalogFileReader& read,
                      std::vector<config::ConfigError>& errors);

  const std::string& folder() const { return folder_; }
  const std::vector<CatalogEntry>& entries() const { return entries_; }
  const CatalogEntry* byId(uint32_t id) const;
  const CatalogEntry* byGuid(const Guid& guid) const;
  // version 0: the latest.
  const CatalogEntry* byVersion(const std::string& subject, int version) const;
  std::vector<std::string> subjects() const;

private:
  std::string folder_;
  std::vector<CatalogEntry> entries_;
  std::map<uint32_t, size_t> by_id_;  // first entry with the ID
  std::map<std::string, std::map<int, size_t>> by_subject_;
};

// The catalog as a Registry.
class CatalogRegistry final : public Registry {
public:
  CatalogRegistry(std::string name, std::shared_ptr<const Catalog> catalog);

  const std::string& name() const override { return name_; }
  std::string identity() const override { return "catalog:" + catalog_->folder(); }
  RegistryResult<Schema> schemaById(uint32_t id, std::string_view subject) override;
  RegistryResult<Schema> schemaByGuid(const Guid& guid) override;
  RegistryResult<RegisteredSchema> subjectVersion(std::string_view subject, int version) override;
  RegistryResult<RegisteredSchema> lookup(std::string_view subject, const Schema& schema) override;
  // Answers the ID of the same schema under the subject; anything else is refused (read-only).
  RegistryResult<uint32_t> registerSchema(std::string_view subject, const Schema& schema) override;
  // Compatible when the catalog already holds the schema under the subject or the subject is
  // empty; otherwise the answer says the catalog is read-only.
  RegistryResult<CompatibilityResult> checkCompatibility(std::string_view subject,
                                                         const Schema& schema) override;

private:
  RegistryError error(RegistryErrc code, const std::string& what) const;

  std::string name_;
  std::shared_ptr<const Catalog> catalog_;
};

// The same schema for a registry: same type and references, and the same text (JSON texts
// compared as JSON values, so formatting does not matter).
bool sameSchema(const Schema& a, const Schema& b);

// Line and column (1-based) of byte `offset` in `text`.
config::SourceLocation locateOffset(const std::string& file, std::string_view text, size_t offset);

}  // namespace causeway::schema
