// The control service over gRPC, in-process, against a hand-written fake worker: request
// validation, error codes, tokens, TLS, redaction and the failover stream. No Kafka.

#include "control/control_server.h"
#include "control/ctl_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

namespace causeway::control {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

const std::string kAdmin = "admin-token-0123456789abcdef";
const std::string kRead = "read-token-0123456789abcdef";
const std::string kSecret = "pa55word-never-shown";

class FakeFailover : public FailoverSteps {
public:
  explicit FakeFailover(std::vector<int64_t> lags) : lags_(std::move(lags)) {}
  Status open() override { return {}; }
  Result<replicator::FailoverPlan> plan(std::chrono::milliseconds) override {
    replicator::FailoverPlan plan;
    plan.link = "east-west";
    plan.total_lag = lags_[std::min(step_, lags_.size() - 1)];
    replicator::GroupPlan group;
    group.group = "billing";
    group.rpo_records = plan.total_lag;
    plan.groups.push_back(group);
    return plan;
  }
  Result<replicator::FailoverPlan>
  drain(std::chrono::milliseconds timeout,
        const std::function<void(const replicator::FailoverPlan&)>& progress) override {
    ++step_;
    auto p = plan(timeout);
    progress(*p);
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(timeout, 20ms));
    return p;
  }
  std::vector<replicator::GroupSyncOutcome> moveGroups(std::chrono::milliseconds,
                                                       bool force) override {
    replicator::GroupSyncOutcome moved;
    moved.group = "billing";
    moved.committed = true;
    replicator::GroupSyncOutcome refused;
    refused.group = "audit";
    refused.problem = "active members on the target (login " + kSecret + ")";
    return move_all_ ? std::vector{moved} : std::vector{moved, refused};
  }
  Status markFailedOver(bool forced, int64_t left_behind, const std::string& by,
                        std::chrono::milliseconds) override {
    marks_->push_back(std::string(forced ? "forced " : "") + std::to_string(left_behind) + " by " +
                      by);
    return {};
  }
  bool move_all_ = true;
  std::vector<std::string>* marks_ = nullptr;

private:
  std::vector<int64_t> lags_;
  size_t step_ = 0;
};

// A worker with two links: "east-west" running, "north-south" failed.
class FakeTarget : public ControlTarget {
public:
  FakeTarget() {
    config_.clusters["east"].name = "east";
    config_.clusters["east"].properties["sasl.password"] = kSecret;
    config_.clusters["west"].name = "west";
    for (const char* name : {"north-south", "east-west"}) {
      config::LinkConfig link;
      link.name = name;
      link.source = "east";
      link.target = "west";
      config_.links.push_back(link);
    }
    config_.links[1].delivery = config::DeliveryMode::kExactlyOnce;
  }

