#pragma once

// check-config (and causeway run, and reloads): a partner policy's key and value paths against
// the contracts of the topics it will see, where those contracts' schemas are on disk (catalog
// registries). A field rule or filter naming a field the contract's schema cannot hold (`value.customer.emial`), or an action that does not
// fit the field's type (`truncate` on a number), is an error at the path's line:col, naming the
// topic and subject. Topics are known where a product's (or a link's) topic regex is a plain
// name (`payments\.authorized`); schemas of REST registries are not fetched at load (the
// products listing's `derived_schema_problems` names such paths at run time). Avro and Protobuf
// contracts are checked against the JSON their records decode to on partner streams
// (decodedJsonSchema); on links, whose policies read the producer's JSON, only JSON contracts.

#include "config/config.h"
#include "config/yaml_reader.h"

#include <vector>

namespace causeway::egress {

std::vector<config::ConfigError> checkPolicyPaths(const config::Config& config);

}  // namespace causeway::egress
