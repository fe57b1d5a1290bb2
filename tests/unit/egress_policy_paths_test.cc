// egress::checkPolicyPaths with contracts whose schemas live in a REST registry: check-config
// connects nowhere; `causeway run` and reloads ask the registry once per subject, and a
// registry that does not answer is a warning (its contracts unchecked), not a refusal.

#include "config/config_loader.h"
#include "egress/policy_paths.h"
#include "tests/support/test_registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace causeway::egress {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

const char* const kPaymentSchema =
    R"({"type":"object","additionalProperties":false,"properties":{
        "id":{"type":"string"},"amount":{"type":"number"},
        "card":{"type":"object","additionalProperties":false,
                "properties":{"number":{"type":"string"}}}}})";

// A link and a product of cluster `east` (registry `sr` at `url`) see payments.authorized,
// whose contract is JSON; the partner policy masks `path` (line 14).
std::string configWith(const std::string& url, const std::string& path) {
  return "registries:\n  sr: {url: \"" + url +
         "\", timeout: 2s}\n"                                                 // 1-2
         "clusters:\n  east: {bootstrap: \"127.0.0.1:1\", registry: sr}\n"    // 3-4
         "  west: {bootstrap: \"127.0.0.1:2\"}\n"                             // 5
         "domains:\n  - name: payments\n    topics: [\"payments\\\\..*\"]\n"  // 6-8
         "    contracts:\n"                                                   // 9
         "      - {name: authorized, topics: [\"payments\\\\.authorized\"], "
         "value: {format: json}}\n"                      // 10
         "policies:\n  acme-policy:\n"                   // 11-12
         "    topics: {allow: [\"payments\\\\..*\"]}\n"  // 13
         "    fields: [{path: " +
         path +
         ", action: mask, keep_last: 4}]\n"  // 14
         "links:\n  - {name: to-acme, source: east, target: west, policy: acme-policy, "
         "topics: {include: [\"payments\\\\.authorized\"]}}\n";
}

PolicyPathsCheck check(const std::string& yaml, ContractSchemas schemas) {
  auto loaded = config::loadConfigString(yaml, "paths.yaml");
  EXPECT_TRUE(loaded.ok()) << (loaded.errors.empty() ? "" : loaded.errors[0].str());
  return loaded.ok() ? checkPolicyPaths(*loaded.config, schemas) : PolicyPathsCheck{};
}

TEST(PolicyPathsTest, ARestRegistryIsAskedOnlyWhenRegistriesAreAllowed) {
  testing::TestRegistry registry;
  registry.add("payments.authorized-value",
               {schema::SchemaType::kJson, kPaymentSchema, {}, {}, {}});
  const std::string yaml = configWith(registry.url(), "value.card.numbr");

  // check-config: nothing is connected to, nothing is said
  const PolicyPathsCheck offline = check(yaml, ContractSchemas::kCatalogs);
  EXPECT_THAT(offline.errors, IsEmpty());
  EXPECT_THAT(offline.warnings, IsEmpty());
  EXPECT_EQ(registry.requests().size(), 0u);

  // run / reload: the contract's schema comes from the registry; the rule is refused at its line
  const PolicyPathsCheck online = check(yaml, ContractSchemas::kCatalogsAndRegistries);
  ASSERT_THAT(online.errors, SizeIs(1));
  EXPECT_THAT(online.errors[0].str(), HasSubstr("paths.yaml:14:"));
  EXPECT_THAT(online.errors[0].str(),
              HasSubstr("no field 'numbr' at value.card in the contract schema of topic "
                        "payments.authorized (subject payments.authorized-value); did you mean "
                        "'number'?"));
  EXPECT_THAT(online.warnings, IsEmpty());
  EXPECT_EQ(registry.requestCount("GET /subjects/payments.authorized-value/versions/"), 1u);

  // a field the schema has: nothing to say
  const PolicyPathsCheck fine = check(configWith(registry.url(), "value.card.number"),
                                      ContractSchemas::kCatalogsAndRegistries);
  EXPECT_THAT(fine.errors, IsEmpty());
  EXPECT_THAT(fine.warnings, IsEmpty());
}

TEST(PolicyPathsTest, ARegistryThatDoesNotAnswerIsAWarningAskedOnce) {
  testing::TestRegistry registry;
  registry.add("payments.authorized-value",
               {schema::SchemaType::kJson, kPaymentSchema, {}, {}, {}});
  registry.setDown(true);  // every request answers 503

  const PolicyPathsCheck result = check(configWith(registry.url(), "value.card.numbr"),
                                        ContractSchemas::kCatalogsAndRegistries);

  EXPECT_THAT(result.errors, IsEmpty());
  ASSERT_THAT(result.warnings, SizeIs(1));
  EXPECT_THAT(result.warnings[0], HasSubstr("registry 'sr' did not answer the contract subject "
                                            "payments.authorized-value"));
  EXPECT_THAT(result.warnings[0], HasSubstr("not checked"));
  // one attempt (no retries at start-up), and not asked again for the product's view
  EXPECT_EQ(registry.requests().size(), 1u);
}

TEST(PolicyPathsTest, ASubjectTheRegistryRefusesIsAWarningForThatSubject) {
  testing::TestRegistry registry;
  registry.add("payments.authorized-value",
               {schema::SchemaType::kJson, kPaymentSchema, {}, {}, {}});
  registry.failNext(1, 403);

  const PolicyPathsCheck result = check(configWith(registry.url(), "value.card.numbr"),
                                        ContractSchemas::kCatalogsAndRegistries);

  EXPECT_THAT(result.errors, IsEmpty());
  ASSERT_THAT(result.warnings, SizeIs(1));
  EXPECT_THAT(result.warnings[0], HasSubstr("registry 'sr' refused the contract subject "
                                            "payments.authorized-value"));
}

TEST(PolicyPathsTest, ASubjectTheRegistryDoesNotHaveIsLeftToTheContractStage) {
  testing::TestRegistry registry;  // payments.authorized-value is not registered

  const PolicyPathsCheck result = check(configWith(registry.url(), "value.card.numbr"),
                                        ContractSchemas::kCatalogsAndRegistries);

  EXPECT_THAT(result.errors, IsEmpty());
  EXPECT_THAT(result.warnings, IsEmpty());
}

}  // namespace
}  // namespace causeway::egress