  std::vector<replicator::LinkStatus> statuses() const override {
    std::lock_guard lock(mu_);
    replicator::LinkStatus a;
    a.name = "east-west";
    a.source_cluster = "east";
    a.target_cluster = "west";
    a.state = paused_ ? replicator::LinkState::kPaused : replicator::LinkState::kRunning;
    a.records_replicated = 1200;
    a.last_error = "client:_TRANSPORT with sasl " + kSecret;
    for (int32_t p = 0; p < 2; ++p) {
      replicator::PartitionStatus ps;
      ps.source_topic = ps.target_topic = "orders";
      ps.partition = p;
      ps.next_offset = 100;
      ps.high_watermark = 100 + p * 5;
      ps.lag = p * 5;
      ps.time_lag_ms = p * 1500;
      a.partitions.push_back(ps);
    }
    a.errors["client:_TRANSPORT"] = 3;
    a.topic_notes["orders"] = "paused (ID translation): value schema id 7: id 7 is incompatible "
                              "with subject orders-value in registry 'west-sr' (" +
                              kSecret + ")";
    a.updated_at = std::chrono::steady_clock::now();
    replicator::LinkStatus b;
    b.name = "north-south";
    b.state = replicator::LinkState::kFailed;
    b.error = "fatal: producer fenced" + error_suffix_;
    return {a, b};
  }
  config::Config currentConfig() const override {
    std::lock_guard lock(mu_);
    return config_;
  }
  Status pauseLink(const std::string& link) override {
    if (link == "north-south") {
      return Error{"link 'north-south' is failed, not running"};
    }
    std::lock_guard lock(mu_);
    paused_ = true;
    return {};
  }
  Status resumeLink(const std::string& link) override {
    std::lock_guard lock(mu_);
    paused_ = false;
    return {};
  }
  Result<replicator::Worker::ReloadResult> reload(config::Config config) override {
    std::lock_guard lock(mu_);
    replicator::Worker::ReloadResult result;
    for (const auto& link : config.links) {
      (config_.findLink(link.name) ? result.unchanged : result.added).push_back(link.name);
    }
    config_ = std::move(config);
    ++reloads_;
    return result;
  }
  Result<std::vector<replicator::PartitionTranslation>>
  translateOffsets(const config::Config&, const std::string& link, const std::string& group,
                   std::chrono::milliseconds) override {
    if (group == "unreachable") {
      return Error{"cluster 'east' (127.0.0.1:1) unreachable: no broker answered within 10 ms"};
    }
    if (link == "north-south") {
      return Error{"link 'north-south' is at_least_once: its target may hold a record twice"};
    }
    replicator::PartitionTranslation t;
    t.source_topic = t.target_topic = "orders";
    t.source_offset = 42;
    t.target_offset = 40;
    t.target_end = 90;
    t.not_yet_replicated = 0;
    return std::vector{t};
  }
  std::unique_ptr<FailoverSteps> failover(config::Config, const std::string&,
                                          std::vector<std::string>) override {
    auto steps = std::make_unique<FakeFailover>(failover_lags_);
    steps->move_all_ = failover_moves_all_;
    steps->marks_ = &failover_marks_;
    return steps;
  }
  std::vector<std::string> failover_marks_;  // markFailedOver calls

  std::vector<int64_t> failover_lags_{30, 10, 0};
  std::string error_suffix_;  // appended to north-south's error
  bool failover_moves_all_ = true;
  int reloads_ = 0;

private:
  mutable std::mutex mu_;
  config::Config config_;
  bool paused_ = false;
};

