#pragma once

// Internal to embedded/: the stable bootstrap port of an EmbeddedCluster.

#include "common/result.h"
#include "embedded/fd.h"

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace causeway::embedded {

// A TCP relay from a fixed port on 127.0.0.1 to one of the mock brokers, so that a cluster
// started with a stable bootstrap port can be named in a config file across restarts. Clients
// only bootstrap through it: the metadata they get back advertises the brokers' own ports.
//
// Lifecycle: start() binds and listens (a port in use is an error), then starts the relay
// thread; the destructor wakes that thread through a pipe, joins it and closes every socket,
// dropping any relayed connection still open.
//
// Threads: one thread runs a poll() loop over the listening socket, the wake-up pipe and every
// relayed connection (at most 256); nothing else touches the sockets. Each direction of a
// connection has one bounded 64 KiB buffer: a side is only read while its buffer has room, so a
// slow reader slows the writer down instead of growing memory. port() may be called from any
// thread.
//
// Ownership: the forwarder owns its sockets and its thread. The UpstreamPicker runs on the relay
// thread, once per accepted connection, so whatever it captures must outlive the forwarder and
// be safe to read from that thread (EmbeddedCluster passes its broker table, under its mutex).
class BootstrapForwarder {
public:
  // Upstream "host:port" addresses in order of preference, asked for on every new connection.
  // The relay tries them in order until a connect succeeds.
  using UpstreamPicker = std::function<std::vector<std::string>()>;

  static Result<std::unique_ptr<BootstrapForwarder>> start(int port, UpstreamPicker picker);
  ~BootstrapForwarder();

  BootstrapForwarder(const BootstrapForwarder&) = delete;
  BootstrapForwarder& operator=(const BootstrapForwarder&) = delete;

  int port() const { return port_; }

private:
  explicit BootstrapForwarder(UpstreamPicker picker) : picker_(std::move(picker)) {}

  // The relay thread's body: returns when woken by the destructor or when poll() fails.
  void run();

  UpstreamPicker picker_;
  Fd listen_fd_;
  Fd wake_read_;
  Fd wake_write_;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

} // namespace causeway::embedded
