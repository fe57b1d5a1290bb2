// The schema stages in a chain, without Kafka: records framed with IDs of a "source registry"
// pass the contract stage and come out of the ID translation stage with IDs that resolve in the
// "target registry" (both test HTTP servers) to the same schema; violations, outages,
// incompatible targets, references, header-mode IDs and GUIDs.

#include "pipeline/stage_chain.h"
#include "schema/avro_model.h"
#include "schema/catalog.h"
#include "schema/schema_stages.h"
#include "tests/support/test_registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstring>
#include <list>
#include <sstream>
#include <thread>

namespace causeway::schema {
namespace {

using namespace std::chrono_literals;
using pipeline::Outcome;
using pipeline::Verdict;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::TestRegistry;

const std::string kPaymentV1 = R"({"type":"record","name":"Payment","namespace":"com.acme",
  "fields":[{"name":"id","type":"string"},{"name":"amount","type":"double"}]})";
const std::string kPaymentV2 = R"({"type":"record","name":"Payment","namespace":"com.acme",
  "fields":[{"name":"id","type":"string"},{"name":"amount","type":"double"},
            {"name":"currency","type":"string","default":"EUR"}]})";
const std::string kTopic = "payments.authorized";

Schema avro(const std::string& text) { return Schema{SchemaType::kAvro, text, {}, {}, {}}; }

// An Avro Payment (id, amount) as Avro's binary encoding writes it.
std::string paymentBytes(const std::string& id, double amount) {
  std::string out;
  out.push_back(static_cast<char>(id.size() * 2));
  out += id;
  char bytes[8];
  std::memcpy(bytes, &amount, 8);
  out.append(bytes, 8);
  return out;
}

std::string framed(uint32_t id, const std::string& payload) {
  std::string out;
  appendPrefix(out, SchemaRef::ofId(id), MessageIndexes{});
  return out + payload;
}

class SchemaStages : public ::testing::Test {
protected:
  SchemaStages() : target_(TestRegistry::Options{1000, {}, {}, {}, {}, {}}) {}

  void SetUp() override {
    config_.registries["east-sr"] = registry("east-sr", source_.url());
    config_.registries["west-sr"] = registry("west-sr", target_.url());
    config_.clusters["east"].name = "east";
    config_.clusters["east"].registry = "east-sr";
    config_.clusters["west"].name = "west";
    config_.clusters["west"].registry = "west-sr";
    config::DomainConfig domain;
    domain.name = "payments";
    domain.topics = {"payments\\..*"};
    config::ContractConfig contract;
    contract.name = "authorized";
    contract.topics = {"payments\\.authorized"};
    contract.key.present = true;
    contract.key.format = config::PayloadFormat::kString;
    contract.value.present = true;
    contract.value.format = config::PayloadFormat::kAvro;
    domain.contracts.push_back(contract);
    config_.domains.push_back(domain);
    link_.name = "east-to-west";
    link_.source = "east";
    link_.target = "west";
    link_.schemas.translate_ids = true;
    link_.schemas.subject_prefix = "east.";
  }

  void TearDown() override {
    chain_.reset();
    if (service_) {
      service_->stop();
    }
  }

  static config::RegistryConfig registry(const std::string& name, const std::string& url) {
    config::RegistryConfig config;
    config.name = name;
    config.url = url;
    config.timeout = 2s;
    config.retries = 0;
    return config;
  }

  void start() {
    SchemaService::Options options;
    options.retry_initial = 20ms;
    options.retry_max = 100ms;
    options.paused_recheck = 200ms;
    service_ = std::make_shared<SchemaService>(config_, link_, options);
    ASSERT_TRUE(service_->start().ok());
    chain_ = std::make_unique<pipeline::StageChain>(makeSchemaStages(config_, link_, service_));
  }

