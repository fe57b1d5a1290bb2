// The embedded cluster as its users see it: a Kafka client pointed at bootstrap(), the HTTP
// control endpoint, fault injection, several clusters in one process, and a quick shutdown.

#include "embedded/embedded_cluster.h"
#include "tests/support/test_support.h"

#include <arpa/inet.h>
#include <signal.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <httplib.h>
#include <librdkafka/rdkafka.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace causeway::embedded {
namespace {

using testing::freePort;

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

struct HandleDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using HandlePtr = std::unique_ptr<rd_kafka_t, HandleDeleter>;
struct MetadataDeleter {
  void operator()(const rd_kafka_metadata_t* md) const { rd_kafka_metadata_destroy(md); }
};
using MetadataPtr = std::unique_ptr<const rd_kafka_metadata_t, MetadataDeleter>;
struct MessageDeleter {
  void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
};
using MessagePtr = std::unique_ptr<rd_kafka_message_t, MessageDeleter>;
struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const {
    rd_kafka_topic_partition_list_destroy(l);
  }
};
using PartitionListPtr = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;

HandlePtr makeClient(rd_kafka_type_t type, const std::map<std::string, std::string>& props) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char errstr[512];
  for (const auto& [key, value] : props) {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr, sizeof(errstr)) !=
        RD_KAFKA_CONF_OK) {
      ADD_FAILURE() << key << ": " << errstr;
    }
  }
  HandlePtr rk(rd_kafka_new(type, conf, errstr, sizeof(errstr)));
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    ADD_FAILURE() << "rd_kafka_new: " << errstr;
  }
  return rk;
}

struct ClusterView {
  int brokers = 0;
  std::map<std::string, int> topics;  // name -> partition count
};

// What a plain Kafka client sees at `bootstrap`: brokers and every topic (all-topics metadata,
// which creates nothing).
std::optional<ClusterView> describe(const std::string& bootstrap,
                                    std::chrono::milliseconds timeout = 10s) {
  HandlePtr rk = makeClient(RD_KAFKA_PRODUCER, {{"bootstrap.servers", bootstrap}});
  if (!rk) {
    return std::nullopt;
  }
  const rd_kafka_metadata_t* raw = nullptr;
  rd_kafka_resp_err_t err =
      rd_kafka_metadata(rk.get(), 1, nullptr, &raw, static_cast<int>(timeout.count()));
  MetadataPtr md(raw);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return std::nullopt;
  }
  ClusterView view;
  view.brokers = md->broker_cnt;
  for (int i = 0; i < md->topic_cnt; ++i) {
    view.topics[md->topics[i].topic] = md->topics[i].partition_cnt;
  }
  return view;
}

EmbeddedClusterPtr startOrFail(EmbeddedCluster::Options options) {
  auto cluster = EmbeddedCluster::start(options);
  if (!cluster.ok()) {
    ADD_FAILURE() << cluster.error().message;
    return nullptr;
  }
  return std::move(*cluster);
}


