// `registries:`, `registry:` on clusters and `schemas:` on links.

#include "config/sections.h"

#include "common/duration.h"

#include <algorithm>
#include <filesystem>

namespace causeway::config {
namespace {

const std::vector<std::string> kRegistryKeys = {
    "url",     "catalog", "context",         "auth",         "tls",
    "timeout", "retries", "connect_timeout", "retry_backoff"};
const std::vector<std::string> kAuthKeys = {"basic_file", "bearer_token_file"};
const std::vector<std::string> kTlsKeys = {"ca_file", "cert_file", "key_file"};
const std::vector<std::string> kLinkSchemasKeys = {"translate_ids",   "subject_prefix", "context",
                                                   "check_contracts", "translate_keys", "retry",
                                                   "paused_recheck"};
const std::vector<std::string> kLinkSchemasRetryKeys = {"initial", "max"};
const KeysRegistration kRegistryKeysRegistration("registries.<name>", kRegistryKeys);
const KeysRegistration kAuthKeysRegistration("registries.<name>.auth", kAuthKeys);
const KeysRegistration kTlsKeysRegistration("registries.<name>.tls", kTlsKeys);
const KeysRegistration kLinkSchemasKeysRegistration("links[].schemas", kLinkSchemasKeys);
const KeysRegistration kLinkSchemasRetryKeysRegistration("links[].schemas.retry",
                                                         kLinkSchemasRetryKeys);

// A context name as the Confluent registry writes it: ".east".
bool validContext(const std::string& context) {
  return context.size() > 1 && context[0] == '.' &&
         std::all_of(context.begin() + 1, context.end(),
                     [](char c) { return isNameChar(c) && c != '.'; });
}

void nonEmptyPath(YamlReader& r_, const Field* field, std::string& out) {
  if (field == nullptr) {
    return;
  }
  if (auto text = r_.nonEmptyString(*field)) {
    out = trim(*text);
  }
}

class RegistrySection {
public:
  explicit RegistrySection(YamlReader& reader) : r_(reader) {}

  void load(const std::string& name, const Field& value, RegistryConfig& registry) {
    auto object = r_.object(value, kRegistryKeys,
                            "a map with `url` (a schema registry) or `catalog` (a folder)");
    if (!object) {
      return;
    }
    const Field* url = object->get("url");
    const Field* catalog = object->get("catalog");
    if ((url == nullptr) == (catalog == nullptr)) {
      r_.error(object->mark, object->path,
               url == nullptr
                   ? "needs `url` (a Confluent-compatible schema registry) or `catalog` (a "
                     "folder with index.yaml)"
                   : "`url` and `catalog` exclude each other: a registry is one or the other");
    }
    if (url != nullptr) {
      loadUrl(*url, registry);
    }
    if (catalog != nullptr) {
      if (auto text = r_.nonEmptyString(*catalog)) {
        // Relative to the configuration file, so a config and its schemas move together.
        std::filesystem::path path(trim(*text));
        if (path.is_relative()) {
          path = std::filesystem::path(r_.file()).parent_path() / path;
        }
        registry.catalog = path.lexically_normal().string();
        if (registry.catalog.empty()) {
          registry.catalog = ".";
        }
      }
      for (const char* key :
           {"context", "auth", "tls", "timeout", "retries", "connect_timeout", "retry_backoff"}) {
        if (const Field* extra = object->get(key)) {
          r_.error(extra->key_mark, object->path,
                   std::string("`") + key +
                       "` applies to registries with a `url`, not to a "
                       "catalog");
        }
      }
    }
    if (const Field* context = object->get("context")) {
      if (auto text = r_.string(*context)) {
        if (!validContext(*text)) {
          r_.error(*context, "a context is written like \".east\" (a dot, then letters, "
                             "digits, '_' or '-'), found " +
                                 config::quoted(*text));
        } else {
          registry.context = *text;
        }
      }
    }
    if (const Field* auth = object->get("auth")) {
      if (auto auth_object = r_.object(*auth, kAuthKeys,
                                       "a map with basic_file or "
                                       "bearer_token_file")) {
        nonEmptyPath(r_, auth_object->get("basic_file"), registry.auth.basic_file);
        nonEmptyPath(r_, auth_object->get("bearer_token_file"), registry.auth.bearer_token_file);
        if (!registry.auth.basic_file.empty() && !registry.auth.bearer_token_file.empty()) {
          r_.error(*auth, "basic_file and bearer_token_file exclude each other");
        }
      }
    }
    if (const Field* tls = object->get("tls")) {
      if (auto tls_object = r_.object(*tls, kTlsKeys, "a map with ca_file, cert_file, key_file")) {
        nonEmptyPath(r_, tls_object->get("ca_file"), registry.tls.ca_file);
        nonEmptyPath(r_, tls_object->get("cert_file"), registry.tls.cert_file);
        nonEmptyPath(r_, tls_object->get("key_file"), registry.tls.key_file);
        if (registry.tls.cert_file.empty() != registry.tls.key_file.empty()) {
          r_.error(*tls, "cert_file and key_file go together (a client certificate and its key)");
        }
        if (!registry.url.empty() && registry.url.rfind("https://", 0) != 0) {
          r_.error(*tls, "`tls` needs an https:// url");
        }
      }
    }
    r_.duration(object->get("timeout"), registry.timeout);
    r_.duration(object->get("connect_timeout"), registry.connect_timeout);
    r_.duration(object->get("retry_backoff"), registry.retry_backoff);
    if (const Field* retries = object->get("retries")) {
      if (auto text = r_.string(*retries)) {
        if (*text == "0") {
          registry.retries = 0;
        } else {
          size_t count = 0;
          r_.positiveCount(retries, count, false);
          if (count > 100) {
            r_.error(*retries, "at most 100 retries");
          } else if (count > 0) {
            registry.retries = static_cast<int>(count);
          }
        }
      }
    }
    (void)name;
  }

private:
  void loadUrl(const Field& field, RegistryConfig& registry) {
    auto text = r_.nonEmptyString(field);
    if (!text) {
      return;
    }
    const std::string url = trim(*text);
    const size_t scheme_end = url.find("://");
    const std::string scheme = scheme_end == std::string::npos ? "" : url.substr(0, scheme_end);
    if (scheme != "http" && scheme != "https") {
      r_.error(field, "expected an http:// or https:// url");
      return;
    }
    const size_t host_start = scheme_end + 3;
    const size_t path_start = url.find('/', host_start);
    const std::string authority = url.substr(
        host_start, path_start == std::string::npos ? std::string::npos : path_start - host_start);
    if (authority.find('@') != std::string::npos) {
      // The message must not repeat the url: it holds a secret.
      r_.error(field, "the url must not contain credentials; put them in a file and name it in "
                      "auth.basic_file or auth.bearer_token_file");
      return;
    }
    if (authority.empty()) {
      r_.error(field, "the url has no host");
      return;
    }
    registry.url = url;
  }

