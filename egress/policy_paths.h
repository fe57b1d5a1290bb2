#pragma once

// A partner policy's key and value paths against the contracts of the topics it will see. A
// field rule or filter naming a field the contract's schema cannot hold
// (`value.customer.emial`), or an action that does not fit the field's type (`truncate` on a
// number), is an error at the path's line:col, naming the topic and subject. Topics are known
// where a product's (or a link's) topic regex is a plain name (`payments\.authorized`). Avro
// and Protobuf contracts are checked against the JSON their records decode to on partner
// streams (decodedJsonSchema); on links, whose policies read the producer's JSON, only JSON
// contracts.
//
// Where the contracts' schemas come from:
//  - check-config connects nowhere: catalog registries (files) only;
//  - `causeway run` and reloads also ask REST registries, one attempt per subject within the
//    registry's `timeout`, and for 15 s in all. A registry that does not answer is a warning,
//    not an error: the contracts it holds are not checked, and the worker starts (the links'
//    contract stages wait for it); a subject it refuses (credentials, a bad answer) is a
//    warning for that subject. A subject it does not have is skipped (the contract stage
//    pauses on it and says so).

#include "config/config.h"
#include "config/yaml_reader.h"

#include <string>
#include <vector>

namespace causeway::egress {

enum class ContractSchemas : uint8_t {
  kCatalogs,               // files only: nothing is connected to
  kCatalogsAndRegistries,  // REST registries too
};

struct PolicyPathsCheck {
  std::vector<config::ConfigError> errors;
  // "registry 'sr' did not answer the contract subject orders-value (...): the partner
  // policies' paths are not checked against the contracts whose schemas it holds".
  std::vector<std::string> warnings;
};

PolicyPathsCheck checkPolicyPaths(const config::Config& config,
                                  ContractSchemas schemas = ContractSchemas::kCatalogs);

}  // namespace causeway::egress