// Produces `count` records with key "k<i>" / value "v<i>" to each partition and waits for the
// acknowledgements.
void produce(const std::string& bootstrap, const std::string& topic, int partitions, int count) {
  HandlePtr producer = makeClient(RD_KAFKA_PRODUCER, {{"bootstrap.servers", bootstrap},
                                                      {"acks", "all"},
                                                      {"linger.ms", "5"}});
  ASSERT_TRUE(producer);
  for (int p = 0; p < partitions; ++p) {
    for (int i = 0; i < count; ++i) {
      std::string key = "k" + std::to_string(i);
      std::string value = "p" + std::to_string(p) + "-v" + std::to_string(i);
      rd_kafka_resp_err_t err = rd_kafka_producev(
          producer.get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(p),
          RD_KAFKA_V_KEY(key.data(), key.size()),
          RD_KAFKA_V_VALUE(value.data(), value.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_END);
      ASSERT_EQ(err, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(err);
    }
  }
  ASSERT_EQ(rd_kafka_flush(producer.get(), 30000), RD_KAFKA_RESP_ERR_NO_ERROR)
      << "records not acknowledged within 30 s";
}

// Reads `expected` records of partition `partition` from the beginning (assign, no group).
std::vector<std::pair<std::string, std::string>> consume(const std::string& bootstrap,
                                                         const std::string& topic,
                                                         int partition, size_t expected) {
  HandlePtr consumer = makeClient(RD_KAFKA_CONSUMER, {{"bootstrap.servers", bootstrap},
                                                      {"group.id", "embedded-test"},
                                                      {"enable.auto.commit", "false"},
                                                      {"fetch.wait.max.ms", "10"}});
  std::vector<std::pair<std::string, std::string>> records;
  if (!consumer) {
    return records;
  }
  rd_kafka_poll_set_consumer(consumer.get());
  PartitionListPtr assignment(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), partition)->offset =
      RD_KAFKA_OFFSET_BEGINNING;
  EXPECT_EQ(rd_kafka_assign(consumer.get(), assignment.get()), RD_KAFKA_RESP_ERR_NO_ERROR);
  auto deadline = Clock::now() + 30s;
  while (records.size() < expected && Clock::now() < deadline) {
    MessagePtr msg(rd_kafka_consumer_poll(consumer.get(), 100));
    if (!msg || msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      continue;
    }
    if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      ADD_FAILURE() << "consume error: " << rd_kafka_message_errstr(msg.get());
      break;
    }
    records.emplace_back(std::string(static_cast<const char*>(msg->key), msg->key_len),
                         std::string(static_cast<const char*>(msg->payload), msg->len));
  }
  rd_kafka_consumer_close(consumer.get());
  return records;
}

std::unique_ptr<httplib::Client> controlClient(const EmbeddedCluster& cluster) {
  auto client = std::make_unique<httplib::Client>(cluster.controlAddress());
  client->set_connection_timeout(5s);
  client->set_read_timeout(15s);
  return client;
}

TEST(EmbeddedClusterTest, StartsWithTheRequestedBrokersAndTopics) {
  // given
  EmbeddedCluster::Options options;
  options.brokers = 3;
  options.topics = {{"orders", 3}, {"payments", 1}};

  // when
  auto cluster = startOrFail(options);
  ASSERT_TRUE(cluster);

  // then
  auto view = describe(cluster->bootstrap());
  ASSERT_TRUE(view) << "no metadata from " << cluster->bootstrap();
  EXPECT_EQ(view->brokers, 3);
  EXPECT_EQ(view->topics["orders"], 3);
  EXPECT_EQ(view->topics["payments"], 1);
  EXPECT_EQ(cluster->brokerCount(), 3);
  auto count = cluster->partitionCount("orders");
  ASSERT_TRUE(count.ok()) << count.error().message;
  EXPECT_EQ(*count, 3);
}

TEST(EmbeddedClusterTest, RecordsProducedThroughTheBootstrapCanBeConsumed) {
  // given
  EmbeddedCluster::Options options;
  options.topics = {{"events", 2}};
  auto cluster = startOrFail(options);
  ASSERT_TRUE(cluster);

  // when
  produce(cluster->bootstrap(), "events", 2, 5);

  // then: every record, in order, in its partition
  for (int p = 0; p < 2; ++p) {
    auto records = consume(cluster->bootstrap(), "events", p, 5);
    ASSERT_EQ(records.size(), 5u) << "partition " << p;
    for (int i = 0; i < 5; ++i) {
      EXPECT_EQ(records[i].first, "k" + std::to_string(i));
      EXPECT_EQ(records[i].second, "p" + std::to_string(p) + "-v" + std::to_string(i));
    }
  }
}

