// causeway check-config FILE: loads and validates a configuration without connecting anywhere.
// References (${env:...}, ${file:...}, ${directory:...}) are resolved, so a missing secret is
// found here; the summary names properties but never shows a property's value, and every line
// is redacted (common/secrets.h) in case a value that came from a reference shows elsewhere.

#include "app/commands.h"
#include "common/secrets.h"
#include "config/config_loader.h"
#include "egress/egress_server.h"
#include "policies/policy_runtime.h"
#include "schema/check_config.h"

#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace causeway::app {
namespace {

std::string namingText(const config::NamingConfig& naming) {
  switch (naming.mode) {
  case config::NamingMode::kIdentity:
    return "identity";
  case config::NamingMode::kPrefix:
    return "prefix \"" + naming.value + "\"";
  case config::NamingMode::kTemplate:
    return "template \"" + naming.value + "\"";
  }
  return "?";
}

std::string joinPatterns(const std::vector<std::string>& patterns) {
  std::string out;
  for (const auto& pattern : patterns) {
    out += out.empty() ? "" : ", ";
    out += pattern;
  }
  return out;
}

// "3 librdkafka properties (security.protocol, sasl.username, sasl.password)": names only.
std::string propertyNames(const std::map<std::string, std::string>& properties) {
  std::string out = std::to_string(properties.size()) + " librdkafka " +
                    (properties.size() == 1 ? "property" : "properties") + " (";
  bool first = true;
  for (const auto& [key, value] : properties) {
    out += (first ? "" : ", ") + key;
    first = false;
  }
  return out + ")";
}

void printSummary(std::ostream& out, const std::string& path, const config::Config& config) {
  out << path << ": valid\n";
  out << "clusters (" << config.clusters.size() << "):\n";
  for (const auto& [name, cluster] : config.clusters) {
    out << "  " << name << ": " << cluster.bootstrap;
    if (!cluster.embedded_control.empty()) {
      out << " (embedded, control " << cluster.embedded_control << ")";
    }
    if (!cluster.properties.empty()) {
      out << ", " << propertyNames(cluster.properties);
    }
    out << "\n";
  }
  out << "links (" << config.links.size() << "):\n";
  for (const auto& link : config.links) {
    out << "  " << link.name << ": " << link.source << " -> " << link.target << ", topics "
        << joinPatterns(link.topics.include);
    if (!link.topics.exclude.empty()) {
      out << " except " << joinPatterns(link.topics.exclude);
    }
    out << ", naming " << namingText(link.naming) << ", start "
        << (link.start == config::StartPosition::kEarliest ? "earliest" : "latest") << ", "
        << (link.delivery == config::DeliveryMode::kAtLeastOnce ? "at_least_once" : "exactly_once")
        << ", group " << link.groupId() << (link.policy.empty() ? "" : ", policy " + link.policy);
    if (!link.consumer_properties.empty()) {
      out << ", consumer: " << propertyNames(link.consumer_properties);
    }
    if (!link.producer_properties.empty()) {
      out << ", producer: " << propertyNames(link.producer_properties);
    }
    out << "\n";
  }
  if (!config.domains.empty()) {
    std::cout << "domains (" << config.domains.size() << "):\n";
    for (const auto& domain : config.domains) {
      std::cout << "  " << domain.name << ": topics " << joinPatterns(domain.topics) << ", "
                << domain.contracts.size()
                << (domain.contracts.size() == 1 ? " contract" : " contracts") << "\n";
    }
  }
  if (!config.policies.empty()) {
    out << "policies (" << config.policies.size() << "):\n";
    for (const auto& [name, policy] : config.policies) {
      out << "  " << name << ": allows " << joinPatterns(policy.topics_allow)
          << (policy.filter ? ", filter" : "") << ", " << policy.fields.size()
          << (policy.fields.size() == 1 ? " field rule" : " field rules")
          << (policy.mode == config::PolicyMode::kShadow ? ", shadow mode" : "") << "\n";
    }
  }
  if (!config.products.empty()) {
    std::cout << "products (" << config.products.size() << "):\n";
    for (const auto& product : config.products) {
      std::cout << "  " << product.name << ": " << product.source << ", topics "
                << joinPatterns(product.topics) << "\n";
    }
  }
  if (!config.partners.empty()) {
    std::cout << "partners (" << config.partners.size() << "):\n";
    for (const auto& [name, partner] : config.partners) {
      std::cout << "  " << name << ": " << joinPatterns(partner.products)
                << (partner.policy.empty() ? "" : ", policy " + partner.policy) << "\n";
    }
  }
  if (config.egress) {
    std::cout << "egress: " << config.egress->listen << (config.egress->tls ? " (TLS)" : "")
              << (config.egress->grpc_listen.empty() ? "" : ", gRPC " + config.egress->grpc_listen)
              << (config.egress->pushpin ? ", Pushpin " + config.egress->pushpin->publish_url : "")
              << "\n";
  }
}

}  // namespace

int runCheckConfig(const std::string& path) {
  config::LoadResult result = config::loadConfigFile(path);
  if (result.ok()) {
    // What needs the policy compiler and the key files: filters, paths, keys; and what the
    // egress sections name on disk (tokens, JWKS, TLS, keys), read as the worker would.
    result.errors = policies::checkConfig(*result.config);
    // What needs the schema subsystem: catalogs load, their schemas compile and fit contracts.
    for (auto& error : schema::checkConfig(*result.config)) {
      result.errors.push_back(std::move(error));
    }
    for (auto& error : egress::checkConfig(*result.config)) {
      result.errors.push_back(std::move(error));
    }
    if (result.errors.empty()) {
      for (const auto& warning : policies::configWarnings(*result.config)) {
        std::cerr << secrets::redact("warning: " + warning.str()) << "\n";
      }
      std::ostringstream summary;
      printSummary(summary, path, *result.config);
      std::cout << secrets::redact(summary.str());
      return 0;
    }
  }
  for (const auto& error : result.errors) {
    std::cerr << secrets::redact(error.str()) << "\n";
  }
  const size_t count = result.errors.size();
  if (count == 0) {
    // ok() is false only with errors; keep the exit code honest even if that ever changes.
    std::cerr << path << ": invalid configuration\n";
  } else {
    std::cerr << path << ": " << count << (count == 1 ? " error" : " errors") << "\n";
  }
  return 1;
}

}  // namespace causeway::app
