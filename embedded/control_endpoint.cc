#include "embedded/control_endpoint.h"
#include "embedded/embedded_cluster.h"

#include <sys/socket.h>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <utility>

namespace causeway::embedded {

namespace {

using std::chrono::milliseconds;
using Json = nlohmann::json;

int httpStatus(ControlFailure failure) {
  switch (failure) {
  case ControlFailure::kInvalid:
    return 400;
  case ControlFailure::kNotFound:
    return 404;
  case ControlFailure::kConflict:
    return 409;
  case ControlFailure::kUnavailable:
    return 503;
  case ControlFailure::kNone:
    break;
  }
  return 500;
}

void replyJson(httplib::Response& res, int status, const Json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

void replyError(httplib::Response& res, int status, const std::string& message) {
  replyJson(res, status, Json{{"error", message}});
}

// GET /v1/cluster's answer.
Json clusterJson(const ClusterDescription& cluster, const std::string& control_address) {
  Json brokers = Json::array();
  for (const ClusterDescription::Broker& broker : cluster.brokers) {
    brokers.push_back({{"id", broker.id}, {"address", broker.address}, {"up", broker.up}});
  }
  return Json{{"name", cluster.name},
              {"bootstrap", cluster.bootstrap},
              {"stable_bootstrap", cluster.stable_bootstrap},
              {"control", control_address},
              {"brokers", brokers}};
}

} // namespace

ControlEndpoint::ControlEndpoint(ControlTarget& target, std::string error_prefix)
    : target_(target), prefix_(std::move(error_prefix)),
      http_(std::make_unique<httplib::Server>()) {}

ControlEndpoint::~ControlEndpoint() {
  if (thread_.joinable()) {
    http_->stop();
    thread_.join();
  }
}

Result<std::unique_ptr<ControlEndpoint>> ControlEndpoint::start(ControlTarget& target,
                                                                std::string error_prefix,
                                                                int port) {
  std::unique_ptr<ControlEndpoint> endpoint(new ControlEndpoint(target, std::move(error_prefix)));
  const std::string& prefix = endpoint->prefix_;
  httplib::Server& http = *endpoint->http_;
  // A small pool, and short keep-alive and read timeouts so that stopping the endpoint never
  // waits long on an idle client connection.
  http.new_task_queue = [] { return new httplib::ThreadPool(4); };
  http.set_keep_alive_timeout(1);
  http.set_read_timeout(2, 0);
  http.set_write_timeout(2, 0);
  // httplib's default socket options add SO_REUSEPORT, which would let a second cluster share
  // the control port and receive half of the first one's requests. SO_REUSEADDR only.
  http.set_socket_options([](int sock) {
    int one = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  });
  endpoint->installRoutes();
  int bound_port = port;
  if (bound_port == 0) {
    bound_port = http.bind_to_any_port("127.0.0.1");
    if (bound_port <= 0) {
      return Error{prefix + ": cannot listen on 127.0.0.1 for the control endpoint"};
    }
  } else if (!http.bind_to_port("127.0.0.1", bound_port)) {
    return Error{prefix + ": cannot listen on 127.0.0.1:" + std::to_string(bound_port) +
                 " for the control endpoint: the port is in use (by another dev-cluster?)"};
  }
  endpoint->address_ = "127.0.0.1:" + std::to_string(bound_port);
  endpoint->thread_ = std::thread([raw = endpoint.get()] {
    raw->http_->listen_after_bind();
    raw->finished_.store(true);
  });
  // httplib's stop() is a no-op until the accept loop runs, so wait for it: an endpoint
  // destroyed right after start() must not leave the loop running forever. The socket already
  // listens, so no request is lost meanwhile. This takes a thread start, i.e. about a millisecond.
  while (!http.is_running()) {
    if (endpoint->finished_.load()) {
      return Error{prefix + ": the control endpoint on " + endpoint->address_ +
                   " stopped as soon as it started"};
    }
    std::this_thread::sleep_for(milliseconds(1));
  }
  return endpoint;
}

void ControlEndpoint::installRoutes() {
  http_->Post("/v1/topics", [this](const httplib::Request& req, httplib::Response& res) {
    Json body = Json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      return replyError(res, 400, prefix_ + ": the request body is not a JSON object");
    }
    if (!body.contains("name") || !body["name"].is_string()) {
      return replyError(res, 400, prefix_ + ": \"name\" (a string) is required");
    }
    std::string topic = body["name"].get<std::string>();
    if (!body.contains("partitions") || !body["partitions"].is_number_integer()) {
      return replyError(res, 400,
                        prefix_ + ": topic '" + topic +
                            "': \"partitions\" (an integer) is required");
    }
    int64_t partitions = body["partitions"].get<int64_t>();
    if (auto status = validatePartitionCount(partitions); !status.ok()) {
      return replyError(res, 400, prefix_ + ": topic '" + topic + "': " + status.message());
    }
    milliseconds timeout = kDefaultMetadataTimeout;
    if (body.contains("timeout_ms") && body["timeout_ms"].is_number_integer()) {
      timeout = milliseconds(std::clamp<int64_t>(body["timeout_ms"].get<int64_t>(), 100,
                                                 kDefaultMetadataTimeout.count()));
    }
    ControlFailure failure = ControlFailure::kNone;
    auto count = target_.ensureTopic(topic, static_cast<int32_t>(partitions), timeout, &failure);
    if (!count.ok()) {
      return replyError(res, httpStatus(failure), count.error().message);
    }
    replyJson(res, 200, Json{{"name", topic}, {"partitions", *count}});
  });

