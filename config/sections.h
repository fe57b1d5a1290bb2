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
};

// clusters: {name: {bootstrap, properties, embedded_control, connect_timeout}}
void loadClusters(YamlReader& reader, const Field& field, Config& config, SectionContext& context);

// links: [{name, source, target, topics, naming, ...}]
void loadLinks(YamlReader& reader, const Field& field, Config& config,
               const SectionContext& context);

// A reference to a cluster by name: reported when unknown (with the closest
// name).
void clusterReference(YamlReader& reader, const Field& field, const SectionContext& context,
                      std::string& out);

// librdkafka passthrough (string -> string) for a cluster or one of a link's
// clients. Properties Causeway sets itself are refused with the reason.
enum class PropertyScope { kCluster, kConsumer, kProducer };
void loadKafkaProperties(YamlReader& reader, const Field* field, PropertyScope scope,
                         std::map<std::string, std::string>& out);

}  // namespace causeway::config
