// The topic-creation seam against embedded clusters: EmbeddedTopicAdmin through the control
// endpoint, and what KafkaTopicAdmin can show on the mock (metadata only: the mock's CreateTopics
// never answers).

#include "embedded/embedded_cluster.h"
#include "kafka/embedded_topic_admin.h"
#include "kafka/kafka_topic_admin.h"
#include "kafka/topic_admin.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <string>

namespace causeway::kafka {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using embedded::EmbeddedCluster;
using embedded::EmbeddedClusterPtr;

EmbeddedClusterPtr startOrFail(const std::string& name,
                               const std::vector<embedded::TopicSpec>& topics = {}) {
  EmbeddedCluster::Options options;
  options.name = name;
  options.topics = topics;
  auto cluster = EmbeddedCluster::start(options);
  if (!cluster.ok()) {
    ADD_FAILURE() << cluster.error().message;
    return nullptr;
  }
  return std::move(*cluster);
}

config::ClusterConfig embeddedTarget(const EmbeddedCluster& cluster) {
  config::ClusterConfig config;
  config.name = "target";
  config.bootstrap = cluster.bootstrap();
  config.embedded_control = cluster.controlAddress();
  return config;
}

config::ClusterConfig kafkaTarget(const EmbeddedCluster& cluster) {
  config::ClusterConfig config;
  config.name = "target";
  config.bootstrap = cluster.bootstrap();
  return config;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A TCP listener that never accepts: connections complete in the backlog and then hear nothing.
class SilentListener {
public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(fd_, 16);
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~SilentListener() { ::close(fd_); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }

private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(TopicAdminTest, FactoryPicksTheEmbeddedAdminWhenAControlEndpointIsSet) {
  config::ClusterConfig embedded;
  embedded.name = "dev";
  embedded.bootstrap = "127.0.0.1:9092";
  embedded.embedded_control = "127.0.0.1:9090";
  config::ClusterConfig real = embedded;
  real.embedded_control.clear();

  auto a = makeTopicAdmin(embedded);
  auto b = makeTopicAdmin(real);

  EXPECT_NE(dynamic_cast<EmbeddedTopicAdmin*>(a.get()), nullptr);
  EXPECT_NE(dynamic_cast<KafkaTopicAdmin*>(b.get()), nullptr);
}

TEST(TopicAdminTest, EmbeddedAdminCreatesAMissingTopic) {
  // given
  auto cluster = startOrFail("west");
  ASSERT_TRUE(cluster);
  auto admin = makeTopicAdmin(embeddedTarget(*cluster));

  // when
  auto count = admin->ensureTopic("orders.mirror", 3, 5s);

  // then
  ASSERT_TRUE(count.ok()) << count.error().message;
  EXPECT_EQ(*count, 3);
  auto seen = cluster->partitionCount("orders.mirror");
  ASSERT_TRUE(seen.ok()) << seen.error().message;
  EXPECT_EQ(*seen, 3);
}

TEST(TopicAdminTest, EmbeddedAdminIsIdempotentAndReportsALargerExistingCount) {
  auto cluster = startOrFail("west", {{"wide", 6}});
  ASSERT_TRUE(cluster);
  auto admin = makeTopicAdmin(embeddedTarget(*cluster));

  auto first = admin->ensureTopic("wide", 2, 5s);
  auto second = admin->ensureTopic("wide", 6, 5s);

  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(*first, 6);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(*second, 6);
}

TEST(TopicAdminTest, EmbeddedAdminErrorNamesClusterEndpointAndTopic) {
  auto cluster = startOrFail("west", {{"narrow", 2}});
  ASSERT_TRUE(cluster);
  auto admin = makeTopicAdmin(embeddedTarget(*cluster));

  auto grown = admin->ensureTopic("narrow", 4, 5s);
  auto invalid = admin->ensureTopic("not valid", 1, 5s);

  ASSERT_FALSE(grown.ok());
  const std::string& message = grown.error().message;
  EXPECT_TRUE(contains(message, "'target'")) << message;
  EXPECT_TRUE(contains(message, cluster->controlAddress())) << message;
  EXPECT_TRUE(contains(message, "'narrow'")) << message;
  EXPECT_TRUE(contains(message, "cannot add partitions")) << message;
  ASSERT_FALSE(invalid.ok());
  EXPECT_TRUE(contains(invalid.error().message, "400")) << invalid.error().message;
  EXPECT_TRUE(contains(invalid.error().message, "'not valid'")) << invalid.error().message;
}

TEST(TopicAdminTest, EmbeddedAdminReportsAnUnreachableEndpoint) {
  // given: an endpoint address nobody listens on
  auto cluster = startOrFail("west");
  ASSERT_TRUE(cluster);
  config::ClusterConfig config = embeddedTarget(*cluster);
  std::string control = config.embedded_control;
  cluster.reset();
  auto admin = makeTopicAdmin(config);

  // when
  auto started = Clock::now();
  auto count = admin->ensureTopic("orders", 1, 2s);

  // then
  EXPECT_LT(Clock::now() - started, 5s);
  ASSERT_FALSE(count.ok());
  EXPECT_TRUE(contains(count.error().message, control)) << count.error().message;
  EXPECT_TRUE(contains(count.error().message, "'orders'")) << count.error().message;
}

TEST(TopicAdminTest, EmbeddedAdminGivesUpOnASilentEndpointWithinTheTimeout) {
  SilentListener silent;
  config::ClusterConfig config;
  config.name = "stuck";
  config.bootstrap = "127.0.0.1:1";
  config.embedded_control = silent.address();
  auto admin = makeTopicAdmin(config);

  auto started = Clock::now();
  auto count = admin->ensureTopic("orders", 1, 500ms);
  auto took = Clock::now() - started;

  ASSERT_FALSE(count.ok());
  EXPECT_LT(took, 3s) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
  EXPECT_TRUE(contains(count.error().message, "'stuck'")) << count.error().message;
}

TEST(TopicAdminTest, KafkaAdminAcceptsAnExistingTopicFromMetadataAlone) {
  // given: the mock answers metadata, but never CreateTopics/CreatePartitions
  auto cluster = startOrFail("east", {{"existing", 4}});
  ASSERT_TRUE(cluster);
  KafkaTopicAdmin admin(kafkaTarget(*cluster));

  // when
  auto started = Clock::now();
  auto same = admin.ensureTopic("existing", 4, 3s);
  auto fewer = admin.ensureTopic("existing", 2, 3s);
  auto took = Clock::now() - started;

  // then
  ASSERT_TRUE(same.ok()) << same.error().message;
  EXPECT_EQ(*same, 4);
  ASSERT_TRUE(fewer.ok()) << fewer.error().message;
  EXPECT_EQ(*fewer, 4);
  EXPECT_LT(took, 3s) << "an existing topic should need no Admin API request";
}

TEST(TopicAdminTest, KafkaAdminReportsAFailedCreateWithinTheTimeout) {
  // given
  auto cluster = startOrFail("east");
  ASSERT_TRUE(cluster);
  auto admin = std::make_unique<KafkaTopicAdmin>(kafkaTarget(*cluster));

  // when
  auto started = Clock::now();
  auto count = admin->ensureTopic("missing", 2, 3s);
  auto took = Clock::now() - started;

  // then
  ASSERT_FALSE(count.ok());
  const std::string& message = count.error().message;
  EXPECT_LT(took, 5s) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count();
  EXPECT_TRUE(contains(message, "'target'")) << message;
  EXPECT_TRUE(contains(message, cluster->bootstrap())) << message;
  EXPECT_TRUE(contains(message, "'missing'")) << message;
  // Looking for the topic must not have auto-created it.
  EXPECT_FALSE(cluster->partitionCount("missing").ok());
  auto destroy_started = Clock::now();
  admin.reset();
  EXPECT_LT(Clock::now() - destroy_started, 5s) << "the admin client hangs on destroy";
}

TEST(TopicAdminTest, KafkaAdminReportsAnUnreachableCluster) {
  SilentListener silent;
  config::ClusterConfig config;
  config.name = "nowhere";
  config.bootstrap = silent.address();
  KafkaTopicAdmin admin(config);

  auto started = Clock::now();
  auto count = admin.ensureTopic("orders", 1, 1s);

  ASSERT_FALSE(count.ok());
  EXPECT_LT(Clock::now() - started, 4s);
  EXPECT_TRUE(contains(count.error().message, "'nowhere'")) << count.error().message;
  EXPECT_TRUE(contains(count.error().message, silent.address())) << count.error().message;
  EXPECT_TRUE(contains(count.error().message, "'orders'")) << count.error().message;
}

} // namespace
} // namespace causeway::kafka
