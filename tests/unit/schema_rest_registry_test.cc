#include "schema/rest_registry.h"

#include "tests/support/test_registry.h"
#include "tests/support/test_support.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

namespace causeway::schema {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::TestRegistry;

const Schema kPayment{
    SchemaType::kAvro,
    R"({"type":"record","name":"Payment","fields":[{"name":"amount","type":"double"}]})",
    {},
    R"({"properties":{"owner":"team-payments"}})",
    R"({"domainRules":[{"name":"checkAmount","kind":"CONDITION","mode":"WRITE","type":"CEL","expr":"message.amount > 0"}]})"};

config::RegistryConfig configFor(const TestRegistry& server) {
  config::RegistryConfig config;
  config.name = "test-sr";
  config.url = server.url();
  config.timeout = 2000ms;
  config.connect_timeout = 1000ms;
  config.retries = 2;
  config.retry_backoff = 10ms;
  return config;
}

std::unique_ptr<RestRegistry> clientFor(const config::RegistryConfig& config) {
  auto created = RestRegistry::create(config);
  EXPECT_TRUE(created.ok()) << (created.ok() ? "" : created.error().message);
  return created.ok() ? std::move(*created) : nullptr;
}

TEST(SchemaRestRegistry, RegistersAndReadsBackWithMetadataAndRules) {
  TestRegistry server;
  auto registry = clientFor(configFor(server));
  auto id = registry->registerSchema("payments-value", kPayment);
  ASSERT_TRUE(id.ok()) << id.error().message;

  auto by_id = registry->schemaById(*id, "");
  ASSERT_TRUE(by_id.ok()) << by_id.error().message;
  EXPECT_EQ(by_id->text, kPayment.text);
  EXPECT_EQ(by_id->type, SchemaType::kAvro);
  EXPECT_EQ(nlohmann::json::parse(by_id->metadata), nlohmann::json::parse(kPayment.metadata));
  EXPECT_EQ(nlohmann::json::parse(by_id->rule_set), nlohmann::json::parse(kPayment.rule_set));

  auto latest = registry->subjectVersion("payments-value", 0);
  ASSERT_TRUE(latest.ok()) << latest.error().message;
  EXPECT_EQ(latest->id, *id);
  EXPECT_EQ(latest->version, 1);
  EXPECT_EQ(latest->subject, "payments-value");
  EXPECT_TRUE(latest->guid.has_value());

  auto by_guid = registry->schemaByGuid(*latest->guid);
  ASSERT_TRUE(by_guid.ok()) << by_guid.error().message;
  EXPECT_EQ(by_guid->text, kPayment.text);

  auto found = registry->lookup("payments-value", kPayment);
  ASSERT_TRUE(found.ok()) << found.error().message;
  EXPECT_EQ(found->id, *id);
  EXPECT_EQ(found->version, 1);
}

TEST(SchemaRestRegistry, ReferencesCrossWithTheSchema) {
  TestRegistry server;
  auto registry = clientFor(configFor(server));
  const Schema money{SchemaType::kProtobuf,
                     "syntax = \"proto3\"; package acme; message Money { int64 units = 1; }",
                     {},
                     {},
                     {}};
  ASSERT_TRUE(registry->registerSchema("money.proto", money).ok());
  Schema order{SchemaType::kProtobuf,
               "syntax = \"proto3\"; package acme; import \"money.proto\"; "
               "message Order { Money total = 1; }",
               {{"money.proto", "money.proto", 1}},
               {},
               {}};
  auto id = registry->registerSchema("orders-value", order);
  ASSERT_TRUE(id.ok()) << id.error().message;
  auto back = registry->schemaById(*id, "");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->type, SchemaType::kProtobuf);
  ASSERT_EQ(back->references.size(), 1u);
  EXPECT_EQ(back->references[0], (SchemaReference{"money.proto", "money.proto", 1}));

  order.references[0].version = 7;
  auto missing = registry->registerSchema("orders-value", order);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, RegistryErrc::kRejected);
  EXPECT_EQ(missing.error().http_status, 422);
}

TEST(SchemaRestRegistry, UnknownSubjectAndIdAreNotFound) {
  TestRegistry server;
  auto registry = clientFor(configFor(server));
  auto subject = registry->subjectVersion("nope-value", 0);
  ASSERT_FALSE(subject.ok());
  EXPECT_EQ(subject.error().code, RegistryErrc::kNotFound);
  EXPECT_EQ(subject.error().error_code, 40401);
  EXPECT_THAT(subject.error().message, HasSubstr("GET /subjects/nope-value/versions/latest"));
  EXPECT_THAT(subject.error().message, HasSubstr("HTTP 404"));
  auto id = registry->schemaById(99, "");
  ASSERT_FALSE(id.ok());
  EXPECT_EQ(id.error().code, RegistryErrc::kNotFound);
  // Not found is an answer, not an outage: no retries.
  EXPECT_EQ(server.requestCount("GET /schemas/ids/99"), 1u);
}

