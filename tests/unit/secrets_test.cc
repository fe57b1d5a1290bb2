// Which names are secret, and how registered values and secret-named assignments are hidden in
// text (common/secrets.h).

#include "common/secrets.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace causeway::secrets {
namespace {

class SecretsTest : public ::testing::Test {
protected:
  void SetUp() override { clearRegisteredSecretsForTesting(); }
  void TearDown() override { clearRegisteredSecretsForTesting(); }
};

TEST(SecretNames, EveryListedKindIsSecret) {
  for (const char* name : {"sasl.password",
                           "ssl.key.password",
                           "ssl.keystore.password",
                           "ssl.truststore.password",
                           "sasl.oauthbearer.client.secret",
                           "sasl.jaas.config",
                           "ssl.key.pem",
                           "ssl.key.location",
                           "sasl.oauthbearer.token.endpoint.url",
                           "bearer_token",
                           "token_file",
                           "registry.token",
                           "signing.key",
                           "api_key",
                           "hmac-key",
                           "password",
                           "PASSWORD",
                           "Sasl.Password",
                           "basic.auth.user.info",
                           "schema.registry.basic.auth.user.info",
                           "aws_credentials",
                           "private_key",
                           "passphrase",
                           "client_secret"}) {
    EXPECT_TRUE(isSecretName(name)) << name;
  }
}

TEST(SecretNames, OrdinarySettingsAreNot) {
  for (const char* name :
       {"bootstrap.servers", "security.protocol", "sasl.mechanism", "sasl.username",
        "ssl.ca.location", "ssl.certificate.location", "client.id", "compression.type", "keystore",
        "ssl.keystore.location", "name", "topics", "key.serializer.format", ""}) {
    EXPECT_FALSE(isSecretName(name)) << name;
  }
}

TEST(SecretSet, ReplacesEveryOccurrenceLongestFirst) {
  SecretSet set;
  EXPECT_TRUE(set.add("hunter2-pass"));
  EXPECT_TRUE(set.add("hunter2-password"));
  EXPECT_FALSE(set.add("hunter2-pass"));  // already there
  std::string text = "a hunter2-password b hunter2-pass c hunter2-password";
  EXPECT_TRUE(set.redactInPlace(text));
  EXPECT_EQ(text, "a *** b *** c ***");
  std::string clean = "nothing to hide";
  EXPECT_FALSE(set.redactInPlace(clean));
  EXPECT_EQ(clean, "nothing to hide");
}

TEST(SecretSet, ShortValuesAreNotSearchedFor) {
  SecretSet set;
  EXPECT_FALSE(set.add("true"));
  EXPECT_FALSE(set.add("12345"));
  EXPECT_FALSE(set.add(""));
  EXPECT_TRUE(set.add("123456"));  // kMinRedactedLength
  EXPECT_TRUE(set.contains("123456"));
  EXPECT_FALSE(set.contains("true"));
  std::string text = "true 12345 123456";
  set.redactInPlace(text);
  EXPECT_EQ(text, "true 12345 ***");
}

TEST_F(SecretsTest, RegisteredValuesAreHiddenEverywhere) {
  EXPECT_EQ(redact("login with s3cret-from-env failed"), "login with s3cret-from-env failed");
  registerSecret("s3cret-from-env");
  registerSecret("abc");  // too short: ignored
  EXPECT_EQ(redact("login with s3cret-from-env failed"), "login with *** failed");
  EXPECT_EQ(redact("abc"), "abc");
  EXPECT_TRUE(registeredSecrets()->contains("s3cret-from-env"));
  EXPECT_EQ(registeredSecrets()->size(), 1u);
}

TEST_F(SecretsTest, SecretNamedAssignmentsAreHiddenWhateverTheirLength) {
  EXPECT_EQ(redact("sasl.password=pw ok"), "sasl.password=*** ok");
  EXPECT_EQ(redact("  sasl.password = pw"), "  sasl.password = ***");
  EXPECT_EQ(redact("PlainLoginModule required username=\"alice\" password=\"pw\";"),
            "PlainLoginModule required username=\"alice\" password=\"***\";");
  EXPECT_EQ(redact("{\"sasl.password\":\"pw\",\"client.id\":\"x\"}"),
            "{\"sasl.password\":\"***\",\"client.id\":\"x\"}");
  EXPECT_EQ(redact("{\"ssl.key.pem\": \"-----BEGIN KEY-----\"}"), "{\"ssl.key.pem\": \"***\"}");
  EXPECT_EQ(redact("https://h/x?token=abc&y=1"), "https://h/x?token=***&y=1");
  EXPECT_EQ(redact("sasl.jaas.config='a b c'"), "sasl.jaas.config='***'");
}

TEST_F(SecretsTest, ProseAndOrdinaryAssignmentsAreLeftAlone) {
  for (const char* text :
       {"clusters.east.properties.sasl.password: has no value", "invalid password: try again",
        "key=user-42", "client.id=abc", "sasl.password=", "sasl.password=***",
        "sasl.password = [redacted]", "the token is wrong", "partition key = abc"}) {
    EXPECT_EQ(redact(text), text);
  }
}

TEST_F(SecretsTest, RegistrationIsSafeWhileOtherThreadsRedact) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < 200; ++i) {
        registerSecret("secret-" + std::to_string(t) + "-" + std::to_string(i));
        redact("secret-0-1 and secret-3-199");
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(registeredSecrets()->size(), 800u);
  EXPECT_EQ(redact("secret-0-1 and secret-3-199"), "*** and ***");
}

}  // namespace
}  // namespace causeway::secrets
