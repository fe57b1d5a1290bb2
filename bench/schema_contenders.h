#pragma once

// What the driver (driver.cc) writes for the schema contenders (issue 11): two catalog folders
// that hold the benchmark's Avro schema (avro_records.h) under different IDs, so the link must
// translate every value's ID, and the contract that checks every value. Catalogs rather than a
// registry server: the link does the same work per record either way (schemas are fetched once,
// off the hot path), and the run needs no other process. Benchmarks only.

#include "bench/avro_records.h"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>

namespace causeway::bench {

// What the load generator writes into record values.
enum class Payload : uint8_t {
  kStamp,  // a binary stamp and filler (bench_common.h)
  kJson,   // JSON records (json_records.h)
  kAvro,   // Confluent-framed Avro records (avro_records.h)
};

// The schema stages of a contender's link.
enum class SchemaLink : uint8_t {
  kNone,
  kTranslateIds,    // `schemas: {translate_ids: true}` and no contract
  kContractAndIds,  // the same, and an Avro contract on the topic (every value decoded)
};

// The benchmark schema's ID in the source catalog (what the producer frames) and in the target
// catalog (what the link must rewrite it to).
inline constexpr uint32_t kBenchSourceSchemaId = 1;
inline constexpr uint32_t kBenchTargetSchemaId = 1001;

// Writes the two catalogs into `dir` and the `registries:` block that names them. The target
// subject is the source's with the link's subject prefix (writeSchemaLinkSettings()).
inline void writeSchemaRegistries(std::ostream& out, const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  const auto catalog = [&](const char* name, uint32_t id, const char* subject) {
    const fs::path folder = dir / name;
    fs::create_directories(folder);
    std::ofstream(folder / "payment.avsc") << kBenchAvroSchema << "\n";
    std::ofstream(folder / "index.yaml")
        << "# written by causeway-bench for one run\n"
        << "schemas:\n"
        << "  - {id: " << id << ", subject: " << subject << ", file: payment.avsc}\n";
    return folder.string();
  };
  const std::string source = catalog("src-catalog", kBenchSourceSchemaId, "bench-value");
  const std::string target = catalog("tgt-catalog", kBenchTargetSchemaId, "east.bench-value");
  out << "registries:\n"
      << "  src-catalog: {catalog: \"" << source << "\"}\n"
      << "  tgt-catalog: {catalog: \"" << target << "\"}\n";
}

// The domain whose contract checks every value of the benchmark topic: Avro, the source
// subject's latest schema, backward compatibility (so each value is resolved to it). A
// violation stops the link, so it fails the run instead of hiding.
inline void writeSchemaDomain(std::ostream& out) {
  out << "domains:\n"
      << "  - name: bench\n"
      << "    owner: \"bench@example.com\"\n"
      << "    topics: [\"bench\"]\n"
      << "    contracts:\n"
      << "      - name: payments\n"
      << "        topics: [\"bench\"]\n"
      << "        value: {format: avro, compatibility: backward}\n"
      << "        on_violation: stop\n";
}

// The link's `schemas:` setting (under one of `links:` entries).
inline void writeSchemaLinkSettings(std::ostream& out) {
  out << "    schemas: {translate_ids: true, subject_prefix: \"east.\"}\n";
}

}  // namespace causeway::bench
