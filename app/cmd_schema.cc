// causeway schema check --config F --topic T --input samples.bin|.jsonl: validates sample
// records against the topic's contract, the way a link's contract stage does, so a domain team
// can test a contract (and its registry) before deploying it.
//
// Samples: `.bin` is a sequence of records, each a 4-byte big-endian length and then the key or
// value bytes as a producer writes them (schema prefix included); `.jsonl` is one JSON document
// per line (no prefix), checked against the contract's JSON Schema.

#include "app/commands.h"
#include "config/config_loader.h"
#include "pipeline/record.h"
#include "schema/check_config.h"
#include "schema/json_schema.h"
#include "schema/schema_stages.h"

#include <chrono>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <thread>

namespace causeway::app {
namespace {

using schema::Side;

int fail(const std::string& message) {
  std::cerr << "causeway schema check: " << message << "\n";
  return 2;
}

bool endsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The registry to check against: the named cluster's, or the only one configured.
std::optional<std::string> chooseRegistry(const config::Config& config,
                                          const SchemaCheckOptions& options, std::string& problem) {
  if (!options.cluster.empty()) {
    auto it = config.clusters.find(options.cluster);
    if (it == config.clusters.end()) {
      problem = "unknown cluster '" + options.cluster + "'";
      return std::nullopt;
    }
    if (it->second.registry.empty()) {
      problem = "cluster '" + options.cluster + "' has no `registry:`";
      return std::nullopt;
    }
    return it->second.registry;
  }
  if (config.registries.size() == 1) {
    return config.registries.begin()->first;
  }
  problem = config.registries.empty()
                ? "the configuration has no `registries:`"
                : "the configuration has several registries: name the cluster whose registry "
                  "holds the schemas with --cluster";
  return std::nullopt;
}

// `.bin` samples: [4-byte big-endian length][bytes]...
std::optional<std::vector<std::string>> readBinary(const std::string& text, std::string& problem) {
  std::vector<std::string> records;
  size_t pos = 0;
  while (pos < text.size()) {
    if (text.size() - pos < 4) {
      problem = "byte " + std::to_string(pos) + ": " + std::to_string(text.size() - pos) +
                " bytes left, a record starts with a 4-byte length";
      return std::nullopt;
    }
    const uint32_t length = schema::loadId(text.data() + pos);
    pos += 4;
    if (length > text.size() - pos) {
      problem = "byte " + std::to_string(pos - 4) + ": record " +
                std::to_string(records.size() + 1) + " announces " + std::to_string(length) +
                " bytes, " + std::to_string(text.size() - pos) + " are left";
      return std::nullopt;
    }
    records.push_back(text.substr(pos, length));
    pos += length;
  }
  return records;
}

// The framed records through the contract stage of a link reading `cluster`.
int checkFramed(const config::Config& loaded, const std::string& registry,
                const std::vector<std::string>& samples, const SchemaCheckOptions& options) {
  config::Config config = loaded;
  config::ClusterConfig& cluster = config.clusters["causeway-schema-check"];
  cluster.name = "causeway-schema-check";
  cluster.registry = registry;
  // Only the side the samples hold is checked (the stage checks both).
  const Side side = options.side == "key" ? Side::kKey : Side::kValue;
  for (auto& domain : config.domains) {
    for (auto& contract : domain.contracts) {
      (side == Side::kKey ? contract.value : contract.key).present = false;
    }
  }
  config::LinkConfig link;
  link.name = "schema-check";
  link.source = cluster.name;
  link.target = cluster.name;
  auto service =
      std::make_shared<schema::SchemaService>(config, link, schema::SchemaService::Options{});
  if (auto started = service->start(); !started) {
    return fail(started.message());
  }
  schema::ContractStage stage(service);
  size_t violations = 0;
  pipeline::Record record;
  for (size_t i = 0; i < samples.size(); ++i) {
    pipeline::RecordView view;
    view.topic = options.topic;
    if (side == Side::kKey) {
      view.key = std::string_view(samples[i]);
    } else {
      view.value = std::string_view(samples[i]);
    }
    const auto deadline = std::chrono::steady_clock::now() + options.timeout;
    pipeline::Verdict verdict;
    while (true) {
      record.reset(&view);
      verdict = stage.process(record);
      if (verdict.outcome != pipeline::Outcome::kRetry ||
          std::chrono::steady_clock::now() > deadline) {
        break;
      }
      service->waitIdle(std::chrono::seconds(1));
      std::this_thread::sleep_for(std::min(verdict.retry_after, std::chrono::milliseconds(200)));
    }
    switch (verdict.outcome) {
    case pipeline::Outcome::kPass:
      break;
    case pipeline::Outcome::kRetry:
      std::cout << "record " << i + 1 << ": not decided within " << options.timeout.count() / 1000
                << "s: " << verdict.detail << "\n";
      service->stop();
      return 2;
    default:
      ++violations;
      std::cout << "record " << i + 1 << ": " << verdict.detail;
      if (verdict.detail.empty()) {
        std::cout << verdict.reason;
      }
      std::cout << " (" << verdict.reason << ", rule " << verdict.rule << ")\n";
    }
  }
  service->stop();
  std::cout << samples.size() << " records, " << violations << " violating the contract\n";
  return violations == 0 ? 0 : 1;
}

// JSON documents against the contract's JSON Schema.
int checkJsonLines(const config::Config& config, const std::string& registry_name,
                   const schema::Contract& contract, const std::string& text,
                   const SchemaCheckOptions& options) {
  const Side side = options.side == "key" ? Side::kKey : Side::kValue;
  const auto& side_config = contract.side(side);
  if (side_config.format != config::PayloadFormat::kJson) {
    return fail(std::string("a .jsonl sample holds JSON documents, but the contract's ") +
                schema::sideName(side) + " format is " +
                config::payloadFormatName(side_config.format) + ": use a .bin sample");
  }
  if (side_config.subject_strategy != config::SubjectStrategy::kTopic && options.subject.empty()) {
    return fail("the contract's subject depends on the record name: give it with --subject");
  }
  const std::string subject =
      !options.subject.empty()
          ? options.subject
          : schema::subjectName(side_config.subject_strategy, options.topic, side, "");
  auto registry = schema::makeRegistry(config.registries.at(registry_name));
  if (!registry) {
    return fail(registry.error().message);
  }
  auto contract_schema = (*registry)->subjectVersion(subject, side_config.version);
  if (!contract_schema) {
    return fail(contract_schema.error().message);
  }
  schema::ResolvedSchema resolved;
  resolved.schema = contract_schema->schema;
  for (const auto& ref : resolved.schema.references) {
    auto referenced = (*registry)->subjectVersion(ref.subject, ref.version);
    if (!referenced) {
      return fail(referenced.error().message);
    }
    resolved.references.emplace_back(ref.name, referenced->schema);
  }
  auto compiled = schema::compileJsonSchema(resolved);
  if (!compiled) {
    return fail("the contract's JSON Schema (subject " + subject +
                ") cannot be used: " + compiled.error().message);
  }
  auto validator = schema::makeJsonValidator(*compiled);
  schema::ValidationScratch scratch;
  schema::Violation violation;
  std::istringstream lines(text);
  std::string line;
  size_t number = 0;
  size_t records = 0;
  size_t violations = 0;
  while (std::getline(lines, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) {
      continue;
    }
    ++records;
    if (!validator->validate(line, schema::MessageIndexes{}, scratch, violation)) {
      ++violations;
      std::cout << "line " << number << ": " << violation.describe(schema::sideName(side))
                << " (rule " << contract.rule(side) << ")\n";
    }
  }
  std::cout << records << " records, " << violations << " violating the contract (subject "
            << subject << " version " << contract_schema->version << ")\n";
  return violations == 0 ? 0 : 1;
}

}  // namespace

int runSchemaCheck(const SchemaCheckOptions& options) {
  const config::LoadResult loaded = config::loadConfigFile(options.config_path);
  if (!loaded.ok()) {
    for (const auto& error : loaded.errors) {
      std::cerr << error.str() << "\n";
    }
    return 2;
  }
  const config::Config& config = *loaded.config;
  if (auto problems = schema::checkConfig(config); !problems.empty()) {
    for (const auto& error : problems) {
      std::cerr << error.str() << "\n";
    }
    return 2;
  }
  const schema::ContractSet contracts(config);
  const schema::Contract* contract = contracts.find(options.topic);
  if (contract == nullptr) {
    return fail("no contract applies to topic '" + options.topic + "'");
  }
  const Side side = options.side == "key" ? Side::kKey : Side::kValue;
  if (!contract->side(side).present) {
    return fail("contract " + contract->name + " says nothing about the " + schema::sideName(side));
  }
  std::string problem;
  auto registry = chooseRegistry(config, options, problem);
  if (!registry && contract->side(side).usesRegistry()) {
    return fail(problem);
  }
  std::ifstream in(options.input, std::ios::binary);
  if (!in) {
    return fail("cannot read " + options.input);
  }
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (endsWith(options.input, ".jsonl")) {
    return checkJsonLines(config, registry.value_or(""), *contract, text, options);
  }
  if (!endsWith(options.input, ".bin")) {
    return fail("--input must end in .bin (length-prefixed records) or .jsonl (JSON lines)");
  }
  auto samples = readBinary(text, problem);
  if (!samples) {
    return fail(options.input + ": " + problem);
  }
  return checkFramed(config, registry.value_or(""), *samples, options);
}

}  // namespace causeway::app