  // Runs the record through the chain until a verdict other than retry (or a retry for
  // `until_reason`), or `deadline`.
  Verdict run(pipeline::RecordView& view, std::chrono::milliseconds deadline = 5s,
              std::string_view until_reason = {}) {
    const auto until = std::chrono::steady_clock::now() + deadline;
    while (true) {
      record_.reset(&view);
      Verdict verdict = chain_->process(record_);
      if (verdict.outcome != Outcome::kRetry || std::chrono::steady_clock::now() > until ||
          (!until_reason.empty() && verdict.reason == until_reason)) {
        return verdict;
      }
      last_retry_ = verdict;
      service_->waitIdle(1s);
      std::this_thread::sleep_for(std::min(verdict.retry_after, std::chrono::milliseconds(10)));
    }
  }

  pipeline::RecordView view(const std::string& value, const std::string& key = "k-1",
                            const std::string& topic = kTopic) {
    values_.push_back(value);
    keys_.push_back(key);
    topics_.push_back(topic);
    pipeline::RecordView v;
    v.topic = topics_.back();
    v.key = std::string_view(keys_.back());
    v.value = std::string_view(values_.back());
    return v;
  }

  uint32_t valueId() const { return loadId(record_.value()->data() + 1); }

  TestRegistry source_;
  TestRegistry target_;
  config::Config config_;
  config::LinkConfig link_;
  std::shared_ptr<SchemaService> service_;
  std::unique_ptr<pipeline::StageChain> chain_;
  pipeline::Record record_;
  Verdict last_retry_;
  std::list<std::string> values_, keys_, topics_;
};

TEST_F(SchemaStages, RecordsComeOutWithIdsOfTheSameSchemaInTheTargetRegistry) {
  const uint32_t source_id = source_.add(kTopic + "-value", avro(kPaymentV1));
  start();
  auto record = view(framed(source_id, paymentBytes("pay-1", 12.5)));
  Verdict verdict = run(record);
  ASSERT_EQ(verdict.outcome, Outcome::kPass) << verdict.detail;
  EXPECT_EQ(last_retry_.reason, "schema-pending");
  const uint32_t target_id = valueId();
  EXPECT_GE(target_id, 1000u);
  EXPECT_EQ(record_.value()->substr(5), paymentBytes("pay-1", 12.5)) << "only the ID changed";
  // The target ID resolves to the same canonical schema, under the mapped subject.
  auto in_target = target_.schemaById(target_id);
  ASSERT_TRUE(in_target.has_value());
  auto a = AvroModel::parse(in_target->text);
  auto b = AvroModel::parse(kPaymentV1);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ((*a)->canonical(), (*b)->canonical());
  ASSERT_TRUE(target_.latest("east.payments.authorized-value").has_value());
  EXPECT_EQ(target_.latest("east.payments.authorized-value")->id, target_id);
  // The next record is decided from the snapshot alone: no registry call.
  const size_t requests = source_.requests().size() + target_.requests().size();
  auto second = view(framed(source_id, paymentBytes("pay-2", 3)));
  record_.reset(&second);
  ASSERT_EQ(chain_->process(record_).outcome, Outcome::kPass);
  EXPECT_EQ(valueId(), target_id);
  EXPECT_EQ(source_.requests().size() + target_.requests().size(), requests);
  EXPECT_TRUE(service_->topicStatus().empty());
}

TEST_F(SchemaStages, ANewSchemaHoldsItsRecordForOneRoundOfFetching) {
  // The contract's check and the ID translation are fetched in one go: once the service is idle
  // after the first retry, the record passes both stages.
  const uint32_t source_id = source_.add(kTopic + "-value", avro(kPaymentV1));
  start();
  auto record = view(framed(source_id, paymentBytes("pay-1", 12.5)));
  record_.reset(&record);
  Verdict verdict = chain_->process(record_);
  ASSERT_EQ(verdict.outcome, Outcome::kRetry);
  EXPECT_EQ(verdict.reason, "schema-pending");
  ASSERT_TRUE(service_->waitIdle(5s));
  record_.reset(&record);
  verdict = chain_->process(record_);
  ASSERT_EQ(verdict.outcome, Outcome::kPass) << verdict.reason << ": " << verdict.detail;
  EXPECT_GE(valueId(), 1000u);
}

