// Secrets by reference through the real binary: `causeway check-config` and `causeway run` with
// cluster properties that come from an environment variable, a mounted-style folder (one file
// per key, as a Kubernetes Secret is mounted) and a Java-properties file. The worker replicates,
// a rotated file is picked up by `causeway ctl reload`, and no secret value shows in check-config's
// output, the worker's log (librdkafka dumping its configuration included), `causeway ctl`'s
// answers, /metrics or /readyz. A missing variable stops `causeway run` with file:line:col.

#include "tests/support/test_support.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace causeway {
namespace {

using namespace std::chrono_literals;
using testing::freePort;
using testing::ChildProcess;
using ::testing::HasSubstr;
using testing::startCluster;
using testing::waitFor;

constexpr int32_t kPartitions = 2;
constexpr uint64_t kPerPartition = 100;


// Runs the binary with `args` (60 s at most); returns the exit code, stdout+stderr in `output`.
int runBinary(const std::vector<std::string>& args, std::string& output) {
  std::string command = "timeout 60 " + std::string(CAUSEWAY_BINARY);
  for (const auto& a : args) {
    command += " '" + a + "'";
  }
  const auto out_path = testing::writeTempFile("binary.out", "");
  const int status = std::system((command + " > '" + out_path + "' 2>&1").c_str());
  std::ifstream in(out_path);
  output.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

std::string httpGet(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(10, 0);
  auto res = client.Get(path);
  return res ? res->body : "";
}

void writeFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path) << text;
}

