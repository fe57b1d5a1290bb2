#include "embedded/embedded_cluster.h"
#include "embedded/bootstrap_forwarder.h"
#include "embedded/control_endpoint.h"
#include "kafka/handles.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace causeway::embedded {

namespace {

using std::chrono::milliseconds;

constexpr int kMaxBrokers = 32;
constexpr int32_t kMaxPartitions = 10000;
constexpr size_t kMaxTopicNameLength = 249;

// librdkafka's own log lines from the cluster's internal handles (the mock host and the
// bookkeeping client) are about the cluster's plumbing, not about the user's clients: debug level.
void logToSpdlog(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  spdlog::debug("embedded cluster librdkafka [{}] {}: {}", level, fac, buf);
}

Result<kafka::HandlePtr> newHandle(const std::map<std::string, std::string>& properties) {
  kafka::ConfPtr conf(rd_kafka_conf_new());
  char errstr[512];
  for (const auto& [key, value] : properties) {
    if (rd_kafka_conf_set(conf.get(), key.c_str(), value.c_str(), errstr, sizeof(errstr)) !=
        RD_KAFKA_CONF_OK) {
      return Error{"cannot set librdkafka property " + key + ": " + errstr};
    }
  }
  rd_kafka_conf_set_log_cb(conf.get(), logToSpdlog);
  // rd_kafka_new takes ownership of the conf only on success.
  kafka::HandlePtr rk(rd_kafka_new(RD_KAFKA_PRODUCER, conf.get(), errstr, sizeof(errstr)));
  if (!rk) {
    return Error{std::string("cannot create a librdkafka handle: ") + errstr};
  }
  conf.release();
  return rk;
}

} // namespace

Status validateTopicName(const std::string& topic) {
  if (topic.empty()) {
    return Error{"a topic name cannot be empty"};
  }
  if (topic.size() > kMaxTopicNameLength) {
    return Error{"topic name '" + topic.substr(0, 40) + "...' is " +
                 std::to_string(topic.size()) + " characters long; Kafka allows at most " +
                 std::to_string(kMaxTopicNameLength)};
  }
  if (topic == "." || topic == "..") {
    return Error{"'" + topic + "' is not a valid topic name"};
  }
  for (char c : topic) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) {
      return Error{"topic name '" + topic +
                   "' has a character Kafka does not allow (only a-z, A-Z, 0-9, '.', '_', '-')"};
    }
  }
  return Status::success();
}

Status validatePartitionCount(int64_t partitions) {
  if (partitions < 1 || partitions > kMaxPartitions) {
    return Error{"partition count " + std::to_string(partitions) + " is out of range (1.." +
                 std::to_string(kMaxPartitions) + ")"};
  }
  return Status::success();
}

Result<TopicSpec> parseTopicSpec(const std::string& spec) {
  TopicSpec topic;
  auto colon = spec.find(':');
  topic.name = spec.substr(0, colon);
  if (colon != std::string::npos) {
    std::string count = spec.substr(colon + 1);
    int64_t partitions = 0;
    auto [ptr, ec] = std::from_chars(count.data(), count.data() + count.size(), partitions);
    if (count.empty() || ec != std::errc() || ptr != count.data() + count.size()) {
      return Error{"topic '" + spec + "': expected NAME or NAME:PARTITIONS, and '" + count +
                   "' is not a number"};
    }
    if (auto status = validatePartitionCount(partitions); !status.ok()) {
      return Error{"topic '" + spec + "': " + status.message()};
    }
    topic.partitions = static_cast<int32_t>(partitions);
  }
  if (auto status = validateTopicName(topic.name); !status.ok()) {
    return Error{"topic '" + spec + "': " + status.message()};
  }
  return topic;
}

// Owns, in construction order: the host handle, the mock cluster it hosts, the bookkeeping
// client, the optional bootstrap forwarder and the control endpoint. Destroyed in reverse (see
// ~Impl): nothing may call into the mock once it is gone.
//
// It is the control endpoint's ControlTarget: the endpoint's worker threads call the operations
// below concurrently with the EmbeddedCluster's own callers, hence the two mutexes.
struct EmbeddedCluster::Impl : ControlTarget {
  Options options;
  std::string bootstrap;
  std::string stable_bootstrap;

  kafka::HandlePtr host;         // hosts the mock cluster's thread and bookkeeping
  kafka::MockClusterPtr mock;     // owned by us, but must die before `host`
  kafka::HandlePtr metadata_client;  // a normal client of the cluster, only for metadata requests

  mutable std::mutex mutex;            // guards the fields below
  std::map<int, std::string> broker_addresses;  // id -> "127.0.0.1:port"
  std::map<int, bool> broker_up;
  std::mutex create_mutex;  // serializes check-then-create of topics

