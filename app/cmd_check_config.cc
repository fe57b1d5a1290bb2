// causeway check-config FILE: loads and validates a configuration without connecting anywhere.

#include "app/commands.h"
#include "config/config_loader.h"
#include "policies/policy_runtime.h"

#include <iostream>
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

void printSummary(const std::string& path, const config::Config& config) {
  std::cout << path << ": valid\n";
  std::cout << "clusters (" << config.clusters.size() << "):\n";
  for (const auto& [name, cluster] : config.clusters) {
    std::cout << "  " << name << ": " << cluster.bootstrap;
    if (!cluster.embedded_control.empty()) {
      std::cout << " (embedded, control " << cluster.embedded_control << ")";
    }
    if (!cluster.properties.empty()) {
      std::cout << ", " << cluster.properties.size() << " librdkafka "
                << (cluster.properties.size() == 1 ? "property" : "properties");
    }
    std::cout << "\n";
  }
  std::cout << "links (" << config.links.size() << "):\n";
  for (const auto& link : config.links) {
    std::cout << "  " << link.name << ": " << link.source << " -> " << link.target << ", topics "
              << joinPatterns(link.topics.include);
    if (!link.topics.exclude.empty()) {
      std::cout << " except " << joinPatterns(link.topics.exclude);
    }
    std::cout << ", naming " << namingText(link.naming) << ", start "
              << (link.start == config::StartPosition::kEarliest ? "earliest" : "latest") << ", "
              << (link.delivery == config::DeliveryMode::kAtLeastOnce ? "at_least_once"
                                                                      : "exactly_once")
              << ", group " << link.groupId()
              << (link.policy.empty() ? "" : ", policy " + link.policy) << "\n";
  }
  if (!config.policies.empty()) {
    std::cout << "policies (" << config.policies.size() << "):\n";
    for (const auto& [name, policy] : config.policies) {
      std::cout << "  " << name << ": allows " << joinPatterns(policy.topics_allow)
                << (policy.filter ? ", filter" : "") << ", " << policy.fields.size()
                << (policy.fields.size() == 1 ? " field rule" : " field rules")
                << (policy.mode == config::PolicyMode::kShadow ? ", shadow mode" : "") << "\n";
    }
  }
}

} // namespace

int runCheckConfig(const std::string& path) {
  config::LoadResult result = config::loadConfigFile(path);
  if (result.ok()) {
    // What needs the policy compiler and the key files: filters, paths, keys.
    result.errors = policies::checkConfig(*result.config);
    if (result.errors.empty()) {
      for (const auto& warning : policies::configWarnings(*result.config)) {
        std::cerr << "warning: " << warning.str() << "\n";
      }
      printSummary(path, *result.config);
      return 0;
    }
  }
  for (const auto& error : result.errors) {
    std::cerr << error.str() << "\n";
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

} // namespace causeway::app
