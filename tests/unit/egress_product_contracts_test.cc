// The products listing's contracts without a cluster: subjects and schema IDs from a registry
// double, the partner's derived schema and headers, Avro contracts, record subject strategies,
// and a registry that does not answer (an error for the topic, asked again only after `retry`).

#include "egress/product_contracts.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace causeway::egress {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

class FakeRegistry final : public schema::Registry {
public:
  const std::string& name() const override { return name_; }
  std::string identity() const override { return "fake"; }
  schema::RegistryResult<schema::Schema> schemaById(uint32_t, std::string_view) override {
    return notFound();
  }
  schema::RegistryResult<schema::Schema> schemaByGuid(const schema::Guid&) override {
    return notFound();
  }
  schema::RegistryResult<schema::RegisteredSchema> subjectVersion(std::string_view subject,
                                                                  int) override {
    ++calls;
    if (down) {
      return schema::RegistryError{schema::RegistryErrc::kUnavailable, 0, 0,
                                   "http://sr.internal:8081: connection refused"};
    }
    auto it = subjects.find(std::string(subject));
    if (it == subjects.end()) {
      return notFound();
    }
    return it->second;
  }
  schema::RegistryResult<schema::RegisteredSchema> lookup(std::string_view,
                                                          const schema::Schema&) override {
    return notFound();
  }
  schema::RegistryResult<uint32_t> registerSchema(std::string_view,
                                                  const schema::Schema&) override {
    return notFound();
  }
  schema::RegistryResult<schema::CompatibilityResult>
  checkCompatibility(std::string_view, const schema::Schema&) override {
    return notFound();
  }

  std::map<std::string, schema::RegisteredSchema> subjects;
  bool down = false;
  int calls = 0;

private:
  static schema::RegistryError notFound() {
    return {schema::RegistryErrc::kNotFound, 404, 40401, "not found"};
  }
  std::string name_ = "east-sr";
};

schema::RegisteredSchema registered(schema::SchemaType type, std::string text, uint32_t id) {
  schema::RegisteredSchema r;
  r.schema.type = type;
  r.schema.text = std::move(text);
  r.id = id;
  r.version = 3;
  return r;
}

class ProductContractsTest : public ::testing::Test {
protected:
  void SetUp() override {
    config_.clusters["east"].name = "east";
    config_.clusters["east"].registry = "east-sr";
    config_.registries["east-sr"].name = "east-sr";
    config_.registries["east-sr"].url = "http://sr.internal:8081";
    config::DomainConfig payments;
    payments.name = "payments";
    payments.topics = {"payments\\..*"};
    config::ContractConfig json;
    json.name = "authorized";
    json.topics = {"payments\\.authorized"};
    json.value.present = true;
    json.value.format = config::PayloadFormat::kJson;
    json.key.present = true;
    json.key.format = config::PayloadFormat::kString;
    config::ContractConfig avro;
    avro.name = "refunds";
    avro.topics = {"payments\\.refunds"};
    avro.value.present = true;
    avro.value.format = config::PayloadFormat::kAvro;
    config::ContractConfig by_record;
    by_record.name = "events";
    by_record.topics = {"payments\\.events"};
    by_record.value.present = true;
    by_record.value.format = config::PayloadFormat::kAvro;
    by_record.value.subject_strategy = config::SubjectStrategy::kRecord;
    payments.contracts = {json, avro, by_record};
    config_.domains.push_back(payments);
    product_.name = "payments.v1";
    product_.source = "east";
    product_.topics = {"payments\\..*"};
    product_.headers = {"seq", "traceparent", "x-internal"};
    config::PolicyConfig policy;
    policy.name = "acme-policy";
    config::FieldRuleConfig drop;
    drop.path.text = "value.internal";
    drop.action = config::FieldAction::kDrop;
    policy.fields = {drop};
    policy.headers_allow = {"seq", "traceparent"};
    policy.headers_allow_set = true;
    policy.headers_deny = {"seq"};
    config_.policies[policy.name] = policy;
    partner_.name = "acme";
    partner_.policy = "acme-policy";
    registry_ = std::make_shared<FakeRegistry>();
    registry_->subjects["payments.authorized-value"] = registered(
        schema::SchemaType::kJson,
        R"({"type":"object","properties":{"id":{"type":"string"},"internal":{"type":"string"}}})",
        11);
    registry_->subjects["payments.refunds-value"] =
        registered(schema::SchemaType::kAvro,
                   R"({"type":"record","name":"R","fields":[{"name":"amount","type":"long"},)"
                   R"({"name":"internal","type":"string"}]})",
                   12);
  }

