// causeway products list --config FILE: the data products of a configuration, who may read
// them, their live freshness against the objective (read from the source clusters) and the
// contract of each of their topics (subject and schema ID from the source cluster's registry;
// with --partner, the headers and derived schemas that partner's policy gives it), as the
// egress listing shows them to a partner (egress/product_contracts.h).

#include "app/commands.h"
#include "config/config_loader.h"
#include "egress/crypto.h"
#include "egress/product_contracts.h"
#include "egress/resume_token.h"
#include "egress/stream_hub.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>

namespace causeway::app {
namespace {

std::string seconds(std::optional<double> s) {
  if (!s) {
    return "unknown";
  }
  char buf[32];
  if (*s < 120) {
    std::snprintf(buf, sizeof(buf), "%.1fs", *s);
  } else if (*s < 7200) {
    std::snprintf(buf, sizeof(buf), "%.0fm", *s / 60);
  } else {
    std::snprintf(buf, sizeof(buf), "%.0fh", *s / 3600);
  }
  return buf;
}

// One line per topic under its product: the contract's subject and schema ID, or why unknown.
void printContracts(const nlohmann::json& row) {
  if (row["contracts"].is_null()) {
    std::printf("  (topics unknown: the source cluster did not answer)\n");
    return;
  }
  for (const auto& entry : row["contracts"]) {
    const nlohmann::json& contract = entry["contract"];
    std::string text = "no contract";
    if (contract.is_object()) {
      text = "contract " + contract["name"].get<std::string>();
      if (contract.contains("format")) {
        text += " (" + contract["format"].get<std::string>() + ")";
      }
      if (contract.contains("subject") && contract["subject"].is_string()) {
        text += ", subject " + contract["subject"].get<std::string>();
      }
      if (contract.contains("schema_id")) {
        text += ", schema id " + std::to_string(contract["schema_id"].get<uint32_t>()) +
                " (version " + std::to_string(contract["version"].get<int>()) + ")";
      }
      if (contract.contains("error")) {
        text += ": " + contract["error"].get<std::string>();
      }
      if (contract.contains("derived_schema")) {
        text += "; the policy changes its shape (derived schema: --json)";
      } else if (contract.contains("derived_schema_unavailable")) {
        text += "; derived schema unavailable: " +
                contract["derived_schema_unavailable"].get<std::string>();
      }
    }
    std::printf("  %s: %s\n", entry["topic"].get<std::string>().c_str(), text.c_str());
  }
}

}  // namespace

int runProductsList(const ProductsOptions& options) {
  auto loaded = config::loadConfigFile(options.config_path);
  if (!loaded.ok()) {
    for (const auto& error : loaded.errors) {
      std::cerr << error.str() << "\n";
    }
    return 1;
  }
  const config::Config& config = *loaded.config;
  if (!options.partner.empty() && config.partners.count(options.partner) == 0) {
    std::cerr << "unknown partner '" << options.partner << "'\n";
    return 1;
  }
  // The hub only describes products here; it starts no stream.
  const egress::ResumeTokenCodec codec(egress::randomBytes(32));
  egress::StreamHub::Options hub_options;
  hub_options.config = &config;
  hub_options.codec = &codec;
  egress::StreamHub hub(hub_options);
  egress::ProductContracts contracts(config);
  const config::PartnerConfig* partner =
      options.partner.empty() ? nullptr : &config.partners.at(options.partner);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& product : config.products) {
    std::vector<std::string> partners;
    for (const auto& [name, partner] : config.partners) {
      if (std::find(partner.products.begin(), partner.products.end(), product.name) !=
          partner.products.end()) {
        partners.push_back(name);
      }
    }
    if (!options.partner.empty() &&
        std::find(partners.begin(), partners.end(), options.partner) == partners.end()) {
      continue;
    }
    const egress::ProductInfo info = hub.describe(product);
    nlohmann::json row = {
        {"name", product.name},   {"domain", product.domain}, {"description", product.description},
        {"owner", product.owner}, {"source", product.source}, {"topics", product.topics},
        {"partners", partners},   {"empty", info.empty}};
    row["freshness_seconds"] =
        info.freshness_seconds ? nlohmann::json(*info.freshness_seconds) : nlohmann::json(nullptr);
    if (product.freshness_slo.count() > 0) {
      row["freshness_slo_seconds"] = product.freshness_slo.count() / 1000.0;
      row["within_slo"] =
          info.freshness_seconds
              ? nlohmann::json(*info.freshness_seconds * 1000 <= product.freshness_slo.count())
              : nlohmann::json(nullptr);
    }
    addContractsJson(contracts.describe(product, partner, info.topics), row);
    out.push_back(row);
  }
  hub.stop();
  if (options.json) {
    std::cout << nlohmann::json{{"products", out}}.dump(2) << "\n";
    return 0;
  }
  std::printf("%-28s %-12s %-10s %-10s %-8s %-10s %s\n", "PRODUCT", "DOMAIN", "SOURCE", "FRESHNESS",
              "SLO", "STATUS", "PARTNERS");
  for (const auto& row : out) {
    std::string partners;
    for (const auto& p : row["partners"]) {
      partners += (partners.empty() ? "" : ",") + p.get<std::string>();
    }
    std::optional<double> fresh;
    if (row["freshness_seconds"].is_number()) {
      fresh = row["freshness_seconds"].get<double>();
    }
    std::string slo = "-";
    std::string status = row["empty"].get<bool>() ? "empty" : "-";
    if (row.contains("freshness_slo_seconds")) {
      slo = seconds(row["freshness_slo_seconds"].get<double>());
      if (row["within_slo"].is_boolean()) {
        status = row["within_slo"].get<bool>() ? "ok" : "STALE";
      }
    }
    std::printf("%-28s %-12s %-10s %-10s %-8s %-10s %s\n", row["name"].get<std::string>().c_str(),
                row["domain"].get<std::string>().c_str(), row["source"].get<std::string>().c_str(),
                (row["empty"].get<bool>() ? std::string("-") : seconds(fresh)).c_str(), slo.c_str(),
                status.c_str(), partners.empty() ? "(none)" : partners.c_str());
    printContracts(row);
  }
  return 0;
}

}  // namespace causeway::app