std::string tempDir() {
  const auto dir =
      std::filesystem::temp_directory_path() / ("causeway-control-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir.string();
}

std::string writeFile(const std::string& name, const std::string& text) {
  const std::string path = tempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

class ControlServiceTest : public ::testing::Test {
protected:
  void start(ControlServer::Options options = {}) {
    options.listen = "127.0.0.1:0";
    auto server = ControlServer::start(options);
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_ = std::move(*server);
    server_->setTarget(&target_);
  }

  std::unique_ptr<ControlClient> client(const std::string& token = "", ClientOptions options = {}) {
    options.address = server_->address();
    options.timeout = 10s;
    if (!token.empty()) {
      options.token_file = writeFile("token-" + std::to_string(++files_), token + "\n");
    }
    auto c = ControlClient::connect(options);
    EXPECT_TRUE(c.ok()) << c.error().message;
    return c.ok() ? std::move(*c) : nullptr;
  }

  void TearDown() override {
    if (server_) {
      server_->stop();
    }
  }

  FakeTarget target_;
  std::unique_ptr<ControlServer> server_;
  int files_ = 0;
};

TEST_F(ControlServiceTest, ListLinksShowsStateAndTotalsWithoutSecrets) {
  start();
  auto links = client()->listLinks();
  ASSERT_TRUE(links.ok()) << links.error().message;
  ASSERT_EQ(links->links_size(), 2);
  const auto& a = links->links(0);  // sorted by name
  EXPECT_EQ(a.name(), "east-west");
  EXPECT_EQ(a.state(), v1::LINK_STATE_RUNNING);
  EXPECT_EQ(a.delivery(), v1::DELIVERY_MODE_EXACTLY_ONCE);
  EXPECT_EQ(a.records_replicated(), 1200u);
  EXPECT_EQ(a.assigned_partitions(), 2u);
  EXPECT_EQ(a.offset_lag(), 5);
  EXPECT_TRUE(a.offset_lag_complete());
  EXPECT_EQ(a.time_lag().seconds(), 1);
  EXPECT_EQ(a.time_lag().nanos(), 500000000);
  EXPECT_EQ(a.last_error(), "client:_TRANSPORT with sasl ***");
  const auto& b = links->links(1);
  EXPECT_EQ(b.name(), "north-south");
  EXPECT_EQ(b.state(), v1::LINK_STATE_FAILED);
  EXPECT_EQ(b.error(), "fatal: producer fenced");
  EXPECT_EQ(toJson(*links).find(kSecret), std::string::npos);
  EXPECT_THAT(formatLinks(*links), HasSubstr("east-west"));
}

TEST_F(ControlServiceTest, GetLinkStatusValidatesAndFindsTheLink) {
  start();
  auto c = client();
  auto status = c->getLinkStatus("east-west");
  ASSERT_TRUE(status.ok()) << status.error().message;
  ASSERT_EQ(status->partitions_size(), 2);
  EXPECT_EQ(status->partitions(1).lag(), 5);
  EXPECT_EQ(status->partitions(1).high_watermark(), 105);
  ASSERT_EQ(status->error_counts_size(), 1);
  EXPECT_EQ(status->error_counts(0).count(), 3u);

  auto unknown = c->getLinkStatus("nope");
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.error().message, HasSubstr("NOT_FOUND: unknown link 'nope'"));
  EXPECT_THAT(unknown.error().message, HasSubstr("east-west"));  // lists what exists
  auto empty = c->getLinkStatus("");
  ASSERT_FALSE(empty.ok());
  EXPECT_THAT(empty.error().message, HasSubstr("INVALID_ARGUMENT: link is required"));
  auto control_char = c->getLinkStatus(std::string("a\nb"));
  ASSERT_FALSE(control_char.ok());
  EXPECT_THAT(control_char.error().message, HasSubstr("INVALID_ARGUMENT"));
}

TEST_F(ControlServiceTest, TopicNotesSayWhyATopicWaitsWithoutSecrets) {
  start();
  auto c = client();
  auto status = c->getLinkStatus("east-west");
  ASSERT_TRUE(status.ok()) << status.error().message;
  ASSERT_EQ(status->topic_notes_size(), 1);
  EXPECT_EQ(status->topic_notes(0).topic(), "orders");
  EXPECT_EQ(status->topic_notes(0).note(),
            "paused (ID translation): value schema id 7: id 7 is incompatible with subject "
            "orders-value in registry 'west-sr' (***)");
  EXPECT_EQ(status->link().noted_topics(), 1u);
  EXPECT_THAT(formatLinkStatus(*status),
              HasSubstr("\n  topic 'orders': paused (ID translation): value schema id 7"));
  EXPECT_THAT(toJson(*status), HasSubstr("\"topic_notes\""));
  EXPECT_EQ(toJson(*status).find(kSecret), std::string::npos);

  auto links = c->listLinks();
  ASSERT_TRUE(links.ok()) << links.error().message;
  EXPECT_THAT(formatLinks(*links),
              HasSubstr("link 'east-west': 1 topic(s) waiting or refusing records: causeway "
                        "ctl status east-west\n"));
  EXPECT_EQ(links->links(1).noted_topics(), 0u);
}

TEST_F(ControlServiceTest, PauseAndResumeReportTheNewStateOrTheWrongState) {
  start();
  auto c = client();
  auto paused = c->pauseLink("east-west");
  ASSERT_TRUE(paused.ok()) << paused.error().message;
  EXPECT_EQ(paused->link().state(), v1::LINK_STATE_PAUSED);
  auto resumed = c->resumeLink("east-west");
  ASSERT_TRUE(resumed.ok()) << resumed.error().message;
  EXPECT_EQ(resumed->link().state(), v1::LINK_STATE_RUNNING);

  auto failed = c->pauseLink("north-south");
  ASSERT_FALSE(failed.ok());
  EXPECT_THAT(failed.error().message,
              HasSubstr("FAILED_PRECONDITION: link 'north-south' is failed"));
  auto unknown = c->resumeLink("nope");
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.error().message, HasSubstr("NOT_FOUND"));
}