TEST(EmbeddedClusterTest, CreatingAnExistingTopicWithSameOrFewerPartitionsChangesNothing) {
  // given
  auto cluster = startOrFail({});
  ASSERT_TRUE(cluster);
  ASSERT_TRUE(cluster->createTopic("mirror", 4).ok());

  // when
  Status same = cluster->createTopic("mirror", 4);
  Status fewer = cluster->createTopic("mirror", 2);
  auto ensured = cluster->ensureTopic("mirror", 1);

  // then
  EXPECT_TRUE(same.ok()) << same.message();
  EXPECT_TRUE(fewer.ok()) << fewer.message();
  ASSERT_TRUE(ensured.ok()) << ensured.error().message;
  EXPECT_EQ(*ensured, 4);
  auto view = describe(cluster->bootstrap());
  ASSERT_TRUE(view);
  EXPECT_EQ(view->topics["mirror"], 4);
}

TEST(EmbeddedClusterTest, GrowingAnExistingTopicIsRefusedClearly) {
  // given
  auto cluster = startOrFail({});
  ASSERT_TRUE(cluster);
  ASSERT_TRUE(cluster->createTopic("mirror", 2).ok());

  // when
  Status grown = cluster->createTopic("mirror", 3);

  // then
  ASSERT_FALSE(grown.ok());
  EXPECT_NE(grown.message().find("cannot add partitions to an existing topic"), std::string::npos)
      << grown.message();
  EXPECT_NE(grown.message().find("'mirror'"), std::string::npos) << grown.message();
  auto view = describe(cluster->bootstrap());
  ASSERT_TRUE(view);
  EXPECT_EQ(view->topics["mirror"], 2);
}

TEST(EmbeddedClusterTest, TopicCreatedByAClientIsSeenAsExisting) {
  // given: a metadata request naming a missing topic auto-creates it with 4 partitions
  auto cluster = startOrFail({});
  ASSERT_TRUE(cluster);
  HandlePtr client = makeClient(RD_KAFKA_PRODUCER, {{"bootstrap.servers", cluster->bootstrap()}});
  ASSERT_TRUE(client);
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(client.get(), "auto", nullptr);
  const rd_kafka_metadata_t* raw = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(client.get(), 0, rkt, &raw, 10000);
  MetadataPtr md(raw);
  rd_kafka_topic_destroy(rkt);
  ASSERT_EQ(err, RD_KAFKA_RESP_ERR_NO_ERROR);

  // when
  auto small = cluster->ensureTopic("auto", 2);
  Status large = cluster->createTopic("auto", 8);

  // then
  ASSERT_TRUE(small.ok()) << small.error().message;
  EXPECT_EQ(*small, 4);
  EXPECT_FALSE(large.ok());
}

TEST(EmbeddedClusterTest, InvalidTopicNamesAndPartitionCountsAreRejected) {
  auto cluster = startOrFail({});
  ASSERT_TRUE(cluster);

  EXPECT_FALSE(cluster->createTopic("", 1).ok());
  EXPECT_FALSE(cluster->createTopic("has space", 1).ok());
  EXPECT_FALSE(cluster->createTopic("slash/name", 1).ok());
  EXPECT_FALSE(cluster->createTopic("..", 1).ok());
  EXPECT_FALSE(cluster->createTopic(std::string(250, 'a'), 1).ok());
  EXPECT_FALSE(cluster->createTopic("zero", 0).ok());
  EXPECT_FALSE(cluster->createTopic("huge", 10001).ok());
  EXPECT_TRUE(cluster->createTopic(std::string(249, 'a'), 1).ok());
  EXPECT_TRUE(cluster->createTopic("Valid_name-1.x", 10).ok());

  auto view = describe(cluster->bootstrap());
  ASSERT_TRUE(view);
  EXPECT_EQ(view->topics.count("zero"), 0u);
  EXPECT_EQ(view->topics.count("huge"), 0u);
  EXPECT_EQ(view->topics["Valid_name-1.x"], 10);
}

