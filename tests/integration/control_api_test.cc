// The control API against real replication: a Worker in-process behind a ControlServer, every
// method called through the client `causeway ctl` uses, and `causeway run --control-listen`
// driven by the real `causeway ctl` binary.

#include "config/config_loader.h"
#include "control/control_server.h"
#include "control/ctl_client.h"
#include "replicator/worker.h"
#include "tests/support/test_support.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <fstream>

namespace causeway {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using testing::freePort;
using testing::makeConfig;
using testing::produceRecords;
using testing::startCluster;
using testing::waitFor;

const std::string kAdmin = "admin-token-for-the-integration-test";
const std::string kRead = "read-token-for-the-integration-test";
const char* const kSecret = "s3cret-sasl-pa55word";

// The config as a `causeway run` user would write it: through YAML and the loader, so a reload
// with the same text finds the link unchanged.
config::Config viaYaml(const config::Config& config) {
  auto loaded = config::loadConfigString(testing::toYaml(config), "test.yaml");
  EXPECT_TRUE(loaded.ok()) << (loaded.errors.empty() ? "" : loaded.errors.front().str());
  return loaded.ok() ? *loaded.config : config;
}

class ControlApiTest : public ::testing::Test {
protected:
  void startWorker(const config::Config& config) {
    worker_ = std::make_unique<replicator::Worker>(config);
    ASSERT_TRUE(worker_->start().ok());
    target_ = std::make_unique<control::WorkerControlTarget>(*worker_);
    control::ControlServer::Options options;
    options.listen = "127.0.0.1:0";
    options.admin_token_file = testing::writeTempFile("admin.token", kAdmin + "\n");
    options.read_token_file = testing::writeTempFile("read.token", kRead + "\n");
    auto server = control::ControlServer::start(options);
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_ = std::move(*server);
    server_->setTarget(target_.get());
  }

  std::unique_ptr<control::ControlClient> client(const std::string& token) {
    control::ClientOptions options;
    options.address = server_->address();
    options.timeout = 60s;
    if (!token.empty()) {
      options.token_file = testing::writeTempFile("client.token", token + "\n");
    }
    auto c = control::ControlClient::connect(options);
    EXPECT_TRUE(c.ok()) << c.error().message;
    return c.ok() ? std::move(*c) : nullptr;
  }

  // GetLinkStatus until `condition` holds; returns the last answer.
  v1::GetLinkStatusResponse statusUntil(
      control::ControlClient& c, const std::string& link,
      const std::function<bool(const v1::GetLinkStatusResponse&)>& condition,
      std::chrono::milliseconds timeout) {
    v1::GetLinkStatusResponse last;
    waitFor(
        [&] {
          auto status = c.getLinkStatus(link);
          if (!status.ok()) {
            return false;
          }
          last = *status;
          return condition(last);
        },
        timeout, 200ms);
    return last;
  }

  void TearDown() override {
    if (server_) {
      server_->stop();
    }
    if (worker_) {
      worker_->stop(5s);
    }
  }

