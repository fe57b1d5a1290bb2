// The schema stages per record, once their schemas are in the snapshot (the steady state of a
// link): a framed Avro value (small, and the 1 KiB record of the harness, avro_records.h), the
// same fields as 1 KiB of Protobuf and of JSON, and a small framed JSON value, checked against
// their contracts; a framed value of a topic without a contract; the ID translation stage alone
// on the 1 KiB Avro record (its ID rewritten to the target catalog's); and the contract stage of
// partner egress on the 1 KiB Avro and Protobuf records (checked, then turned into JSON in the
// contract's shape). Schemas come from in-memory catalogs.

#include "bench/avro_records.h"
#include "pipeline/record.h"
#include "pipeline/stage_chain.h"
#include "schema/catalog.h"
#include "schema/schema_stages.h"
#include "schema/wire_format.h"

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <map>
#include <thread>

namespace {

using namespace causeway;
using namespace std::chrono_literals;

const std::map<std::string, std::string> kFiles = {
    {"index.yaml", "schemas:\n"
                   "  - {id: 1, subject: payments.authorized-value, file: a.avsc}\n"
                   "  - {id: 2, subject: payments.refunded-value, file: r.json}\n"
                   "  - {id: 3, subject: payments.bench-value, file: b.avsc}\n"
                   "  - {id: 4, subject: payments.benchproto-value, file: b.proto}\n"
                   "  - {id: 5, subject: payments.benchjson-value, file: b.json}\n"},
    {"b.avsc", std::string(bench::kBenchAvroSchema)},
    // The 1 KiB record's fields as Protobuf and as JSON Schema.
    {"b.proto", R"(syntax = "proto3";
package causeway.bench;
enum Currency { EUR = 0; USD = 1; GBP = 2; CHF = 3; }
message Payment {
  int64 sequence = 1;
  int32 partition = 2;
  double amount = 3;
  Currency currency = 4;
  string merchant = 5;
  bool approved = 6;
  repeated string tags = 7;
  optional string note = 8;
}
)"},
    {"b.json", R"({"type":"object","properties":{
       "sequence":{"type":"integer","minimum":0},"partition":{"type":"integer","minimum":0},
       "amount":{"type":"number","minimum":0},"currency":{"enum":["EUR","USD","GBP","CHF"]},
       "merchant":{"type":"string","minLength":1},"approved":{"type":"boolean"},
       "tags":{"type":"array","items":{"type":"string"}},"note":{"type":["null","string"]}},
       "required":["sequence","partition","amount","currency","merchant","approved","tags"],
       "additionalProperties":false})"},
    {"a.avsc", R"({"type":"record","name":"Payment","namespace":"com.acme","fields":[
       {"name":"id","type":"string"},{"name":"amount","type":"double"},
       {"name":"merchant","type":["null","string"],"default":null}]})"},
    {"r.json", R"({"type":"object","properties":{"id":{"type":"string","minLength":1},
       "amount":{"type":"number","minimum":0},"currency":{"enum":["EUR","USD"]}},
       "required":["id","amount"]})"}};

// The target side of the ID translation benchmark: the same schema under another ID.
const std::map<std::string, std::string> kTargetFiles = {
    {"index.yaml", "schemas:\n  - {id: 1003, subject: east.payments.bench-value, file: b.avsc}\n"},
    {"b.avsc", std::string(bench::kBenchAvroSchema)}};

config::Config benchConfig() {
  config::Config config;
  config::RegistryConfig registry;
  registry.name = "local";
  registry.catalog = "bench";
  config.registries["local"] = registry;
  config.clusters["east"].name = "east";
  config.clusters["east"].registry = "local";
  config::RegistryConfig target = registry;
  target.name = "west-local";
  target.catalog = "bench-west";
  config.registries["west-local"] = target;
  config.clusters["west"].name = "west";
  config.clusters["west"].registry = "west-local";
  config::DomainConfig domain;
  domain.name = "payments";
  domain.topics = {"payments\\..*"};
  const std::pair<const char*, config::PayloadFormat> contracts[] = {
      {"authorized", config::PayloadFormat::kAvro},
      {"refunded", config::PayloadFormat::kJson},
      {"bench", config::PayloadFormat::kAvro},
      {"benchproto", config::PayloadFormat::kProtobuf},
      {"benchjson", config::PayloadFormat::kJson}};
  for (const auto& [name, format] : contracts) {
    config::ContractConfig contract;
    contract.name = name;
    contract.topics = {std::string("payments\\.") + name};
    contract.value.present = true;
    contract.value.format = format;
    domain.contracts.push_back(contract);
  }
  config.domains.push_back(domain);
  return config;
}

