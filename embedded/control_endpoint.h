#pragma once

// Internal to embedded/: the HTTP control endpoint of an EmbeddedCluster (API in README.md).

#include "common/result.h"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace httplib {
class Server;
} // namespace httplib

namespace causeway::embedded {

// How long a cluster operation waits for a metadata answer unless told otherwise, and the most a
// control request may ask for ("timeout_ms").
inline constexpr std::chrono::milliseconds kDefaultMetadataTimeout{10000};

// What kind of failure a cluster operation had, for the control endpoint's HTTP status.
enum class ControlFailure { kNone, kInvalid, kNotFound, kConflict, kUnavailable };

// A snapshot of the cluster for GET /v1/cluster.
struct ClusterDescription {
  struct Broker {
    int id = 0;
    std::string address;  // "127.0.0.1:port"
    bool up = true;
  };
  std::string name;
  std::string bootstrap;
  std::string stable_bootstrap;
  std::vector<Broker> brokers;  // in id order
};

// The operations the control endpoint drives. EmbeddedCluster implements it; every method is
// called from the endpoint's worker threads, concurrently, so it must be thread-safe. Messages of
// returned errors are shown to the HTTP client as they are (they name the cluster).
class ControlTarget {
public:
  virtual ~ControlTarget() = default;

  // See EmbeddedCluster::ensureTopic; `failure` says why it failed.
  virtual Result<int32_t> ensureTopic(const std::string& topic, int32_t partitions,
                                      std::chrono::milliseconds timeout,
                                      ControlFailure* failure) = 0;
  // The topic's partition count, std::nullopt if it does not exist. Never creates it.
  virtual Result<std::optional<int32_t>> lookupTopic(const std::string& topic,
                                                     std::chrono::milliseconds timeout) = 0;
  virtual Status setBrokerState(int broker_id, bool up, ControlFailure* failure) = 0;
  virtual Status setPartitionLeader(const std::string& topic, int32_t partition, int broker_id,
                                    ControlFailure* failure) = 0;
  virtual ClusterDescription describe() const = 0;
};

// The HTTP server on 127.0.0.1 that stands in for the admin operations librdkafka's mock lacks:
// routes (topics, broker down/up, partition leaders, cluster description), JSON bodies, and the
// listening socket. Each route validates its input, calls the ControlTarget and maps
// ControlFailure to 400/404/409/503; errors are {"error": "..."} starting with `error_prefix`.
//
// Lifecycle: start() binds the port (a port in use is an error), starts the accept loop on its
// own thread and returns once that loop runs, so a request sent after start() is never lost and
// the destructor can always stop the loop. The destructor stops accepting, waits for requests
// in flight and joins the thread.
//
// Threads: one accept thread plus httplib's pool of 4 worker threads that run the routes; short
// keep-alive and read/write timeouts keep the destructor from waiting long on idle clients.
// address() may be called from any thread.
//
// Ownership: the endpoint owns the server and its threads; it borrows the ControlTarget, which
// must outlive it (EmbeddedCluster destroys its endpoint before anything the routes touch).
class ControlEndpoint {
public:
  // `port` 0 picks a free port.
  static Result<std::unique_ptr<ControlEndpoint>> start(ControlTarget& target,
                                                        std::string error_prefix, int port);
  ~ControlEndpoint();

  ControlEndpoint(const ControlEndpoint&) = delete;
  ControlEndpoint& operator=(const ControlEndpoint&) = delete;

  // "127.0.0.1:PORT".
  const std::string& address() const { return address_; }

private:
  ControlEndpoint(ControlTarget& target, std::string error_prefix);

  void installRoutes();

  ControlTarget& target_;
  const std::string prefix_;
  std::string address_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  std::atomic<bool> finished_{false};  // set when the accept loop has returned
};

} // namespace causeway::embedded
