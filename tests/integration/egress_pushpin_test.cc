// Fan-out through Debian's real Pushpin: clients connect to Pushpin, egress answers with GRIP
// holds and publishes each event once; every client receives every event exactly once, and
// Causeway holds no stream of its own for them.

#include "egress/egress_server.h"
#include "monitoring/prometheus_text.h"
#include "tests/support/egress_support.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <set>

namespace causeway::egress {
namespace {

using namespace std::chrono_literals;
using testing::kAcmeToken;
using testing::kProduct;
using testing::kTopic;
using testing::SseClient;

constexpr int32_t kPartitions = 3;
constexpr size_t kClients = 200;
constexpr uint64_t kPerPartition = 40;
constexpr size_t kEvents = kPartitions * kPerPartition;

// Pushpin's proxy reaches its handler over ZeroMQ sockets that connect shortly after start-up;
// until then holds answer 500 "Accept service unavailable". The first client retries.
void waitUntilHoldsWork(int port) {
  ASSERT_TRUE(testing::waitFor(
      [&] {
        SseClient::Options o;
        o.port = port;
        o.path = std::string("/v1/products/") + kProduct + "/events";
        o.headers["Authorization"] = std::string("Bearer ") + kAcmeToken;
        SseClient probe(o);
        return probe.connect() && probe.status() == 200;
      },
      10s))
      << "Pushpin never held a stream";
}

std::string metrics(EgressServer& server) {
  monitoring::ExpositionWriter writer;
  server.addMetrics(writer);
  return writer.render().value();
}

TEST(EgressPushpinTest, TwoHundredClientsReceiveEveryEventOnce) {
  if (!std::filesystem::exists("/usr/bin/pushpin") || !std::filesystem::exists("/usr/bin/zurl")) {
    FAIL() << "pushpin is not installed: scripts/install-deps.sh installs the Debian package";
  }
  auto cluster = testing::startCluster("east", 1, {{kTopic, kPartitions}});
  ASSERT_NE(cluster, nullptr);
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("causeway-egress-pushpin-" + std::to_string(::getpid())))
                              .string();
  std::filesystem::remove_all(dir);
  config::Config config = testing::makeEgressConfig(cluster->bootstrap(), dir);
  config.partners["acme"].policy.clear();
  config.egress->listen = "127.0.0.1:" + std::to_string(testing::freePort());
  auto pushpin = testing::PushpinProcess::start(
      dir + "/pushpin",
      std::stoi(config.egress->listen.substr(config.egress->listen.rfind(':') + 1)));
  ASSERT_NE(pushpin, nullptr);
  config.egress->pushpin =
      config::PushpinConfig{pushpin->publishUrl(), pushpin->sigKeyFile(), 1u << 20, {}};
  auto server = EgressServer::start(config, EgressServer::Options{});
  ASSERT_TRUE(server) << server.error().message;
  waitUntilHoldsWork(pushpin->httpPort());
  const size_t probes = pushpin->handlerLogCount("subscribe ");

  std::vector<std::unique_ptr<SseClient>> clients;
  for (size_t i = 0; i < kClients; ++i) {
    SseClient::Options options;
    options.port = pushpin->httpPort();
    options.path = std::string("/v1/products/") + kProduct + "/events";
    options.headers["Authorization"] = std::string("Bearer ") + kAcmeToken;
    clients.push_back(std::make_unique<SseClient>(options));
    ASSERT_TRUE(clients.back()->connect()) << i << ": " << clients.back()->error();
    ASSERT_EQ(clients.back()->status(), 200) << clients.back()->body();
  }
  // Every client is subscribed to the channel before the records arrive. (A client subscribed
  // late would still get everything, through its next link; this keeps the test quick.)
  ASSERT_TRUE(testing::waitFor(
      [&] { return pushpin->handlerLogCount("subscribe ") >= kClients + probes; }, 15s))
      << pushpin->handlerLogCount("subscribe ") << " subscriptions";
  ASSERT_TRUE(testing::produceRecords(cluster->bootstrap(), kTopic, kPartitions, kPerPartition));

