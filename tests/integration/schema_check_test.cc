// `causeway schema check` through the built binary, with a local catalog folder (no registry
// server, no Kafka): what a domain team runs before deploying a contract.

#include "tests/support/test_support.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace causeway::testing {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;

const char* kConfig = R"(registries:
  local: {catalog: "schemas/"}
clusters:
  east: {bootstrap: "127.0.0.1:19092", registry: local}
  west: {bootstrap: "127.0.0.1:29092"}
domains:
  - name: payments
    owner: "team-payments@example.com"
    topics: ["payments\\..*"]
    contracts:
      - name: authorized
        topics: ["payments\\.authorized"]
        key: {format: string}
        value: {format: json}
        on_violation: dlq
links:
  - name: east-to-west
    source: east
    target: west
    topics: {include: ["payments\\..*"]}
)";

const char* kIndex = R"(schemas:
  - {id: 7, subject: payments.authorized-value, file: payment.json}
)";

const char* kPaymentSchema = R"({
  "type": "object",
  "properties": {
    "id": {"type": "string", "minLength": 1},
    "amount": {"type": "number", "minimum": 0}
  },
  "required": ["id", "amount"]
})";

class SchemaCheckCommand : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("causeway-schema-check-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "schemas");
    write("causeway.yaml", kConfig);
    write("schemas/index.yaml", kIndex);
    write("schemas/payment.json", kPaymentSchema);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void write(const std::string& name, const std::string& text) {
    std::ofstream out(dir_ / name, std::ios::binary);
    out << text;
  }

  // Runs `causeway schema check` and returns its exit code; its output is in output_.
  int check(const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {CAUSEWAY_BINARY, "schema", "check", "--config",
                                     (dir_ / "causeway.yaml").string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    ChildProcess child(argv, (dir_ / "output.log").string());
    const std::optional<int> code = child.wait(20s);
    output_ = child.log();
    EXPECT_TRUE(code.has_value()) << "still running after 20 s:\n" << output_;
    return code.value_or(-1);
  }

  // A Confluent-framed value (0x00, 4-byte big-endian schema ID, payload) behind the 4-byte
  // big-endian length a .bin sample file puts before each record.
  static std::string sample(uint32_t id, const std::string& payload) {
    std::string framed(1, '\0');
    for (int shift = 24; shift >= 0; shift -= 8) {
      framed.push_back(static_cast<char>((id >> shift) & 0xff));
    }
    framed += payload;
    std::string out;
    const auto length = static_cast<uint32_t>(framed.size());
    for (int shift = 24; shift >= 0; shift -= 8) {
      out.push_back(static_cast<char>((length >> shift) & 0xff));
    }
    return out + framed;
  }

  std::filesystem::path dir_;
  std::string output_;
};

TEST_F(SchemaCheckCommand, JsonLinesThatFitPassWithExitZero) {
  write("good.jsonl",
        "{\"id\": \"pay-1\", \"amount\": 12.5}\n\n{\"id\": \"pay-2\", \"amount\": 0}\n");

  EXPECT_EQ(check({"--topic", "payments.authorized", "--input", (dir_ / "good.jsonl").string()}), 0)
      << output_;
  EXPECT_THAT(output_, HasSubstr("2 records, 0 violating the contract"));
  EXPECT_THAT(output_, HasSubstr("subject payments.authorized-value version 1"));
}

TEST_F(SchemaCheckCommand, EachViolationIsPrintedWithItsLineAndPathButNoValue) {
  write("bad.jsonl", "{\"id\": \"pay-1\", \"amount\": 3}\n"
                     "{\"id\": \"pay-2\", \"amount\": \"secret-amount\"}\n"
                     "{\"amount\": 4}\n");

  EXPECT_EQ(check({"--topic", "payments.authorized", "--input", (dir_ / "bad.jsonl").string()}), 1)
      << output_;
  EXPECT_THAT(output_, HasSubstr("line 2: value.amount"));
  EXPECT_THAT(output_, HasSubstr("line 3: value"));
  EXPECT_THAT(output_, HasSubstr("payments.authorized.value"));
  EXPECT_THAT(output_, HasSubstr("3 records, 2 violating the contract"));
  EXPECT_THAT(output_, Not(HasSubstr("secret-amount")));
}

TEST_F(SchemaCheckCommand, FramedSamplesGoThroughTheContractStage) {
  std::string samples = sample(7, R"({"id": "pay-1", "amount": 1})") +
                        sample(7, R"({"id": "", "amount": 1})") +
                        sample(99, R"({"id": "pay-3", "amount": 1})");
  write("samples.bin", samples);

  EXPECT_EQ(check({"--topic", "payments.authorized", "--input", (dir_ / "samples.bin").string()}),
            1)
      << output_;
  EXPECT_THAT(output_, HasSubstr("record 2: "));
  EXPECT_THAT(output_, HasSubstr("value.id"));
  EXPECT_THAT(output_, HasSubstr("record 3: "));
  EXPECT_THAT(output_, HasSubstr("99"));
  EXPECT_THAT(output_, Not(HasSubstr("record 1:")));
  EXPECT_THAT(output_, HasSubstr("3 records, 2 violating the contract"));
}

TEST_F(SchemaCheckCommand, UsageErrorsExitTwoAndSayWhat) {
  write("good.jsonl", "{\"id\": \"pay-1\", \"amount\": 1}\n");
  write("short.bin", std::string("\0\0\0\x09\0", 5));

  EXPECT_EQ(check({"--topic", "orders.created", "--input", (dir_ / "good.jsonl").string()}), 2);
  EXPECT_THAT(output_, HasSubstr("no contract applies to topic 'orders.created'"));

  EXPECT_EQ(check({"--topic", "payments.authorized", "--input", (dir_ / "short.bin").string()}), 2);
  EXPECT_THAT(output_, HasSubstr("announces 9 bytes"));

  write("schemas/payment.json", "{\"type\": \"object\",\n  \"properties\": }\n");
  EXPECT_EQ(check({"--topic", "payments.authorized", "--input", (dir_ / "good.jsonl").string()}),
            2);
  EXPECT_THAT(output_, HasSubstr("payment.json:2:"));
}

TEST_F(SchemaCheckCommand, CheckConfigCompilesTheCatalogSchemas) {
  ChildProcess good({CAUSEWAY_BINARY, "check-config", (dir_ / "causeway.yaml").string()},
                    (dir_ / "good.log").string());
  ASSERT_EQ(good.wait(20s), std::optional<int>(0)) << good.log();
  EXPECT_THAT(good.log(), HasSubstr("payments: topics payments\\..*, 1 contract"));

  write("schemas/payment.json", R"({"type": "object", "unevaluatedProperties": false})");
  ChildProcess bad({CAUSEWAY_BINARY, "check-config", (dir_ / "causeway.yaml").string()},
                   (dir_ / "bad.log").string());
  ASSERT_EQ(bad.wait(20s), std::optional<int>(1)) << bad.log();
  EXPECT_THAT(bad.log(), HasSubstr("unevaluatedProperties"));
  EXPECT_THAT(bad.log(), HasSubstr("index.yaml:2:"));
}

}  // namespace
}  // namespace causeway::testing
