// `causeway policy test`, run as a user runs it: sample records through a policy, each shown
// before and after with what every step did. JSON samples, and Avro and Protobuf samples
// encoded with the writer's schema given by --schema and shown after the policy as the derived
// schema reads them.

#include "tests/support/test_support.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

namespace causeway {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

struct CommandRun {
  int status = -1;
  std::string output;  // stdout and stderr
};

CommandRun policyTest(const std::string& arguments) {
  const auto out = testing::writeTempFile("policy-test.out", "");
  const int rc = std::system(("timeout 60 " + std::string(CAUSEWAY_BINARY) + " policy test " +
                              arguments + " > '" + out + "' 2>&1")
                                 .c_str());
  std::ifstream file(out);
  CommandRun run;
  run.status = WEXITSTATUS(rc);
  run.output.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  return run;
}

std::string configYaml(const std::string& format, const std::string& fields) {
  return "registries:\n  sr: {url: \"http://127.0.0.1:1\"}\n"
         "clusters:\n  east: {bootstrap: \"127.0.0.1:1\", registry: sr}\n"
         "  west: {bootstrap: \"127.0.0.1:2\", registry: sr}\n"
         "policies:\n  acme:\n    topics: {allow: [\"payments\\\\..*\"]}\n"
         "    formats: {value: " +
         format + "}\n    filter: 'value.status == \"OK\"'\n    fields:\n" + fields +
         "links:\n  - {name: l1, source: east, target: west, topics: {include: "
         "[\"payments\\\\..*\"]}, policy: acme, schemas: {translate_ids: true}, "
         "dlq: {topic: dlq, cluster: source}}\n";
}

const char* const kFields = "      - {path: value.card.number, action: mask, keep_last: 4}\n"
                            "      - {path: value.card.cvv, action: redact}\n"
                            "      - {path: value.email, action: drop}\n";

const char* const kPaymentProto = R"(syntax = "proto3";
package acme;
message Payment {
  enum Status { UNKNOWN = 0; OK = 1; }
  string id = 1;
  int64 amount = 2;
  Card card = 3;
  string email = 4;
  Status status = 5;
}
message Card { string number = 1; int32 cvv = 2; }
)";

const char* const kSamples =
    R"({"topic": "payments.authorized", "value": {"id": "p1", "amount": "1250", "card": {"number": "4111111111111111", "cvv": 123}, "email": "a@example.com", "status": "OK"}}
{"topic": "payments.authorized", "value": {"id": "p2"}}
)";

TEST(PolicyTestCommand, JsonSamplesAreShownBeforeAndAfterWithEveryStep) {
  const auto config = testing::writeTempFile("policy-json.yaml", configYaml("json", kFields));
  const auto samples = testing::writeTempFile("policy-json.jsonl", kSamples);
  const CommandRun run =
      policyTest("--config '" + config + "' --policy acme --input '" + samples + "'");
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("value.card.number:mask: applied to 1 occurrence"));
  EXPECT_THAT(run.output, HasSubstr(R"("number":"************1111")"));
  EXPECT_THAT(run.output, HasSubstr("verdict: drop (filtered, rule acme.filter)"));
  EXPECT_THAT(run.output, HasSubstr("2 records: 1 passed, 0 not allowed, 1 filtered"));
}

TEST(PolicyTestCommand, ProtobufSamplesAreEncodedWithTheSchemaAndShownAsTheDerivedFileReadsThem) {
  const auto config = testing::writeTempFile("policy-pb.yaml", configYaml("protobuf", kFields));
  const auto proto = testing::writeTempFile("policy-pb.proto", kPaymentProto);
  const auto samples = testing::writeTempFile("policy-pb.jsonl", kSamples);
  const CommandRun run = policyTest("--config '" + config + "' --policy acme --schema '" + proto +
                                    "' --input '" + samples + "'");
  ASSERT_EQ(run.status, 0) << run.output;
  // The derived file the target registry would get: email reserved, cvv a string.
  EXPECT_THAT(run.output, HasSubstr("reserved \"email\";"));
  EXPECT_THAT(run.output, HasSubstr("string cvv = 2;"));
  // The record after the policy, parsed with the derived file: the amount (an int64) is a
  // string in protobuf's JSON mapping.
  EXPECT_THAT(
      run.output,
      HasSubstr(R"(after:   {"id":"p1","amount":"1250","card":{"number":"************1111",)"
                R"("cvv":"[REDACTED]"},"status":"OK"})"));
  EXPECT_THAT(run.output, Not(HasSubstr("4111111111111111\"},\"status")));
  // p2 has no status on the wire: proto3's default, UNKNOWN, is what the filter sees.
  EXPECT_THAT(run.output, HasSubstr("verdict: drop (filtered, rule acme.filter)"));
  EXPECT_THAT(run.output, HasSubstr("2 records: 1 passed, 0 not allowed, 1 filtered"));
}

const char* const kPaymentAvro = R"({"type": "record", "name": "Payment", "namespace": "acme",
  "fields": [
    {"name": "id", "type": "string"},
    {"name": "amount", "type": "long", "default": 0},
    {"name": "card", "type": ["null", {"type": "record", "name": "Card", "fields": [
      {"name": "number", "type": "string"}, {"name": "cvv", "type": "int"}]}], "default": null},
    {"name": "email", "type": ["null", "string"], "default": null},
    {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["UNKNOWN", "OK"]},
     "default": "UNKNOWN"}]})";