  std::unique_ptr<replicator::Worker> worker_;
  std::unique_ptr<control::WorkerControlTarget> target_;
  std::unique_ptr<control::ControlServer> server_;
};

bool caughtUp(const v1::GetLinkStatusResponse& s, uint64_t records) {
  return s.link().records_replicated() == records && s.link().offset_lag_complete() &&
         s.link().offset_lag() == 0 && s.partitions_size() > 0;
}

TEST_F(ControlApiTest, PausedLinkReportsPausedAndLagsThenResumeCatchesUp) {
  // given: a link that replicated 3 x 100 records, with its password in the source properties
  auto source = startCluster("source", 1, {{"orders", 3}});
  auto target = startCluster("target", 1);
  ASSERT_TRUE(source && target);
  ASSERT_TRUE(produceRecords(source->bootstrap(), "orders", 3, 100));
  auto config = makeConfig(*source, *target, {"orders"});
  config.clusters["source"].properties["sasl.username"] = "causeway";
  config.clusters["source"].properties["sasl.password"] = kSecret;
  startWorker(config);
  auto admin = client(kAdmin);
  auto status = statusUntil(*admin, "test-link", [](const auto& s) { return caughtUp(s, 300); },
                            60s);
  ASSERT_TRUE(caughtUp(status, 300)) << control::toJson(status);
  EXPECT_EQ(status.link().state(), v1::LINK_STATE_RUNNING);
  EXPECT_EQ(status.partitions_size(), 3);

  // then: read-only callers see it; nobody unauthenticated does; read-only cannot pause
  auto reader = client(kRead);
  auto links = reader->listLinks();
  ASSERT_TRUE(links.ok()) << links.error().message;
  ASSERT_EQ(links->links_size(), 1);
  EXPECT_EQ(links->links(0).name(), "test-link");
  EXPECT_EQ(links->links(0).records_replicated(), 300u);
  EXPECT_EQ(control::toJson(*links).find(kSecret), std::string::npos);
  EXPECT_THAT(client("")->listLinks().error().message, HasSubstr("UNAUTHENTICATED"));
  EXPECT_THAT(client("wrong-token-wrong-token-wrong")->getLinkStatus("test-link").error().message,
              HasSubstr("UNAUTHENTICATED"));
  EXPECT_THAT(reader->pauseLink("test-link").error().message, HasSubstr("PERMISSION_DENIED"));
  EXPECT_THAT(admin->getLinkStatus("nope").error().message, HasSubstr("NOT_FOUND"));
  EXPECT_THAT(admin->pauseLink("nope").error().message, HasSubstr("NOT_FOUND"));
  EXPECT_THAT(admin->resumeLink("nope").error().message, HasSubstr("NOT_FOUND"));

  // when: paused, and more records are produced
  auto paused = admin->pauseLink("test-link");
  ASSERT_TRUE(paused.ok()) << paused.error().message;
  EXPECT_EQ(paused->link().state(), v1::LINK_STATE_PAUSED);
  ASSERT_TRUE(produceRecords(source->bootstrap(), "orders", 3, 50, 100));

  // then: it stays paused, its lag grows to what was produced and nothing more is replicated
  status = statusUntil(*admin, "test-link",
                       [](const auto& s) { return s.link().offset_lag() == 150; }, 30s);
  EXPECT_EQ(status.link().offset_lag(), 150) << control::toJson(status);
  EXPECT_EQ(status.link().state(), v1::LINK_STATE_PAUSED);
  std::this_thread::sleep_for(1s);  // a paused link must not move on its own
  status = *admin->getLinkStatus("test-link");
  EXPECT_EQ(status.link().records_replicated(), 300u);
  EXPECT_EQ(status.link().offset_lag(), 150);

  // when: resumed; then: it catches up
  auto resumed = admin->resumeLink("test-link");
  ASSERT_TRUE(resumed.ok()) << resumed.error().message;
  EXPECT_EQ(resumed->link().state(), v1::LINK_STATE_RUNNING);
  status = statusUntil(*admin, "test-link", [](const auto& s) { return caughtUp(s, 450); }, 60s);
  EXPECT_TRUE(caughtUp(status, 450)) << control::toJson(status);
  EXPECT_EQ(testing::totalRecords(target->bootstrap(), "orders", 3), 450);
}

TEST_F(ControlApiTest, ReloadAddsALinkAndLeavesTheUnchangedOneRunning) {
  // given: one running link that replicated 100 records
  auto source = startCluster("source", 1, {{"orders", 1}, {"payments", 1}});
  auto target = startCluster("target", 1);
  ASSERT_TRUE(source && target);
  ASSERT_TRUE(produceRecords(source->bootstrap(), "orders", 1, 100));
  ASSERT_TRUE(produceRecords(source->bootstrap(), "payments", 1, 40));
  const auto config = viaYaml(makeConfig(*source, *target, {"orders"}));
  startWorker(config);
  auto admin = client(kAdmin);
  ASSERT_TRUE(caughtUp(
      statusUntil(*admin, "test-link", [](const auto& s) { return caughtUp(s, 100); }, 60s),
      100));

  // when: a config with errors is sent; then: every error with line:column, nothing changes
  v1::ReloadConfigRequest bad;
  bad.set_name("bad.yaml");
  bad.set_yaml(testing::toYaml(config) + "  - name: broken\n    source: nowhere\n");
  auto refused = admin->reloadConfig(bad);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().message, HasSubstr("INVALID_ARGUMENT"));
  EXPECT_THAT(refused.error().message, ::testing::ContainsRegex("bad\\.yaml:[0-9]+:[0-9]+: "));
  EXPECT_EQ(admin->listLinks()->links_size(), 1);

