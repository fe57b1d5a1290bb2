#pragma once

// `causeway policy test --schema FILE` for policies on Avro or Protobuf records: each sample's
// JSON value is encoded with the writer's schema and framed as a producer's serializer frames
// it (schema ID 1), and the record the policy writes is shown as JSON read with the schema the
// policy derives (the writer's when the rules change nothing, or in shadow mode).

#include "common/result.h"
#include "policies/policy.h"
#include "policies/policy_counters.h"
#include "policies/policy_stage.h"

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace causeway::app {

class PolicySamples {
public:
  virtual ~PolicySamples() = default;

  // The policy's stage, reading records with the sample schema.
  virtual Result<std::unique_ptr<policies::PolicyStage>>
  makeStage(policies::PolicyPtr policy, policies::PolicyCountersPtr counters) const = 0;
  // Call before each record of `topic`: the stage finds the sample schema under it.
  virtual void learn(const std::string& topic) = 0;

  // What the rules make of the schema: why its records cannot be edited (empty when they
  // can), whether it changes, and the derived schema's text with what it is (".proto").
  virtual const std::vector<std::string>& problems() const = 0;
  virtual bool changed() const = 0;
  virtual const std::string& derivedSchema() const = 0;
  virtual const char* schemaKind() const = 0;

  // The sample's JSON value as a framed record value, or why it is not data of the schema.
  virtual Result<std::string> encode(std::string_view json) = 0;
  // A framed record value as JSON, read with the derived schema (`derived`) or the writer's.
  virtual std::string show(std::string_view framed, bool derived) = 0;
};

// The text of the schema file `--schema` names, or why it cannot be read.
inline Result<std::string> readSchemaFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return Error{"cannot read " + path};
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace causeway::app
