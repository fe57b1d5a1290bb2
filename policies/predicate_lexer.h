#pragma once

// The tokens of the predicate language (docs/policies.md has the grammar). Pure; positions are
// byte offsets into the predicate's text, which the config loader maps to YAML line:col.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace causeway::policies {

enum class TokenKind : uint8_t {
  kEnd,
  kIdentifier,  // also the keywords (and, or, not, in, matches, exists, true, false, null)
  kString,      // text: the decoded content
  kNumber,      // text: the literal as written; number: its value
  kLParen,
  kRParen,
  kLBracket,
  kRBracket,
  kDot,
  kComma,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  size_t offset = 0;  // of the token's first byte
  size_t length = 0;  // in the source text
  std::string text;
  double number = 0;
};

// A problem in a predicate or path, at a byte offset of its text.
struct PredicateError {
  size_t offset = 0;
  std::string message;
};

// Splits `text` into tokens ending with kEnd. False with `error` set on the first bad token
// (unterminated string, bad escape, a character that starts no token).
bool tokenize(std::string_view text, std::vector<Token>& tokens, PredicateError& error);

// "'=='", "the end", "'value'", "the string \"DE\"": how a token is named in messages.
std::string describeToken(const Token& token);

}  // namespace causeway::policies
