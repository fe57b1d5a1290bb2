// A partner policy whose rule names a field the contract of a topic it sees cannot hold: the
// rule would never apply (a field meant to be masked would leave unmasked), so `check-config`
// and `causeway run` both refuse the configuration, naming the line and the field. Where the
// contract's schema is in a REST registry, `check-config` (which connects nowhere) cannot see
// it; `causeway run` asks the registry and refuses.

#include "tests/support/test_registry.h"
#include "tests/support/test_support.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace causeway {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

TEST(PolicyPaths, RunRefusesAPolicyFieldTheContractDoesNotHaveAsCheckConfigDoes) {
  // given: a JSON contract for payments.authorized and a partner policy masking value.card.numbr
  // (the contract's field is `number`) on line 16
  const auto dir = std::filesystem::temp_directory_path() /
                   ("causeway-policy-paths-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "catalog");
  std::ofstream(dir / "catalog" / "index.yaml")
      << "schemas:\n  - {id: 1, subject: payments.authorized-value, file: payment.json}\n";
  std::ofstream(dir / "catalog" / "payment.json")
      << R"({"type":"object","additionalProperties":false,"properties":{
           "id":{"type":"string"},"card":{"type":"object","additionalProperties":false,
           "properties":{"number":{"type":"string"}}}}})";
  std::ofstream(dir / "acme.tokens") << "acme-1 0123456789abcdef0123456789abcdef\n";
  const std::string d = dir.string();
  const std::string config_path = testing::writeTempFile(
      "paths.yaml",
      "registries:\n  local: {catalog: " + d +
          "/catalog}\n"                                                         // 1-2
          "clusters:\n  east: {bootstrap: \"127.0.0.1:1\", registry: local}\n"  // 3-4
          "domains:\n  - name: payments\n    topics: [\"payments\\\\..*\"]\n"   // 5-7
          "    contracts:\n"                                                    // 8
          "      - {name: authorized, topics: [\"payments\\\\.authorized\"], "
          "value: {format: json}}\n"                                         // 9
          "policies:\n  acme-policy:\n"                                      // 10-11
          "    topics: {allow: [\"payments\\\\..*\"]}\n"                     // 12
          "    fields:\n"                                                    // 13
          "      - {path: value.id, action: hash, secret_env: ACME_HMAC}\n"  // 14
          "\n"                                                               // 15
          "      - {path: value.card.numbr, action: mask, keep_last: 4}\n"   // 16
          "products:\n  - {name: p.v1, source: east, topics: [\"payments\\\\.authorized\"]}\n"
          "partners:\n  acme:\n    products: [p.v1]\n    policy: acme-policy\n"
          "    auth: {tokens_file: " +
          d +
          "/acme.tokens}\n"
          "egress: {listen: \"127.0.0.1:0\"}\n");
  ::setenv("ACME_HMAC", "0123456789abcdef0123456789abcdef", 1);

  // when: checked, and run
  const std::string out_path = testing::writeTempFile("check.out", "");
  const int status = std::system(("timeout 60 '" + std::string(CAUSEWAY_BINARY) +
                                  "' check-config '" + config_path + "' > '" + out_path + "' 2>&1")
                                     .c_str());
  std::ifstream in(out_path);
  const std::string checked((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  testing::ChildProcess run(testing::runCommand(config_path),
                            testing::writeTempFile("run.log", ""));
  const auto run_code = run.wait(30s);

  // then: both refuse it at line 16, naming the field and the contract; nothing started
  const std::string where = config_path + ":16:";
  const std::string what = "no field 'numbr' at value.card in the contract schema of topic "
                           "payments.authorized (subject payments.authorized-value); did you "
                           "mean 'number'?";
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1) << checked;
  EXPECT_THAT(checked, HasSubstr(where));
  EXPECT_THAT(checked, HasSubstr(what));
  ASSERT_TRUE(run_code.has_value()) << run.log();
  EXPECT_EQ(*run_code, 1) << run.log();
  EXPECT_THAT(run.log(), HasSubstr(where));
  EXPECT_THAT(run.log(), HasSubstr(what));
  EXPECT_THAT(run.log(), HasSubstr("nothing started"));
  std::filesystem::remove_all(dir);
}

TEST(PolicyPaths, RunRefusesAPolicyFieldTheContractInARestRegistryDoesNotHave) {
  // given: the JSON contract's schema in a REST registry, and a link whose partner policy masks
  // value.card.numbr (the schema's field is `number`) on line 14
  testing::TestRegistry registry;
  registry.add("payments.authorized-value",
               {schema::SchemaType::kJson,
                R"({"type":"object","additionalProperties":false,"properties":{
                    "card":{"type":"object","additionalProperties":false,
                    "properties":{"number":{"type":"string"}}}}})",
                {},
                {},
                {}});
  const std::string config_path = testing::writeTempFile(
      "rest-paths.yaml",
      "registries:\n  sr: {url: \"" + registry.url() +
          "\"}\n"                                                              // 1-2
          "clusters:\n  east: {bootstrap: \"127.0.0.1:1\", registry: sr}\n"    // 3-4
          "  west: {bootstrap: \"127.0.0.1:2\"}\n"                             // 5
          "domains:\n  - name: payments\n    topics: [\"payments\\\\..*\"]\n"  // 6-8
          "    contracts: [{name: authorized, topics: [\"payments\\\\.authorized\"], "
          "value: {format: json}}]\n"                                             // 9
          "policies:\n  acme-policy:\n"                                           // 10-11
          "    topics: {allow: [\"payments\\\\..*\"]}\n"                          // 12
          "    on_violation: stop\n"                                              // 13
          "    fields: [{path: value.card.numbr, action: mask, keep_last: 4}]\n"  // 14
          "links:\n  - {name: to-acme, source: east, target: west, policy: acme-policy, "
          "topics: {include: [\"payments\\\\.authorized\"]}}\n");

  // when: checked (no connection), and run
  const std::string out_path = testing::writeTempFile("rest-check.out", "");
  const int status = std::system(("timeout 60 '" + std::string(CAUSEWAY_BINARY) +
                                  "' check-config '" + config_path + "' > '" + out_path + "' 2>&1")
                                     .c_str());
  std::ifstream in(out_path);
  const std::string checked((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  testing::ChildProcess run(testing::runCommand(config_path),
                            testing::writeTempFile("rest-run.log", ""));
  const auto run_code = run.wait(30s);

  // then: check-config passes; the run asks the registry, refuses at line 14; nothing started
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << checked;
  ASSERT_TRUE(run_code.has_value()) << run.log();
  EXPECT_EQ(*run_code, 1) << run.log();
  EXPECT_THAT(run.log(), HasSubstr(config_path + ":14:"));
  EXPECT_THAT(run.log(), HasSubstr("no field 'numbr' at value.card in the contract schema of "
                                   "topic payments.authorized (subject "
                                   "payments.authorized-value); did you mean 'number'?"));
  EXPECT_THAT(run.log(), HasSubstr("nothing started"));
  EXPECT_EQ(registry.requestCount("GET /subjects/payments.authorized-value/versions/"), 1u);
}

}  // namespace
}  // namespace causeway