TEST_F(SchemaStages, ViolationsGoToTheDeadLetterQueueNamingRuleIdAndPath) {
  const uint32_t source_id = source_.add(kTopic + "-value", avro(kPaymentV1));
  start();
  auto truncated = view(framed(source_id, paymentBytes("pay-1", 12.5).substr(0, 9)));
  Verdict verdict = run(truncated);
  ASSERT_EQ(verdict.outcome, Outcome::kDeadLetter) << verdict.detail;
  EXPECT_EQ(verdict.reason, "invalid-payload");
  EXPECT_EQ(verdict.rule, "payments.authorized.value");
  EXPECT_EQ(verdict.detail, "value schema id " + std::to_string(source_id) +
                                ": value.amount: truncated: a double needs 8 bytes, 3 left");
  auto unframed = view("{\"amount\": 1}");
  verdict = run(unframed);
  ASSERT_EQ(verdict.outcome, Outcome::kDeadLetter);
  EXPECT_EQ(verdict.reason, "bad-framing");
  EXPECT_THAT(verdict.detail, HasSubstr("value: byte 0 is 0x7b"));
  auto unknown = view(framed(77, paymentBytes("pay-1", 1)));
  verdict = run(unknown);
  ASSERT_EQ(verdict.outcome, Outcome::kDeadLetter);
  EXPECT_EQ(verdict.reason, "unknown-schema");
  EXPECT_EQ(verdict.detail, "value schema id 77: id 77 is not in registry 'east-sr'");
  auto bad_key = view(framed(source_id, paymentBytes("pay-1", 1)), std::string("\xff\xfe", 2));
  verdict = run(bad_key);
  ASSERT_EQ(verdict.outcome, Outcome::kDeadLetter);
  EXPECT_EQ(verdict.rule, "payments.authorized.key");
  EXPECT_EQ(verdict.detail, "key: not UTF-8 (the contract says string)");
  // Counted per domain, topic, rule and reason.
  uint64_t invalid = 0;
  for (const auto& count : service_->violationCounts()) {
    EXPECT_EQ(count.domain, "payments");
    EXPECT_EQ(count.topic, kTopic);
    if (count.reason == "invalid-payload") {
      invalid += count.records;
      EXPECT_EQ(count.records, 1u) << count.rule;
    }
  }
  EXPECT_EQ(invalid, 2u);
}

TEST_F(SchemaStages, ViolationActionsSkipAndStop) {
  const uint32_t source_id = source_.add(kTopic + "-value", avro(kPaymentV1));
  config_.domains[0].contracts[0].on_violation = config::ViolationAction::kSkip;
  start();
  auto bad = view(framed(source_id, "x"));
  Verdict verdict = run(bad);
  EXPECT_EQ(verdict.outcome, Outcome::kDrop);
  EXPECT_EQ(verdict.rule, "payments.authorized.value");
  // The service keeps its own copy of the configuration: a changed one needs a new service.
  config_.domains[0].contracts[0].on_violation = config::ViolationAction::kStop;
  EXPECT_EQ(run(bad).outcome, Outcome::kDrop);
  chain_.reset();
  service_->stop();
  start();
  EXPECT_EQ(run(bad).outcome, Outcome::kStop);
}