  std::set<std::pair<int, int64_t>> expected;
  for (auto& client : clients) {
    client->readEvents(kEvents, 15s);
    std::set<std::pair<int, int64_t>> seen;
    size_t events = 0;
    for (const auto& e : client->events()) {
      ASSERT_EQ(e.type, "message") << e.data;
      auto json = nlohmann::json::parse(e.data);
      seen.emplace(json["partition"], json["offset"]);
      ++events;
    }
    EXPECT_EQ(events, kEvents) << "every event once";
    EXPECT_EQ(seen.size(), kEvents);
    if (expected.empty()) {
      expected = seen;
    }
    EXPECT_EQ(seen, expected);
  }
  const std::string text = metrics(**server);
  // Each event was published once for all clients; no direct stream was open.
  EXPECT_NE(text.find("causeway_egress_pushpin_published_total{partner=\"acme\",product=\"" +
                      std::string(kProduct) + "\"} " + std::to_string(kEvents)),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("causeway_egress_clients{partner=\"acme\""), std::string::npos) << text;
  clients.clear();
  (*server)->stop();
  std::filesystem::remove_all(dir);
}

// Clients that connect (or resume) while events are being published: each sees, per partition,
// a contiguous run of offsets up to the last record, with no gap and no repeat. Races between a
// hold and a publish are what Pushpin's prev-id check and the next link (Grip-Link) repair.
TEST(EgressPushpinTest, ClientsJoiningOrResumingDuringABurstMissNothing) {
  auto cluster = testing::startCluster("east", 1, {{kTopic, kPartitions}});
  ASSERT_NE(cluster, nullptr);
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("causeway-egress-pushpin-burst-" + std::to_string(::getpid())))
                              .string();
  std::filesystem::remove_all(dir);
  config::Config config = testing::makeEgressConfig(cluster->bootstrap(), dir);
  config.egress->listen = "127.0.0.1:" + std::to_string(testing::freePort());
  auto pushpin = testing::PushpinProcess::start(
      dir + "/pushpin",
      std::stoi(config.egress->listen.substr(config.egress->listen.rfind(':') + 1)));
  ASSERT_NE(pushpin, nullptr);
  config.egress->pushpin =
      config::PushpinConfig{pushpin->publishUrl(), pushpin->sigKeyFile(), 1u << 20, {}};
  EgressServer::Options options;
  options.stages = testing::testStageFactory();
  auto server = EgressServer::start(config, options);
  ASSERT_TRUE(server) << server.error().message;
  waitUntilHoldsWork(pushpin->httpPort());

  auto connect = [&](const std::string& last_id) {
    SseClient::Options o;
    o.port = pushpin->httpPort();
    o.path = std::string("/v1/products/") + kProduct + "/events";
    o.headers["Authorization"] = std::string("Bearer ") + kAcmeToken;
    if (!last_id.empty()) {
      o.headers["Last-Event-ID"] = last_id;
    }
    auto client = std::make_unique<SseClient>(o);
    EXPECT_TRUE(client->connect()) << client->error();
    EXPECT_EQ(client->status(), 200);
    return client;
  };
  const size_t probes = pushpin->handlerLogCount("subscribe ");
  auto first = connect("");
  ASSERT_TRUE(
      testing::waitFor([&] { return pushpin->handlerLogCount("subscribe ") >= probes + 1; }, 10s));
  // Rounds of records while clients join.
  std::vector<std::unique_ptr<SseClient>> joiners;
  for (int round = 0; round < 10; ++round) {
    ASSERT_TRUE(testing::produceRecords(cluster->bootstrap(), kTopic, kPartitions, 10, round * 10));
    joiners.push_back(connect(""));
  }
  ASSERT_TRUE(first->readEvents(300, 15s) == 300u) << first->events().size();
  // Resume through Pushpin from the 100th event: exactly the 200 after it.
  auto resumed = connect(first->events()[99].id);
  ASSERT_TRUE(testing::produceRecords(cluster->bootstrap(), kTopic, kPartitions, 10, 100));
  EXPECT_EQ(resumed->readEvents(230, 15s), 230u);
  std::set<std::pair<int, int64_t>> all;
  for (size_t i = 0; i < 100; ++i) {
    auto json = nlohmann::json::parse(first->events()[i].data);
    all.emplace(json["partition"], json["offset"]);
  }
  for (const auto& e : resumed->events()) {
    auto json = nlohmann::json::parse(e.data);
    EXPECT_TRUE(all.emplace(json["partition"], json["offset"]).second) << "repeated " << e.data;
    EXPECT_EQ(json["value"]["pad"], "MASKED");
  }
  EXPECT_EQ(all.size(), 330u);
  // Every joiner: per partition, contiguous offsets ending at the last record (offset 109).
  for (auto& client : joiners) {
    ASSERT_TRUE(testing::waitFor(
        [&] {
          client->readEvents(1000, 50ms);
          std::map<int, int64_t> last;
          for (const auto& e : client->events()) {
            auto json = nlohmann::json::parse(e.data);
            last[json["partition"]] = json["offset"];
          }
          return last.size() == 3 && last[0] == 109 && last[1] == 109 && last[2] == 109;
        },
        15s));
    std::map<int, std::vector<int64_t>> offsets;
    for (const auto& e : client->events()) {
      auto json = nlohmann::json::parse(e.data);
      offsets[json["partition"]].push_back(json["offset"]);
    }
    for (const auto& [partition, list] : offsets) {
      for (size_t i = 1; i < list.size(); ++i) {
        EXPECT_EQ(list[i], list[i - 1] + 1) << "partition " << partition;
      }
    }
  }
  joiners.clear();
  first.reset();
  resumed.reset();
  (*server)->stop();
  if (!HasFailure()) {
    std::filesystem::remove_all(dir);
  }
}

}  // namespace
}  // namespace causeway::egress
