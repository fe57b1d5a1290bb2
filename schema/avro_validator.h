#pragma once

// Avro payloads against a contract: the record's bytes are decoded with its writer schema by a
// strict walk (schema/avro_model.h: names the failing path, allocates nothing), and the writer
// schema must resolve to the contract's schema per the contract's compatibility (checked once,
// when the validator is compiled, where Avro C must also accept the writer's schema). Avro C is
// the walk's reference decoder in the fuzz target: every datum the walk accepts, Avro C decodes
// to its last byte.

#include "config/domains.h"
#include "schema/avro_model.h"
#include "schema/validator.h"

namespace causeway::schema {

// `reader` is the contract's schema (nullptr: only decode with the writer schema). An error
// says why the writer schema is not acceptable ("does not resolve to the contract's schema:
// field amount: ...") or does not parse.
Result<ValidatorPtr> compileAvroValidator(const ResolvedSchema& writer,
                                          const ResolvedSchema* reader,
                                          config::Compatibility compatibility);

// The model of a resolved Avro schema (its references parsed first).
Result<AvroModelPtr> parseAvro(const ResolvedSchema& schema);

}  // namespace causeway::schema