  std::unique_ptr<BootstrapForwarder> forwarder;  // reads broker_addresses/broker_up
  std::unique_ptr<ControlEndpoint> control;       // calls every operation below

  ~Impl() override {
    // The control endpoint calls into the cluster, so it stops first.
    control.reset();
    forwarder.reset();
    // A client of the mock must go before the mock's brokers, or its destroy waits on dead
    // connections.
    metadata_client.reset();
    // rd_kafka_mock_cluster_destroy joins the mock thread, which uses `host`.
    mock.reset();
    host.reset();
  }

  std::string prefix() const { return "embedded cluster '" + options.name + "'"; }

  // The topic's partition count, std::nullopt if it does not exist. Asks for all topics: a
  // metadata request naming a missing topic would auto-create it on the mock.
  Result<std::optional<int32_t>> lookupTopic(const std::string& topic,
                                             milliseconds timeout) override {
    const rd_kafka_metadata_t* raw = nullptr;
    rd_kafka_resp_err_t err = rd_kafka_metadata(metadata_client.get(), 1, nullptr, &raw,
                                                static_cast<int>(timeout.count()));
    kafka::MetadataPtr md(raw);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Error{prefix() + ": cannot read metadata for topic '" + topic +
                   "': " + rd_kafka_err2str(err)};
    }
    for (int i = 0; i < md->topic_cnt; ++i) {
      const rd_kafka_metadata_topic_t& t = md->topics[i];
      if (topic != t.topic) {
        continue;
      }
      if (t.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
        return std::optional<int32_t>();
      }
      if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR && t.partition_cnt == 0) {
        return Error{prefix() + ": metadata for topic '" + topic +
                     "' has an error: " + rd_kafka_err2str(t.err)};
      }
      return std::optional<int32_t>(t.partition_cnt);
    }
    return std::optional<int32_t>();
  }

  Result<int32_t> ensureTopic(const std::string& topic, int32_t partitions, milliseconds timeout,
                              ControlFailure* failure) override {
    *failure = ControlFailure::kInvalid;
    if (auto status = validateTopicName(topic); !status.ok()) {
      return Error{prefix() + ": " + status.message()};
    }
    if (auto status = validatePartitionCount(partitions); !status.ok()) {
      return Error{prefix() + ": topic '" + topic + "': " + status.message()};
    }
    std::lock_guard<std::mutex> lock(create_mutex);
    // Two rounds: a client may auto-create the topic between our look-up and our create.
    for (int round = 0; round < 2; ++round) {
      auto existing = lookupTopic(topic, timeout);
      if (!existing.ok()) {
        *failure = ControlFailure::kUnavailable;
        return existing.error();
      }
      if (existing->has_value()) {
        int32_t count = **existing;
        if (count >= partitions) {
          *failure = ControlFailure::kNone;
          return count;
        }
        *failure = ControlFailure::kConflict;
        return Error{prefix() + ": topic '" + topic + "' has " + std::to_string(count) +
                     " partitions and " + std::to_string(partitions) +
                     " were requested, but the embedded cluster cannot add partitions to an "
                     "existing topic"};
      }
      // The replication factor is ignored by the mock (always min(3, brokers)).
      rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(
          mock.get(), topic.c_str(), partitions, std::min(3, options.brokers));
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        spdlog::info("{}: created topic '{}' with {} partition{}", prefix(), topic, partitions,
                     partitions == 1 ? "" : "s");
        *failure = ControlFailure::kNone;
        return partitions;
      }
      if (err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        *failure = ControlFailure::kUnavailable;
        return Error{prefix() + ": cannot create topic '" + topic +
                     "': " + rd_kafka_err2str(err)};
      }
    }
    *failure = ControlFailure::kUnavailable;
    return Error{prefix() + ": topic '" + topic +
                 "' exists on the mock but is missing from its metadata"};
  }

  Status checkBrokerId(int broker_id) const {
    if (broker_id < 1 || broker_id > options.brokers) {
      return Error{prefix() + ": there is no broker " + std::to_string(broker_id) +
                   " (broker ids are 1.." + std::to_string(options.brokers) + ")"};
    }
    return Status::success();
  }

  Status setBrokerState(int broker_id, bool up, ControlFailure* failure) override {
    *failure = ControlFailure::kNotFound;
    if (auto status = checkBrokerId(broker_id); !status.ok()) {
      return status;
    }
    rd_kafka_resp_err_t err = up ? rd_kafka_mock_broker_set_up(mock.get(), broker_id)
                                 : rd_kafka_mock_broker_set_down(mock.get(), broker_id);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      *failure = ControlFailure::kUnavailable;
      return Error{prefix() + ": cannot set broker " + std::to_string(broker_id) +
                   (up ? " up: " : " down: ") + rd_kafka_err2str(err)};
    }
    {
      std::lock_guard<std::mutex> lock(mutex);
      broker_up[broker_id] = up;
    }
    spdlog::info("{}: broker {} is {}", prefix(), broker_id, up ? "up" : "down");
    *failure = ControlFailure::kNone;
    return Status::success();
  }

  Status setPartitionLeader(const std::string& topic, int32_t partition, int broker_id,
                            ControlFailure* failure) override {
    *failure = ControlFailure::kNotFound;
    if (auto status = checkBrokerId(broker_id); !status.ok()) {
      return status;
    }
    // The mock would silently create a missing topic here, so look first.
    auto existing = lookupTopic(topic, kDefaultMetadataTimeout);
    if (!existing.ok()) {
      *failure = ControlFailure::kUnavailable;
      return existing.error();
    }
    if (!existing->has_value()) {
      return Error{prefix() + ": topic '" + topic + "' does not exist"};
    }
    if (partition < 0 || partition >= **existing) {
      return Error{prefix() + ": topic '" + topic + "' has no partition " +
                   std::to_string(partition) + " (it has " + std::to_string(**existing) + ")"};
    }
    rd_kafka_resp_err_t err =
        rd_kafka_mock_partition_set_leader(mock.get(), topic.c_str(), partition, broker_id);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      *failure = ControlFailure::kUnavailable;
      return Error{prefix() + ": cannot move the leader of " + topic + "/" +
                   std::to_string(partition) + ": " + rd_kafka_err2str(err)};
    }
    *failure = ControlFailure::kNone;
    return Status::success();
  }

  // Brokers that are up first, in id order: where the bootstrap forwarder connects.
  std::vector<std::string> upstreamCandidates() const {
    std::lock_guard<std::mutex> lock(mutex);
    std::vector<std::string> up;
    std::vector<std::string> down;
    for (const auto& [id, address] : broker_addresses) {
      auto it = broker_up.find(id);
      (it == broker_up.end() || it->second ? up : down).push_back(address);
    }
    up.insert(up.end(), down.begin(), down.end());
    return up;
  }

  ClusterDescription describe() const override {
    ClusterDescription description{options.name, bootstrap, stable_bootstrap, {}};
    std::lock_guard<std::mutex> lock(mutex);
    for (const auto& [id, address] : broker_addresses) {
      auto it = broker_up.find(id);
      description.brokers.push_back({id, address, it == broker_up.end() || it->second});
    }
    return description;
  }
};

