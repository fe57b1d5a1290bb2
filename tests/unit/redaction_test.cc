// Secrets are hidden wherever text leaves the process: the log sink, librdkafka's own log lines
// (a real client dumping its configuration) and its property errors, console output, the
// message of an uncaught exception, and metrics labels. (The control API: control_service_test.)

#include "common/log.h"
#include "common/output_guard.h"
#include "common/secrets.h"
#include "kafka/client_factory.h"
#include "monitoring/prometheus_text.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>
#include <stdexcept>
#include <thread>

namespace causeway {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

const std::string kSecret = "reference-value-8f3a";

class RedactionTest : public ::testing::Test {
protected:
  void SetUp() override {
    secrets::clearRegisteredSecretsForTesting();
    secrets::registerSecret(kSecret);
    previous_ = spdlog::default_logger();
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(log_);
    auto logger = std::make_shared<spdlog::logger>("redaction-test", redactingSink(sink));
    logger->set_pattern("%l %v");
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  }
  void TearDown() override {
    spdlog::set_default_logger(previous_);
    secrets::clearRegisteredSecretsForTesting();
  }

  std::ostringstream log_;
  std::shared_ptr<spdlog::logger> previous_;
};

TEST_F(RedactionTest, LogLinesHideRegisteredValuesAndSecretAssignments) {
  spdlog::info("cannot authenticate as {} to cluster 'east'", kSecret);
  spdlog::warn("config: sasl.password={} ssl.key.password=\"{}\"", "pw", "kp");
  spdlog::info("nothing to hide");
  EXPECT_EQ(log_.str(), "info cannot authenticate as *** to cluster 'east'\n"
                        "warning config: sasl.password=*** ssl.key.password=\"***\"\n"
                        "info nothing to hide\n");
}

TEST_F(RedactionTest, LibrdkafkaLogLinesAreRedacted) {
  kafka::logLibrdkafkaLine(3, "rdkafka#producer-1", "FAIL",
                           "sasl_plaintext://h:9092/1: SASL authentication error for " + kSecret);
  kafka::logLibrdkafkaLine(7, "rdkafka#producer-1", "CONF", "  sasl.password = shortpw");
  const std::string out = log_.str();
  EXPECT_THAT(out, HasSubstr("error librdkafka rdkafka#producer-1 FAIL: sasl_plaintext://h:9092/1: "
                             "SASL authentication error for ***"));
  EXPECT_THAT(out, HasSubstr("debug librdkafka rdkafka#producer-1 CONF:   sasl.password = ***"));
  EXPECT_THAT(out, Not(HasSubstr(kSecret)));
}

TEST_F(RedactionTest, ARealClientsConfigurationDumpHidesSecrets) {
  // given: a cluster whose properties hold a value that came from a reference (registered), and
  // librdkafka asked to dump its configuration into the log
  config::ClusterConfig cluster;
  cluster.name = "east";
  cluster.bootstrap = "127.0.0.1:1";
  // (librdkafka itself hides the properties it knows to be sensitive, sasl.* among them.)
  cluster.properties = {{"debug", "conf"}, {"client.id", kSecret}};
  kafka::ClientSpec spec;
  spec.type = RD_KAFKA_PRODUCER;
  spec.cluster = &cluster;

  // when
  auto client = kafka::makeClient(spec);
  ASSERT_TRUE(client.ok()) << client.error().message;
  client->reset();

  // then: the dump is in the log, without the value
  const std::string out = log_.str();
  EXPECT_THAT(out, HasSubstr("client.id = ***")) << out;
  EXPECT_THAT(out, Not(HasSubstr(kSecret)));
}

TEST_F(RedactionTest, PropertyErrorsHideTheRefusedValue) {
  config::ClusterConfig cluster;
  cluster.name = "east";
  cluster.bootstrap = "127.0.0.1:1";
  cluster.properties = {{"security.protocol", kSecret}};
  kafka::ClientSpec spec;
  spec.cluster = &cluster;
  auto client = kafka::makeClient(spec);
  ASSERT_FALSE(client.ok());
  EXPECT_THAT(client.error().message, HasSubstr("property 'security.protocol'"));
  EXPECT_THAT(client.error().message, Not(HasSubstr(kSecret)));
  // a secret-named property's value is hidden even when too short to be registered
  EXPECT_EQ(kafka::redactPropertyError(
                "sasl.password", "pw",
                "Invalid value \"pw\" for configuration property \"sasl.password\""),
            "Invalid value \"***\" for configuration property \"sasl.password\"");
  EXPECT_EQ(kafka::redactPropertyError("acks", "al",
                                       "Invalid value \"al\" for configuration property \"acks\""),
            "Invalid value \"al\" for configuration property \"acks\"");
}

TEST_F(RedactionTest, ConsoleLinesAreRedactedEvenWhenWrittenInPieces) {
  std::ostringstream target;
  {
    RedactingStreambuf buffer(target.rdbuf());
    std::ostream out(&buffer);
    out << "login " << kSecret.substr(0, 5) << std::flush;
    EXPECT_EQ(target.str(), "");  // held until the line ends
    out << kSecret.substr(5) << " failed\n"
        << "sasl.password="
        << "pw"
        << "\n";
    out << "tail without line end " << kSecret;
  }  // the destructor passes the rest on
  EXPECT_EQ(target.str(), "login *** failed\nsasl.password=***\ntail without line end ***");
}

TEST_F(RedactionTest, AnUncaughtExceptionsMessageIsRedacted) {
  const auto error = std::make_exception_ptr(std::runtime_error("cannot use " + kSecret));
  EXPECT_EQ(fatalMessage(error), "causeway: fatal: uncaught exception: cannot use ***\n");
  EXPECT_EQ(fatalMessage(nullptr), "causeway: fatal: terminated without an exception\n");
}

TEST_F(RedactionTest, TheTerminateHandlerPrintsTheRedactedMessage) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        const OutputGuard guard;
        // An exception leaving a thread's function calls std::terminate with it in flight.
        std::thread([] { throw std::runtime_error("boom with " + kSecret + " end"); }).join();
      },
      "causeway: fatal: uncaught exception: boom with \\*\\*\\* end");
}

TEST_F(RedactionTest, MetricsLabelsNeverShowASecret) {
  monitoring::ExpositionWriter writer;
  writer.family("causeway_test_total", monitoring::MetricType::kCounter, "Test.")
      .add({{"link", "east-" + kSecret}}, uint64_t{1});
  auto text = writer.render();
  ASSERT_TRUE(text.ok()) << text.error().message;
  EXPECT_EQ(*text, "# HELP causeway_test_total Test.\n# TYPE causeway_test_total counter\n"
                   "causeway_test_total{link=\"east-***\"} 1\n");
}

}  // namespace
}  // namespace causeway