  http_->Get(R"(/v1/topics/([^/]+))", [this](const httplib::Request& req,
                                           httplib::Response& res) {
    std::string topic = req.matches[1];
    if (auto status = validateTopicName(topic); !status.ok()) {
      return replyError(res, 400, prefix_ + ": " + status.message());
    }
    auto existing = target_.lookupTopic(topic, kDefaultMetadataTimeout);
    if (!existing.ok()) {
      return replyError(res, 503, existing.error().message);
    }
    if (!existing->has_value()) {
      return replyError(res, 404, prefix_ + ": topic '" + topic + "' does not exist");
    }
    replyJson(res, 200, Json{{"name", topic}, {"partitions", **existing}});
  });

  http_->Post(R"(/v1/brokers/(-?\d+)/(up|down))", [this](const httplib::Request& req,
                                                     httplib::Response& res) {
    int broker_id = 0;
    const std::string id_text = req.matches[1];
    auto [ptr, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(),
                                     broker_id);
    if (ec != std::errc()) {
      return replyError(res, 404, prefix_ + ": there is no broker " + id_text);
    }
    bool up = req.matches[2] == "up";
    ControlFailure failure = ControlFailure::kNone;
    if (auto status = target_.setBrokerState(broker_id, up, &failure); !status.ok()) {
      return replyError(res, httpStatus(failure), status.message());
    }
    replyJson(res, 200, Json{{"id", broker_id}, {"up", up}});
  });

  http_->Post(R"(/v1/topics/([^/]+)/partitions/(\d+)/leader)",
            [this](const httplib::Request& req, httplib::Response& res) {
              std::string topic = req.matches[1];
              int32_t partition = 0;
              const std::string partition_text = req.matches[2];
              auto [ptr, ec] = std::from_chars(
                  partition_text.data(), partition_text.data() + partition_text.size(),
                  partition);
              Json body = Json::parse(req.body, nullptr, false);
              if (ec != std::errc() || body.is_discarded() || !body.is_object() ||
                  !body.contains("broker") || !body["broker"].is_number_integer()) {
                return replyError(res, 400,
                                  prefix_ + ": expected {\"broker\": ID} for " + topic +
                                      "/" + partition_text);
              }
              int broker_id = body["broker"].get<int>();
              ControlFailure failure = ControlFailure::kNone;
              auto status = target_.setPartitionLeader(topic, partition, broker_id, &failure);
              if (!status.ok()) {
                return replyError(res, httpStatus(failure), status.message());
              }
              replyJson(res, 200,
                        Json{{"topic", topic}, {"partition", partition}, {"leader", broker_id}});
            });

  http_->Get("/v1/cluster", [this](const httplib::Request&, httplib::Response& res) {
    replyJson(res, 200, clusterJson(target_.describe(), address_));
  });

  http_->set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
    if (res.body.empty()) {
      replyError(res, res.status,
                 prefix_ + (res.status == 404 ? ": no such endpoint: " : ": bad request: ") +
                     req.method + " " + req.path);
    }
  });
}

} // namespace causeway::embedded
