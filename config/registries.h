#pragma once

// Schema registries (`registries:`), which registry serves a cluster (`registry:` on a
// cluster), and what a link does with schemas (`schemas:` on a link). Loaded by
// registries_section.cc; used by schema/.

#include "config/source_location.h"

#include <chrono>
#include <string>

namespace causeway::config {

struct RegistryAuthConfig {
  // A file whose first line is "user:password" (HTTP basic auth).
  std::string basic_file;
  // A file whose first line is a bearer token.
  std::string bearer_token_file;
};

struct RegistryTlsConfig {
  std::string ca_file;    // PEM bundle to verify the registry's certificate; system CAs if empty
  std::string cert_file;  // client certificate (mutual TLS), with key_file
  std::string key_file;
};

// One schema registry: a Confluent-compatible REST registry (`url`) or a local catalog folder
// (`catalog`), never both.
struct RegistryConfig {
  std::string name;
  std::string url;      // "https://sr.east.example:8081" (a path prefix is kept)
  std::string catalog;  // a folder with index.yaml, resolved against the config file's folder
  // REST only: the context the registry's IDs live in (".east"): IDs are looked up with
  // ?subject=:.east: and subjects read from it carry the context prefix.
  std::string context;
  RegistryAuthConfig auth;
  RegistryTlsConfig tls;
  std::chrono::milliseconds timeout{5000};          // per HTTP request
  std::chrono::milliseconds connect_timeout{2000};  // per connection attempt
  int retries = 2;  // extra attempts for answers worth retrying (no answer, 5xx, 429)
  std::chrono::milliseconds retry_backoff{200};  // first wait between attempts, doubled each time
  SourceLocation location;

  bool isCatalog() const { return !catalog.empty(); }
};

// `schemas:` on a link.
struct LinkSchemasConfig {
  bool configured = false;  // the key was present
  // Rewrite key and value schema IDs for the target cluster's registry (registering the
  // schemas there). Needs `registry:` on both clusters.
  bool translate_ids = false;
  // Subjects in the target registry: the mirror topic's subject (per the contract's subject
  // strategy, topic strategy when no contract applies), with this prefix...
  std::string subject_prefix;
  // ... in this context (".east" -> ":.east:<subject>"). At most one of the two.
  std::string context;
  // Check the domains' contracts on this link's records (default on).
  bool check_contracts = true;
  // Topics with no contract: translate keys too (values always are, when framed).
  bool translate_keys = false;
  // `retry: {initial, max}`: a schema whose registry did not answer is asked for again after
  // `initial`, doubling up to `max` (its records wait meanwhile).
  std::chrono::milliseconds retry_initial{250};
  std::chrono::milliseconds retry_max{30000};
  // How often a paused schema (the target subject would not take it, the contract's subject is
  // missing: a person must act) is checked again.
  std::chrono::milliseconds paused_recheck{30000};
  SourceLocation location;
};

}  // namespace causeway::config
