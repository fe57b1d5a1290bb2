#include "schema/catalog.h"

#include "schema/proto_source.h"

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace causeway::schema {
namespace {

using config::ConfigError;
using config::Field;
using config::SourceLocation;
using config::YamlReader;

const std::vector<std::string> kEntryKeys = {"id",      "subject", "file",
                                             "version", "guid",    "references"};
const std::vector<std::string> kReferenceKeys = {"name", "subject", "version"};

std::optional<int64_t> integer(YamlReader& reader, const Field& field, int64_t min, int64_t max) {
  auto text = reader.string(field);
  if (!text) {
    return std::nullopt;
  }
  int64_t value = 0;
  const char* end = text->data() + text->size();
  auto [ptr, ec] = std::from_chars(text->data(), end, value);
  if (ec != std::errc() || ptr != end || value < min || value > max) {
    reader.error(field, "expected an integer from " + std::to_string(min) + " to " +
                            std::to_string(max) + ", found " + config::quoted(*text));
    return std::nullopt;
  }
  return value;
}

std::optional<SchemaType> typeOfFile(const std::string& file) {
  const std::string ext = std::filesystem::path(file).extension().string();
  if (ext == ".avsc") {
    return SchemaType::kAvro;
  }
  if (ext == ".proto") {
    return SchemaType::kProtobuf;
  }
  if (ext == ".json") {
    return SchemaType::kJson;
  }
  return std::nullopt;
}

// Checks the file's syntax; errors point into the schema file itself.
void checkSyntax(const std::string& path, SchemaType type, const std::string& text,
                 std::vector<ConfigError>& errors) {
  if (type == SchemaType::kProtobuf) {
    google::protobuf::FileDescriptorProto proto;
    std::vector<ProtoSyntaxError> syntax;
    if (!parseProtoText(path, text, proto, syntax)) {
      for (const auto& e : syntax) {
        errors.push_back(ConfigError{SourceLocation{path, e.line, e.column},
                                     "not a valid .proto file: " + e.message});
      }
    }
    return;
  }
  try {
    const auto parsed = nlohmann::json::parse(text);
    (void)parsed;
  } catch (const nlohmann::json::parse_error& e) {
    // "[json.exception.parse_error.101] parse error at line 1, column 2: syntax error ..."
    std::string message = e.what();
    if (auto colon = message.find(": "); colon != std::string::npos) {
      message = message.substr(colon + 2);
    }
    const size_t offset = e.byte > 0 ? e.byte - 1 : 0;
    errors.push_back(ConfigError{locateOffset(path, text, std::min(offset, text.size())),
                                 "not valid JSON: " + message});
  }
}

bool isPlainRelative(const std::string& file) {
  const std::filesystem::path path(file);
  if (file.empty() || path.is_absolute()) {
    return false;
  }
  for (const auto& part : path) {
    if (part == "..") {
      return false;
    }
  }
  return true;
}

struct PendingReference {
  size_t entry;
  size_t reference;
  Field field;
};

}  // namespace

SourceLocation locateOffset(const std::string& file, std::string_view text, size_t offset) {
  int line = 1;
  int column = 1;
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return SourceLocation{file, line, column};
}

Catalog Catalog::load(const std::string& folder, std::vector<ConfigError>& errors) {
  const std::filesystem::path base(folder);
  auto read = [&base](const std::string& relative) -> std::optional<std::string> {
    const std::filesystem::path path = base / relative;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
      return std::nullopt;
    }
    const auto size = std::filesystem::file_size(path, ec);
    if (ec || size > kMaxFileBytes) {
      return std::nullopt;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      return std::nullopt;
    }
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  };
  return load(folder, read, errors);
}