const char* const kAvroSamples =
    R"({"topic": "payments.authorized", "value": {"id": "p1", "amount": 1250, "card": {"number": "4111111111111111", "cvv": 123}, "email": "a@example.com", "status": "OK"}}
{"topic": "payments.authorized", "value": {"id": "p2"}}
)";

TEST(PolicyTestCommand, AvroSamplesAreEncodedWithTheSchemaAndShownAsTheDerivedSchemaReadsThem) {
  const auto config = testing::writeTempFile("policy-avro.yaml", configYaml("avro", kFields));
  const auto avsc = testing::writeTempFile("policy-avro.avsc", kPaymentAvro);
  const auto samples = testing::writeTempFile("policy-avro.jsonl", kAvroSamples);
  const CommandRun run = policyTest("--config '" + config + "' --policy acme --schema '" + avsc +
                                    "' --input '" + samples + "'");
  ASSERT_EQ(run.status, 0) << run.output;
  // The derived schema the target registry would get: no email, cvv a string.
  EXPECT_THAT(run.output, HasSubstr("derived Avro schema"));
  EXPECT_THAT(run.output, HasSubstr(R"({"name":"cvv","type":"string"})"));
  EXPECT_THAT(run.output, Not(HasSubstr(R"("name":"email")")));
  // The record after the policy, read with the derived schema.
  EXPECT_THAT(run.output,
              HasSubstr(R"(after:   {"id":"p1","amount":1250,"card":{"number":"************1111",)"
                        R"("cvv":"[REDACTED]"},"status":"OK"})"));
  // p2 leaves status out: its default, UNKNOWN, is on the wire and the filter sees it.
  EXPECT_THAT(run.output, HasSubstr("verdict: drop (filtered, rule acme.filter)"));
  EXPECT_THAT(run.output, HasSubstr("2 records: 1 passed, 0 not allowed, 1 filtered"));
}

TEST(PolicyTestCommand, AvroSamplesThatAreNotDataOfTheSchemaAreNamedByLineAndPath) {
  const auto config = testing::writeTempFile("policy-avro2.yaml", configYaml("avro", kFields));
  const auto avsc = testing::writeTempFile("policy-avro2.avsc", kPaymentAvro);
  const auto samples = testing::writeTempFile(
      "policy-avro2.jsonl",
      "{\"topic\": \"payments.authorized\", \"value\": {\"id\": \"p1\"}}\n"
      "{\"topic\": \"payments.authorized\", \"value\": {\"id\": \"p2\", \"card\": "
      "{\"number\": \"1\", \"cvv\": \"x\"}}}\n");
  CommandRun run = policyTest("--config '" + config + "' --policy acme --schema '" + avsc +
                              "' --input '" + samples + "'");
  EXPECT_EQ(run.status, 1);
  EXPECT_THAT(run.output, HasSubstr("policy-avro2.jsonl:2: the value is not a datum of the Avro "
                                    "schema: card.cvv: expected an int (a 32-bit integer), not "
                                    "\"x\""));
  // The valid line still ran.
  EXPECT_THAT(run.output, HasSubstr("1 record: 0 passed, 0 not allowed, 1 filtered"));
  run = policyTest("--config '" + config + "' --policy acme --input '" + samples + "'");
  EXPECT_EQ(run.status, 1);
  EXPECT_THAT(run.output, HasSubstr("give the writer's Avro schema (.avsc) with --schema"));
  run = policyTest("--config '" + config + "' --policy acme --schema '" + avsc +
                   "' --message acme.Payment --input '" + samples + "'");
  EXPECT_EQ(run.status, 1);
  EXPECT_THAT(run.output, HasSubstr("--message names a message of a .proto"));
}

TEST(PolicyTestCommand, ProtobufSamplesThatAreNotMessagesOfTheFileAreNamedByLine) {
  const auto config = testing::writeTempFile("policy-pb2.yaml", configYaml("protobuf", kFields));
  const auto proto = testing::writeTempFile("policy-pb2.proto", kPaymentProto);
  const auto samples = testing::writeTempFile(
      "policy-pb2.jsonl", "{\"topic\": \"payments.authorized\", \"value\": {\"nope\": 1}}\n");
  CommandRun run = policyTest("--config '" + config + "' --policy acme --schema '" + proto +
                              "' --input '" + samples + "'");
  EXPECT_EQ(run.status, 1);
  EXPECT_THAT(run.output, HasSubstr("policy-pb2.jsonl:1: the value is not a message "
                                    "acme.Payment in protobuf's JSON mapping"));
  // Without --schema the command says what it needs.
  run = policyTest("--config '" + config + "' --policy acme --input '" + samples + "'");
  EXPECT_EQ(run.status, 1);
  EXPECT_THAT(run.output, HasSubstr("give the writer's .proto with --schema"));
  run = policyTest("--config '" + config + "' --policy acme --schema '" + proto +
                   "' --message Nothing --input '" + samples + "'");
  EXPECT_EQ(run.status, 1);
  EXPECT_THAT(run.output, HasSubstr("no message Nothing in the file"));
}

}  // namespace
}  // namespace causeway