EmbeddedCluster::EmbeddedCluster(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

EmbeddedCluster::~EmbeddedCluster() {
  auto started = std::chrono::steady_clock::now();
  std::string name = impl_->options.name;
  impl_.reset();
  spdlog::debug("embedded cluster '{}' stopped in {} ms", name,
                std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() -
                                                         started)
                    .count());
}

Result<std::unique_ptr<EmbeddedCluster>> EmbeddedCluster::start(const Options& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  const std::string prefix = impl->prefix();
  if (options.brokers < 1 || options.brokers > kMaxBrokers) {
    return Error{prefix + ": broker count " + std::to_string(options.brokers) +
                 " is out of range (1.." + std::to_string(kMaxBrokers) + ")"};
  }
  for (int port : {options.control_port, options.bootstrap_port}) {
    if (port < 0 || port > 65535) {
      return Error{prefix + ": port " + std::to_string(port) + " is out of range (0..65535)"};
    }
  }
  if (options.bootstrap_port != 0 && options.bootstrap_port == options.control_port) {
    return Error{prefix + ": the bootstrap port and the control port are both " +
                 std::to_string(options.bootstrap_port)};
  }
  for (const TopicSpec& topic : options.topics) {
    if (auto status = validateTopicName(topic.name); !status.ok()) {
      return Error{prefix + ": " + status.message()};
    }
    if (auto status = validatePartitionCount(topic.partitions); !status.ok()) {
      return Error{prefix + ": topic '" + topic.name + "': " + status.message()};
    }
  }

  // The host handle only carries the mock; it never connects anywhere. Without a
  // bootstrap.servers it logs a warning, which the log callback keeps at debug level.
  auto host = newHandle({});
  if (!host.ok()) {
    return Error{prefix + ": " + host.error().message};
  }
  impl->host = std::move(*host);
  impl->mock.reset(rd_kafka_mock_cluster_new(impl->host.get(), options.brokers));
  if (!impl->mock) {
    return Error{prefix + ": cannot start the mock brokers"};
  }
  impl->bootstrap = rd_kafka_mock_cluster_bootstraps(impl->mock.get());

  auto client = newHandle({{"bootstrap.servers", impl->bootstrap},
                           {"client.id", "causeway-embedded-" + options.name}});
  if (!client.ok()) {
    return Error{prefix + ": " + client.error().message};
  }
  impl->metadata_client = std::move(*client);

  // Learn the brokers' advertised addresses (ids 1..N) from the cluster itself.
  {
    const rd_kafka_metadata_t* raw = nullptr;
    rd_kafka_resp_err_t err = rd_kafka_metadata(impl->metadata_client.get(), 1, nullptr, &raw,
                                                static_cast<int>(kDefaultMetadataTimeout.count()));
    kafka::MetadataPtr md(raw);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Error{prefix + ": the mock brokers at " + impl->bootstrap +
                   " do not answer a metadata request: " + rd_kafka_err2str(err)};
    }
    std::lock_guard<std::mutex> lock(impl->mutex);
    for (int i = 0; i < md->broker_cnt; ++i) {
      impl->broker_addresses[md->brokers[i].id] =
          std::string(md->brokers[i].host) + ":" + std::to_string(md->brokers[i].port);
      impl->broker_up[md->brokers[i].id] = true;
    }
  }

  for (const TopicSpec& topic : options.topics) {
    ControlFailure failure = ControlFailure::kNone;
    auto count = impl->ensureTopic(topic.name, topic.partitions, kDefaultMetadataTimeout,
                                   &failure);
    if (!count.ok()) {
      return count.error();
    }
  }

  impl->stable_bootstrap = impl->bootstrap;
  if (options.bootstrap_port != 0) {
    Impl* raw_impl = impl.get();
    auto forwarder = BootstrapForwarder::start(
        options.bootstrap_port, [raw_impl] { return raw_impl->upstreamCandidates(); });
    if (!forwarder.ok()) {
      return Error{prefix + ": bootstrap port: " + forwarder.error().message};
    }
    impl->forwarder = std::move(*forwarder);
    impl->stable_bootstrap = "127.0.0.1:" + std::to_string(options.bootstrap_port);
  }

  auto control = ControlEndpoint::start(*impl, prefix, options.control_port);
  if (!control.ok()) {
    return control.error();
  }
  impl->control = std::move(*control);

  spdlog::info("{}: {} brokers at {}, control endpoint http://{}{}", prefix, options.brokers,
               impl->bootstrap, impl->control->address(),
               options.bootstrap_port ? ", stable bootstrap " + impl->stable_bootstrap : "");
  return std::unique_ptr<EmbeddedCluster>(new EmbeddedCluster(std::move(impl)));
}

