#pragma once

// Data products' contracts in front of a partner's stages. Where a domain contract covers a
// product's topic, every record is checked against it first (as a link checks it) and its
// Avro, Protobuf or framed JSON key and value become plain JSON text (schema/avro_json.h,
// the Protobuf JSON mapping), so partners read JSON and the partner's policy edits the
// decoded fields. A record that breaks its contract follows the contract's on_violation:
// dlq and skip leave it out of the stream (counted), stop ends the product's streams.
//
// One SchemaService per product, started on the first stream and shared by all of that
// product's streams (the shared tails and the catch-up readers); its thread fetches schemas
// from the source cluster's registry or catalog, so streams never wait on a registry call (a
// record with a schema not fetched yet holds its stream, as a link's partition pauses).

#include "egress/stages.h"

namespace causeway::egress {

// `then` builds the partner's own stages (policyStageFactory). `config` must outlive the
// factory and every stream.
PartnerStageFactory contractStageFactory(const config::Config& config, PartnerStageFactory then);

} // namespace causeway::egress
