#include "egress/filter_stages.h"

#include "policies/policy.h"
#include "policies/policy_counters.h"
#include "policies/policy_stage.h"
#include "policies/predicate.h"
#include "policies/predicate_lexer.h"

#include <vector>

namespace causeway::egress {
namespace {

std::string atColumn(size_t offset, const std::string& message) {
  return "filter: column " + std::to_string(offset + 1) + ": " + message;
}

// Whether the filter names fields of the key (`key.customer`, `key[0]`): the key is then read
// as JSON (a decoded Avro or Protobuf key, a JSON key), else as text.
bool namesKeyFields(const std::vector<policies::Token>& tokens) {
  for (size_t i = 0; i + 1 < tokens.size(); ++i) {
    if (tokens[i].kind == policies::TokenKind::kIdentifier && tokens[i].text == "key" &&
        (i == 0 || tokens[i - 1].kind != policies::TokenKind::kDot) &&
        (tokens[i + 1].kind == policies::TokenKind::kDot ||
         tokens[i + 1].kind == policies::TokenKind::kLBracket)) {
      return true;
    }
  }
  return false;
}

// Checks `text` and says how the key is read; empty when valid, else the problem.
std::string checkFilter(std::string_view text, bool& key_is_json) {
  key_is_json = false;
  if (text.size() > kMaxClientFilterBytes) {
    return "filter: " + std::to_string(text.size()) + " bytes; a filter may have at most " +
           std::to_string(kMaxClientFilterBytes);
  }
  policies::PredicateError error;
  std::vector<policies::Token> tokens;
  if (!policies::tokenize(text, tokens, error)) {
    return atColumn(error.offset, error.message);
  }
  key_is_json = namesKeyFields(tokens);
  for (size_t i = 0; i < tokens.size(); ++i) {
    const policies::Token& token = tokens[i];
    // The operator, not a member named `matches` (value.matches).
    if (token.kind == policies::TokenKind::kIdentifier && token.text == "matches" &&
        (i == 0 || tokens[i - 1].kind != policies::TokenKind::kDot)) {
      return atColumn(token.offset, "'matches' is not available in client filters; compare "
                                    "with ==, !=, <, <=, >, >=, in or exists()");
    }
  }
  const policies::SchemalessTypes types(key_is_json);
  policies::FieldSlots slots;
  if (!policies::Predicate::compile(text, types, slots, error)) {
    return atColumn(error.offset, error.message);
  }
  return {};
}

}  // namespace

std::string checkClientFilter(std::string_view text) {
  bool key_is_json = false;
  return checkFilter(text, key_is_json);
}

FilterFactory predicateFilterFactory() {
  return [](std::string_view text, const config::ProductConfig&) -> Result<pipeline::StagePtr> {
    bool key_is_json = false;
    if (std::string problem = checkFilter(text, key_is_json); !problem.empty()) {
      return Error{std::move(problem), ErrorKind::kInvalidArgument};
    }
    // The filter as a policy that allows everything else: the same reader, slots and
    // evaluation as a policy's filter. A record it cannot read is skipped (dropped).
    config::PolicyConfig policy;
    policy.name = "client-filter";
    policy.topics_allow = {".*"};
    policy.filter = config::ScalarText{std::string(text), {}, {}};
    policy.on_violation = config::OnViolation::kSkip;
    if (key_is_json) {
      policy.key_format = "json";
    }
    policies::CompileResult compiled = policies::Policy::compile(policy);
    if (!compiled.policy) {
      return Error{"filter: " + (compiled.errors.empty() ? std::string("does not compile")
                                                         : compiled.errors.front().message)};
    }
    auto counters = std::make_shared<policies::PolicyCounters>(policy.name, "egress", false,
                                                               std::vector<std::string>{});
    auto stage = policies::PolicyStage::create(compiled.policy, std::move(counters));
    if (!stage) {
      return stage.error();
    }
    return pipeline::StagePtr(std::move(*stage));
  };
}

}  // namespace causeway::egress