  YamlReader& r_;
};

}  // namespace

void loadRegistries(YamlReader& r_, const Field& field, Config& config, SectionContext& context) {
  if (!field.node.IsMap()) {
    r_.typeError(field, "a map of registry name -> registry settings");
    return;
  }
  RegistrySection section(r_);
  for (auto& [name, value] : r_.entries(field)) {
    context.registry_names.push_back(name);
    RegistryConfig registry;
    registry.name = name;
    registry.location = r_.location(value.key_mark);
    if (!isValidName(name)) {
      r_.error(value.key_mark, value.path,
               "registry names may only use letters, digits, '.', '_' and '-'");
    }
    section.load(name, value, registry);
    config.registries.emplace(name, std::move(registry));
  }
}

void registryReference(YamlReader& r_, const Field& field, const SectionContext& context,
                       std::string& out) {
  auto name = r_.string(field);
  if (!name) {
    return;
  }
  if (std::find(context.registry_names.begin(), context.registry_names.end(), *name) ==
      context.registry_names.end()) {
    r_.error(field, "unknown registry " + config::quoted(*name) +
                        (context.registry_names.empty()
                             ? std::string("; define it under the top-level `registries:`")
                             : suggestion(*name, context.registry_names, "the registries are")));
    return;
  }
  out = *name;
}

namespace {

// `retry: {initial: 250ms, max: 30s}`.
void loadSchemasRetry(YamlReader& r_, const Field& field, LinkSchemasConfig& schemas) {
  auto object = r_.object(field, kLinkSchemasRetryKeys, "a map with initial and max");
  if (!object) {
    return;
  }
  r_.duration(object->get("initial"), schemas.retry_initial);
  r_.duration(object->get("max"), schemas.retry_max);
  if (schemas.retry_initial > schemas.retry_max) {
    const Field* at = object->get("initial") ? object->get("initial") : object->get("max");
    r_.error(at != nullptr ? *at : field,
             "retry.initial (" + formatDuration(schemas.retry_initial) +
                 ") is longer than retry.max (" + formatDuration(schemas.retry_max) +
                 "): the backoff starts at initial and doubles up to max");
  }
}

}  // namespace

void loadLinkSchemas(YamlReader& r_, const Field& field, const Config& config, LinkConfig& link) {
  auto object = r_.object(field, kLinkSchemasKeys,
                          "a map with translate_ids, subject_prefix, context, check_contracts, "
                          "translate_keys, retry, paused_recheck");
  if (!object) {
    return;
  }
  LinkSchemasConfig& schemas = link.schemas;
  schemas.configured = true;
  schemas.location = r_.location(field.key_mark);
  for (auto [key, out] : {std::pair{"translate_ids", &schemas.translate_ids},
                          std::pair{"check_contracts", &schemas.check_contracts},
                          std::pair{"translate_keys", &schemas.translate_keys}}) {
    if (const Field* flag = object->get(key)) {
      if (auto value = r_.boolean(*flag)) {
        *out = *value;
      }
    }
  }
  if (const Field* prefix = object->get("subject_prefix")) {
    if (auto text = r_.nonEmptyString(*prefix)) {
      schemas.subject_prefix = *text;
    }
  }
  if (const Field* context = object->get("context")) {
    if (auto text = r_.string(*context)) {
      if (!validContext(*text)) {
        r_.error(*context, "a context is written like \".east\" (a dot, then letters, digits, "
                           "'_' or '-'), found " +
                               config::quoted(*text));
      } else {
        schemas.context = *text;
      }
    }
  }
  if (const Field* retry = object->get("retry")) {
    loadSchemasRetry(r_, *retry, schemas);
  }
  r_.duration(object->get("paused_recheck"), schemas.paused_recheck);
  const bool mapping =
      object->get("subject_prefix") || object->get("context") || object->get("translate_keys");
  if (mapping && !schemas.translate_ids) {
    r_.error(field, "subject_prefix, context and translate_keys apply to translate_ids: true");
  }
  if (schemas.translate_ids) {
    for (const std::string* cluster : {&link.source, &link.target}) {
      auto it = config.clusters.find(*cluster);
      if (!cluster->empty() && it != config.clusters.end() && it->second.registry.empty()) {
        r_.error(*object->get("translate_ids"),
                 "translate_ids needs a `registry:` on both clusters; cluster " +
                     config::quoted(*cluster) + " has none");
      }
    }
  }
}

}  // namespace causeway::config
