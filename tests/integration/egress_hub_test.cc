// The product stream core against an embedded cluster, without a transport: the shared tail,
// resume tokens, catch-up readers, partner stages and limits, pulled the way a connection pulls.

#include "egress/partner_auth.h"
#include "egress/stream_hub.h"
#include "tests/support/egress_support.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <condition_variable>
#include <filesystem>
#include <set>

namespace causeway::egress {
namespace {

using namespace std::chrono_literals;
using testing::kProduct;
using testing::kTopic;

constexpr int32_t kPartitions = 3;

struct CollectingSink : EventSink {
  std::vector<DeliveredEvent> events;
  void add(const EventRef& e) override {
    events.push_back(DeliveredEvent{std::string(e.id), std::string(e.data), std::string(e.topic),
                                    e.partition, e.offset, e.timestamp});
  }
};

// Pulls like a connection: until `count` events arrived, the stream ended, or the deadline.
size_t pullUntil(Subscription& sub, CollectingSink& sink, size_t count,
                 std::chrono::milliseconds timeout) {
  std::mutex mu;
  std::condition_variable cv;
  bool woken = false;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (sink.events.size() < count && std::chrono::steady_clock::now() < deadline) {
    const auto result = sub.pull(sink, 64 * 1024, [&] {
      std::lock_guard lock(mu);
      woken = true;
      cv.notify_all();
    });
    if (result == Subscription::Pull::kEnded) {
      break;
    }
    if (result == Subscription::Pull::kIdle) {
      std::unique_lock lock(mu);
      cv.wait_until(lock, std::min(deadline, std::chrono::steady_clock::now() + 200ms),
                    [&] { return woken; });
      woken = false;
    }
  }
  return sink.events.size();
}

class EgressHubTest : public ::testing::Test {
protected:
  void SetUp() override {
    cluster_ = testing::startCluster("east", 1, {{kTopic, kPartitions}});
    ASSERT_NE(cluster_, nullptr);
    dir_ = (std::filesystem::temp_directory_path() /
            ("causeway-egress-hub-" + std::to_string(::getpid())))
               .string();
    config_ = testing::makeEgressConfig(cluster_->bootstrap(), dir_);
    config_.egress->client_buffer_bytes = 1u << 20;
    codec_ = std::make_unique<ResumeTokenCodec>("resume-token-secret-0123456789abcdef");
    StreamHub::Options options;
    options.config = &config_;
    options.codec = codec_.get();
    options.stages = testing::testStageFactory();
    options.filters = testing::testFilterFactory();
    hub_ = std::make_unique<StreamHub>(options);
  }
  void TearDown() override {
    hub_.reset();
    std::filesystem::remove_all(dir_);
  }

  // The hub's counters of (partner, kProduct); zeros when it has none.
  HubMetrics::Stream stream(const std::string& partner) {
    for (const auto& s : hub_->metrics().streams) {
      if (s.partner == partner && s.product == kProduct) {
        return s;
      }
    }
    return {};
  }

  // Keeps pulling `sub` (which must get no further events) until the filtered count of
  // (partner, the product) is `expected`, for at most 10 s.
  bool waitForFiltered(Subscription& sub, const std::string& partner, uint64_t expected) {
    return testing::waitFor(
        [&] {
          CollectingSink more;
          sub.pull(more, 1u << 20, [] {});
          EXPECT_TRUE(more.events.empty());
          return stream(partner).filtered == expected;
        },
        10s);
  }

  std::unique_ptr<Subscription> open(const std::string& partner, OpenRequest request) {
    Identity who;
    who.partner = partner;
    who.token_id = partner + "-1";
    auto opened = hub_->open(who, kProduct, request);
    if (auto* error = std::get_if<OpenError>(&opened)) {
      ADD_FAILURE() << "open: " << error->http_status << " " << error->message;
      return nullptr;
    }
    return std::move(std::get<std::unique_ptr<Subscription>>(opened));
  }