TEST(EmbeddedClusterTest, StartRejectsBadOptionsWithAMessage) {
  EmbeddedCluster::Options no_brokers;
  no_brokers.brokers = 0;
  auto a = EmbeddedCluster::start(no_brokers);
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.error().message.find("broker count"), std::string::npos) << a.error().message;

  EmbeddedCluster::Options bad_topic;
  bad_topic.topics = {{"ok", 1}, {"bad topic", 1}};
  auto b = EmbeddedCluster::start(bad_topic);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message.find("bad topic"), std::string::npos) << b.error().message;
}

TEST(EmbeddedClusterTest, TopicSpecsAreParsed) {
  auto plain = parseTopicSpec("orders");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->name, "orders");
  EXPECT_EQ(plain->partitions, 1);

  auto counted = parseTopicSpec("orders.created:12");
  ASSERT_TRUE(counted.ok());
  EXPECT_EQ(counted->name, "orders.created");
  EXPECT_EQ(counted->partitions, 12);

  for (const char* bad : {"orders:", "orders:x", "orders:0", "orders:-1", "orders:3x",
                          ":3", "bad name:2", "orders:10001"}) {
    auto parsed = parseTopicSpec(bad);
    EXPECT_FALSE(parsed.ok()) << bad;
    if (!parsed.ok()) {
      EXPECT_NE(parsed.error().message.find(bad), std::string::npos) << parsed.error().message;
    }
  }
}

TEST(EmbeddedClusterTest, SettingTheLeaderOfAMissingTopicDoesNotCreateIt) {
  EmbeddedCluster::Options options;
  options.topics = {{"present", 2}};
  auto cluster = startOrFail(options);
  ASSERT_TRUE(cluster);

  EXPECT_FALSE(cluster->setPartitionLeader("missing", 0, 1).ok());
  EXPECT_FALSE(cluster->setPartitionLeader("present", 2, 1).ok());
  EXPECT_FALSE(cluster->setPartitionLeader("present", 0, 4).ok());
  Status moved = cluster->setPartitionLeader("present", 1, 3);
  EXPECT_TRUE(moved.ok()) << moved.message();

  EXPECT_FALSE(cluster->partitionCount("missing").ok());
  auto view = describe(cluster->bootstrap());
  ASSERT_TRUE(view);
  EXPECT_EQ(view->topics.count("missing"), 0u);
}

TEST(EmbeddedClusterTest, ControlEndpointCreatesAndDescribesTopics) {
  // given
  auto cluster = startOrFail({});
  ASSERT_TRUE(cluster);
  auto http = controlClient(*cluster);

  // when
  auto created = http->Post("/v1/topics", R"({"name":"remote","partitions":5})",
                            "application/json");
  auto again = http->Post("/v1/topics", R"({"name":"remote","partitions":2})",
                          "application/json");
  auto described = http->Get("/v1/topics/remote");

  // then
  ASSERT_TRUE(created) << httplib::to_string(created.error());
  EXPECT_EQ(created->status, 200) << created->body;
  EXPECT_EQ(Json::parse(created->body)["partitions"], 5);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200) << again->body;
  EXPECT_EQ(Json::parse(again->body)["partitions"], 5);
  ASSERT_TRUE(described);
  EXPECT_EQ(described->status, 200) << described->body;
  EXPECT_EQ(Json::parse(described->body)["partitions"], 5);
  auto view = describe(cluster->bootstrap());
  ASSERT_TRUE(view);
  EXPECT_EQ(view->topics["remote"], 5);
}