Catalog Catalog::load(const std::string& folder, const CatalogFileReader& read,
                      std::vector<ConfigError>& errors) {
  Catalog catalog;
  catalog.folder_ = folder;
  const std::string index_path = (std::filesystem::path(folder) / kIndexFile).string();
  auto index_text = read(kIndexFile);
  if (!index_text) {
    errors.push_back(ConfigError{SourceLocation{index_path, 0, 0},
                                 "cannot read the catalog index (a readable file of at most " +
                                     std::to_string(kMaxFileBytes >> 20) + " MiB)"});
    return catalog;
  }
  YamlReader reader(index_path);
  std::vector<PendingReference> references;
  try {
    const YAML::Node root = YAML::Load(*index_text);
    auto object = reader.object(YamlReader::root(root), {"schemas"},
                                "a map with `schemas`: the list of the catalog's schemas");
    const Field* list =
        object ? reader.require(*object, "schemas", "the catalog's schemas") : nullptr;
    auto items = list ? reader.items(*list, "a list of schemas") : std::nullopt;
    for (const Field& item : items ? *items : std::vector<Field>{}) {
      auto entry_object = reader.object(item, kEntryKeys, "a map with id, subject and file");
      if (!entry_object) {
        continue;
      }
      CatalogEntry entry;
      entry.location = reader.location(item.mark);
      bool ok = true;
      if (const Field* id = reader.require(*entry_object, "id", "the schema's stable ID")) {
        if (auto value = integer(reader, *id, 1, INT32_MAX)) {
          entry.registered.id = static_cast<uint32_t>(*value);
        } else {
          ok = false;
        }
      } else {
        ok = false;
      }
      if (const Field* subject = reader.require(*entry_object, "subject", "its subject")) {
        if (auto value = reader.nonEmptyString(*subject)) {
          entry.registered.subject = *value;
        } else {
          ok = false;
        }
      } else {
        ok = false;
      }
      const Field* file = reader.require(*entry_object, "file", "the schema file");
      if (file != nullptr) {
        if (auto value = reader.nonEmptyString(*file)) {
          entry.file = *value;
          if (!isPlainRelative(entry.file)) {
            reader.error(*file, "must be a path inside the catalog folder (relative, no '..')");
            ok = false;
          } else if (auto type = typeOfFile(entry.file)) {
            entry.registered.schema.type = *type;
          } else {
            reader.error(*file, "the file must end in .avsc (Avro), .proto (Protobuf) or "
                                ".json (JSON Schema)");
            ok = false;
          }
        } else {
          ok = false;
        }
      } else {
        ok = false;
      }
      if (const Field* version = entry_object->get("version")) {
        if (auto value = integer(reader, *version, 1, INT32_MAX)) {
          entry.registered.version = static_cast<int>(*value);
        } else {
          ok = false;
        }
      }
      if (const Field* guid = entry_object->get("guid")) {
        if (auto text = reader.string(*guid)) {
          Guid parsed;
          if (parseGuid(*text, parsed)) {
            entry.registered.guid = parsed;
          } else {
            reader.error(*guid, "expected a GUID like 6f1c8f3a-0f2e-4c35-9d1a-2b3c4d5e6f70");
            ok = false;
          }
        }
      }
      if (const Field* refs = entry_object->get("references")) {
        auto ref_items = reader.items(*refs, "a list of references {name, subject, version}");
        for (const Field& ref_item : ref_items ? *ref_items : std::vector<Field>{}) {
          auto ref_object =
              reader.object(ref_item, kReferenceKeys, "a reference {name, subject, version}");
          if (!ref_object) {
            ok = false;
            continue;
          }
          SchemaReference ref;
          const Field* name = reader.require(*ref_object, "name", "the name the schema uses");
          const Field* subject = reader.require(*ref_object, "subject", "the referenced subject");
          auto name_text = name ? reader.nonEmptyString(*name) : std::nullopt;
          auto subject_text = subject ? reader.nonEmptyString(*subject) : std::nullopt;
          if (!name_text || !subject_text) {
            ok = false;
            continue;
          }
          ref.name = *name_text;
          ref.subject = *subject_text;
          if (const Field* version = ref_object->get("version")) {
            if (auto value = integer(reader, *version, 1, INT32_MAX)) {
              ref.version = static_cast<int>(*value);
            } else {
              ok = false;
              continue;
            }
          }
          references.push_back(PendingReference{
              catalog.entries_.size(), entry.registered.schema.references.size(), ref_item});
          entry.registered.schema.references.push_back(std::move(ref));
        }
      }
      if (!ok) {
        // Nothing else can be said about an entry without its id, subject or file; keep the
        // references list consistent by dropping this entry's pending ones.
        references.erase(std::remove_if(references.begin(), references.end(),
                                        [&](const PendingReference& p) {
                                          return p.entry == catalog.entries_.size();
                                        }),
                         references.end());
        continue;
      }
      const std::string file_path = (std::filesystem::path(folder) / entry.file).string();
      auto text = read(entry.file);
      if (!text) {
        reader.error(*file, "cannot read " + config::quoted(file_path) +
                                " (a readable file of at most " +
                                std::to_string(kMaxFileBytes >> 20) + " MiB)");
        references.erase(std::remove_if(references.begin(), references.end(),
                                        [&](const PendingReference& p) {
                                          return p.entry == catalog.entries_.size();
                                        }),
                         references.end());
        continue;
      }
      entry.registered.schema.text = std::move(*text);
      checkSyntax(file_path, entry.registered.schema.type, entry.registered.schema.text, errors);

      // Uniqueness: an ID (or GUID) names one schema; the same schema may sit in several
      // subjects under one ID, as in a registry.
      if (auto seen = catalog.by_id_.find(entry.registered.id); seen != catalog.by_id_.end()) {
        const CatalogEntry& first = catalog.entries_[seen->second];
        if (!sameSchema(first.registered.schema, entry.registered.schema)) {
          reader.error(item.mark, item.path,
                       "ID " + std::to_string(entry.registered.id) + " is already used by " +
                           first.file + " (line " + std::to_string(first.location.line) +
                           ") for another schema");
        }
      }
      if (entry.registered.guid) {
        for (const auto& other : catalog.entries_) {
          if (other.registered.guid == entry.registered.guid &&
              other.registered.id != entry.registered.id) {
            reader.error(item.mark, item.path,
                         "GUID " + guidText(*entry.registered.guid) + " is already used by " +
                             other.file + " (line " + std::to_string(other.location.line) + ")");
          }
        }
      }
      auto& versions = catalog.by_subject_[entry.registered.subject];
      if (entry.registered.version == 0) {
        entry.registered.version = versions.empty() ? 1 : versions.rbegin()->first + 1;
      }
      if (auto seen = versions.find(entry.registered.version); seen != versions.end()) {
        reader.error(item.mark, item.path,
                     "subject " + config::quoted(entry.registered.subject) + " version " +
                         std::to_string(entry.registered.version) + " is already defined at line " +
                         std::to_string(catalog.entries_[seen->second].location.line));
        references.erase(std::remove_if(references.begin(), references.end(),
                                        [&](const PendingReference& p) {
                                          return p.entry == catalog.entries_.size();
                                        }),
                         references.end());
        continue;
      }
      versions.emplace(entry.registered.version, catalog.entries_.size());
      catalog.by_id_.emplace(entry.registered.id, catalog.entries_.size());
      catalog.entries_.push_back(std::move(entry));
    }
  } catch (const YAML::Exception& e) {
    reader.error(e.mark, "", "YAML syntax error: " + e.msg);
  }
  // References may point at entries listed later; a missing version means the latest.
  for (const PendingReference& pending : references) {
    SchemaReference& ref =
        catalog.entries_[pending.entry].registered.schema.references[pending.reference];
    const CatalogEntry* target = catalog.byVersion(ref.subject, ref.version);
    if (target == nullptr) {
      reader.error(
          pending.field,
          "references subject " + config::quoted(ref.subject) +
              (ref.version > 0 ? " version " + std::to_string(ref.version) : std::string()) +
              ", which the catalog does not hold" +
              config::suggestion(ref.subject, catalog.subjects(), "subjects are"));
    } else {
      ref.version = target->registered.version;
    }
  }
  auto found = reader.takeErrors();
  errors.insert(errors.end(), found.begin(), found.end());
  return catalog;
}