TEST_F(SchemaStages, EvolutionWithinTheContractPassesAndBreakingSchemasAreRefused) {
  // The contract's schema is the subject's latest (v2); v1 records resolve to it.
  const uint32_t v1 = source_.add(kTopic + "-value", avro(kPaymentV1));
  source_.add(kTopic + "-value", avro(kPaymentV2));
  // A producer wrote with a schema registered elsewhere, which the contract cannot read.
  const uint32_t other =
      source_.add("scratch-value", avro(R"({"type":"record","name":"Payment","namespace":"com.acme",
        "fields":[{"name":"id","type":"long"}]})"));
  start();
  auto old_record = view(framed(v1, paymentBytes("pay-1", 1)));
  EXPECT_EQ(run(old_record).outcome, Outcome::kPass);
  auto bad = view(framed(other, std::string("\x02", 1)));
  Verdict verdict = run(bad);
  ASSERT_EQ(verdict.outcome, Outcome::kDeadLetter);
  EXPECT_EQ(verdict.reason, "schema-mismatch");
  EXPECT_THAT(verdict.detail, HasSubstr("does not fit contract payments.authorized (subject "
                                        "payments.authorized-value version 2)"));
  EXPECT_THAT(verdict.detail, HasSubstr("id: the writer's long cannot be read as string"));
}

TEST_F(SchemaStages, ARegistryOutageRetriesThenPasses) {
  const uint32_t source_id = source_.add(kTopic + "-value", avro(kPaymentV1));
  source_.setDown(true);
  start();
  auto record = view(framed(source_id, paymentBytes("pay-1", 1)));
  Verdict verdict = run(record, 5s, "registry-unavailable");
  ASSERT_EQ(verdict.outcome, Outcome::kRetry);
  EXPECT_EQ(verdict.reason, "registry-unavailable");
  EXPECT_THAT(verdict.detail, HasSubstr("HTTP 503"));
  EXPECT_GT(verdict.retry_after.count(), 0);
  auto status = service_->topicStatus();
  ASSERT_EQ(status.count(kTopic), 1u);
  EXPECT_THAT(status[kTopic], HasSubstr("waiting for a registry"));
  source_.setDown(false);
  verdict = run(record);
  ASSERT_EQ(verdict.outcome, Outcome::kPass) << verdict.detail;
  EXPECT_GE(valueId(), 1000u);
}

TEST_F(SchemaStages, AnIncompatibleTargetSubjectPausesTheTopicAndRegistersNothing) {
  const uint32_t source_id = source_.add(kTopic + "-value", avro(kPaymentV1));
  target_.add("east.payments.authorized-value", avro(R"("string")"));
  target_.setCompatibility([](const std::string&, const Schema&, const Schema&) {
    return CompatibilityResult{false, {"READER_FIELD_MISSING_DEFAULT_VALUE: amount"}};
  });
  start();
  auto record = view(framed(source_id, paymentBytes("pay-1", 1)));
  Verdict verdict = run(record, 5s, "schema-paused");
  ASSERT_EQ(verdict.outcome, Outcome::kRetry);
  EXPECT_EQ(verdict.reason, "schema-paused");
  auto status = service_->topicStatus();
  EXPECT_THAT(status[kTopic], HasSubstr("paused (ID translation)"));
  EXPECT_THAT(status[kTopic], HasSubstr("incompatible with subject east.payments.authorized-value "
                                        "in registry 'west-sr': "
                                        "READER_FIELD_MISSING_DEFAULT_VALUE: amount"));
  EXPECT_EQ(target_.requestCount("POST /subjects/east.payments.authorized-value/versions"), 0u);
  // Once the target subject accepts it (an operator changed its compatibility), it crosses.
  target_.setCompatibility(nullptr);
  verdict = run(record);
  EXPECT_EQ(verdict.outcome, Outcome::kPass) << verdict.detail;
}