TEST(EmbeddedClusterTest, ControlEndpointRejectsBadRequests) {
  auto cluster = startOrFail({});
  ASSERT_TRUE(cluster);
  ASSERT_TRUE(cluster->createTopic("existing", 2).ok());
  auto http = controlClient(*cluster);

  struct Case {
    std::string body;
    int status;
  };
  std::vector<Case> cases = {
      {R"({"name":"bad name","partitions":1})", 400},
      {R"({"name":"","partitions":1})", 400},
      {R"({"name":"zero","partitions":0})", 400},
      {R"({"name":"many","partitions":10001})", 400},
      {R"({"name":"text","partitions":"3"})", 400},
      {R"({"partitions":3})", 400},
      {R"(not json)", 400},
      {R"({"name":"existing","partitions":3})", 409},
  };
  for (const Case& c : cases) {
    auto res = http->Post("/v1/topics", c.body, "application/json");
    ASSERT_TRUE(res) << c.body;
    EXPECT_EQ(res->status, c.status) << c.body << " -> " << res->body;
    Json answer = Json::parse(res->body, nullptr, false);
    ASSERT_TRUE(answer.is_object()) << res->body;
    EXPECT_TRUE(answer.contains("error")) << res->body;
  }
  auto missing = http->Get("/v1/topics/nothing-here");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404) << missing->body;
  auto unknown = http->Get("/v1/nowhere");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);

  auto view = describe(cluster->bootstrap());
  ASSERT_TRUE(view);
  EXPECT_EQ(view->topics.count("nothing-here"), 0u);
  EXPECT_EQ(view->topics.count("zero"), 0u);
  EXPECT_EQ(view->topics["existing"], 2);
}

TEST(EmbeddedClusterTest, ControlEndpointDescribesTheCluster) {
  EmbeddedCluster::Options options;
  options.name = "east";
  auto cluster = startOrFail(options);
  ASSERT_TRUE(cluster);

  auto res = controlClient(*cluster)->Get("/v1/cluster");

  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  Json answer = Json::parse(res->body);
  EXPECT_EQ(answer["name"], "east");
  EXPECT_EQ(answer["bootstrap"], cluster->bootstrap());
  EXPECT_EQ(answer["control"], cluster->controlAddress());
  ASSERT_EQ(answer["brokers"].size(), 3u);
  EXPECT_EQ(answer["brokers"][0]["id"], 1);
  EXPECT_EQ(answer["brokers"][0]["up"], true);
}

TEST(EmbeddedClusterTest, BrokersGoDownAndUpThroughTheControlEndpoint) {
  // given: a client that can only reach broker 2
  auto cluster = startOrFail({});
  ASSERT_TRUE(cluster);
  auto http = controlClient(*cluster);
  auto info = http->Get("/v1/cluster");
  ASSERT_TRUE(info);
  std::string broker2 = Json::parse(info->body)["brokers"][1]["address"];
  ASSERT_TRUE(describe(broker2, 5s)) << "broker 2 at " << broker2 << " does not answer";

  // when
  auto down = http->Post("/v1/brokers/2/down", "", "application/json");

  // then
  ASSERT_TRUE(down);
  EXPECT_EQ(down->status, 200) << down->body;
  EXPECT_FALSE(cluster->isBrokerUp(2));
  EXPECT_TRUE(cluster->isBrokerUp(1));
  EXPECT_FALSE(describe(broker2, 2s)) << "broker 2 still answers while down";
  EXPECT_TRUE(describe(cluster->bootstrap(), 10s)) << "the other brokers stopped answering";

  // when
  auto up = http->Post("/v1/brokers/2/up", "", "application/json");

  // then
  ASSERT_TRUE(up);
  EXPECT_EQ(up->status, 200) << up->body;
  EXPECT_TRUE(cluster->isBrokerUp(2));
  EXPECT_TRUE(describe(broker2, 10s)) << "broker 2 does not answer after coming back up";

  auto unknown = http->Post("/v1/brokers/9/down", "", "application/json");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404) << unknown->body;
}

