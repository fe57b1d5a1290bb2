// The metrics HTTP endpoint on loopback with a hand-made status source: /metrics, /healthz,
// /readyz, listen address parsing and a port in use.

#include "monitoring/metrics_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <string>
#include <vector>

namespace causeway::monitoring {
namespace {

using replicator::LinkState;
using replicator::LinkStatus;

LinkStatus linkIn(const std::string& name, LinkState state, const std::string& error = "") {
  LinkStatus l;
  l.name = name;
  l.source_cluster = "east";
  l.target_cluster = "west";
  l.state = state;
  l.error = error;
  l.records_replicated = 42;
  return l;
}

std::unique_ptr<MetricsServer> startOnAnyPort() {
  MetricsServer::Options options;
  options.listen = {"127.0.0.1", 0};
  auto server = MetricsServer::start(options);
  EXPECT_TRUE(server.ok()) << (server.ok() ? "" : server.error().message);
  return server.ok() ? std::move(*server) : nullptr;
}

httplib::Result get(const MetricsServer& server, const std::string& path) {
  httplib::Client client("127.0.0.1", server.port());
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(5, 0);
  return client.Get(path.c_str());
}

TEST(PrometheusServer, ParsesListenAddresses) {
  auto plain = parseListenAddress("127.0.0.1:9464");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->host, "127.0.0.1");
  EXPECT_EQ(plain->port, 9464);
  auto v6 = parseListenAddress("[::1]:0");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 0);
  for (const char* bad : {"", "9464", ":9464", "host:", "host:65536", "host:-1", "host:12ab",
                          "::1:9464", "[::1:9464"}) {
    auto parsed = parseListenAddress(bad);
    EXPECT_FALSE(parsed.ok()) << bad;
    if (!parsed.ok()) {
      EXPECT_NE(parsed.error().message.find("invalid listen address"), std::string::npos);
    }
  }
}

TEST(PrometheusServer, ServesMetricsWithTheExpositionContentType) {
  auto server = startOnAnyPort();
  ASSERT_TRUE(server);
  server->setStatusSource(
      [] { return std::vector<LinkStatus>{linkIn("l1", LinkState::kRunning)}; });

  auto res = get(*server, "/metrics");

  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(res->body.find("causeway_link_records_replicated_total{link=\"l1\"} 42\n"),
            std::string::npos)
      << res->body;
}

TEST(PrometheusServer, HealthzAnswersWithoutLinks) {
  auto server = startOnAnyPort();
  ASSERT_TRUE(server);
  auto res = get(*server, "/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "ok\n");
}

TEST(PrometheusServer, ReadyzFollowsTheLinkStates) {
  std::vector<LinkStatus> links;  // outlives the server that reads it
  std::mutex mu;
  auto server = startOnAnyPort();
  ASSERT_TRUE(server);
  server->setStatusSource([&] {
    std::lock_guard lock(mu);
    return links;
  });

  // before any source: starting
  server->setStatusSource(nullptr);
  auto starting = get(*server, "/readyz");
  ASSERT_TRUE(starting);
  EXPECT_EQ(starting->status, 503);
  EXPECT_EQ(starting->body, "not ready: starting\n");

  server->setStatusSource([&] {
    std::lock_guard lock(mu);
    return links;
  });
  {
    std::lock_guard lock(mu);
    links = {linkIn("a", LinkState::kRunning), linkIn("b", LinkState::kRunning)};
  }
  auto ready = get(*server, "/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200) << ready->body;
  EXPECT_EQ(ready->body, "ready\nlink 'a': running, 0 partitions assigned\n"
                         "link 'b': running, 0 partitions assigned\n");

  {
    std::lock_guard lock(mu);
    links[1] = linkIn("b", LinkState::kFailed, "cluster 'west' refused the record");
  }
  auto failed = get(*server, "/readyz");
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, 503);
  EXPECT_EQ(failed->body, "not ready\nlink 'a': running, 0 partitions assigned\n"
                          "link 'b': failed: cluster 'west' refused the record\n");

  {
    std::lock_guard lock(mu);
    links = {};
  }
  auto none = get(*server, "/readyz");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 503);
  EXPECT_EQ(none->body, "not ready\nno links\n");
}

TEST(PrometheusServer, APortInUseIsAClearError) {
  auto first = startOnAnyPort();
  ASSERT_TRUE(first);
  MetricsServer::Options options;
  options.listen = {"127.0.0.1", first->port()};

  auto second = MetricsServer::start(options);

  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("cannot listen on 127.0.0.1:" +
                                        std::to_string(first->port())),
            std::string::npos)
      << second.error().message;
  EXPECT_NE(second.error().message.find("in use"), std::string::npos);
}

TEST(PrometheusServer, StopIsIdempotentAndClosesThePort) {
  auto server = startOnAnyPort();
  ASSERT_TRUE(server);
  const int port = server->port();
  server->stop();
  server->stop();
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(2, 0);
  EXPECT_FALSE(client.Get("/healthz"));
}

TEST(PrometheusServer, SetStatusSourceWaitsForScrapesInProgress) {
  // given: a source that is slow, as a worker with many partitions might be
  auto server = startOnAnyPort();
  ASSERT_TRUE(server);
  std::atomic<bool> in_source{false};
  std::atomic<bool> source_done{false};
  server->setStatusSource([&] {
    in_source = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    source_done = true;
    return std::vector<LinkStatus>{linkIn("slow", LinkState::kRunning)};
  });
  std::thread scrape([&] { get(*server, "/metrics"); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!in_source && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(in_source) << "the scrape never reached the status source";

  // when: the source is withdrawn (its owner is about to be destroyed)
  server->setStatusSource(nullptr);

  // then: the call in progress has finished before setStatusSource returned
  EXPECT_TRUE(source_done);
  scrape.join();
}

} // namespace
} // namespace causeway::monitoring