TEST_F(SchemaStages, ProtobufReferencesAndHeaderModeIdsAreTranslated) {
  config_.domains[0].contracts[0].value.format = config::PayloadFormat::kProtobuf;
  link_.schemas.subject_prefix.clear();
  link_.schemas.context = ".east";
  const Schema money{SchemaType::kProtobuf,
                     "syntax = \"proto3\";\npackage acme;\nmessage Money { int64 units = 1; }\n",
                     {},
                     {},
                     {}};
  source_.add("acme.money", money);
  const Schema payment{SchemaType::kProtobuf,
                       "syntax = \"proto3\";\npackage acme;\nimport \"money.proto\";\n"
                       "message Payment { string id = 1; Money amount = 2;\n"
                       "  message Fee { int64 units = 1; } }\n",
                       {{"money.proto", "acme.money", 1}},
                       R"({"properties":{"owner":"payments"}})",
                       R"({"domainRules":[{"name":"positive","kind":"CONDITION"}]})"};
  const uint32_t source_id = source_.add(kTopic + "-value", payment);
  start();
  // Header mode: the ID and the message indexes [0, 0] (Payment.Fee) travel in the header.
  std::string header;
  MessageIndexes fee;
  fee.size = 2;
  fee.path[0] = 0;
  fee.path[1] = 0;
  appendPrefix(header, SchemaRef::ofId(source_id), fee);
  auto record = view(std::string("\x08\x05", 2));
  record.headers.push_back(pipeline::HeaderView{kValueSchemaIdHeader, std::string_view(header)});
  Verdict verdict = run(record);
  ASSERT_EQ(verdict.outcome, Outcome::kPass) << verdict.detail;
  EXPECT_FALSE(record_.valueChanged()) << "the payload has no ID in header mode";
  auto rewritten = record_.header(kValueSchemaIdHeader);
  ASSERT_TRUE(rewritten && *rewritten);
  Frame frame;
  FrameError error;
  ASSERT_TRUE(parseHeaderId(**rewritten, true, frame, error)) << error.describe();
  EXPECT_EQ(frame.indexes, fee);
  auto in_target = target_.schemaById(frame.schema.id, ".east");
  ASSERT_TRUE(in_target.has_value());
  EXPECT_EQ(in_target->text, payment.text);
  ASSERT_EQ(in_target->references.size(), 1u);
  EXPECT_EQ(in_target->references[0], (SchemaReference{"money.proto", ":.east:acme.money", 1}));
  EXPECT_EQ(nlohmann::json::parse(in_target->metadata), nlohmann::json::parse(payment.metadata));
  EXPECT_EQ(nlohmann::json::parse(in_target->rule_set), nlohmann::json::parse(payment.rule_set));
  EXPECT_TRUE(target_.latest(":.east:payments.authorized-value").has_value());
}

TEST_F(SchemaStages, GuidsPassWhereTheTargetKnowsThem) {
  config_.domains[0].contracts.clear();  // no contract: values are translated when framed
  const uint32_t source_id = source_.add(kTopic + "-value", avro(kPaymentV1));
  const Guid known = *source_.latest(kTopic + "-value")->guid;
  target_.add("anything", avro(kPaymentV1));
  start();
  std::string value;
  appendPrefix(value, SchemaRef::ofGuid(known), MessageIndexes{});
  auto record = view(value + paymentBytes("pay-1", 1));
  Verdict verdict = run(record, 5s, "schema-paused");
  // The test registries derive GUIDs from IDs and ports, so the target does not know it.
  ASSERT_EQ(verdict.outcome, Outcome::kRetry);
  EXPECT_THAT(service_->topicStatus()[kTopic], HasSubstr("is not known to the target registry"));
  (void)source_id;
  auto plain = view("plain text value");
  EXPECT_EQ(run(plain).outcome, Outcome::kPass) << "an unframed value passes untouched";
  EXPECT_FALSE(record_.valueChanged());
}