  std::unique_ptr<ProductContracts> make(std::chrono::milliseconds retry = 15s) {
    ProductContracts::Options options;
    options.registry_factory = [this](const config::RegistryConfig&) {
      return Result<schema::RegistryPtr>(schema::RegistryPtr(registry_));
    };
    options.retry = retry;
    return std::make_unique<ProductContracts>(config_, options);
  }

  Json listing(ProductContracts& contracts, const config::PartnerConfig* partner,
               std::optional<std::vector<std::string>> topics = std::vector<std::string>{
                   "payments.authorized", "payments.events", "payments.other",
                   "payments.refunds"}) {
    Json out = Json::object();
    addContractsJson(contracts.describe(product_, partner, topics), out);
    return out;
  }

  config::Config config_;
  config::ProductConfig product_;
  config::PartnerConfig partner_;
  std::shared_ptr<FakeRegistry> registry_;
};

TEST_F(ProductContractsTest, EachTopicShowsItsContractSubjectAndSchemaId) {
  auto contracts = make();
  const Json out = listing(*contracts, nullptr);
  ASSERT_EQ(out["contracts"].size(), 4u) << out.dump(2);
  const Json& authorized = out["contracts"][0];
  EXPECT_EQ(authorized["topic"], "payments.authorized");
  EXPECT_EQ(authorized["contract"]["name"], "payments.authorized");
  EXPECT_EQ(authorized["contract"]["domain"], "payments");
  EXPECT_EQ(authorized["contract"]["subject"], "payments.authorized-value");
  EXPECT_EQ(authorized["contract"]["schema_id"], 11);
  EXPECT_EQ(authorized["contract"]["version"], 3);
  EXPECT_EQ(authorized["contract"]["key"], Json::parse(R"({"format": "string"})"));
  EXPECT_FALSE(authorized["contract"].contains("derived_schema")) << "no partner, no policy";
  EXPECT_TRUE(out["contracts"][2]["contract"].is_null()) << "payments.other has no contract";
  EXPECT_EQ(out["contracts"][3]["contract"]["schema_id"], 12);
  // Streams send Avro as JSON: the listing gives its JSON Schema.
  const Json& avro = out["contracts"][3]["contract"]["derived_schema"];
  EXPECT_EQ(avro["type"], "object") << avro.dump();
  EXPECT_EQ(avro["properties"]["amount"], Json::parse(R"({"type":"integer"})"));
  EXPECT_EQ(avro["required"], Json::array({"amount", "internal"}));
  EXPECT_EQ(out["headers"], Json::array({"seq", "traceparent", "x-internal"}));
}

TEST_F(ProductContractsTest, APartnersPolicyGivesDerivedSchemasAndItsHeaders) {
  auto contracts = make();
  const Json out = listing(*contracts, &partner_);
  const Json& json = out["contracts"][0]["contract"];
  EXPECT_EQ(json["derived_schema"],
            Json::parse(R"({"type":"object","properties":{"id":{"type":"string"}}})"));
  EXPECT_EQ(json["schema_id"], 11) << "the contract's own schema ID stays";
  // The Avro contract's JSON Schema (what streams send), after the policy's drop.
  const Json& avro = out["contracts"][3]["contract"]["derived_schema"];
  EXPECT_TRUE(avro["properties"].contains("amount")) << avro.dump();
  EXPECT_FALSE(avro["properties"].contains("internal")) << avro.dump();
  EXPECT_EQ(avro["required"], Json::array({"amount"}));
  EXPECT_EQ(out["headers"], Json::array({"traceparent"})) << "allow-list, then deny-list";
}

