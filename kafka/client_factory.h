#pragma once

// The librdkafka seam: every Kafka client Causeway builds comes from here, configured in layers
//   Causeway defaults  <  cluster `properties`  <  link consumer/producer properties  <  owned
// where "owned" are the settings Causeway's correctness depends on (group.id, manual commits,
// partitioner-free explicit partitions...). The config loader rejects user attempts to set owned
// properties, so the layering never silently overrides a user.

#include "common/result.h"
#include "config/config.h"
#include "kafka/handles.h"

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace causeway::kafka {

using Properties = std::map<std::string, std::string>;

struct ClientSpec {
  rd_kafka_type_t type = RD_KAFKA_CONSUMER;
  const config::ClusterConfig* cluster = nullptr;
  Properties defaults;   // Causeway's defaults: the user's properties win
  Properties overrides;  // link-level user properties: win over the cluster's
  Properties owned;      // Causeway's own: win over everything
  std::string client_id;
  // Called with the conf before the handle is created: set callbacks and opaque here.
  std::function<void(rd_kafka_conf_t*)> configure;
};

// Builds a client. The error names the cluster and the offending property.
Result<HandlePtr> makeClient(const ClientSpec& spec);

// Asks the cluster for its broker list (no topics: nothing is auto-created) within the
// cluster's connect_timeout. The error names the cluster and its bootstrap address.
Status checkReachable(rd_kafka_t* rk, const config::ClusterConfig& cluster);

// Metadata for every topic in the cluster. (A metadata request for one named topic would
// auto-create it on brokers that allow that, including the embedded clusters.)
Result<MetadataPtr> fetchAllTopics(rd_kafka_t* rk, const config::ClusterConfig& cluster,
                                   std::chrono::milliseconds timeout);

// After a watermark query that failed with an error that passes (a partition without a leader or
// not known, no answer): fetches every topic's metadata, which replaces `rk`'s cache.
// librdkafka 2.0.2 takes a partition cached without a leader as a final answer in
// rd_kafka_query_watermark_offsets and does not ask again, so without this the next query fails
// alike until the periodic refresh (5 minutes by default). Failures are ignored: the next read says
// what is wrong.
void refreshMetadataAfterFailedQuery(rd_kafka_t* rk, const config::ClusterConfig& cluster,
                                     rd_kafka_resp_err_t err, std::chrono::milliseconds timeout);

// "cluster 'east' (127.0.0.1:9092)": how every message names a cluster.
std::string describeCluster(const config::ClusterConfig& cluster);

// Routes librdkafka's own log lines into Causeway's log at the matching level, secrets hidden.
void routeLibrdkafkaLogs(rd_kafka_conf_t* conf);

// What the log callback does with one line of librdkafka's log (level: syslog 0-7): redacts it
// (common/secrets.h) and logs it as "librdkafka <client> <facility>: <line>".
void logLibrdkafkaLine(int level, std::string_view client, std::string_view facility,
                       std::string_view line);

// librdkafka's message for a property it refused (rd_kafka_conf_set), with the value hidden
// when the property is secret-named or its value was registered as a secret.
std::string redactPropertyError(const std::string& key, const std::string& value,
                                std::string_view message);

}  // namespace causeway::kafka