TEST_F(SchemaStages, ACatalogSourceNeedsNoServer) {
  std::map<std::string, std::string> files = {
      {"index.yaml", "schemas:\n  - {id: 5, subject: payments.authorized-value, file: p.avsc}\n"},
      {"p.avsc", kPaymentV1}};
  std::vector<config::ConfigError> errors;
  auto catalog = std::make_shared<const Catalog>(Catalog::load(
      "cat",
      [&files](const std::string& path) -> std::optional<std::string> {
        return files.count(path) ? std::optional<std::string>(files[path]) : std::nullopt;
      },
      errors));
  ASSERT_TRUE(errors.empty());
  config_.registries["east-sr"].url.clear();
  config_.registries["east-sr"].catalog = "cat";
  SchemaService::Options options;
  options.registry_factory = [&](const config::RegistryConfig& c) -> Result<RegistryPtr> {
    if (c.isCatalog()) {
      return RegistryPtr(std::make_shared<CatalogRegistry>(c.name, catalog));
    }
    return makeRegistry(c);
  };
  service_ = std::make_shared<SchemaService>(config_, link_, options);
  ASSERT_TRUE(service_->start().ok());
  chain_ = std::make_unique<pipeline::StageChain>(makeSchemaStages(config_, link_, service_));
  auto record = view(framed(5, paymentBytes("pay-1", 1)));
  Verdict verdict = run(record);
  ASSERT_EQ(verdict.outcome, Outcome::kPass) << verdict.detail;
  EXPECT_GE(valueId(), 1000u);
}

TEST_F(SchemaStages, NoStagesWhenThereIsNothingToDo) {
  config_.domains.clear();
  link_.schemas.translate_ids = false;
  start();
  EXPECT_TRUE(chain_->empty());
}

TEST_F(SchemaStages, AProductsContractStageHandsOnItsRecordsAsJson) {
  const uint32_t source_id = source_.add(kTopic + "-value", avro(kPaymentV1));
  config::ProductConfig product;
  product.name = "payments.authorized.v1";
  product.source = "east";
  auto started = startProductSchemaService(config_, product);
  ASSERT_TRUE(started.ok()) << started.error().message;
  service_ = *started;
  ASSERT_NE(service_, nullptr);
  EXPECT_FALSE(service_->translatesIds());
  chain_ = std::make_unique<pipeline::StageChain>();
  chain_->add(std::make_unique<ContractStage>(service_, ContractStage::Output::kJson));
  auto record = view(framed(source_id, paymentBytes("pay-1", 12.5)), "card-7");
  Verdict verdict = run(record);
  ASSERT_EQ(verdict.outcome, Outcome::kPass) << verdict.detail;
  EXPECT_EQ(*record_.value(), R"({"id":"pay-1","amount":12.5})");
  EXPECT_EQ(*record_.key(), "card-7");  // a string key stays as it is
  // Records that break the contract are not turned into JSON: they get its verdict.
  auto truncated = view(framed(source_id, paymentBytes("pay-1", 12.5).substr(0, 9)));
  verdict = run(truncated);
  EXPECT_EQ(verdict.outcome, Outcome::kDeadLetter);
  EXPECT_EQ(verdict.reason, "invalid-payload");
  // The service's log lines name the product (there is no link).
  std::ostringstream log;
  const auto previous = spdlog::default_logger();
  auto logger = std::make_shared<spdlog::logger>(
      "product-log", std::make_shared<spdlog::sinks::ostream_sink_mt>(log));
  logger->set_pattern("%v");
  spdlog::set_default_logger(logger);
  auto unknown = view(framed(source_id + 100, paymentBytes("pay-2", 1.0)));
  verdict = run(unknown);
  spdlog::set_default_logger(previous);
  EXPECT_EQ(verdict.outcome, Outcome::kDeadLetter) << verdict.detail;
  EXPECT_THAT(log.str(), HasSubstr("product 'payments.authorized.v1': topic '" + kTopic + "'"));
  EXPECT_THAT(log.str(), Not(HasSubstr("link '")));
  // No domain contract: no service, the stream passes records as they are.
  config_.domains.clear();
  auto none = startProductSchemaService(config_, product);
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(*none, nullptr);
}

}  // namespace
}  // namespace causeway::schema