TEST_F(ControlServiceTest, TranslateOffsetsMapsErrors) {
  start();
  auto c = client();
  auto ok = c->translateOffsets("east-west", "billing");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  ASSERT_EQ(ok->partitions_size(), 1);
  EXPECT_EQ(ok->partitions(0).source_offset(), 42);
  EXPECT_EQ(ok->partitions(0).target_offset(), 40);
  EXPECT_THAT(formatTranslation(*ok), HasSubstr("orders"));

  auto unreachable = c->translateOffsets("east-west", "unreachable");
  ASSERT_FALSE(unreachable.ok());
  EXPECT_THAT(unreachable.error().message, HasSubstr("UNAVAILABLE: cluster 'east'"));
  auto alo = c->translateOffsets("north-south", "billing");
  ASSERT_FALSE(alo.ok());
  EXPECT_THAT(alo.error().message, HasSubstr("FAILED_PRECONDITION"));
  auto no_group = c->translateOffsets("east-west", "");
  ASSERT_FALSE(no_group.ok());
  EXPECT_THAT(no_group.error().message, HasSubstr("INVALID_ARGUMENT: group is required"));
  auto unknown = c->translateOffsets("nope", "billing");
  ASSERT_FALSE(unknown.ok());
  EXPECT_THAT(unknown.error().message, HasSubstr("NOT_FOUND"));
}

TEST_F(ControlServiceTest, ReloadReportsEveryConfigErrorWithLineAndColumn) {
  start();
  auto c = client();
  v1::ReloadConfigRequest request;
  request.set_name("new.yaml");
  request.set_yaml("clusters:\n  east: {bootstrap: \"h:1\"}\nlinks:\n  - name: x\n"
                   "    source: nowhere\n    target: east\n    naming: sideways\n");
  auto bad = c->reloadConfig(request);
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.error().message, HasSubstr("INVALID_ARGUMENT"));
  EXPECT_THAT(bad.error().message, HasSubstr("new.yaml:5:"));  // source: nowhere
  EXPECT_THAT(bad.error().message, HasSubstr("new.yaml:7:"));  // naming: sideways
  EXPECT_EQ(target_.reloads_, 0);

  auto nothing = c->reloadConfig(v1::ReloadConfigRequest());
  ASSERT_FALSE(nothing.ok());
  EXPECT_THAT(nothing.error().message, HasSubstr("INVALID_ARGUMENT"));

  v1::ReloadConfigRequest good;
  good.set_yaml("clusters:\n  east: {bootstrap: \"h:1\"}\n  west: {bootstrap: \"h:2\"}\n"
                "links:\n  - name: east-west\n    source: east\n    target: west\n"
                "    topics: {include: [orders]}\n  - name: brand-new\n    source: west\n"
                "    target: east\n    topics: {include: [orders]}\n");
  good.set_validate_only(true);
  auto checked = c->reloadConfig(good);
  ASSERT_TRUE(checked.ok()) << checked.error().message;
  EXPECT_FALSE(checked->applied());
  EXPECT_EQ(target_.reloads_, 0);
  good.set_validate_only(false);
  auto applied = c->reloadConfig(good);
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  EXPECT_TRUE(applied->applied());
  ASSERT_EQ(applied->added_size(), 1);
  EXPECT_EQ(applied->added(0), "brand-new");
  ASSERT_EQ(applied->unchanged_size(), 1);
  EXPECT_EQ(target_.reloads_, 1);

  v1::ReloadConfigRequest missing_file;
  missing_file.set_path(tempDir() + "/does-not-exist.yaml");
  auto missing = c->reloadConfig(missing_file);
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error().message, HasSubstr("INVALID_ARGUMENT"));
}