// Streams send Protobuf as JSON too: the listing gives the JSON Schema of the Protobuf JSON
// mapping, after the partner's policy; a .proto importing another subject has none, and says why.
TEST_F(ProductContractsTest, AProtobufContractGivesTheJsonSchemaOfItsJsonForm) {
  config::ContractConfig orders;
  orders.name = "orders";
  orders.topics = {"payments\\.(orders|shipments)"};
  orders.value.present = true;
  orders.value.format = config::PayloadFormat::kProtobuf;
  config_.domains[0].contracts.push_back(orders);
  registry_->subjects["payments.orders-value"] = registered(
      schema::SchemaType::kProtobuf,
      "syntax = \"proto3\";\npackage acme;\nimport \"google/protobuf/timestamp.proto\";\n"
      "message Order { int64 id = 1; string internal = 2; google.protobuf.Timestamp at = 3; }\n",
      13);
  registry_->subjects["payments.shipments-value"] = registered(
      schema::SchemaType::kProtobuf,
      "syntax = \"proto3\";\npackage acme;\nimport \"money.proto\";\n"
      "message Shipment { Money cost = 1; }\n",
      14);
  const std::vector<std::string> topics = {"payments.orders", "payments.shipments"};
  auto contracts = make();
  Json out = listing(*contracts, nullptr, topics);
  const Json& order = out["contracts"][0]["contract"]["derived_schema"];
  EXPECT_EQ(order["title"], "acme.Order") << order.dump();
  EXPECT_EQ(order["properties"]["id"]["type"], "string") << "int64 is a string in JSON";
  EXPECT_EQ(order["properties"]["at"]["format"], "date-time");
  EXPECT_TRUE(order["properties"].contains("internal"));
  EXPECT_FALSE(order.contains("required")) << "fields at their default are left out";
  const Json& shipment = out["contracts"][1]["contract"];
  EXPECT_FALSE(shipment.contains("derived_schema"));
  EXPECT_THAT(shipment["derived_schema_unavailable"].get<std::string>(),
              ::testing::HasSubstr("does not compile on its own"));
  out = listing(*contracts, &partner_, topics);
  const Json& derived = out["contracts"][0]["contract"]["derived_schema"];
  EXPECT_FALSE(derived["properties"].contains("internal")) << derived.dump();
  EXPECT_TRUE(derived["properties"].contains("id"));
}

TEST_F(ProductContractsTest, RecordSubjectStrategiesCannotNameTheSubject) {
  auto contracts = make();
  const Json out = listing(*contracts, nullptr);
  const Json& events = out["contracts"][1]["contract"];
  EXPECT_TRUE(events["subject"].is_null());
  EXPECT_THAT(events["error"].get<std::string>(), ::testing::HasSubstr("record strategy"));
  EXPECT_FALSE(events.contains("schema_id"));
}

TEST_F(ProductContractsTest, ARegistryThatDoesNotAnswerIsAnErrorAskedAgainOnlyAfterRetry) {
  registry_->down = true;
  auto contracts = make(1h);
  const Json out = listing(*contracts, &partner_);
  const Json& json = out["contracts"][0]["contract"];
  EXPECT_EQ(json["subject"], "payments.authorized-value");
  EXPECT_EQ(json["error"], "registry unavailable");
  EXPECT_EQ(json["derived_schema_unavailable"],
            "the contract's schema is unknown (registry unavailable)");
  EXPECT_EQ(out.dump().find("sr.internal"), std::string::npos) << "no registry address";
  EXPECT_EQ(registry_->calls, 1) << "the other subjects do not wait for it again";
  registry_->down = false;
  listing(*contracts, &partner_);
  EXPECT_EQ(registry_->calls, 1) << "cached until `retry` passes";

  auto eager = make(0ms);
  registry_->down = true;
  listing(*eager, nullptr);
  registry_->down = false;
  const Json again = listing(*eager, nullptr);
  EXPECT_EQ(again["contracts"][0]["contract"]["schema_id"], 11);
}

TEST_F(ProductContractsTest, ASchemaFetchedBeforeOutlivesARegistryOutage) {
  ProductContracts::Options options;
  options.registry_factory = [this](const config::RegistryConfig&) {
    return Result<schema::RegistryPtr>(schema::RegistryPtr(registry_));
  };
  options.refresh = 0ms;  // every listing asks again
  ProductContracts contracts(config_, options);
  listing(contracts, nullptr);
  registry_->down = true;
  const Json out = listing(contracts, nullptr);
  EXPECT_EQ(out["contracts"][0]["contract"]["schema_id"], 11);
  EXPECT_FALSE(out["contracts"][0]["contract"].contains("error"));
}

TEST_F(ProductContractsTest, UnknownTopicsAreNull) {
  auto contracts = make();
  const Json out = listing(*contracts, nullptr, std::nullopt);
  EXPECT_TRUE(out["contracts"].is_null());
  EXPECT_EQ(registry_->calls, 0);
}

}  // namespace
}  // namespace causeway::egress
