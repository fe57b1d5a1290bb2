// causeway dev-cluster: hosts one embedded Kafka cluster in the foreground until SIGINT/SIGTERM,
// so that `causeway run` (or any Kafka client) in another terminal has a cluster to talk to.

#include "app/commands.h"
#include "embedded/embedded_cluster.h"

#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <iostream>
#include <sstream>

namespace causeway::app {
namespace {

// Double-quoted YAML scalar (the addresses never need escaping, names might).
std::string yamlQuote(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out + "\"";
}

std::string describe(const embedded::EmbeddedCluster& cluster,
                     const std::vector<embedded::TopicSpec>& topics) {
  std::ostringstream out;
  out << "Embedded Kafka cluster '" << cluster.name() << "' is running with "
      << cluster.brokerCount() << (cluster.brokerCount() == 1 ? " broker" : " brokers") << ".\n";
  out << "  bootstrap: " << cluster.stableBootstrap() << "\n";
  if (cluster.stableBootstrap() != cluster.bootstrap()) {
    out << "  brokers:   " << cluster.bootstrap() << "\n";
  }
  out << "  control:   http://" << cluster.controlAddress() << "\n";
  if (!topics.empty()) {
    out << "  topics:   ";
    for (const auto& topic : topics) {
      out << " " << topic.name << " (" << topic.partitions << ")";
    }
    out << "\n";
  }
  out << "\nCluster entry for a Causeway config file:\n\n";
  out << "clusters:\n";
  out << "  " << cluster.name() << ":\n";
  out << "    bootstrap: " << yamlQuote(cluster.stableBootstrap()) << "\n";
  out << "    embedded_control: " << yamlQuote(cluster.controlAddress()) << "\n";
  out << "\nThis is a librdkafka mock cluster: data lives in memory (at most 5 MiB per partition)"
         " and is gone when it stops. Press Ctrl-C to stop.\n";
  return out.str();
}

} // namespace

int runDevCluster(const DevClusterOptions& options) {
  embedded::EmbeddedCluster::Options cluster_options;
  cluster_options.name = options.name;
  cluster_options.brokers = options.brokers;
  cluster_options.bootstrap_port = options.port;
  cluster_options.control_port = options.control_port;
  for (const std::string& spec : options.topics) {
    auto topic = embedded::parseTopicSpec(spec);
    if (!topic.ok()) {
      std::cerr << "causeway dev-cluster: --topic: " << topic.error().message << "\n";
      return 1;
    }
    cluster_options.topics.push_back(*topic);
  }

  // Block the stop signals before any thread exists (the cluster's threads inherit the mask), so
  // they are only ever taken by the sigwait() below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigset_t previous;
  if (pthread_sigmask(SIG_BLOCK, &stop_signals, &previous) != 0) {
    std::cerr << "causeway dev-cluster: cannot block SIGINT/SIGTERM\n";
    return 1;
  }

  int exit_code = 0;
  {
    auto cluster = embedded::EmbeddedCluster::start(cluster_options);
    if (!cluster.ok()) {
      std::cerr << "causeway dev-cluster: " << cluster.error().message << "\n";
      exit_code = 1;
    } else {
      std::cout << describe(**cluster, cluster_options.topics) << std::flush;
      int signal_number = 0;
      if (int err = sigwait(&stop_signals, &signal_number); err != 0) {
        std::cerr << "causeway dev-cluster: waiting for SIGINT/SIGTERM failed (error " << err
                  << "), stopping the cluster\n";
        exit_code = 1;
      } else {
        std::cerr << "causeway dev-cluster: "
                  << (signal_number == SIGINT ? "SIGINT" : "SIGTERM")
                  << " received, stopping the cluster\n";
      }
    }
    // The cluster (brokers, control endpoint, forwarder) is destroyed here.
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return exit_code;
}

} // namespace causeway::app
