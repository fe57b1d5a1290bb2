#include "schema/check_config.h"

#include "schema/catalog.h"
#include "schema/contracts.h"
#include "schema/validator.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <tuple>

namespace causeway::schema {
namespace {

// The schema of a catalog entry with its references, from the same catalog.
ResolvedSchema resolveInCatalog(const Catalog& catalog, const CatalogEntry& entry) {
  ResolvedSchema out;
  out.schema = entry.registered.schema;
  std::function<void(const Schema&, int)> add = [&](const Schema& schema, int depth) {
    if (depth > 10) {
      return;
    }
    for (const auto& ref : schema.references) {
      const CatalogEntry* referenced = catalog.byVersion(ref.subject, ref.version);
      if (referenced == nullptr) {
        continue;  // reported by the catalog loader
      }
      add(referenced->registered.schema, depth + 1);
      const bool seen = std::any_of(out.references.begin(), out.references.end(),
                                    [&ref](const auto& r) { return r.first == ref.name; });
      if (!seen) {
        out.references.emplace_back(ref.name, referenced->registered.schema);
      }
    }
  };
  add(entry.registered.schema, 0);
  return out;
}

// A literal topic a contract regex names exactly ("payments\\.authorized" ->
// "payments.authorized"), or nullopt when it stands for more than one topic.
std::optional<std::string> literalTopic(const std::string& pattern) {
  std::string out;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size() &&
        std::string(".-_").find(pattern[i + 1]) != std::string::npos) {
      out += pattern[++i];
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-') {
      out += c;
    } else {
      return std::nullopt;
    }
  }
  return out;
}

}  // namespace

std::vector<config::ConfigError> checkConfig(const config::Config& config) {
  std::vector<config::ConfigError> errors;
  std::vector<std::pair<const config::RegistryConfig*, std::shared_ptr<const Catalog>>> catalogs;
  bool all_catalogs = !config.registries.empty();
  for (const auto& [name, registry] : config.registries) {
    if (!registry.isCatalog()) {
      all_catalogs = false;
      continue;
    }
    std::vector<config::ConfigError> found;
    auto catalog = std::make_shared<const Catalog>(Catalog::load(registry.catalog, found));
    for (auto& error : found) {
      error.message = "registry '" + name + "': " + error.message;
      errors.push_back(std::move(error));
    }
    if (!found.empty()) {
      continue;  // compiling half a catalog would repeat its errors
    }
    for (const auto& entry : catalog->entries()) {
      const ResolvedSchema resolved = resolveInCatalog(*catalog, entry);
      auto compiled = compileValidator(resolved, nullptr, config::Compatibility::kNone);
      if (!compiled) {
        errors.push_back(config::ConfigError{entry.location,
                                             "registry '" + name + "': " + entry.file + " (ID " +
                                                 std::to_string(entry.registered.id) +
                                                 ") cannot be used: " + compiled.error().message});
      }
    }
    catalogs.emplace_back(&registry, std::move(catalog));
  }
  // Contracts against what the catalogs hold, for contracts on one named topic with the topic
  // subject strategy (other subjects depend on the records).
  for (const auto& domain : config.domains) {
    for (const auto& contract : domain.contracts) {
      for (Side side : {Side::kKey, Side::kValue}) {
        const auto& side_config = side == Side::kKey ? contract.key : contract.value;
        if (!side_config.present || !side_config.usesRegistry() ||
            side_config.subject_strategy != config::SubjectStrategy::kTopic) {
          continue;
        }
        for (const auto& pattern : contract.topics) {
          auto topic = literalTopic(pattern);
          if (!topic) {
            continue;
          }
          const std::string subject = subjectName(side_config.subject_strategy, *topic, side, "");
          bool held = false;
          for (const auto& [registry, catalog] : catalogs) {
            const CatalogEntry* entry = catalog->byVersion(subject, side_config.version);
            if (entry == nullptr) {
              continue;
            }
            held = true;
            const char* expected = config::payloadFormatName(side_config.format);
            if (std::string(formatName(entry->registered.schema.type)) != expected) {
              errors.push_back(config::ConfigError{
                  side_config.location,
                  std::string("the contract says ") + expected + ", but registry '" +
                      registry->name + "' holds subject " + subject + " as " +
                      formatName(entry->registered.schema.type) + " (" + entry->file + ")"});
            }
          }
          if (!held && all_catalogs && !catalogs.empty()) {
            errors.push_back(config::ConfigError{
                side_config.location,
                "no registry holds the contract's subject " + subject +
                    (side_config.version > 0 ? " version " + std::to_string(side_config.version)
                                             : std::string()) +
                    " (every registry is a catalog: add it to an index.yaml)"});
          }
        }
      }
    }
  }
  std::stable_sort(errors.begin(), errors.end(), [](const auto& a, const auto& b) {
    return std::tie(a.location.file, a.location.line, a.location.column) <
           std::tie(b.location.file, b.location.line, b.location.column);
  });
  return errors;
}

}  // namespace causeway::schema