TEST(SchemaRestRegistry, CompatibilityAnswersAndIncompatibleRegistration) {
  TestRegistry server;
  server.setCompatibility([](const std::string&, const Schema&, const Schema& candidate) {
    return candidate.text.find("breaking") == std::string::npos
               ? CompatibilityResult{true, {}}
               : CompatibilityResult{false, {"field amount: type changed"}};
  });
  auto registry = clientFor(configFor(server));
  // No subject yet: anything is compatible.
  auto first = registry->checkCompatibility("payments-value", kPayment);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_TRUE(first->compatible);
  ASSERT_TRUE(registry->registerSchema("payments-value", kPayment).ok());

  const Schema breaking{SchemaType::kAvro, R"({"type":"string","doc":"breaking"})", {}, {}, {}};
  auto check = registry->checkCompatibility("payments-value", breaking);
  ASSERT_TRUE(check.ok()) << check.error().message;
  EXPECT_FALSE(check->compatible);
  EXPECT_THAT(check->messages, ::testing::ElementsAre("field amount: type changed"));

  auto registered = registry->registerSchema("payments-value", breaking);
  ASSERT_FALSE(registered.ok());
  EXPECT_EQ(registered.error().code, RegistryErrc::kIncompatible);
  EXPECT_EQ(registered.error().http_status, 409);
  EXPECT_THAT(registered.error().message, HasSubstr("field amount: type changed"));
}

TEST(SchemaRestRegistry, ServerErrorsAreRetriedWithBackoff) {
  TestRegistry server;
  const uint32_t id = server.add("payments-value", kPayment);
  auto registry = clientFor(configFor(server));
  server.failNext(2, 503);
  auto ok = registry->schemaById(id, "");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(server.requestCount("GET /schemas/ids/"), 3u);

  server.failNext(10, 500);
  auto failed = registry->schemaById(id, "");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().code, RegistryErrc::kUnavailable);
  EXPECT_TRUE(failed.error().retryable());
  EXPECT_THAT(failed.error().message, HasSubstr("HTTP 500"));
  EXPECT_THAT(failed.error().message, HasSubstr("after 3 attempts"));
}

TEST(SchemaRestRegistry, SlowAnswersTimeOut) {
  TestRegistry server;
  const uint32_t id = server.add("payments-value", kPayment);
  server.setDelay(1500ms);
  auto config = configFor(server);
  config.timeout = 200ms;
  config.retries = 0;
  auto registry = clientFor(config);
  const auto start = std::chrono::steady_clock::now();
  auto slow = registry->schemaById(id, "");
  ASSERT_FALSE(slow.ok());
  EXPECT_EQ(slow.error().code, RegistryErrc::kUnavailable);
  EXPECT_THAT(slow.error().message, HasSubstr("no answer"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1400ms);
}

TEST(SchemaRestRegistry, NothingListeningIsUnavailable) {
  config::RegistryConfig config;
  config.name = "down-sr";
  {
    TestRegistry server;  // a port that was just free
    config.url = server.url();
  }
  config.retries = 1;
  config.retry_backoff = 5ms;
  auto registry = clientFor(config);
  auto answer = registry->subjectVersion("x", 0);
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.error().code, RegistryErrc::kUnavailable);
  EXPECT_THAT(answer.error().message, HasSubstr("registry 'down-sr'"));
  EXPECT_THAT(answer.error().message, HasSubstr("cannot connect"));
}

TEST(SchemaRestRegistry, InterruptEndsTheWaitBetweenRetries) {
  TestRegistry server;
  server.setDown(true);
  auto config = configFor(server);
  config.retries = 5;
  config.retry_backoff = 10000ms;
  auto registry = clientFor(config);
  std::thread stopper([&] {
    std::this_thread::sleep_for(100ms);
    registry->interrupt();
  });
  const auto start = std::chrono::steady_clock::now();
  auto answer = registry->subjectVersion("x", 0);
  stopper.join();
  EXPECT_FALSE(answer.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST(SchemaRestRegistry, BasicAuthFromFileIsSentAndNeverPrinted) {
  TestRegistry::Options options;
  options.basic_user = "causeway";
  options.basic_password = "s3cr3t-pa55";
  TestRegistry server(options);
  auto config = configFor(server);
  config.auth.basic_file = testing::writeTempFile("sr.cred", "causeway:s3cr3t-pa55\n");
  auto registry = clientFor(config);
  auto answer = registry->subjectVersion("x-value", 0);
  ASSERT_FALSE(answer.ok());
  EXPECT_EQ(answer.error().code, RegistryErrc::kNotFound) << answer.error().message;
  EXPECT_EQ(server.unauthorizedCount(), 0u);

  config.auth.basic_file = testing::writeTempFile("sr-wrong.cred", "causeway:wrong-pa55\n");
  auto wrong = clientFor(config)->subjectVersion("x-value", 0);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().code, RegistryErrc::kUnauthorized);
  EXPECT_THAT(wrong.error().message, Not(HasSubstr("wrong-pa55")));
  EXPECT_THAT(wrong.error().message, Not(HasSubstr("causeway:")));

  config.auth.basic_file = "/nonexistent/sr.cred";
  auto missing = clientFor(config)->subjectVersion("x-value", 0);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, RegistryErrc::kUnauthorized);
  EXPECT_THAT(missing.error().message, HasSubstr("/nonexistent/sr.cred"));
}