std::string framed(uint32_t id, const std::string& payload) {
  std::string out;
  schema::appendPrefix(out, schema::SchemaRef::ofId(id), schema::MessageIndexes{});
  return out + payload;
}

std::string avroPayment() {
  std::string out;
  const std::string id = "pay-000123";
  out.push_back(static_cast<char>(id.size() * 2));
  out += id;
  const double amount = 12.5;
  char bytes[8];
  std::memcpy(bytes, &amount, 8);
  out.append(bytes, 8);
  out.push_back(2);  // union branch 1: string
  const std::string merchant = "acme-store-7";
  out.push_back(static_cast<char>(merchant.size() * 2));
  out += merchant;
  return out;
}

std::shared_ptr<const schema::Catalog> loadCatalog(const std::string& folder,
                                                  const std::map<std::string, std::string>& files,
                                                  std::vector<config::ConfigError>& errors) {
  return std::make_shared<const schema::Catalog>(schema::Catalog::load(
      folder,
      [&files](const std::string& path) -> std::optional<std::string> {
        auto it = files.find(path);
        return it == files.end() ? std::nullopt : std::optional<std::string>(it->second);
      },
      errors));
}

// Which stages run: the contract stage alone (as before there was ID translation), the ID
// translation stage alone (the link's `check_contracts: false`), or partner egress's contract
// stage (its records leave as JSON).
enum class Stages { kContract, kIdTranslation, kContractToJson };

void runStages(benchmark::State& state, const std::string& topic, const std::string& value,
               Stages stages = Stages::kContract) {
  const config::Config config = benchConfig();
  config::LinkConfig link;
  link.name = "east-to-west";
  link.source = "east";
  link.target = "west";
  if (stages == Stages::kIdTranslation) {
    link.schemas.translate_ids = true;
    link.schemas.subject_prefix = "east.";
    link.schemas.check_contracts = false;
  }
  std::vector<config::ConfigError> errors;
  auto catalog = loadCatalog("bench", kFiles, errors);
  auto target = loadCatalog("bench-west", kTargetFiles, errors);
  schema::SchemaService::Options options;
  options.registry_factory = [&](const config::RegistryConfig& c) -> Result<schema::RegistryPtr> {
    return schema::RegistryPtr(
        std::make_shared<schema::CatalogRegistry>(c.name, c.name == "local" ? catalog : target));
  };
  auto service = std::make_shared<schema::SchemaService>(config, link, options);
  if (!errors.empty() || !service->start().ok()) {
    state.SkipWithError("the catalog does not load");
    return;
  }
  std::vector<pipeline::StagePtr> chain_stages;
  if (stages == Stages::kContractToJson) {
    chain_stages.push_back(
        std::make_unique<schema::ContractStage>(service, schema::ContractStage::Output::kJson));
  } else {
    chain_stages = schema::makeSchemaStages(config, link, service);
  }
  pipeline::StageChain chain(std::move(chain_stages));
  pipeline::RecordView view;
  view.topic = topic;
  view.key = "customer-42";
  view.value = value;
  pipeline::Record record;
  // Warm up: the first records wait for the service to fetch and compile the schemas.
  for (int i = 0; i < 500; ++i) {
    record.reset(&view);
    if (chain.process(record).outcome != pipeline::Outcome::kRetry) {
      break;
    }
    service->waitIdle(1s);
    std::this_thread::sleep_for(2ms);
  }
  record.reset(&view);
  if (chain.process(record).outcome != pipeline::Outcome::kPass) {
    state.SkipWithError("the sample record does not pass the stages");
    return;
  }
  if (stages == Stages::kIdTranslation &&
      (!record.valueChanged() || schema::loadId(record.value()->data() + 1) != 1003)) {
    state.SkipWithError("the value's ID was not rewritten to the target catalog's");
    return;
  }
  for (auto _ : state) {
    view.offset += 1;
    record.reset(&view);
    benchmark::DoNotOptimize(chain.process(record));
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(value.size()));
  service->stop();
}