TEST(EmbeddedClusterTest, TwoClustersRunSideBySide) {
  // given
  EmbeddedCluster::Options east;
  east.name = "east";
  east.brokers = 3;
  east.topics = {{"shared", 3}};
  EmbeddedCluster::Options west;
  west.name = "west";
  west.brokers = 1;
  west.topics = {{"shared", 1}, {"west-only", 2}};

  // when
  auto a = startOrFail(east);
  auto b = startOrFail(west);
  ASSERT_TRUE(a && b);

  // then
  EXPECT_NE(a->bootstrap(), b->bootstrap());
  EXPECT_NE(a->controlAddress(), b->controlAddress());
  auto view_a = describe(a->bootstrap());
  auto view_b = describe(b->bootstrap());
  ASSERT_TRUE(view_a && view_b);
  EXPECT_EQ(view_a->brokers, 3);
  EXPECT_EQ(view_b->brokers, 1);
  EXPECT_EQ(view_a->topics["shared"], 3);
  EXPECT_EQ(view_b->topics["shared"], 1);
  EXPECT_EQ(view_a->topics.count("west-only"), 0u);
  EXPECT_EQ(view_b->topics["west-only"], 2);
}

TEST(EmbeddedClusterTest, StableBootstrapPortForwardsToTheBrokers) {
  // given
  EmbeddedCluster::Options options;
  options.bootstrap_port = freePort();
  options.topics = {{"stable", 2}};
  auto cluster = startOrFail(options);
  ASSERT_TRUE(cluster);
  const std::string stable = "127.0.0.1:" + std::to_string(options.bootstrap_port);
  EXPECT_EQ(cluster->stableBootstrap(), stable);

  // when: a client knows only the stable address
  auto view = describe(stable);
  produce(stable, "stable", 2, 3);

  // then
  ASSERT_TRUE(view) << "no metadata through " << stable;
  EXPECT_EQ(view->brokers, 3);
  EXPECT_EQ(view->topics["stable"], 2);
  auto records = consume(stable, "stable", 1, 3);
  ASSERT_EQ(records.size(), 3u);
  EXPECT_EQ(records[2].second, "p1-v2");
}

TEST(EmbeddedClusterTest, StableBootstrapStillWorksWhenBrokerOneIsDown) {
  EmbeddedCluster::Options options;
  options.bootstrap_port = freePort();
  auto cluster = startOrFail(options);
  ASSERT_TRUE(cluster);
  ASSERT_TRUE(cluster->setBrokerDown(1).ok());

  auto view = describe(cluster->stableBootstrap(), 10s);

  ASSERT_TRUE(view) << "no metadata through " << cluster->stableBootstrap();
  EXPECT_EQ(view->brokers, 3);
}

TEST(EmbeddedClusterTest, PortsInUseAreReported) {
  EmbeddedCluster::Options first;
  first.bootstrap_port = freePort();
  auto cluster = startOrFail(first);
  ASSERT_TRUE(cluster);
  int control_port = std::stoi(cluster->controlAddress().substr(
      cluster->controlAddress().rfind(':') + 1));

  EmbeddedCluster::Options same_bootstrap;
  same_bootstrap.bootstrap_port = first.bootstrap_port;
  auto second = EmbeddedCluster::start(same_bootstrap);
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message.find("in use"), std::string::npos) << second.error().message;
  EXPECT_NE(second.error().message.find(std::to_string(first.bootstrap_port)), std::string::npos)
      << second.error().message;

  EmbeddedCluster::Options same_control;
  same_control.control_port = control_port;
  auto third = EmbeddedCluster::start(same_control);
  ASSERT_FALSE(third.ok());
  EXPECT_NE(third.error().message.find("in use"), std::string::npos) << third.error().message;
}

