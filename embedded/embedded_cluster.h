#pragma once

#include "common/result.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

typedef struct rd_kafka_s rd_kafka_t;
typedef struct rd_kafka_mock_cluster_s rd_kafka_mock_cluster_t;

namespace causeway::embedded {

struct TopicSpec {
  std::string name;
  int32_t partitions = 1;
};

// Kafka's topic name rules: 1..249 characters of [a-zA-Z0-9._-], and not "." or "..".
Status validateTopicName(const std::string& topic);
// Partition counts the embedded cluster accepts: 1..10000.
Status validatePartitionCount(int64_t partitions);
// Parses "name:partitions" or "name" (1 partition), as `causeway dev-cluster --topic` takes it.
Result<TopicSpec> parseTopicSpec(const std::string& spec);

// An in-process Kafka cluster for development, the demo and tests: librdkafka's mock cluster
// (real Kafka wire protocol on loopback TCP, several brokers) plus a small HTTP control endpoint
// that stands in for the admin operations the mock lacks (CreateTopics) so that a Causeway
// process elsewhere can create topics on it through EmbeddedTopicAdmin.
//
// Read docs/embedded-clusters.md: no transactional isolation, 5 MiB retention per partition.
// embedded/README.md describes the control endpoint's HTTP API (topics, broker down/up, leaders).
//
// Lifecycle: start() -> use -> destructor stops the control endpoint and the brokers. All Kafka
// clients connected to it should be destroyed first. Methods are thread-safe.
class EmbeddedCluster {
public:
  struct Options {
    std::string name = "dev";
    int brokers = 3;
    std::vector<TopicSpec> topics;
    // TCP port of the HTTP control endpoint on 127.0.0.1; 0 picks a free port.
    int control_port = 0;
    // If non-zero, a stable bootstrap port on 127.0.0.1 that forwards to the first broker that
    // is up (the mock brokers themselves listen on random ports, which metadata advertises).
    // A port in use makes start() fail.
    int bootstrap_port = 0;
  };

  static Result<std::unique_ptr<EmbeddedCluster>> start(const Options& options);
  ~EmbeddedCluster();

  EmbeddedCluster(const EmbeddedCluster&) = delete;
  EmbeddedCluster& operator=(const EmbeddedCluster&) = delete;

  const std::string& name() const;
  // bootstrap.servers for clients ("127.0.0.1:41233,127.0.0.1:38121,...").
  const std::string& bootstrap() const;
  // "127.0.0.1:PORT" of the stable bootstrap forwarder when Options::bootstrap_port is set,
  // otherwise the same as bootstrap().
  const std::string& stableBootstrap() const;
  // "127.0.0.1:PORT" of the control endpoint, for ClusterConfig::embedded_control.
  const std::string& controlAddress() const;
  int brokerCount() const;

  // Creates a topic (replication factor is min(3, brokers) on the mock). Creating an existing
  // topic with the same or fewer partitions succeeds and changes nothing.
  Status createTopic(const std::string& topic, int32_t partitions);
  // Same as createTopic, but returns the partition count the topic has afterwards (which is
  // more than `partitions` when the topic already existed with more).
  Result<int32_t> ensureTopic(const std::string& topic, int32_t partitions);
  // Partition count of a topic, or an error if it does not exist.
  Result<int32_t> partitionCount(const std::string& topic);

  // Fault injection (broker ids are 1..brokers).
  Status setBrokerDown(int broker_id);
  Status setBrokerUp(int broker_id);
  // Whether a broker is up as far as this cluster's fault injection is concerned.
  bool isBrokerUp(int broker_id) const;
  Status setPartitionLeader(const std::string& topic, int32_t partition, int broker_id);

  // The librdkafka mock itself, for fault injection this class does not wrap (RTT, request
  // errors). Valid until the destructor. Do not use it to create topics: it may auto-create.
  rd_kafka_mock_cluster_t* mock();

private:
  struct Impl;
  explicit EmbeddedCluster(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

using EmbeddedClusterPtr = std::unique_ptr<EmbeddedCluster>;

} // namespace causeway::embedded