const std::string& EmbeddedCluster::name() const { return impl_->options.name; }
const std::string& EmbeddedCluster::bootstrap() const { return impl_->bootstrap; }
const std::string& EmbeddedCluster::stableBootstrap() const { return impl_->stable_bootstrap; }
const std::string& EmbeddedCluster::controlAddress() const { return impl_->control->address(); }
int EmbeddedCluster::brokerCount() const { return impl_->options.brokers; }

Status EmbeddedCluster::createTopic(const std::string& topic, int32_t partitions) {
  auto count = ensureTopic(topic, partitions);
  if (!count.ok()) {
    return count.error();
  }
  return Status::success();
}

Result<int32_t> EmbeddedCluster::ensureTopic(const std::string& topic, int32_t partitions) {
  ControlFailure failure = ControlFailure::kNone;
  return impl_->ensureTopic(topic, partitions, kDefaultMetadataTimeout, &failure);
}

Result<int32_t> EmbeddedCluster::partitionCount(const std::string& topic) {
  auto existing = impl_->lookupTopic(topic, kDefaultMetadataTimeout);
  if (!existing.ok()) {
    return existing.error();
  }
  if (!existing->has_value()) {
    return Error{impl_->prefix() + ": topic '" + topic + "' does not exist"};
  }
  return **existing;
}

Status EmbeddedCluster::setBrokerDown(int broker_id) {
  ControlFailure failure = ControlFailure::kNone;
  return impl_->setBrokerState(broker_id, false, &failure);
}

Status EmbeddedCluster::setBrokerUp(int broker_id) {
  ControlFailure failure = ControlFailure::kNone;
  return impl_->setBrokerState(broker_id, true, &failure);
}

bool EmbeddedCluster::isBrokerUp(int broker_id) const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  auto it = impl_->broker_up.find(broker_id);
  return it != impl_->broker_up.end() && it->second;
}

Status EmbeddedCluster::setPartitionLeader(const std::string& topic, int32_t partition,
                                           int broker_id) {
  ControlFailure failure = ControlFailure::kNone;
  return impl_->setPartitionLeader(topic, partition, broker_id, &failure);
}

rd_kafka_mock_cluster_t* EmbeddedCluster::mock() { return impl_->mock.get(); }

} // namespace causeway::embedded