const CatalogEntry* Catalog::byId(uint32_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &entries_[it->second];
}

const CatalogEntry* Catalog::byGuid(const Guid& guid) const {
  for (const auto& entry : entries_) {
    if (entry.registered.guid == guid) {
      return &entry;
    }
  }
  return nullptr;
}

const CatalogEntry* Catalog::byVersion(const std::string& subject, int version) const {
  auto it = by_subject_.find(subject);
  if (it == by_subject_.end() || it->second.empty()) {
    return nullptr;
  }
  if (version <= 0) {
    return &entries_[it->second.rbegin()->second];
  }
  auto v = it->second.find(version);
  return v == it->second.end() ? nullptr : &entries_[v->second];
}

std::vector<std::string> Catalog::subjects() const {
  std::vector<std::string> out;
  for (const auto& [subject, versions] : by_subject_) {
    out.push_back(subject);
  }
  return out;
}

bool sameSchema(const Schema& a, const Schema& b) {
  if (a.type != b.type || a.references != b.references) {
    return false;
  }
  if (a.text == b.text) {
    return true;
  }
  if (a.type == SchemaType::kProtobuf) {
    return false;
  }
  const auto ja = nlohmann::json::parse(a.text, nullptr, false);
  const auto jb = nlohmann::json::parse(b.text, nullptr, false);
  return !ja.is_discarded() && !jb.is_discarded() && ja == jb;
}