  embedded::EmbeddedClusterPtr cluster_;
  std::string dir_;
  config::Config config_;
  std::unique_ptr<ResumeTokenCodec> codec_;
  std::unique_ptr<StreamHub> hub_;
};

TEST_F(EgressHubTest, ResumesExactlyAfterTheLastEventSeen) {
  ASSERT_TRUE(testing::produceRecords(cluster_->bootstrap(), kTopic, kPartitions, 100));
  auto first = open("acme", OpenRequest{std::nullopt, "earliest", std::nullopt});
  ASSERT_NE(first, nullptr);
  CollectingSink a;
  ASSERT_GE(pullUntil(*first, a, 120, 15s), 120u);
  a.events.resize(120);  // the client saw exactly 120 events
  const std::string last_id = a.events.back().id;
  first.reset();  // disconnect

  auto second = open("acme", OpenRequest{last_id, "earliest", std::nullopt});
  ASSERT_NE(second, nullptr);
  CollectingSink b;
  EXPECT_EQ(pullUntil(*second, b, 180, 15s), 180u);
  std::set<std::tuple<std::string, int32_t, int64_t>> seen;
  for (const auto* sink : {&a, &b}) {
    for (const auto& e : sink->events) {
      EXPECT_TRUE(seen.emplace(e.topic, e.partition, e.offset).second)
          << "repeated " << e.partition << "@" << e.offset;
      auto json = nlohmann::json::parse(e.data);
      EXPECT_EQ(json["value"]["pad"], "MASKED") << e.data;
      EXPECT_EQ(json["partition"], e.partition);
    }
  }
  EXPECT_EQ(seen.size(), 300u);
}

TEST_F(EgressHubTest, LiveClientsShareOneTailAndSeeNewRecordsOnce) {
  std::vector<std::unique_ptr<Subscription>> subs;
  for (int i = 0; i < 5; ++i) {
    subs.push_back(open("acme", OpenRequest{}));
    ASSERT_NE(subs.back(), nullptr);
  }
  EXPECT_EQ(hub_->tailCount(), 1u);
  ASSERT_TRUE(testing::produceRecords(cluster_->bootstrap(), kTopic, kPartitions, 20));
  for (auto& sub : subs) {
    CollectingSink sink;
    ASSERT_GE(pullUntil(*sub, sink, 60, 15s), 60u);
    std::set<std::pair<int32_t, int64_t>> distinct;
    for (const auto& e : sink.events) {
      distinct.emplace(e.partition, e.offset);
    }
    EXPECT_EQ(distinct.size(), 60u);
    EXPECT_FALSE(sub->catchingUp());
  }
}

TEST_F(EgressHubTest, OlderPositionCatchesUpThenJoinsTheLiveTail) {
  ASSERT_TRUE(testing::produceRecords(cluster_->bootstrap(), kTopic, kPartitions, 50));
  auto live = open("acme", OpenRequest{});  // starts the tail at the partitions' ends
  ASSERT_NE(live, nullptr);
  auto early = open("acme", OpenRequest{std::nullopt, "earliest", std::nullopt});
  ASSERT_NE(early, nullptr);
  EXPECT_TRUE(early->catchingUp());
  CollectingSink history;
  ASSERT_GE(pullUntil(*early, history, 150, 15s), 150u);
  ASSERT_TRUE(testing::produceRecords(cluster_->bootstrap(), kTopic, kPartitions, 10, 50));
  ASSERT_GE(pullUntil(*early, history, 180, 15s), 180u);
  EXPECT_FALSE(early->catchingUp()) << "joined the live window";
  std::set<std::pair<int32_t, int64_t>> seen;
  for (const auto& e : history.events) {
    EXPECT_TRUE(seen.emplace(e.partition, e.offset).second);
  }
  EXPECT_EQ(seen.size(), 180u);
  CollectingSink news;
  EXPECT_GE(pullUntil(*live, news, 30, 15s), 30u);
  EXPECT_EQ(news.events.size(), 30u) << "the live client sees only the new records";
}

TEST_F(EgressHubTest, FilterNarrowsAndResumeTokensStillWork) {
  ASSERT_TRUE(testing::produceRecords(cluster_->bootstrap(), kTopic, kPartitions, 40));
  auto sub = open("globex", OpenRequest{std::nullopt, "earliest", "seq-even"});
  ASSERT_NE(sub, nullptr);
  CollectingSink sink;
  EXPECT_EQ(pullUntil(*sub, sink, 60, 15s), 60u);
  for (const auto& e : sink.events) {
    auto json = nlohmann::json::parse(e.data);
    EXPECT_EQ(std::stoi(json["headers"]["seq"].get<std::string>()) % 2, 0);
    EXPECT_EQ(json["value"]["pad"].get<std::string>().find("MASKED"), std::string::npos)
        << "globex has no masking policy";
  }
  // The 60 odd records are counted as filtered for (globex, the product), once each.
  EXPECT_TRUE(waitForFiltered(*sub, "globex", 60)) << stream("globex").filtered;
}

// The same count when the filtered client reads through a catch-up reader (the product's tail
// started at the end for a live client first), and once the reader has joined the window.
TEST_F(EgressHubTest, FilteredEventsAreCountedInCatchUpToo) {
  ASSERT_TRUE(testing::produceRecords(cluster_->bootstrap(), kTopic, kPartitions, 40));
  auto live = open("globex", OpenRequest{});
  ASSERT_NE(live, nullptr);
  auto sub = open("globex", OpenRequest{std::nullopt, "earliest", "seq-even"});
  ASSERT_NE(sub, nullptr);
  CollectingSink sink;
  EXPECT_EQ(pullUntil(*sub, sink, 60, 15s), 60u);
  EXPECT_GE(stream("globex").catchup_events, 1u) << "the test no longer reads through catch-up";
  EXPECT_TRUE(waitForFiltered(*sub, "globex", 60)) << stream("globex").filtered;
  // New records after the join: counted in the window.
  ASSERT_TRUE(testing::produceRecords(cluster_->bootstrap(), kTopic, kPartitions, 10, 40));
  EXPECT_EQ(pullUntil(*sub, sink, 75, 15s), 75u);
  EXPECT_TRUE(waitForFiltered(*sub, "globex", 75)) << stream("globex").filtered;
}

TEST_F(EgressHubTest, SlowClientIsCutWithItsPositionAndResumesWithoutLoss) {
  config_.egress->client_buffer_bytes = 16 * 1024;
  auto slow = open("globex", OpenRequest{});
  ASSERT_NE(slow, nullptr);
  ASSERT_TRUE(testing::produceRecords(cluster_->bootstrap(), kTopic, kPartitions, 200));
  // The client reads nothing while the tail moves on; its next pull ends it.
  ASSERT_TRUE(testing::waitFor(
      [&] { return hub_->tailFor(kProduct, "globex")->stats().events >= 600; }, 15s));
  CollectingSink sink;
  EXPECT_EQ(slow->pull(sink, 1024, [] {}), Subscription::Pull::kEnded);
  EXPECT_EQ(slow->endReason(), EndReason::kSlowClient);
  const std::string token = slow->token();
  const size_t got = sink.events.size();
  slow.reset();
  // Resuming from the token (through a catch-up reader: it is far behind) loses nothing.
  auto again = open("globex", OpenRequest{token, std::nullopt, std::nullopt});
  ASSERT_NE(again, nullptr);
  EXPECT_TRUE(again->catchingUp());
  CollectingSink rest;
  EXPECT_EQ(pullUntil(*again, rest, 600 - got, 15s), 600 - got);
  std::set<std::pair<int32_t, int64_t>> seen;
  for (const auto* s : {&sink, &rest}) {
    for (const auto& e : s->events) {
      EXPECT_TRUE(seen.emplace(e.partition, e.offset).second);
    }
  }
  EXPECT_EQ(seen.size(), 600u);
}

TEST_F(EgressHubTest, AccessAndLimits) {
  Identity globex{"globex", "g", "token", std::nullopt};
  auto a = hub_->open(globex, kProduct, OpenRequest{});
  auto b = hub_->open(globex, kProduct, OpenRequest{});
  ASSERT_TRUE(std::holds_alternative<std::unique_ptr<Subscription>>(a));
  ASSERT_TRUE(std::holds_alternative<std::unique_ptr<Subscription>>(b));
  auto c = hub_->open(globex, kProduct, OpenRequest{});
  ASSERT_TRUE(std::holds_alternative<OpenError>(c));
  EXPECT_EQ(std::get<OpenError>(c).http_status, 429);
  std::get<std::unique_ptr<Subscription>>(a).reset();
  EXPECT_TRUE(std::holds_alternative<std::unique_ptr<Subscription>>(
      hub_->open(globex, kProduct, OpenRequest{})));

  auto unknown = hub_->open(globex, "no.such.product", OpenRequest{});
  ASSERT_TRUE(std::holds_alternative<OpenError>(unknown));
  EXPECT_EQ(std::get<OpenError>(unknown).http_status, 404);
  Identity narrowed{"acme", "jwt-1", "jwt", std::vector<std::string>{"other.v1"}};
  auto forbidden = hub_->open(narrowed, kProduct, OpenRequest{});
  ASSERT_TRUE(std::holds_alternative<OpenError>(forbidden));
  EXPECT_EQ(std::get<OpenError>(forbidden).http_status, 403);
  auto bad_token = hub_->open(Identity{"acme", "a", "token", std::nullopt}, kProduct,
                              OpenRequest{"not-a-token", std::nullopt, std::nullopt});
  ASSERT_TRUE(std::holds_alternative<OpenError>(bad_token));
  EXPECT_EQ(std::get<OpenError>(bad_token).http_status, 400);
}

} // namespace
} // namespace causeway::egress
