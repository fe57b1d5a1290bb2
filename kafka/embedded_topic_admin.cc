#include "kafka/embedded_topic_admin.h"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>

namespace causeway::kafka {
namespace {

using Json = nlohmann::json;

std::string describeError(httplib::Error error) {
  switch (error) {
  case httplib::Error::Connection:
    return "cannot connect (is the embedded cluster, e.g. `causeway dev-cluster`, running?)";
  case httplib::Error::Read:
    return "no complete answer in time";
  case httplib::Error::ConnectionTimeout:
    return "connecting timed out";
  default:
    return "request failed: " + httplib::to_string(error);
  }
}

} // namespace

EmbeddedTopicAdmin::EmbeddedTopicAdmin(config::ClusterConfig cluster)
    : cluster_(std::move(cluster)) {}

Result<int32_t> EmbeddedTopicAdmin::ensureTopic(const std::string& topic, int32_t partitions,
                                                std::chrono::milliseconds timeout) {
  const std::string what = "cluster '" + cluster_.name + "' (embedded control " +
                           cluster_.embedded_control + "): topic '" + topic + "'";
  httplib::Client client(cluster_.embedded_control);
  if (!client.is_valid()) {
    return Error{what + ": '" + cluster_.embedded_control + "' is not a valid host:port"};
  }
  const auto bounded = std::max(timeout, std::chrono::milliseconds(1));
  client.set_connection_timeout(bounded);
  client.set_read_timeout(bounded);
  client.set_write_timeout(bounded);
  // The endpoint's own metadata look-ups get most of the budget, so that it answers (with an
  // error that says why) before this client gives up.
  const auto server_budget = std::max<int64_t>(bounded.count() * 3 / 4, 100);
  Json body{{"name", topic}, {"partitions", partitions}, {"timeout_ms", server_budget}};
  auto res = client.Post("/v1/topics", body.dump(), "application/json");
  if (!res) {
    return Error{what + ": cannot create it with " + std::to_string(partitions) +
                 " partitions: " + describeError(res.error())};
  }
  Json answer = Json::parse(res->body, nullptr, false);
  if (res->status != 200) {
    std::string reason = "HTTP " + std::to_string(res->status);
    if (!answer.is_discarded() && answer.is_object() && answer.contains("error") &&
        answer["error"].is_string()) {
      reason += ": " + answer["error"].get<std::string>();
    } else if (!res->body.empty()) {
      reason += ": " + res->body.substr(0, 200);
    }
    return Error{what + ": cannot create it with " + std::to_string(partitions) +
                 " partitions: " + reason};
  }
  if (answer.is_discarded() || !answer.is_object() || !answer.contains("partitions") ||
      !answer["partitions"].is_number_integer()) {
    return Error{what + ": the control endpoint's answer has no partition count: " +
                 res->body.substr(0, 200)};
  }
  auto count = answer["partitions"].get<int64_t>();
  if (count < partitions) {
    return Error{what + ": the control endpoint reports " + std::to_string(count) +
                 " partitions, fewer than the " + std::to_string(partitions) + " requested"};
  }
  return static_cast<int32_t>(count);
}

namespace {

std::string noConfigs(const config::ClusterConfig& cluster) {
  return "cluster '" + cluster.name +
         "' is an embedded cluster: its brokers keep no topic configurations (DescribeConfigs "
         "and AlterConfigs are not implemented)";
}

} // namespace

Result<std::map<std::string, DescribedTopicConfigs>> EmbeddedTopicAdmin::describeTopicConfigs(
    const std::vector<std::string>&, const std::vector<std::string>&, std::chrono::milliseconds) {
  return Error{noConfigs(cluster_)};
}

Result<std::map<std::string, std::string>> EmbeddedTopicAdmin::alterTopicConfigs(
    const std::map<std::string, TopicConfigValues>&, std::chrono::milliseconds) {
  return Error{noConfigs(cluster_)};
}

} // namespace causeway::kafka
