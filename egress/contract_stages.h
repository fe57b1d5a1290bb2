#pragma once

// Data products' contracts in front of a partner's stages. Where a domain contract covers a
// product's topic, every record is checked against it first (as a link checks it) and its
// Avro, Protobuf or framed JSON key and value become plain JSON text in the contract's shape
// (schema/avro_json.h, the Protobuf JSON mapping), so partners read JSON and the partner's
// policy edits the decoded fields. A record that breaks its contract follows the contract's
// on_violation: dlq and skip leave it out of the stream, stop ends the product's streams;
// either way it is counted in causeway_schema_violations_total{link="egress/<partner>/<product>"}
// (each partner's streams check the records they read; the policy metrics use the same label).
//
// One SchemaService per product, started on the first stream and shared by all of that
// product's streams (the shared tails and the catch-up readers); its thread fetches schemas
// from the source cluster's registry or catalog, so streams never wait on a registry call (a
// record with a schema not fetched yet holds its stream, as a link's partition pauses).
//
// Threading: factory() may be called from any thread (streams open concurrently); metrics()
// too. The configuration must outlive this object and every stream.

#include "egress/stages.h"
#include "schema/schema_metrics.h"
#include "schema/violation_counters.h"

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace causeway::schema {
class SchemaService;
}  // namespace causeway::schema

namespace causeway::egress {

class ProductContractStages : public std::enable_shared_from_this<ProductContractStages> {
public:
  explicit ProductContractStages(const config::Config& config) : config_(config) {}

  // The factory for EgressServer::Options::stages: the contract stage, then what `then` builds
  // (policyStageFactory). It keeps this object alive.
  PartnerStageFactory factory(PartnerStageFactory then);

  // The contract metrics, one entry per partner and product whose streams started, named
  // "egress/<partner>/<product>" (the topics waiting for a registry are the product's).
  std::vector<schema::LinkSchemaMetrics> metrics() const;

private:
  // The product's service (nullptr: no domain has a contract), started on first use. A
  // registry that cannot be built is an error, tried again by the next stream.
  Result<std::shared_ptr<schema::SchemaService>> serviceOf(const config::ProductConfig& product);
  // Where the streams of (partner, product) count violations.
  std::shared_ptr<schema::ViolationCounters> countersOf(const std::string& partner,
                                                        const std::string& product);

  const config::Config& config_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<schema::SchemaService>> services_;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<schema::ViolationCounters>>
      counters_;
};

} // namespace causeway::egress
