#include "config/sections.h"

namespace causeway::config {
namespace {

const std::vector<std::string> kClusterKeys = {"bootstrap", "properties", "embedded_control",
                                               "connect_timeout", "registry"};
const KeysRegistration kClusterKeysRegistration("clusters.<name>", kClusterKeys);

}  // namespace

void loadClusters(YamlReader& r_, const Field& field, Config& config, SectionContext& context) {
  if (!field.node.IsMap()) {
    r_.typeError(field, "a map of cluster name -> cluster settings");
    return;
  }
  if (field.node.size() == 0) {
    r_.error(field, "at least one cluster is required");
    return;
  }
  context.have_clusters = true;
  auto clusters = r_.entries(field);
  for (auto& [name, value] : clusters) {
    const YAML::Mark key_mark = value.key_mark;
    context.cluster_names.push_back(name);
    ClusterConfig cluster;
    cluster.name = name;
    cluster.location = r_.location(key_mark);
    if (!isValidName(name)) {
      r_.error(key_mark, value.path,
               "cluster names may only use letters, digits, '.', '_' and '-' "
               "(they appear in "
               "mirror topic names and record headers)");
    }
    if (auto object = r_.object(value, kClusterKeys, "a map of cluster settings")) {
      if (const Field* bootstrap = r_.require(*object, "bootstrap",
                                              "the brokers to connect to, host:port[,host:port]")) {
        if (auto text = r_.nonEmptyString(*bootstrap)) {
          cluster.bootstrap = trim(*text);
        }
      }
      loadKafkaProperties(r_, object->get("properties"), PropertyScope::kCluster,
                          cluster.properties);
      r_.hostPort(object->get("embedded_control"), cluster.embedded_control);
      r_.duration(object->get("connect_timeout"), cluster.connect_timeout);
      if (const Field* registry = object->get("registry")) {
        registryReference(r_, *registry, context, cluster.registry);
      }
    }
    config.clusters.emplace(name, std::move(cluster));
  }
}

// --- Links
// ----------------------------------------------------------------------------------

}  // namespace causeway::config