TEST(SchemaRestRegistry, BearerTokenFileIsReadAgainWhenItChanges) {
  TestRegistry::Options options;
  options.bearer_token = "token-one";
  TestRegistry server(options);
  auto config = configFor(server);
  config.auth.bearer_token_file = testing::writeTempFile("sr.token", "token-one\n");
  auto registry = clientFor(config);
  EXPECT_EQ(registry->subjectVersion("x-value", 0).error().code, RegistryErrc::kNotFound);

  // The file is rotated to a token the server does not accept (a new size makes the change
  // visible even within the file system's timestamp granularity): the next call sends it.
  std::ofstream(config.auth.bearer_token_file) << "token-two-rotated\n";
  auto rotated = registry->subjectVersion("x-value", 0);
  ASSERT_FALSE(rotated.ok());
  EXPECT_EQ(rotated.error().code, RegistryErrc::kUnauthorized) << rotated.error().message;
  EXPECT_EQ(server.unauthorizedCount(), 1u);
  EXPECT_THAT(rotated.error().message, Not(HasSubstr("token-")));
}

TEST(SchemaRestRegistry, UrlWithCredentialsIsRefusedWithoutEchoingThem) {
  config::RegistryConfig config;
  config.name = "leaky";
  config.url = "https://user:hunter2@sr.example:8081";
  auto created = RestRegistry::create(config);
  ASSERT_FALSE(created.ok());
  EXPECT_THAT(created.error().message, HasSubstr("must not contain credentials"));
  EXPECT_THAT(created.error().message, Not(HasSubstr("hunter2")));
  config.url = "ftp://sr.example";
  EXPECT_FALSE(RestRegistry::create(config).ok());
}

TEST(SchemaRestRegistry, ContextQualifiesSubjectsAndIdLookups) {
  TestRegistry server;
  const uint32_t id = server.add(":.east:payments-value", kPayment);
  auto config = configFor(server);
  config.context = ".east";
  auto registry = clientFor(config);
  auto by_id = registry->schemaById(id, "");
  ASSERT_TRUE(by_id.ok()) << by_id.error().message;
  auto latest = registry->subjectVersion("payments-value", 0);
  ASSERT_TRUE(latest.ok()) << latest.error().message;
  EXPECT_EQ(latest->subject, ":.east:payments-value");
  // Not in the default context.
  auto plain = clientFor(configFor(server));
  EXPECT_EQ(plain->schemaById(id, "").error().code, RegistryErrc::kNotFound);
  EXPECT_TRUE(plain->schemaById(id, ":.east:payments-value").ok());
}

TEST(SchemaRestRegistry, PathPrefixIsKept) {
  TestRegistry server;
  auto config = configFor(server);
  config.url = server.url() + "/apis/ccompat/v7/";
  auto registry = clientFor(config);
  (void)registry->subjectVersion("x", 0);
  EXPECT_EQ(server.requestCount("GET /apis/ccompat/v7/subjects/x/versions/latest"), 1u);
}

// A CA and a server certificate for 127.0.0.1, made by the openssl CLI.
bool makeCertificates(const std::string& dir) {
  const std::string script =
      "cd '" + dir +
      "' && "
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key "
      "-out ca.pem -days 2 "
      "-subj /CN=causeway-test-ca && "
      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout server.key -out "
      "server.csr "
      "-subj /CN=localhost && "
      "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext && "
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
      "-out server.pem -days 2 -extfile san.ext";
  return std::system(("(" + script + ") > '" + dir + "/openssl.log' 2>&1").c_str()) == 0;
}

TEST(SchemaRestRegistry, HttpsVerifiesTheRegistryWithTheCaFile) {
  const std::string dir =
      std::filesystem::path(testing::writeTempFile("tls-marker", "")).parent_path().string() +
      "/sr-tls";
  std::filesystem::create_directories(dir);
  ASSERT_TRUE(makeCertificates(dir)) << "openssl failed; see " << dir << "/openssl.log";
  TestRegistry::Options options;
  options.tls_cert_file = dir + "/server.pem";
  options.tls_key_file = dir + "/server.key";
  TestRegistry server(options);
  const uint32_t id = server.add("payments-value", kPayment);

  auto config = configFor(server);
  config.tls.ca_file = dir + "/ca.pem";
  auto trusted = clientFor(config)->schemaById(id, "");
  ASSERT_TRUE(trusted.ok()) << trusted.error().message;

  config.tls.ca_file = "/etc/ssl/certs/ca-certificates.crt";  // does not hold our test CA
  config.retries = 0;
  auto untrusted = clientFor(config)->schemaById(id, "");
  ASSERT_FALSE(untrusted.ok());
  EXPECT_EQ(untrusted.error().code, RegistryErrc::kUnavailable);
  EXPECT_THAT(untrusted.error().message, HasSubstr("TLS"));
}

}  // namespace
}  // namespace causeway::schema