// --- CatalogRegistry --------------------------------------------------------------------------

CatalogRegistry::CatalogRegistry(std::string name, std::shared_ptr<const Catalog> catalog)
    : name_(std::move(name)), catalog_(std::move(catalog)) {}

RegistryError CatalogRegistry::error(RegistryErrc code, const std::string& what) const {
  return RegistryError{code, 0, 0,
                       "registry '" + name_ + "' (catalog " + catalog_->folder() + "): " + what};
}

RegistryResult<Schema> CatalogRegistry::schemaById(uint32_t id, std::string_view) {
  if (const CatalogEntry* entry = catalog_->byId(id)) {
    return entry->registered.schema;
  }
  return error(RegistryErrc::kNotFound, "no schema with ID " + std::to_string(id));
}

RegistryResult<Schema> CatalogRegistry::schemaByGuid(const Guid& guid) {
  if (const CatalogEntry* entry = catalog_->byGuid(guid)) {
    return entry->registered.schema;
  }
  return error(RegistryErrc::kNotFound, "no schema with GUID " + guidText(guid));
}

RegistryResult<RegisteredSchema> CatalogRegistry::subjectVersion(std::string_view subject,
                                                                 int version) {
  if (const CatalogEntry* entry = catalog_->byVersion(std::string(subject), version)) {
    return entry->registered;
  }
  return error(RegistryErrc::kNotFound,
               "no subject " + config::quoted(subject) +
                   (version > 0 ? " version " + std::to_string(version) : std::string()));
}

RegistryResult<RegisteredSchema> CatalogRegistry::lookup(std::string_view subject,
                                                         const Schema& schema) {
  for (const auto& entry : catalog_->entries()) {
    if (entry.registered.subject == subject && sameSchema(entry.registered.schema, schema)) {
      return entry.registered;
    }
  }
  return error(RegistryErrc::kNotFound, "the schema is not in subject " + config::quoted(subject));
}

RegistryResult<uint32_t> CatalogRegistry::registerSchema(std::string_view subject,
                                                         const Schema& schema) {
  auto found = lookup(subject, schema);
  if (found) {
    return found->id;
  }
  return error(RegistryErrc::kRejected,
               "a catalog is read-only and does not hold this schema in subject " +
                   config::quoted(subject) + "; add it to " + Catalog::kIndexFile);
}

RegistryResult<CompatibilityResult> CatalogRegistry::checkCompatibility(std::string_view subject,
                                                                        const Schema& schema) {
  if (catalog_->byVersion(std::string(subject), 0) == nullptr || lookup(subject, schema)) {
    return CompatibilityResult{true, {}};
  }
  return CompatibilityResult{false,
                             {"the catalog holds other versions of subject " +
                              std::string(subject) + " and cannot take a new one (read-only)"}};
}

}  // namespace causeway::schema