TEST_F(ControlServiceTest, ReloadResolvesReferencesAndTheirValuesNeverReachAClient) {
  // given: a configuration whose properties come from an environment variable and a file
  const std::string user = "user-from-reference-77";
  ::setenv("CW_CONTROL_TEST_USER", user.c_str(), 1);
  ::unsetenv("CW_CONTROL_TEST_UNSET");
  const std::string password_file = writeFile("password", "first-pa55word\n");
  auto yaml = [&](const std::string& extra) {
    return "clusters:\n  east:\n    bootstrap: \"h:1\"\n    properties:\n"
           "      sasl.username: ${env:CW_CONTROL_TEST_USER}\n"
           "      sasl.password: ${file:" +
           password_file + "}\n" + extra +
           "  west: {bootstrap: \"h:2\"}\nlinks:\n"
           "  - {name: east-west, source: east, target: west, topics: {include: [orders]}}\n"
           "  - {name: north-south, source: west, target: east, topics: {include: [x]}}\n";
  };
  start();
  auto c = client();

  // when: one reload names an unset variable, the next is valid, the file then changes
  v1::ReloadConfigRequest missing;
  missing.set_name("new.yaml");
  missing.set_yaml(yaml("      client.id: ${env:CW_CONTROL_TEST_UNSET}\n"));
  auto refused = c->reloadConfig(missing);
  v1::ReloadConfigRequest good;
  good.set_path(writeFile("new.yaml", yaml("")));
  auto applied = c->reloadConfig(good);
  const auto first = target_.currentConfig();
  writeFile("password", "rotated-pa55word\n");
  auto rotated = c->reloadConfig(good);
  const auto second = target_.currentConfig();
  target_.error_suffix_ = " (authenticating as " + user + ")";
  auto links = c->listLinks();

  // then: the refused reload names the line, column and variable; nothing changed by it
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error().message, HasSubstr("INVALID_ARGUMENT"));
  EXPECT_THAT(refused.error().message,
              HasSubstr("new.yaml:7:18: clusters.east.properties.client.id: "
                        "'${env:CW_CONTROL_TEST_UNSET}': the environment variable "
                        "CW_CONTROL_TEST_UNSET is not set"));
  // and: the valid ones resolved the references, the second one read the changed file
  ASSERT_TRUE(applied.ok()) << applied.error().message;
  ASSERT_TRUE(rotated.ok()) << rotated.error().message;
  EXPECT_EQ(target_.reloads_, 2);
  EXPECT_EQ(first.clusters.at("east").properties.at("sasl.username"), user);
  EXPECT_EQ(first.clusters.at("east").properties.at("sasl.password"), "first-pa55word");
  EXPECT_EQ(second.clusters.at("east").properties.at("sasl.password"), "rotated-pa55word");
  // and: a value from a reference is hidden in what the API answers
  ASSERT_TRUE(links.ok()) << links.error().message;
  ASSERT_EQ(links->links_size(), 2);
  EXPECT_EQ(links->links(1).error(), "fatal: producer fenced (authenticating as ***)");
  EXPECT_EQ(toJson(*links).find(user), std::string::npos);
}

TEST_F(ControlServiceTest, FailoverStreamsPlanDrainMovesAndReport) {
  start();
  auto c = client();
  v1::FailoverRequest request;
  request.set_link("east-west");
  std::vector<v1::FailoverProgress> events;
  auto done = c->failover(request, [&](const v1::FailoverProgress& p) { events.push_back(p); });
  ASSERT_TRUE(done.ok()) << done.message();
  ASSERT_GE(events.size(), 4u);
  EXPECT_TRUE(events.front().has_plan());
  EXPECT_EQ(events.front().plan().total_lag(), 30);
  std::vector<int64_t> drained;
  for (const auto& e : events) {
    if (e.has_drain()) {
      drained.push_back(e.drain().total_lag());
    }
  }
  EXPECT_EQ(drained, (std::vector<int64_t>{10, 0}));
  ASSERT_TRUE(events[events.size() - 2].has_group_move());
  EXPECT_TRUE(events[events.size() - 2].group_move().committed());
  ASSERT_TRUE(events.back().has_report());
  EXPECT_EQ(events.back().report().outcome(), v1::FailoverReport::OUTCOME_DONE);
  EXPECT_EQ(events.back().report().records_left_behind(), 0);
  // the link is stopped everywhere through its failover mark
  ASSERT_EQ(target_.failover_marks_.size(), 1u);
  EXPECT_THAT(target_.failover_marks_[0], HasSubstr("0 by control API"));
  EXPECT_THAT(events.back().report().message(), HasSubstr("stop"));

  // dry run: the plan and a report, nothing moved
  events.clear();
  request.set_dry_run(true);
  ASSERT_TRUE(c->failover(request, [&](const auto& p) { events.push_back(p); }).ok());
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events.back().report().outcome(), v1::FailoverReport::OUTCOME_DRY_RUN);
  EXPECT_EQ(target_.failover_marks_.size(), 1u) << "a dry run marks nothing";
}

