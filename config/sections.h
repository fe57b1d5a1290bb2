#pragma once

// The loaders of the configuration's top-level sections, one file each, all
// built on YamlReader. config_loader.cc reads the document and calls them in
// dependency order (clusters before the sections that name clusters).

#include "config/config.h"
#include "config/yaml_reader.h"

#include <map>
#include <string>
#include <vector>

namespace causeway::config {

// What later sections need to know about earlier ones while loading, beyond the
// Config itself.
struct SectionContext {
  // Every cluster key, valid or not, so links are not also flagged for a
  // cluster with errors.
  std::vector<std::string> cluster_names;
  // False when `clusters` is missing or unusable: references to clusters then
  // cannot be checked, and reporting each of them as unknown would bury the one
  // real error.
  bool have_clusters = false;
  // Every policy key, valid or not, for links' `policy:` references.
  std::vector<std::string> policy_names;
  // The same for `registries` (optional: without it, a cluster's `registry:` is an error).
  std::vector<std::string> registry_names;
  // Every product name, valid or not; have_products is false when `products` is missing or
  // not a list (partners' product lists then are not checked).
  std::vector<std::string> product_names;
  bool have_products = false;
};

// clusters: {name: {bootstrap, properties, embedded_control, connect_timeout}}
void loadClusters(YamlReader& reader, const Field& field, Config& config, SectionContext& context);

// policies: {name: {topics, filter, fields, headers, on_violation, mode, formats, audit}}
void loadPolicies(YamlReader& reader, const Field& field, Config& config, SectionContext& context);

// registries: {name: {url, context, auth, tls, timeout, ...} | {catalog}}
// (registries_section.cc)
void loadRegistries(YamlReader& reader, const Field& field, Config& config,
                    SectionContext& context);

// `registry:` on a cluster: a reference to a registry by name.
void registryReference(YamlReader& reader, const Field& field, const SectionContext& context,
                       std::string& out);

// `schemas:` on a link (registries_section.cc); `config` holds the clusters
// already loaded.
void loadLinkSchemas(YamlReader& reader, const Field& field, const Config& config,
                     LinkConfig& link);

// domains: [{name, owner, topics, contracts}] (domains_section.cc)
void loadDomains(YamlReader& reader, const Field& field, Config& config);

// links: [{name, source, target, topics, naming, ...}]
void loadLinks(YamlReader& reader, const Field& field, Config& config,
               const SectionContext& context);

// products: [{name, domain, description, owner, source, topics, freshness_slo, headers}]
void loadProducts(YamlReader& reader, const Field& field, Config& config, SectionContext& context);

// partners: {name: {policy, products, auth: {tokens_file, jwt}, max_connections}}
void loadPartners(YamlReader& reader, const Field& field, Config& config,
                  const SectionContext& context);

// egress: {listen, grpc_listen, tls, pushpin, ...}
void loadEgress(YamlReader& reader, const Field& field, Config& config);

// A reference to a cluster by name: reported when unknown (with the closest
// name).
void clusterReference(YamlReader& reader, const Field& field, const SectionContext& context,
                      std::string& out);

// librdkafka passthrough (string -> string) for a cluster or one of a link's
// clients. Properties Causeway sets itself are refused with the reason.
enum class PropertyScope { kCluster, kConsumer, kProducer };
void loadKafkaProperties(YamlReader& reader, const Field* field, PropertyScope scope,
                         std::map<std::string, std::string>& out);

// --- The configuration reference
// ---------------------------------------------------------------
// docs/configuration.md documents every key, and
// tests/unit/config_reference_test.cc compares it with what the loaders accept,
// so neither changes without the other. Each map with a fixed set of keys
// registers them with ONE line next to its key list, in its section file:
//
//   const KeysRegistration kLinkKeysRegistration("links[]", kLinkKeys);
//
// and a word out of a fixed set (a `choice`) registers its words the same way:
//
//   const ValuesRegistration kDeliveryRegistration("links[].delivery",
//                                                  kDeliveryValues);
//
// The path says where the map sits: "top level", "clusters.<name>", "links[]",
// "links[].groups". The page then needs a table for that path, introduced by
// `<!-- config-keys: links[].groups -->`, with one table row per key whose
// first cell is the key in backticks, and the row of a choice must name each of
// its words in backticks. The test names what is missing on either side.

// The keys of one map, or the words of one choice, as registered.
struct ReferenceEntry {
  std::string path;
  std::vector<std::string> names;
};

// Every registered map (keys) and every registered choice (values), each sorted
// by path. These functions reference loadRoot, which calls every section
// loader, so every section file (and its registrations) is linked into any
// program that calls them: the answer is never partial.
std::vector<ReferenceEntry> registeredKeys();
std::vector<ReferenceEntry> registeredValues();

// Registers at static initialisation; declare one per key list, at namespace
// scope after it.
class KeysRegistration {
public:
  KeysRegistration(std::string path, const std::vector<std::string>& keys);
};
class ValuesRegistration {
public:
  ValuesRegistration(std::string path, const std::vector<std::string>& values);
};

}  // namespace causeway::config