class SecretReferencesTest : public ::testing::Test {
protected:
  void SetUp() override {
    const std::string tag = std::to_string(::getpid());
    dir_ = std::filesystem::path(testing::writeTempFile("secrets.marker", "")).parent_path() /
           ("secrets-" + tag);
    std::filesystem::create_directories(dir_ / "kafka-secret");
    // Each value is unique to this run, so finding it anywhere is a leak.
    env_service_ = "env-service-name-" + tag;
    folder_user_ = "folder-user-" + tag;
    folder_password_ = "folder-pa55word-" + tag;
    file_password_ = "file-pa55word-" + tag;
    rotated_password_ = "rotated-pa55word-" + tag;
    ::setenv("CW_IT_KERBEROS_SERVICE", env_service_.c_str(), 1);
    writeFile(dir_ / "kafka-secret" / "username", folder_user_ + "\n");
    writeFile(dir_ / "kafka-secret" / "password", folder_password_ + "\n");
    writeFile(dir_ / "client.properties",
              "sasl.username=target-user\nsasl.password=" + file_password_ + "\n");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // makeConfig() with properties that are all references. librdkafka accepts and ignores SASL
  // settings on a PLAINTEXT connection; `debug: conf` makes it log every client's configuration,
  // which echoes sasl.kerberos.service.name (not a property librdkafka itself hides).
  std::string configYaml(const embedded::EmbeddedCluster& source,
                         const embedded::EmbeddedCluster& target) const {
    auto config = testing::makeConfig(source, target, {"orders"});
    const std::string folder = (dir_ / "kafka-secret").string();
    config.clusters["source"].properties = {
        {"debug", "conf"},
        {"sasl.kerberos.service.name", "${env:CW_IT_KERBEROS_SERVICE}"},
        {"sasl.username", "${directory:" + folder + ":username}"},
        {"sasl.password", "${directory:" + folder + ":password}"},
    };
    config.clusters["target"].properties = {
        {"sasl.username", "${file:" + (dir_ / "client.properties").string() + ":sasl.username}"},
        {"sasl.password", "${file:" + (dir_ / "client.properties").string() + ":sasl.password}"},
    };
    return testing::toYaml(config);
  }

  void expectNoSecret(const std::string& where, const std::string& text) const {
    for (const auto* secret :
         {&env_service_, &folder_user_, &folder_password_, &file_password_, &rotated_password_}) {
      EXPECT_EQ(text.find(*secret), std::string::npos) << where << " shows " << *secret << ":\n"
                                                       << text;
    }
  }

  std::filesystem::path dir_;
  std::string env_service_;
  std::string folder_user_;
  std::string folder_password_;
  std::string file_password_;
  std::string rotated_password_;
};

TEST_F(SecretReferencesTest, WorkerWithReferencedCredentialsReplicatesAndNeverShowsThem) {
  // given: records in the source and a configuration whose credentials are references
  auto source = startCluster("source", 1, {{"orders", kPartitions}});
  auto target = startCluster("target", 1);
  ASSERT_TRUE(source && target);
  ASSERT_TRUE(testing::produceRecords(source->bootstrap(), "orders", kPartitions, kPerPartition));
  const auto config_path = testing::writeTempFile("secrets.yaml", configYaml(*source, *target));

  // when: the configuration is checked, then run with the control API and metrics
  std::string checked;
  const int check_code = runBinary({"check-config", config_path}, checked);
  const std::string control = "127.0.0.1:" + std::to_string(freePort());
  const int metrics_port = freePort();
  auto argv = testing::runCommand(config_path);
  for (size_t i = 0; i + 1 < argv.size(); ++i) {
    if (argv[i] == "--metrics-listen") {
      argv[i + 1] = "127.0.0.1:" + std::to_string(metrics_port);
    }
    if (argv[i] == "--log-level") {
      argv[i + 1] = "debug";  // librdkafka's configuration dumps are debug lines
    }
  }
  argv.insert(argv.end(), {"--control-listen", control});
  ChildProcess worker(argv, testing::writeTempFile("secrets-worker.log", ""));
  std::string status;
  const bool replicated = waitFor(
      [&] {
        if (runBinary({"ctl", "--address", control, "--json", "status", "test-link"}, status) !=
            0) {
          return false;
        }
        auto json = nlohmann::json::parse(status, nullptr, false);
        return !json.is_discarded() &&
               json["link"]["records_replicated"] ==
                   std::to_string(kPartitions * kPerPartition);  // uint64 is a JSON string
      },
      60s, 500ms);
  const std::string metrics = httpGet(metrics_port, "/metrics");
  const std::string readyz = httpGet(metrics_port, "/readyz");

  // and: the mounted password file changes and the worker is told to reload
  writeFile(dir_ / "kafka-secret" / "password", rotated_password_ + "\n");
  std::string reloaded;
  const int reload_code = runBinary(
      {"ctl", "--address", control, "--json", "reload", "--server-path", config_path}, reloaded);
  std::string after_reload;
  const bool running_again = waitFor(
      [&] {
        return runBinary({"ctl", "--address", control, "--json", "status", "test-link"},
                         after_reload) == 0 &&
               after_reload.find("LINK_STATE_RUNNING") != std::string::npos;
      },
      30s, 500ms);
  worker.signal(SIGTERM);
  const auto exit_code = worker.wait(60s);
  const std::string log = worker.log();

  // then: it replicated with the resolved credentials and picked up the rotated file
  EXPECT_EQ(check_code, 0) << checked;
  EXPECT_THAT(checked, HasSubstr(": valid"));
  ASSERT_TRUE(replicated) << status << "\n" << log;
  EXPECT_EQ(reload_code, 0) << reloaded;
  const auto reload_json = nlohmann::json::parse(reloaded, nullptr, false);
  ASSERT_FALSE(reload_json.is_discarded()) << reloaded;
  // restarted: its source cluster's properties changed with the file
  EXPECT_EQ(reload_json["restarted"], nlohmann::json::array({"test-link"})) << reloaded;
  EXPECT_TRUE(running_again) << after_reload;
  ASSERT_TRUE(exit_code.has_value()) << log;
  EXPECT_EQ(*exit_code, 0) << log;
  // and: librdkafka did echo the configuration, hidden
  EXPECT_THAT(log, HasSubstr("sasl.kerberos.service.name = ***"));
  // and: no secret value anywhere a person or a program could read it
  expectNoSecret("check-config", checked);
  expectNoSecret("ctl status", status + after_reload);
  expectNoSecret("ctl reload", reloaded);
  expectNoSecret("/metrics", metrics);
  expectNoSecret("/readyz", readyz);
  expectNoSecret("the worker's log", log);
}

TEST_F(SecretReferencesTest, AMissingVariableStartsNothingAndSaysWhere) {
  // given: a configuration that names an unset variable on line 6
  ::unsetenv("CW_IT_NOT_SET");
  const auto config_path = testing::writeTempFile("missing.yaml", R"(clusters:
  east:
    bootstrap: 127.0.0.1:1
    properties:
      sasl.username: alice
      sasl.password: ${env:CW_IT_NOT_SET}
  west: {bootstrap: 127.0.0.1:2}
links:
  - {name: l, source: east, target: west, topics: {include: [orders]}}
)");

  // when
  std::string checked;
  const int check_code = runBinary({"check-config", config_path}, checked);
  ChildProcess run(testing::runCommand(config_path), testing::writeTempFile("missing.log", ""));
  const auto run_code = run.wait(30s);

  // then: both refuse it, naming the place and the variable; nothing started
  const std::string where = config_path + ":6:22: clusters.east.properties.sasl.password: "
                                          "'${env:CW_IT_NOT_SET}': the environment variable "
                                          "CW_IT_NOT_SET is not set";
  EXPECT_EQ(check_code, 1);
  EXPECT_THAT(checked, HasSubstr(where));
  ASSERT_TRUE(run_code.has_value()) << run.log();
  EXPECT_EQ(*run_code, 1);
  EXPECT_THAT(run.log(), HasSubstr(where));
  EXPECT_THAT(run.log(), HasSubstr("nothing started"));
}

}  // namespace
}  // namespace causeway