TEST_F(ControlServiceTest, FailoverThatCannotDrainChangesNothing) {
  target_.failover_lags_ = {30};  // never drains
  start();
  auto c = client();
  v1::FailoverRequest request;
  request.set_link("east-west");
  request.mutable_drain_timeout()->set_nanos(300000000);  // 300 ms
  std::vector<v1::FailoverProgress> events;
  auto done = c->failover(request, [&](const auto& p) { events.push_back(p); });
  ASSERT_FALSE(done.ok());
  EXPECT_THAT(done.message(), HasSubstr("FAILED_PRECONDITION: the link still lags by 30"));
  for (const auto& e : events) {
    EXPECT_FALSE(e.has_group_move()) << "nothing may be moved";
  }

  // forced: moved at once; the refused group makes it incomplete; its problem is redacted
  target_.failover_moves_all_ = false;
  request.set_force(true);
  events.clear();
  ASSERT_TRUE(c->failover(request, [&](const auto& p) { events.push_back(p); }).ok());
  ASSERT_TRUE(events.back().has_report());
  EXPECT_EQ(events.back().report().outcome(), v1::FailoverReport::OUTCOME_INCOMPLETE);
  EXPECT_TRUE(target_.failover_marks_.empty()) << "an incomplete failover leaves the link running";
  EXPECT_EQ(events.back().report().records_left_behind(), 30);
  bool saw_refused = false;
  for (const auto& e : events) {
    if (e.has_group_move() && !e.group_move().committed()) {
      saw_refused = true;
      EXPECT_EQ(e.group_move().problem(), "active members on the target (login ***)");
    }
  }
  EXPECT_TRUE(saw_refused);

  request.mutable_drain_timeout()->set_seconds(-1);
  auto negative = c->failover(request, [](const auto&) {});
  EXPECT_THAT(negative.message(), HasSubstr("INVALID_ARGUMENT: drain_timeout must be positive"));
}

TEST_F(ControlServiceTest, TokensAuthenticateAndReadOnlyCannotChangeAnything) {
  ControlServer::Options options;
  options.admin_token_file = writeFile("admin", kAdmin);
  options.read_token_file = writeFile("read", kRead);
  start(options);

  auto none = client()->listLinks();
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(none.error().message, HasSubstr("UNAUTHENTICATED: missing token"));
  auto wrong = client("wrong-token-0123456789abcdef")->pauseLink("east-west");
  ASSERT_FALSE(wrong.ok());
  EXPECT_THAT(wrong.error().message, HasSubstr("UNAUTHENTICATED: unknown token"));

  auto reader = client(kRead);
  EXPECT_TRUE(reader->listLinks().ok());
  EXPECT_TRUE(reader->getLinkStatus("east-west").ok());
  EXPECT_TRUE(reader->translateOffsets("east-west", "billing").ok());
  auto denied = reader->pauseLink("east-west");
  ASSERT_FALSE(denied.ok());
  EXPECT_THAT(denied.error().message, HasSubstr("PERMISSION_DENIED: PauseLink needs the admin"));
  EXPECT_FALSE(reader->resumeLink("east-west").ok());
  v1::ReloadConfigRequest reload;
  reload.set_yaml("x");
  EXPECT_THAT(reader->reloadConfig(reload).error().message, HasSubstr("PERMISSION_DENIED"));
  v1::FailoverRequest failover;
  failover.set_link("east-west");
  EXPECT_THAT(reader->failover(failover, [](const auto&) {}).message(),
              HasSubstr("PERMISSION_DENIED"));

  auto admin = client(kAdmin);
  EXPECT_TRUE(admin->pauseLink("east-west").ok());
  EXPECT_TRUE(admin->resumeLink("east-west").ok());
}

