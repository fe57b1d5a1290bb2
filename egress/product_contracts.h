#pragma once

// What the products listing says about a product's contracts (GET /v1/products, gRPC
// ListProducts, `causeway products list`): for each topic of the product the domain contract
// that applies (schema/contracts.h), the subject and schema ID the source cluster's registry
// (or local catalog) holds for it, and, for a partner, the headers it receives and the schema
// its policy's field rules imply (policies/derived_schema.h): for a JSON Schema contract the
// contract's schema after the rules; for Avro and Protobuf contracts the JSON Schema of the JSON
// streams send (schema/avro_json_schema.h, schema/protobuf_json_schema.h) after them.
//
// Lifecycle: one per egress server or command, built from the configuration (which must
// outlive it); no I/O until the first describe(). Registries are built on first use.
// Threading: describe() is thread-safe and blocks (handler threads and commands only, never a
// stream): a registry lookup with no cached answer waits at most `timeout`. Answers are cached
// (a schema for `refresh`, a registry that did not answer for `retry`) and refreshed lazily by
// the listing that finds them stale, so streams never wait for a registry and a registry that
// is down costs a listing at most one timeout per `retry`.

#include "common/result.h"
#include "config/config.h"
#include "policies/field_path.h"
#include "schema/registry.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace causeway::schema {
class ContractSet;
}  // namespace causeway::schema

namespace causeway::egress {

// The key or value side of a topic's contract.
struct ContractSide {
  std::string format;   // "json", "avro", "protobuf", "string", "bytes"
  std::string subject;  // empty when it cannot be named (record subject strategies)
  std::optional<uint32_t> schema_id;
  int version = 0;  // the subject version; 0 when unknown
  // Why the subject or schema is unknown ("registry unavailable", "subject not found"); empty
  // when they are known. Never the registry's address or credentials.
  std::string error;
  // When a partner's policy changes this side's shape, and for every Avro and Protobuf side
  // (streams send it as JSON): the derived schema (JSON Schema text), or why it is not given
  // (the schema is unknown, or refers to other subjects).
  std::optional<std::string> derived_schema;
  std::string derived_schema_unavailable;
  std::vector<std::string> derived_schema_problems;  // rules the derived schema could not follow
};

// The JSON Schema of the JSON partner streams send for records of the contract schema `text`
// of `format`: a JSON Schema contract's own text, the JSON Schema of decoded Avro or Protobuf
// (references to other subjects are not followed: an error then, saying so).
Result<std::string> decodedJsonSchema(config::PayloadFormat format, const std::string& text);

struct TopicContract {
  std::string topic;
  bool has_contract = false;  // false: no domain contract applies to the topic
  std::string name;           // the contract's name ("payments.contracts[0]")
  std::string domain;
  std::optional<ContractSide> key;  // the sides the contract configures
  std::optional<ContractSide> value;
};

struct ProductContractView {
  // Per topic, in topic order; nullopt when the topics are unknown (the cluster did not answer).
  std::optional<std::vector<TopicContract>> topics;
  // The record headers the partner receives: the product's `headers` its policy lets through.
  std::vector<std::string> headers;
};

class ProductContracts {
public:
  struct Options {
    // Builds a registry client (tests pass doubles); default schema::makeRegistry with the
    // timeouts capped to `timeout` and no retries.
    std::function<Result<schema::RegistryPtr>(const config::RegistryConfig&)> registry_factory;
    std::chrono::milliseconds timeout{2000};
    std::chrono::milliseconds refresh{60000};
    std::chrono::milliseconds retry{15000};
  };

  explicit ProductContracts(const config::Config& config);
  ProductContracts(const config::Config& config, Options options);
  ~ProductContracts();
  ProductContracts(const ProductContracts&) = delete;
  ProductContracts& operator=(const ProductContracts&) = delete;

  // The contracts of `product`'s `topics` (nullopt: unknown) as `partner` sees them (nullptr:
  // no policy applied, no derived schemas).
  ProductContractView describe(const config::ProductConfig& product,
                               const config::PartnerConfig* partner,
                               const std::optional<std::vector<std::string>>& topics);

  // Cuts short registry calls in progress (the server stops).
  void interrupt();

private:
  struct Cached {
    std::optional<schema::RegisteredSchema> schema;
    std::string error;
    std::chrono::steady_clock::time_point at;
  };
  struct RegistryState {
    schema::RegistryPtr registry;
    std::string build_error;
    std::chrono::steady_clock::time_point down_until{};
    std::map<std::pair<std::string, int>, Cached> subjects;  // (subject, version)
  };

  ContractSide side(const std::string& topic, const std::string& registry,
                    const config::ContractSideConfig& config, bool is_key,
                    const config::PolicyConfig* policy);
  // An Avro or Protobuf side's derived schema: the JSON Schema of the JSON streams send, after
  // `policy`.
  static void decodedSide(const config::ContractSideConfig& config,
                       const std::optional<std::string>& schema_text,
                       const config::PolicyConfig* policy, policies::PathRoot root,
                       ContractSide& out);
  // The registered schema of (subject, version) in `registry`, or an error for the listing.
  const Cached& lookup(const std::string& registry, const std::string& subject, int version);

  const config::Config& config_;
  Options options_;
  std::unique_ptr<schema::ContractSet> contracts_;
  std::mutex mu_;  // lookups (a Registry is used by one thread at a time)
  std::map<std::string, RegistryState> registries_;
  std::mutex built_mu_;  // what interrupt() reaches without waiting for a lookup
  std::vector<schema::RegistryPtr> built_;
};

// The view as the HTTP listing and `causeway products list --json` show it: "contracts" (per
// topic: {"topic", "contract"}; null when the topics are unknown) and "headers".
void addContractsJson(const ProductContractView& view, nlohmann::json& product);

}  // namespace causeway::egress
