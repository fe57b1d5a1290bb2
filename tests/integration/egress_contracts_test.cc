// A partner reads an Avro data product through `causeway run`: the domain contract's schema
// comes from a local catalog, every record is checked against it and decoded to JSON, the
// partner's policy filters and masks the decoded fields, and a record that breaks the contract
// (on_violation: skip) is left out. What the partner checks: the JSON it receives, per
// partition in order, nothing else.

#include "tests/support/egress_support.h"
#include "tests/support/schema_support.h"
#include "tests/support/test_support.h"

#include <avro.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>
#include <vector>

namespace causeway::egress {
namespace {

using namespace std::chrono_literals;
using testing::kAcmeToken;
using testing::kGlobexToken;
using testing::kProduct;
using testing::kTopic;
using testing::SseClient;

constexpr int32_t kPartitions = 2;
constexpr uint32_t kSchemaId = 41;

const std::string kPayment = R"({"type": "record", "name": "Payment",
  "namespace": "com.acme.payments", "fields": [
    {"name": "id", "type": "string"},
    {"name": "amount", "type": "double"},
    {"name": "card", "type": {"type": "record", "name": "Card",
                              "fields": [{"name": "number", "type": "string"}]}},
    {"name": "note", "type": ["null", "string"], "default": null}]})";

void write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// A payment as Avro C writes it, in Confluent framing with kSchemaId.
std::string payment(int seq) {
  avro_schema_t schema = nullptr;
  EXPECT_EQ(avro_schema_from_json_length(kPayment.data(), kPayment.size(), &schema), 0);
  avro_value_iface_t* iface = avro_generic_class_from_schema(schema);
  avro_value_t value;
  avro_generic_value_new(iface, &value);
  avro_value_t field;
  const std::string id = "pay-" + std::to_string(seq);
  avro_value_get_by_name(&value, "id", &field, nullptr);
  avro_value_set_string(&field, id.c_str());
  avro_value_get_by_name(&value, "amount", &field, nullptr);
  avro_value_set_double(&field, 50.0 + 10 * seq);
  avro_value_get_by_name(&value, "card", &field, nullptr);
  avro_value_t number;
  avro_value_get_by_name(&field, "number", &number, nullptr);
  const std::string card = "4111222233330" + std::to_string(100 + seq);
  avro_value_set_string(&number, card.c_str());
  avro_value_get_by_name(&value, "note", &field, nullptr);
  avro_value_t branch;
  if (seq % 2 == 0) {
    avro_value_set_branch(&field, 1, &branch);
    avro_value_set_string(&branch, "even");
  } else {
    avro_value_set_branch(&field, 0, &branch);
    avro_value_set_null(&branch);
  }
  char buffer[1024];
  avro_writer_t writer = avro_writer_memory(buffer, sizeof buffer);
  EXPECT_EQ(avro_value_write(writer, &value), 0) << avro_strerror();
  const std::string bytes(buffer, static_cast<size_t>(avro_writer_tell(writer)));
  avro_writer_free(writer);
  avro_value_decref(&value);
  avro_value_iface_decref(iface);
  avro_schema_decref(schema);
  return testing::confluentFrame(kSchemaId, bytes);
}

std::string configYaml(const std::string& bootstrap, const std::string& dir, int port) {
  return R"(registries:
  local: {catalog: ")" +
         dir + R"(/schemas"}
clusters:
  east: {bootstrap: ")" +
         bootstrap + R"(", registry: local}
domains:
  - name: payments
    topics: ["payments\\..*"]
    contracts:
      - name: authorized
        topics: ["payments\\.authorized"]
        key: {format: string}
        value: {format: avro}
        on_violation: skip
policies:
  partner-acme:
    topics: {allow: ["payments\\..*"]}
    filter: 'value.amount >= 100'
    fields:
      - {path: value.card.number, action: mask, keep_last: 4}
products:
  - name: payments.authorized.v1
    domain: payments
    source: east
    topics: ["payments\\.authorized"]
partners:
  acme:
    policy: partner-acme
    products: ["payments.authorized.v1"]
    auth: {tokens_file: ")" +
         dir + R"(/acme.tokens"}
  globex:
    policy: partner-acme
    products: ["payments.authorized.v1"]
    auth: {tokens_file: ")" +
         dir + R"(/globex.tokens"}
egress:
  listen: "127.0.0.1:)" +
         std::to_string(port) + R"("
)";
}