  // when: the same link plus a new one for "payments"
  auto next = config;
  auto second = next.links[0];
  second.name = "payments-link";
  second.topics.include = {"payments"};
  next.links.push_back(second);
  v1::ReloadConfigRequest good;
  good.set_path(testing::writeTempFile("next.yaml", testing::toYaml(next)));
  auto reloaded = admin->reloadConfig(good);
  ASSERT_TRUE(reloaded.ok()) << reloaded.error().message;
  EXPECT_TRUE(reloaded->applied());
  EXPECT_THAT(reloaded->added(), ::testing::ElementsAre("payments-link"));
  EXPECT_THAT(reloaded->unchanged(), ::testing::ElementsAre("test-link"));
  EXPECT_TRUE(reloaded->removed().empty());
  EXPECT_TRUE(reloaded->restarted().empty());

  // then: the unchanged link kept its counters and keeps counting; the new one replicates
  auto kept = admin->getLinkStatus("test-link");
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->link().records_replicated(), 100u) << "the unchanged link was restarted";
  ASSERT_TRUE(produceRecords(source->bootstrap(), "orders", 1, 25, 100));
  EXPECT_TRUE(caughtUp(
      statusUntil(*admin, "test-link", [](const auto& s) { return caughtUp(s, 125); }, 60s),
      125));
  EXPECT_TRUE(caughtUp(
      statusUntil(*admin, "payments-link", [](const auto& s) { return caughtUp(s, 40); }, 60s),
      40));
  EXPECT_EQ(testing::totalRecords(target->bootstrap(), "payments", 1), 40);
}

TEST_F(ControlApiTest, TranslateOffsetsAndFailoverThroughTheApi) {
  // given: an exactly-once link that replicated 60 records and a group that read 25 of them
  auto source = startCluster("source", 1, {{"orders", 1}});
  auto target = startCluster("target", 1);
  ASSERT_TRUE(source && target);
  ASSERT_TRUE(produceRecords(source->bootstrap(), "orders", 1, 60));
  auto config = makeConfig(*source, *target, {"orders"});
  config.links[0].delivery = config::DeliveryMode::kExactlyOnce;
  startWorker(config);
  auto admin = client(kAdmin);
  ASSERT_TRUE(caughtUp(
      statusUntil(*admin, "test-link", [](const auto& s) { return caughtUp(s, 60); }, 60s), 60));
  ASSERT_TRUE(testing::setGroupOffsets(source->bootstrap(), "billing", "orders", {25}));

  // then: a read-only caller translates the group's position exactly (the target was empty)
  auto reader = client(kRead);
  auto translated = reader->translateOffsets("test-link", "billing");
  ASSERT_TRUE(translated.ok()) << translated.error().message;
  ASSERT_EQ(translated->partitions_size(), 1);
  EXPECT_EQ(translated->partitions(0).source_offset(), 25);
  EXPECT_EQ(translated->partitions(0).target_offset(), 25);
  EXPECT_EQ(translated->partitions(0).not_yet_replicated(), 0);
  EXPECT_THAT(reader->translateOffsets("test-link", "never-committed").error().message,
              HasSubstr("NOT_FOUND"));
  EXPECT_THAT(reader->translateOffsets("nope", "billing").error().message,
              HasSubstr("NOT_FOUND"));

  // when: a dry run, then the failover of the group
  v1::FailoverRequest request;
  request.set_link("test-link");
  request.add_groups("billing");
  request.set_dry_run(true);
  std::vector<v1::FailoverProgress> events;
  auto dry = admin->failover(request, [&](const auto& p) { events.push_back(p); });
  ASSERT_TRUE(dry.ok()) << dry.message();
  ASSERT_EQ(events.size(), 2u);
  ASSERT_TRUE(events[0].has_plan());
  EXPECT_EQ(events[0].plan().total_lag(), 0);
  ASSERT_EQ(events[0].plan().groups_size(), 1);
  EXPECT_EQ(events[0].plan().groups(0).offsets(0).target_offset(), 25);
  EXPECT_EQ(events[1].report().outcome(), v1::FailoverReport::OUTCOME_DRY_RUN);
  EXPECT_THAT(reader->failover(request, [](const auto&) {}).message(),
              HasSubstr("PERMISSION_DENIED"));

  request.set_dry_run(false);
  events.clear();
  auto done = admin->failover(request, [&](const auto& p) { events.push_back(p); });
  ASSERT_TRUE(done.ok()) << done.message();
  bool moved = false;
  for (const auto& e : events) {
    moved = moved || (e.has_group_move() && e.group_move().group() == "billing" &&
                      e.group_move().committed());
  }
  EXPECT_TRUE(moved);
  ASSERT_TRUE(events.back().has_report());
  EXPECT_EQ(events.back().report().outcome(), v1::FailoverReport::OUTCOME_DONE)
      << control::toJson(events.back());

  // then: the group's committed offset on the target is the translated one
  auto reverse = config;
  std::swap(reverse.links[0].source, reverse.links[0].target);
  auto on_target = replicator::translateGroupOffsets(
      reverse, "test-link", "billing", 30s, replicator::StateUse::kIgnored);
  ASSERT_TRUE(on_target.ok()) << on_target.error().message;
  EXPECT_EQ(on_target->front().source_offset, 25);
  // and the link stopped through its failover mark (discovery_interval is 1 s here)
  auto stopped = statusUntil(
      *admin, "test-link",
      [](const auto& s) { return s.link().state() == v1::LINK_STATE_FAILED_OVER; }, 30s);
  EXPECT_EQ(stopped.link().state(), v1::LINK_STATE_FAILED_OVER) << control::toJson(stopped);
  EXPECT_THAT(stopped.link().error(), HasSubstr("failed over at"));

  request.set_link("nope");
  EXPECT_THAT(admin->failover(request, [](const auto&) {}).message(), HasSubstr("NOT_FOUND"));
}


