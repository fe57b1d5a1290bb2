#include "policies/predicate_lexer.h"

#include "config/yaml_reader.h"

#include <cctype>
#include <charconv>
#include <cmath>

namespace causeway::policies {
namespace {

bool identStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_'; }
bool identChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-';
}

void appendUtf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

bool hex4(std::string_view text, size_t at, uint32_t& out) {
  if (at + 4 > text.size()) {
    return false;
  }
  out = 0;
  for (size_t i = at; i < at + 4; ++i) {
    const char c = text[i];
    out <<= 4;
    if (c >= '0' && c <= '9') {
      out |= static_cast<uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      out |= static_cast<uint32_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      out |= static_cast<uint32_t>(c - 'A' + 10);
    } else {
      return false;
    }
  }
  return true;
}

// A string literal in "..." or '...' starting at text[start]; escapes as in JSON plus \'.
bool lexString(std::string_view text, size_t start, Token& token, PredicateError& error) {
  const char quote = text[start];
  size_t i = start + 1;
  std::string out;
  while (true) {
    if (i >= text.size()) {
      error = {start, "unterminated string (no closing " + std::string(1, quote) + ")"};
      return false;
    }
    const char c = text[i];
    if (c == quote) {
      ++i;
      break;
    }
    if (c == '\n') {
      error = {start, "unterminated string (a string cannot span lines; use \\n)"};
      return false;
    }
    if (c != '\\') {
      out += c;
      ++i;
      continue;
    }
    if (i + 1 >= text.size()) {
      error = {i, "unterminated escape sequence"};
      return false;
    }
    const char e = text[i + 1];
    switch (e) {
    case '"':
    case '\'':
    case '\\':
    case '/':
      out += e;
      break;
    case 'n':
      out += '\n';
      break;
    case 't':
      out += '\t';
      break;
    case 'r':
      out += '\r';
      break;
    case 'b':
      out += '\b';
      break;
    case 'f':
      out += '\f';
      break;
    case 'u': {
      uint32_t cp = 0;
      if (!hex4(text, i + 2, cp)) {
        error = {i, "\\u needs four hex digits"};
        return false;
      }
      size_t consumed = 6;
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        uint32_t low = 0;
        if (i + 8 <= text.size() && text[i + 6] == '\\' && text[i + 7] == 'u' &&
            hex4(text, i + 8, low) && low >= 0xDC00 && low <= 0xDFFF) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          consumed = 12;
        } else {
          error = {i, "a \\u escape of a high surrogate must be followed by a low surrogate"};
          return false;
        }
      } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        error = {i, "a lone low surrogate cannot be escaped"};
        return false;
      }
      appendUtf8(cp, out);
      i += consumed;
      continue;
    }
    default:
      error = {i, "unknown escape \\" + std::string(1, e) +
                      " (use \\\\ \\\" \\' \\n \\t \\r \\b \\f \\/ or \\uXXXX)"};
      return false;
    }
    i += 2;
  }
  token.kind = TokenKind::kString;
  token.offset = start;
  token.length = i - start;
  token.text = std::move(out);
  return true;
}

// -?digits(.digits)?([eE][+-]?digits)?
bool lexNumber(std::string_view text, size_t start, Token& token, PredicateError& error) {
  size_t i = start;
  if (text[i] == '-') {
    ++i;
  }
  const size_t digits_start = i;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) != 0) {
    ++i;
  }
  if (i == digits_start) {
    error = {start, "'-' must be followed by a number"};
    return false;
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    const size_t frac = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) != 0) {
      ++i;
    }
    if (i == frac) {
      error = {start, "a number needs digits after '.'"};
      return false;
    }
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
      ++i;
    }
    const size_t exp = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) != 0) {
      ++i;
    }
    if (i == exp) {
      error = {start, "a number needs digits in its exponent"};
      return false;
    }
  }
  if (i < text.size() && identChar(text[i])) {
    error = {start, "malformed number " + config::quoted(text.substr(start, i + 1 - start))};
    return false;
  }
  double value = 0;
  auto [ptr, ec] = std::from_chars(text.data() + start, text.data() + i, value);
  if (ec != std::errc() || !std::isfinite(value)) {
    error = {start, "number out of range: " + config::quoted(text.substr(start, i - start))};
    return false;
  }
  token.kind = TokenKind::kNumber;
  token.offset = start;
  token.length = i - start;
  token.text = std::string(text.substr(start, i - start));
  token.number = value;
  return true;
}

}  // namespace

bool tokenize(std::string_view text, std::vector<Token>& tokens, PredicateError& error) {
  tokens.clear();
  size_t i = 0;
  while (true) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])) != 0) {
      ++i;
    }
    Token token;
    token.offset = i;
    if (i >= text.size()) {
      token.kind = TokenKind::kEnd;
      tokens.push_back(std::move(token));
      return true;
    }
    const char c = text[i];
    const char next = i + 1 < text.size() ? text[i + 1] : '\0';
    auto simple = [&](TokenKind kind, size_t length) {
      token.kind = kind;
      token.length = length;
      token.text = std::string(text.substr(i, length));
    };
    if (identStart(c)) {
      size_t end = i + 1;
      while (end < text.size() && identChar(text[end])) {
        ++end;
      }
      simple(TokenKind::kIdentifier, end - i);
    } else if (c == '"' || c == '\'') {
      if (!lexString(text, i, token, error)) {
        return false;
      }
    } else if (std::isdigit(static_cast<unsigned char>(c)) != 0 || c == '-') {
      if (!lexNumber(text, i, token, error)) {
        return false;
      }
    } else if (c == '=' && next == '=') {
      simple(TokenKind::kEq, 2);
    } else if (c == '!' && next == '=') {
      simple(TokenKind::kNe, 2);
    } else if (c == '<') {
      next == '=' ? simple(TokenKind::kLe, 2) : simple(TokenKind::kLt, 1);
    } else if (c == '>') {
      next == '=' ? simple(TokenKind::kGe, 2) : simple(TokenKind::kGt, 1);
    } else if (c == '(') {
      simple(TokenKind::kLParen, 1);
    } else if (c == ')') {
      simple(TokenKind::kRParen, 1);
    } else if (c == '[') {
      simple(TokenKind::kLBracket, 1);
    } else if (c == ']') {
      simple(TokenKind::kRBracket, 1);
    } else if (c == '.') {
      simple(TokenKind::kDot, 1);
    } else if (c == ',') {
      simple(TokenKind::kComma, 1);
    } else if (c == '=') {
      error = {i, "'=' is not an operator; use '==' to compare"};
      return false;
    } else if (c == '!') {
      error = {i, "'!' is not an operator; use 'not', or '!=' to compare"};
      return false;
    } else if (c == '&' || c == '|') {
      error = {i, std::string("'") + c + "' is not an operator; use '" + (c == '&' ? "and" : "or") +
                      "'"};
      return false;
    } else {
      const auto u = static_cast<unsigned char>(c);
      error = {i, u >= 0x20 && u < 0x7F ? "unexpected character '" + std::string(1, c) + "'"
                                        : "unexpected byte " + std::to_string(u)};
      return false;
    }
    i += token.length;
    tokens.push_back(std::move(token));
  }
}

std::string describeToken(const Token& token) {
  switch (token.kind) {
  case TokenKind::kEnd:
    return "the end";
  case TokenKind::kString:
    return "the string " + config::quoted(token.text);
  case TokenKind::kNumber:
    return "the number " + token.text;
  default:
    return config::quoted(token.text);
  }
}

}  // namespace causeway::policies