TEST(EgressContractsTest, AnAvroProductReachesThePartnerAsJsonThroughItsPolicy) {
  // given: Avro payments framed with the catalog's schema ID, one of them truncated
  auto cluster = testing::startCluster("east", 1, {{kTopic, kPartitions}});
  ASSERT_NE(cluster, nullptr);
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("causeway-egress-avro-" + std::to_string(::getpid())))
                              .string();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir + "/schemas");
  write(dir + "/schemas/index.yaml", "schemas:\n  - {id: " + std::to_string(kSchemaId) +
                                         ", subject: payments.authorized-value, file: "
                                         "payment.avsc}\n");
  write(dir + "/schemas/payment.avsc", kPayment);
  write(dir + "/acme.tokens", std::string("acme-1 ") + kAcmeToken + "\n");
  write(dir + "/globex.tokens", std::string("globex-1 ") + kGlobexToken + "\n");
  std::vector<std::pair<int32_t, testing::TestRecord>> records;
  for (int seq = 0; seq < 20; ++seq) {
    std::string value = payment(seq);
    if (seq == 7) {
      value.resize(value.size() - 3);  // ends inside the card number
    }
    records.emplace_back(seq % kPartitions, testing::TestRecord{"pay-" + std::to_string(seq),
                                                                value, {}, 1700000000000 + seq});
  }
  ASSERT_TRUE(testing::produceTestRecords(cluster->bootstrap(), kTopic, records));

  // when: causeway run serves the product and the partner reads it from the beginning
  const int port = testing::freePort();
  const int metrics_port = testing::freePort();
  write(dir + "/causeway.yaml", configYaml(cluster->bootstrap(), dir, port));
  testing::ChildProcess worker({CAUSEWAY_BINARY, "run", "-c", dir + "/causeway.yaml",
                                "--metrics-listen", "127.0.0.1:" + std::to_string(metrics_port),
                                "--control-listen", "off"},
                               dir + "/worker.log");
  const std::map<std::string, std::string> acme = {
      {"Authorization", std::string("Bearer ") + kAcmeToken}};
  ASSERT_TRUE(testing::waitFor(
      [&] {
        return worker.running() && testing::httpGet(port, "/v1/products", acme).status == 200;
      },
      20s))
      << worker.log();
  SseClient::Options options;
  options.port = port;
  options.path = std::string("/v1/products/") + kProduct + "/events?from=earliest";
  options.headers = acme;
  SseClient client(options);
  ASSERT_TRUE(client.connect()) << client.error();
  ASSERT_EQ(client.status(), 200) << client.body();

  // then: amounts >= 100 are seq 5..19; seq 7 broke the contract: 14 events, decoded, masked
  ASSERT_EQ(client.readEvents(14, 30s), 14u) << worker.log();
  EXPECT_EQ(client.readEvents(15, 2s), 14u) << "nothing else: " << client.events().back().data;
  std::map<int, int64_t> last_offset;
  std::vector<int> seqs;
  for (const auto& event : client.events()) {
    const auto json = nlohmann::json::parse(event.data);
    const int partition = json["partition"].get<int>();
    const int64_t offset = json["offset"].get<int64_t>();
    EXPECT_TRUE(!last_offset.count(partition) || last_offset[partition] < offset)
        << "partition " << partition << " in order";
    last_offset[partition] = offset;
    const int seq = std::stoi(json["key"].get<std::string>().substr(4));
    seqs.push_back(seq);
    const auto& value = json["value"];
    ASSERT_TRUE(value.is_object()) << event.data;
    EXPECT_EQ(value["id"], "pay-" + std::to_string(seq));
    EXPECT_EQ(value["amount"], 50.0 + 10 * seq);
    // 4111222233330<100+seq>: all but the last 4 masked
    EXPECT_EQ(value["card"]["number"], std::string(12, '*') + "0" + std::to_string(100 + seq));
    if (seq % 2 == 0) {
      EXPECT_EQ(value["note"], "even") << "a union's branch, unwrapped";
    } else {
      EXPECT_TRUE(value["note"].is_null());
    }
  }
  std::sort(seqs.begin(), seqs.end());
  EXPECT_EQ(seqs, (std::vector<int>{5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}));
  // ... and the record that broke the contract is counted, not lost without a trace, under the
  // partner whose stream read it: a second partner reading the product counts it under its own
  // name.
  const auto series = [](const std::string& partner) {
    return R"(causeway_schema_violations_total{link="egress/)" + partner +
           R"(/payments.authorized.v1",domain="payments",)"
           R"(topic="payments.authorized",rule="payments.authorized.value",reason="invalid-payload"})";
  };
  const auto scrape = [&] { return testing::httpGetBody(metrics_port, "/metrics"); };
  EXPECT_TRUE(
      testing::waitFor([&] { return testing::metricSample(scrape(), series("acme")) >= 1; }, 10s))
      << scrape();
  EXPECT_LT(testing::metricSample(scrape(), series("globex")), 0) << "globex read nothing yet";
  options.headers = {{"Authorization", std::string("Bearer ") + kGlobexToken}};
  SseClient globex(options);
  ASSERT_TRUE(globex.connect()) << globex.error();
  ASSERT_EQ(globex.status(), 200) << globex.body();
  ASSERT_EQ(globex.readEvents(14, 30s), 14u) << worker.log();
  EXPECT_TRUE(
      testing::waitFor([&] { return testing::metricSample(scrape(), series("globex")) >= 1; }, 10s))
      << scrape();
  worker.signal(SIGTERM);
  EXPECT_EQ(worker.wait(30s), 0) << worker.log();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace causeway::egress