void BM_ContractAvroValue(benchmark::State& state) {
  runStages(state, "payments.authorized", framed(1, avroPayment()));
}
BENCHMARK(BM_ContractAvroValue);

// The harness's 1 KiB Avro record (8 fields: long, int, double, enum, string, boolean, array of
// strings, a ["null", "string"] union padding to the size), framed with ID 3.
std::string benchRecord1KiB() {
  return bench::AvroRecordWriter(1024, 3).fill(5, 123456);
}

// The same record as Protobuf (ID 4, message indexes [0]) and as JSON (ID 5), padded by the
// note to 1 KiB.
void putVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void putProtoString(std::string& out, int field, std::string_view text) {
  putVarint(out, (static_cast<uint64_t>(field) << 3) | 2);
  putVarint(out, text.size());
  out += text;
}

std::string benchProtobuf1KiB() {
  std::string body;
  putVarint(body, 1 << 3);
  putVarint(body, 123456);
  putVarint(body, 2 << 3);
  putVarint(body, 5);
  putVarint(body, (3 << 3) | 1);
  const double amount = 1234.56;
  char bytes[8];
  std::memcpy(bytes, &amount, 8);
  body.append(bytes, 8);
  putVarint(body, 4 << 3);
  putVarint(body, 2);
  putProtoString(body, 5, "merchant-05-3456");
  putVarint(body, 6 << 3);
  putVarint(body, 1);
  for (const char* tag : {"card", "online", "eu"}) {
    putProtoString(body, 7, tag);
  }
  std::string out = framed(4, "");
  out.push_back('\0');  // message indexes [0]: the first message
  const size_t note = 1024 - out.size() - body.size() - 3;  // tag and a 2-byte length
  putProtoString(body, 8, std::string(note, 'n'));
  return out + body;
}

std::string benchJson1KiB() {
  std::string body = R"({"sequence":123456,"partition":5,"amount":1234.56,"currency":"GBP",)"
                     R"("merchant":"merchant-05-3456","approved":true,)"
                     R"("tags":["card","online","eu"],"note":")";
  std::string out = framed(5, "");
  body += std::string(1024 - out.size() - body.size() - 2, 'n') + "\"}";
  return out + body;
}

void BM_ContractAvroValue1KiB(benchmark::State& state) {
  runStages(state, "payments.bench", benchRecord1KiB());
}
BENCHMARK(BM_ContractAvroValue1KiB);

void BM_IdTranslationValue1KiB(benchmark::State& state) {
  runStages(state, "payments.bench", benchRecord1KiB(), Stages::kIdTranslation);
}
BENCHMARK(BM_IdTranslationValue1KiB);

void BM_EgressContractToJson1KiB(benchmark::State& state) {
  runStages(state, "payments.bench", benchRecord1KiB(), Stages::kContractToJson);
}
BENCHMARK(BM_EgressContractToJson1KiB);

void BM_ContractProtobufValue1KiB(benchmark::State& state) {
  runStages(state, "payments.benchproto", benchProtobuf1KiB());
}
BENCHMARK(BM_ContractProtobufValue1KiB);

void BM_EgressContractProtobufToJson1KiB(benchmark::State& state) {
  runStages(state, "payments.benchproto", benchProtobuf1KiB(), Stages::kContractToJson);
}
BENCHMARK(BM_EgressContractProtobufToJson1KiB);

void BM_ContractJsonValue1KiB(benchmark::State& state) {
  runStages(state, "payments.benchjson", benchJson1KiB());
}
BENCHMARK(BM_ContractJsonValue1KiB);

void BM_ContractJsonValue(benchmark::State& state) {
  runStages(state, "payments.refunded",
              framed(2, R"({"id":"ref-000123","amount":12.5,"currency":"EUR","note":"partial"})"));
}
BENCHMARK(BM_ContractJsonValue);

void BM_ContractTopicWithoutContract(benchmark::State& state) {
  runStages(state, "payments.settled", framed(1, avroPayment()));
}
BENCHMARK(BM_ContractTopicWithoutContract);

}  // namespace