TEST_F(ControlServiceTest, UnavailableUntilTheWorkerHasStarted) {
  auto server = ControlServer::start({.listen = "127.0.0.1:0"});
  ASSERT_TRUE(server.ok()) << server.error().message;
  ClientOptions options;
  options.address = (*server)->address();
  auto c = ControlClient::connect(options);
  ASSERT_TRUE(c.ok());
  auto early = (*c)->listLinks();
  ASSERT_FALSE(early.ok());
  EXPECT_THAT(early.error().message, HasSubstr("UNAVAILABLE: the worker is still starting"));
  (*server)->setTarget(&target_);
  EXPECT_TRUE((*c)->listLinks().ok());
  (*server)->stop();
}

TEST(ControlServerStart, RefusesUnsafeOrBrokenSettings) {
  auto remote = ControlServer::start({.listen = "0.0.0.0:0"});
  ASSERT_FALSE(remote.ok());
  EXPECT_THAT(remote.error().message, HasSubstr("without TLS"));
  auto bad_address = ControlServer::start({.listen = "nonsense"});
  ASSERT_FALSE(bad_address.ok());
  ControlServer::Options read_only;
  read_only.listen = "127.0.0.1:0";
  read_only.read_token_file = writeFile("read-only", kRead);
  auto no_admin = ControlServer::start(read_only);
  ASSERT_FALSE(no_admin.ok());
  EXPECT_THAT(no_admin.error().message, HasSubstr("needs an admin token"));
  ControlServer::Options missing_key;
  missing_key.listen = "127.0.0.1:0";
  missing_key.tls_cert = writeFile("cert-only.pem", "x");
  EXPECT_FALSE(ControlServer::start(missing_key).ok());

  auto first = ControlServer::start({.listen = "127.0.0.1:0"});
  ASSERT_TRUE(first.ok());
  auto second = ControlServer::start({.listen = (*first)->address()});
  ASSERT_FALSE(second.ok()) << "two servers on one port";
  EXPECT_THAT(second.error().message, HasSubstr("cannot listen"));
}

// A CA, a server certificate for 127.0.0.1 and a client certificate, made by the openssl CLI.
bool makeCertificates(const std::string& dir) {
  const std::string script =
      "cd '" + dir +
      "' && "
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 "
      "-subj /CN=causeway-test-ca && "
      "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr "
      "-subj /CN=localhost && "
      "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext && "
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
      "-out server.pem -days 2 -extfile san.ext && "
      "openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj /CN=ctl && "
      "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
      "-out client.pem -days 2";
  return std::system(("(" + script + ") > '" + dir + "/openssl.log' 2>&1").c_str()) == 0;
}

TEST_F(ControlServiceTest, MutualTlsRequiresAClientCertificate) {
  const std::string dir = tempDir() + "/tls";
  std::filesystem::create_directories(dir);
  ASSERT_TRUE(makeCertificates(dir)) << "openssl failed; see " << dir << "/openssl.log";
  ControlServer::Options options;
  options.tls_cert = dir + "/server.pem";
  options.tls_key = dir + "/server.key";
  options.tls_client_ca = dir + "/ca.pem";
  start(options);
  ASSERT_TRUE(server_->tls());

  ClientOptions with_cert;
  with_cert.tls_ca = dir + "/ca.pem";
  with_cert.tls_cert = dir + "/client.pem";
  with_cert.tls_key = dir + "/client.key";
  auto ok = client("", with_cert)->listLinks();
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ(ok->links_size(), 2);

  ClientOptions no_cert;
  no_cert.tls_ca = dir + "/ca.pem";
  no_cert.timeout = 5s;
  EXPECT_FALSE(client("", no_cert)->listLinks().ok()) << "a client without a certificate";
  auto plaintext = client()->listLinks();
  EXPECT_FALSE(plaintext.ok()) << "a plaintext client on a TLS port";
}

}  // namespace
}  // namespace causeway::control
