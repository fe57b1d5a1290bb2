#pragma once

// The domains' contracts, compiled for lookups by topic, and the subject names they imply.
// Built once from the configuration; immutable and shared by the stages and the control plane.

#include "common/result.h"
#include "config/config.h"
#include "schema/registry.h"

#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

namespace causeway::schema {

enum class Side : uint8_t { kKey = 0, kValue = 1 };
inline const char* sideName(Side side) { return side == Side::kKey ? "key" : "value"; }

struct Contract {
  const config::DomainConfig* domain = nullptr;
  const config::ContractConfig* config = nullptr;
  std::string name;  // "payments.contracts[0]", or "payments.<name>" for named contracts
  std::vector<std::regex> topics;

  const config::ContractSideConfig& side(Side s) const {
    return s == Side::kKey ? config->key : config->value;
  }
  // "payments.authorized.value": the rule a verdict names.
  std::string rule(Side s) const { return name + "." + sideName(s); }
};

class ContractSet {
public:
  // Keeps pointers into `config`, which must outlive the set. Regexes were checked when the
  // configuration loaded.
  explicit ContractSet(const config::Config& config);

  // The contract for `topic`: the first (in file order) whose topic regexes and whose domain's
  // topic regexes both fully match it; nullptr when none does. Runs regexes: callers cache the
  // answer per topic.
  const Contract* find(std::string_view topic) const;
  bool empty() const { return contracts_.empty(); }

private:
  struct DomainTopics {
    const config::DomainConfig* domain;
    std::vector<std::regex> topics;
  };
  std::vector<DomainTopics> domains_;
  std::vector<Contract> contracts_;
  std::vector<size_t> domain_of_;  // contracts_[i] belongs to domains_[domain_of_[i]]
};

// The subject of a key or value under a subject name strategy: "<topic>-value",
// "<record>", "<topic>-<record>". `record` is the record's full name (see recordName()).
std::string subjectName(config::SubjectStrategy strategy, std::string_view topic, Side side,
                        std::string_view record);

// The full name of the record a schema describes: an Avro named type's full name, the first
// message of a .proto (with its package), a JSON Schema's "title".
Result<std::string> recordName(const Schema& schema);

}  // namespace causeway::schema