// Runs the binary with `args`; returns its exit code and stdout (stderr in `err`).
int runCtl(const std::vector<std::string>& args, std::string& out, std::string& err) {
  std::string command = CAUSEWAY_BINARY;
  for (const auto& a : args) {
    command += " '" + a + "'";
  }
  const auto out_path = testing::writeTempFile("ctl.out", "");
  const auto err_path = testing::writeTempFile("ctl.err", "");
  const int status = std::system(
      ("timeout 60 " + command + " > '" + out_path + "' 2> '" + err_path + "'").c_str());
  std::ifstream o(out_path);
  out.assign(std::istreambuf_iterator<char>(o), std::istreambuf_iterator<char>());
  std::ifstream e(err_path);
  err.assign(std::istreambuf_iterator<char>(e), std::istreambuf_iterator<char>());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

TEST(ControlBinary, CtlTalksToCausewayRun) {
  // given: `causeway run --control-listen` with a token
  auto source = startCluster("source", 1, {{"orders", 2}});
  auto target = startCluster("target", 1);
  ASSERT_TRUE(source && target);
  ASSERT_TRUE(produceRecords(source->bootstrap(), "orders", 2, 50));
  const auto config_path =
      testing::writeTempFile("run.yaml", testing::toYaml(makeConfig(*source, *target, {"orders"})));
  const auto token_path = testing::writeTempFile("run.token", kAdmin + "\n");
  const std::string address = "127.0.0.1:" + std::to_string(freePort());
  auto argv = testing::runCommand(config_path);
  for (const char* a : {"--control-listen", address.c_str(), "--control-token-file",
                        token_path.c_str()}) {
    argv.emplace_back(a);
  }
  testing::ChildProcess worker(argv, testing::writeTempFile("run.log", ""));

  // when: `causeway ctl links --json` until the link has replicated everything
  nlohmann::json links;
  std::string out;
  std::string err;
  const bool replicated = waitFor(
      [&] {
        if (runCtl({"ctl", "--address", address, "--token-file", token_path, "--json", "links"},
                   out, err) != 0) {
          return false;
        }
        links = nlohmann::json::parse(out, nullptr, false);
        return !links.is_discarded() && links["links"].size() == 1 &&
               links["links"][0]["records_replicated"] == "100";  // uint64 is a JSON string
      },
      60s, 500ms);

  // then: the JSON describes the link; the table too; errors exit 1 with the server's message
  ASSERT_TRUE(replicated) << out << err << "\n" << worker.log();
  EXPECT_EQ(links["links"][0]["name"], "test-link");
  EXPECT_EQ(links["links"][0]["state"], "LINK_STATE_RUNNING");
  EXPECT_EQ(links["links"][0]["offset_lag"], "0");
  EXPECT_EQ(runCtl({"ctl", "--address", address, "--token-file", token_path, "links"}, out, err),
            0);
  EXPECT_THAT(out, HasSubstr("test-link"));
  EXPECT_THAT(out, HasSubstr("running"));
  EXPECT_EQ(runCtl({"ctl", "--address", address, "--token-file", token_path, "status", "nope"},
                   out, err),
            1);
  EXPECT_THAT(err, HasSubstr("NOT_FOUND: unknown link 'nope'"));
  EXPECT_EQ(runCtl({"ctl", "--address", address, "links"}, out, err), 1);
  EXPECT_THAT(err, HasSubstr("UNAUTHENTICATED"));

  worker.signal(SIGTERM);
  EXPECT_EQ(worker.wait(30s), 0) << worker.log();
}

} // namespace
} // namespace causeway