TEST(EmbeddedClusterTest, DestructionIsQuickAndFreesThePorts) {
  // given: a cluster that served a client, an HTTP request and a forwarded connection
  EmbeddedCluster::Options options;
  options.bootstrap_port = freePort();
  options.topics = {{"t", 1}};
  auto cluster = startOrFail(options);
  ASSERT_TRUE(cluster);
  ASSERT_TRUE(describe(cluster->stableBootstrap()));
  ASSERT_TRUE(controlClient(*cluster)->Get("/v1/cluster"));
  std::string control = cluster->controlAddress();

  // when
  auto started = Clock::now();
  cluster.reset();
  auto took = Clock::now() - started;

  // then
  EXPECT_LT(took, 5s) << "destructor took "
                      << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                      << " ms";
  httplib::Client http(control);
  http.set_connection_timeout(1s);
  EXPECT_FALSE(http.Get("/v1/cluster")) << "control endpoint still answers";
  auto again = startOrFail(options);  // the bootstrap port is free again
  EXPECT_TRUE(again);
}

TEST(EmbeddedClusterTest, DestroyingRightAfterStartDoesNotHang) {
  for (int i = 0; i < 3; ++i) {
    auto started = Clock::now();
    {
      auto cluster = startOrFail({});
      ASSERT_TRUE(cluster);
    }
    EXPECT_LT(Clock::now() - started, 10s) << "round " << i;
  }
}

// The YAML value of `key` in the snippet `causeway dev-cluster` prints ("    key: "value"").
std::optional<std::string> snippetValue(const std::string& output, const std::string& key) {
  std::smatch match;
  std::regex pattern("\\n +" + key + ": \"([^\"]+)\"\\n");
  if (std::regex_search(output, match, pattern)) {
    return match[1].str();
  }
  return std::nullopt;
}

TEST(DevClusterCommandTest, HostsAClusterUntilSigtermAndPrintsAConfigSnippet) {
  // given
  const int port = freePort();
  causeway::testing::ChildProcess child(
      {CAUSEWAY_BINARY, "dev-cluster", "--name", "east", "--port", std::to_string(port),
       "--topic", "orders:3", "--topic", "audit"},
      causeway::testing::writeTempFile("dev-cluster.log", ""));

  // when: the snippet is printed
  std::optional<std::string> bootstrap;
  std::optional<std::string> control;
  bool printed = causeway::testing::waitFor(
      [&] {
        std::string log = child.log();
        bootstrap = snippetValue(log, "bootstrap");
        control = snippetValue(log, "embedded_control");
        return (bootstrap && control) || !child.running();
      },
      30s);

  // then: the printed addresses reach the cluster and its control endpoint
  ASSERT_TRUE(printed && bootstrap && control) << "no config snippet within 30 s:\n"
                                               << child.log();
  EXPECT_EQ(*bootstrap, "127.0.0.1:" + std::to_string(port));
  auto view = describe(*bootstrap);
  ASSERT_TRUE(view) << "no metadata through " << *bootstrap;
  EXPECT_EQ(view->brokers, 3);
  EXPECT_EQ(view->topics["orders"], 3);
  EXPECT_EQ(view->topics["audit"], 1);
  httplib::Client http(*control);
  http.set_connection_timeout(5s);
  http.set_read_timeout(15s);
  auto created = http.Post("/v1/topics", R"({"name":"late","partitions":2})", "application/json");
  ASSERT_TRUE(created);
  EXPECT_EQ(created->status, 200) << created->body;

  // when
  child.signal(SIGTERM);

  // then
  auto exit_code = child.wait(15s);
  ASSERT_TRUE(exit_code) << "dev-cluster still running 15 s after SIGTERM:\n" << child.log();
  EXPECT_EQ(*exit_code, 0) << child.log();
}

TEST(DevClusterCommandTest, RejectsABadTopicSpec) {
  causeway::testing::ChildProcess child({CAUSEWAY_BINARY, "dev-cluster", "--topic", "orders:zero"},
                                        causeway::testing::writeTempFile("dev-cluster.log", ""));

  auto exit_code = child.wait(15s);

  ASSERT_TRUE(exit_code) << child.log();
  EXPECT_EQ(*exit_code, 1);
  EXPECT_NE(child.log().find("orders:zero"), std::string::npos) << child.log();
}

} // namespace
} // namespace causeway::embedded
