#pragma once

// A row filter: a predicate over a record's key, headers, timestamp and payload fields,
// compiled once at load into a tree of nodes whose field references are slot numbers, so
// evaluating it never parses text and never allocates.
//
//   value.country in ["DE", "AT"] and value.amount >= 100 and not exists(headers.test)
//
// Grammar, types and the meaning of missing fields and null: docs/policies.md. In short: a
// missing field compares like null; ordering comparisons with null, or between a number and a
// string, are false; `!=` is exactly `not ==`; exists(p) is true when p is present, even as null.
//
// A compiled Predicate is immutable and safe to evaluate from several threads at once.

#include "policies/field_path.h"
#include "policies/field_types.h"
#include "policies/field_value.h"
#include "policies/predicate_lexer.h"

#include <deque>
#include <optional>
#include <regex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace causeway::policies {

// Longest predicate accepted; a filter is a line or two, this only bounds the compiler's work.
inline constexpr size_t kMaxPredicateLength = 16 * 1024;
// Deepest nesting of parentheses and `not`.
inline constexpr int kMaxPredicateDepth = 64;

class Predicate {
public:
  // Compiles `text`; paths are checked against `types` and given slots in `slots`. nullopt with
  // `error` at the offending token's offset when it does not parse or type-check.
  static std::optional<Predicate> compile(std::string_view text, const FieldTypes& types,
                                          FieldSlots& slots, PredicateError& error);

  Predicate(Predicate&&) = default;
  Predicate& operator=(Predicate&&) = default;
  Predicate(const Predicate&) = delete;  // literals are views into literal_text_
  Predicate& operator=(const Predicate&) = delete;

  // `values[slot]` holds each slot's value for this record (at least as many as the slots the
  // predicate uses).
  bool evaluate(std::span<const FieldValue> values) const;

  const std::string& text() const { return text_; }

  enum class Op : uint8_t {
    kConst,    // a = 0 or 1
    kOr,       // children_[a .. a+b)
    kAnd,      // children_[a .. a+b)
    kNot,      // node a
    kCompare,  // lhs cmp rhs
    kIn,       // lhs in literals_[a .. a+b)
    kMatches,  // lhs matches regexes_[a]
    kExists,   // lhs (a slot) is present
    kTruthy,   // lhs is the boolean true
  };
  enum class Cmp : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe };
  struct Operand {
    bool is_slot = false;
    uint16_t index = 0;  // a slot, or an index into literals_
  };
  struct Node {
    Op op = Op::kConst;
    Cmp cmp = Cmp::kEq;
    uint32_t a = 0;
    uint32_t b = 0;
    Operand lhs;
    Operand rhs;
  };

private:
  friend class PredicateCompiler;
  Predicate() = default;
  bool eval(uint32_t node, std::span<const FieldValue> values) const;
  const FieldValue& operand(const Operand& o, std::span<const FieldValue> values) const {
    return o.is_slot ? (o.index < values.size() ? values[o.index] : missing_) : literals_[o.index];
  }

  std::string text_;
  std::vector<Node> nodes_;  // nodes_[root_] is the whole predicate
  uint32_t root_ = 0;
  std::vector<uint32_t> children_;
  std::vector<FieldValue> literals_;
  std::deque<std::string> literal_text_;  // what literals_ view; a deque never moves its strings
  std::vector<std::regex> regexes_;
  FieldValue missing_;
};

// Parses a field path on its own (`value.card.number`, a field rule's `path`), with the same
// syntax as in predicates. nullopt with `error` when it is not one.
std::optional<FieldPath> parseFieldPath(std::string_view text, PredicateError& error);

// The comparison semantics the predicate uses, for tests and for `policy test` explanations.
bool valuesEqual(const FieldValue& a, const FieldValue& b);

}  // namespace causeway::policies
