#include "policies/predicate.h"

#include "config/yaml_reader.h"

#include <algorithm>
#include <array>

namespace causeway::policies {
namespace {

// Longer strings never match a `matches` regex: std::regex matches recursively, and a
// record's field must not be able to exhaust the data-plane thread's stack.
constexpr size_t kMaxMatchInput = 4096;
constexpr size_t kMaxPathSegments = 32;
constexpr uint32_t kMaxIndex = 1000000;
constexpr size_t kMaxSlots = 1024;

const std::vector<std::string> kRoots = {"key",   "value",     "headers", "timestamp",
                                         "topic", "partition", "offset"};
const std::vector<std::string> kKeywords = {"and",    "or",   "not",   "in",  "matches",
                                            "exists", "true", "false", "null"};

bool lowerEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == y;
         });
}

bool isText(ValueKind kind) { return kind == ValueKind::kString || kind == ValueKind::kBytes; }

// Types compatible for == and ordering: strings and bytes compare as text.
bool sameClass(FieldType a, FieldType b) {
  auto cls = [](FieldType t) { return t == FieldType::kBytes ? FieldType::kString : t; };
  return cls(a) == cls(b);
}

}  // namespace

bool valuesEqual(const FieldValue& a, const FieldValue& b) {
  if (a.isNullish() || b.isNullish()) {
    return a.isNullish() && b.isNullish();
  }
  if (isText(a.kind) && isText(b.kind)) {
    return a.text == b.text;
  }
  if (a.kind != b.kind) {
    return false;
  }
  switch (a.kind) {
  case ValueKind::kBool:
    return a.boolean == b.boolean;
  case ValueKind::kNumber:
    return a.number == b.number;
  default:
    return a.text == b.text;  // objects and arrays: the same encoding
  }
}

namespace {

bool ordered(const FieldValue& a, const FieldValue& b, Predicate::Cmp cmp) {
  int order = 0;
  if (a.kind == ValueKind::kNumber && b.kind == ValueKind::kNumber) {
    if (a.number != a.number || b.number != b.number) {
      return false;  // NaN (from a binary format) has no order
    }
    order = a.number < b.number ? -1 : (a.number > b.number ? 1 : 0);
  } else if (isText(a.kind) && isText(b.kind)) {
    const int c = a.text.compare(b.text);
    order = c < 0 ? -1 : (c > 0 ? 1 : 0);
  } else {
    return false;
  }
  switch (cmp) {
  case Predicate::Cmp::kLt:
    return order < 0;
  case Predicate::Cmp::kLe:
    return order <= 0;
  case Predicate::Cmp::kGt:
    return order > 0;
  case Predicate::Cmp::kGe:
    return order >= 0;
  default:
    return false;
  }
}

}  // namespace

bool Predicate::evaluate(std::span<const FieldValue> values) const { return eval(root_, values); }

bool Predicate::eval(uint32_t index, std::span<const FieldValue> values) const {
  const Node& node = nodes_[index];
  switch (node.op) {
  case Op::kConst:
    return node.a != 0;
  case Op::kOr:
    for (uint32_t i = node.a; i < node.a + node.b; ++i) {
      if (eval(children_[i], values)) {
        return true;
      }
    }
    return false;
  case Op::kAnd:
    for (uint32_t i = node.a; i < node.a + node.b; ++i) {
      if (!eval(children_[i], values)) {
        return false;
      }
    }
    return true;
  case Op::kNot:
    return !eval(node.a, values);
  case Op::kCompare: {
    const FieldValue& l = operand(node.lhs, values);
    const FieldValue& r = operand(node.rhs, values);
    switch (node.cmp) {
    case Cmp::kEq:
      return valuesEqual(l, r);
    case Cmp::kNe:
      return !valuesEqual(l, r);
    default:
      return ordered(l, r, node.cmp);
    }
  }
  case Op::kIn: {
    const FieldValue& l = operand(node.lhs, values);
    for (uint32_t i = node.a; i < node.a + node.b; ++i) {
      if (valuesEqual(l, literals_[i])) {
        return true;
      }
    }
    return false;
  }
  case Op::kMatches: {
    const FieldValue& l = operand(node.lhs, values);
    if (!isText(l.kind) || l.text.size() > kMaxMatchInput) {
      return false;
    }
    return std::regex_search(l.text.begin(), l.text.end(), regexes_[node.a]);
  }
  case Op::kExists:
    return operand(node.lhs, values).present();
  case Op::kTruthy: {
    const FieldValue& l = operand(node.lhs, values);
    return l.kind == ValueKind::kBool && l.boolean;
  }
  }
  return false;
}

// Recursive descent over the token list, checking types as it builds nodes. One per compile.
class PredicateCompiler {
public:
  PredicateCompiler(const FieldTypes* types, FieldSlots* slots, PredicateError& error)
      : types_(types), slots_(slots), error_(error) {}

  std::optional<Predicate> compile(std::string_view text) {
    if (text.size() > kMaxPredicateLength) {
      return fail(kMaxPredicateLength,
                  "the predicate is longer than " + std::to_string(kMaxPredicateLength) + " bytes");
    }
    if (!tokenize(text, tokens_, error_)) {
      return std::nullopt;
    }
    if (peek().kind == TokenKind::kEnd) {
      return fail(0, "the predicate is empty; write a condition like value.country == \"DE\"");
    }
    out_.text_ = std::string(text);
    std::optional<uint32_t> root = parseOr(0);
    if (!root) {
      return std::nullopt;
    }
    if (peek().kind != TokenKind::kEnd) {
      std::string hint;
      if (isWord(peek(), "not") && pos_ + 1 < tokens_.size() &&
          (isWord(tokens_[pos_ + 1], "in") || isWord(tokens_[pos_ + 1], "matches"))) {
        hint = " (write 'not x in [...]' instead of 'x not in [...]')";
      } else if (peek().kind == TokenKind::kIdentifier && keywordCase(peek().text)) {
        hint = " (keywords are lower case)";
      }
      return fail(peek().offset,
                  "expected 'and', 'or' or the end, found " + describeToken(peek()) + hint);
    }
    out_.root_ = *root;
    return std::move(out_);
  }

  std::optional<FieldPath> pathOnly(std::string_view text) {
    if (!tokenize(text, tokens_, error_)) {
      return std::nullopt;
    }
    if (peek().kind != TokenKind::kIdentifier || !isRoot(peek().text)) {
      return failPath(peek().kind == TokenKind::kEnd
                          ? "expected a field path like value.card.number"
                          : "expected a field path starting with key, value, headers, "
                            "timestamp, topic, partition or offset, found " +
                                describeToken(peek()) + rootSuggestion(peek()));
    }
    std::optional<FieldPath> path = parsePath();
    if (path && peek().kind != TokenKind::kEnd) {
      return failPath("unexpected " + describeToken(peek()) + " after the path");
    }
    return path;
  }

private:
  using Op = Predicate::Op;
  using Cmp = Predicate::Cmp;

  // A path or literal operand, with what the type checker knows about it.
  struct Term {
    Predicate::Operand operand;
    size_t offset = 0;
    std::string text;  // how to name it in messages
    bool is_literal = false;
    ValueKind literal_kind = ValueKind::kMissing;
    FieldType type = FieldType::kAny;  // kAny also for the null literal
  };

  const Token& peek() const { return tokens_[pos_]; }
  const Token& next() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }
  static bool isWord(const Token& t, std::string_view word) {
    return t.kind == TokenKind::kIdentifier && t.text == word;
  }
  static bool isRoot(std::string_view word) {
    return std::find(kRoots.begin(), kRoots.end(), word) != kRoots.end();
  }
  static bool keywordCase(std::string_view word) {
    return std::any_of(kKeywords.begin(), kKeywords.end(),
                       [&](const std::string& k) { return k != word && lowerEquals(word, k); });
  }
  static std::string rootSuggestion(const Token& t) {
    if (t.kind != TokenKind::kIdentifier) {
      return "";
    }
    auto best = config::closest(t.text, kRoots);
    return best ? "; did you mean '" + *best + "'?" : "";
  }

  std::nullopt_t fail(size_t offset, std::string message) {
    if (!failed_) {
      error_ = {offset, std::move(message)};
      failed_ = true;
    }
    return std::nullopt;
  }
  std::nullopt_t failPath(std::string message) { return fail(peek().offset, std::move(message)); }

  uint32_t add(Predicate::Node node) {
    out_.nodes_.push_back(node);
    return static_cast<uint32_t>(out_.nodes_.size() - 1);
  }

  std::optional<uint32_t> parseOr(int depth) { return parseChain(depth, "or"); }

  // and/or chains: one n-ary node, children in order (evaluated left to right, short-circuit).
  std::optional<uint32_t> parseChain(int depth, std::string_view word) {
    std::vector<uint32_t> items;
    while (true) {
      std::optional<uint32_t> item = word == "or" ? parseChain(depth, "and") : parseNot(depth);
      if (!item) {
        return std::nullopt;
      }
      items.push_back(*item);
      if (!isWord(peek(), word)) {
        break;
      }
      next();
    }
    if (items.size() == 1) {
      return items[0];
    }
    Predicate::Node node;
    node.op = word == "or" ? Op::kOr : Op::kAnd;
    node.a = static_cast<uint32_t>(out_.children_.size());
    node.b = static_cast<uint32_t>(items.size());
    out_.children_.insert(out_.children_.end(), items.begin(), items.end());
    return add(node);
  }

  std::optional<uint32_t> parseNot(int depth) {
    if (depth > kMaxPredicateDepth) {
      return fail(peek().offset, "the predicate nests deeper than " +
                                     std::to_string(kMaxPredicateDepth) + " levels");
    }
    if (isWord(peek(), "not")) {
      next();
      std::optional<uint32_t> inner = parseNot(depth + 1);
      if (!inner) {
        return std::nullopt;
      }
      Predicate::Node node;
      node.op = Op::kNot;
      node.a = *inner;
      return add(node);
    }
    return parseCondition(depth);
  }

  std::optional<uint32_t> parseCondition(int depth) {
    const Token& first = peek();
    if (first.kind == TokenKind::kLParen) {
      next();
      std::optional<uint32_t> inner = parseOr(depth + 1);
      if (!inner) {
        return std::nullopt;
      }
      if (peek().kind != TokenKind::kRParen) {
        return fail(peek().offset, "expected ')' to close the '(' at offset " +
                                       std::to_string(first.offset) + ", found " +
                                       describeToken(peek()));
      }
      next();
      if (comparison(peek().kind) || isWord(peek(), "in") || isWord(peek(), "matches")) {
        return fail(peek().offset,
                    "a condition in parentheses cannot be compared; compare fields or literals");
      }
      return inner;
    }
    if (isWord(first, "exists")) {
      return parseExists();
    }
    std::optional<Term> lhs = parseTerm();
    if (!lhs) {
      return std::nullopt;
    }
    const Token& op = peek();
    if (comparison(op.kind)) {
      next();
      std::optional<Term> rhs = parseTerm();
      if (!rhs) {
        return std::nullopt;
      }
      return buildCompare(*lhs, op, *rhs);
    }
    if (isWord(op, "in")) {
      next();
      return parseIn(*lhs);
    }
    if (isWord(op, "matches")) {
      next();
      return parseMatches(*lhs);
    }
    return buildTruthy(*lhs);
  }

  static bool comparison(TokenKind kind) {
    return kind == TokenKind::kEq || kind == TokenKind::kNe || kind == TokenKind::kLt ||
           kind == TokenKind::kLe || kind == TokenKind::kGt || kind == TokenKind::kGe;
  }

  std::optional<uint32_t> parseExists() {
    const Token& word = next();
    if (peek().kind != TokenKind::kLParen) {
      return fail(peek().offset, "expected '(' after exists, as in exists(headers.test)");
    }
    next();
    if (peek().kind != TokenKind::kIdentifier || !isRoot(peek().text)) {
      return fail(peek().offset, "exists() takes a field path, found " + describeToken(peek()) +
                                     rootSuggestion(peek()));
    }
    std::optional<Term> term = parseTerm();
    if (!term) {
      return std::nullopt;
    }
    if (peek().kind != TokenKind::kRParen) {
      return fail(peek().offset, "expected ')' to close exists(, found " + describeToken(peek()));
    }
    next();
    (void)word;
    Predicate::Node node;
    node.op = Op::kExists;
    node.lhs = term->operand;
    return add(node);
  }

  // A literal or a field path.
  std::optional<Term> parseTerm() {
    const Token& t = peek();
    Term term;
    term.offset = t.offset;
    switch (t.kind) {
    case TokenKind::kString:
      next();
      return literal(term, FieldValue::ofString({}), t.text, FieldType::kString, describeToken(t));
    case TokenKind::kNumber:
      next();
      return literal(term, FieldValue::ofNumber(t.number, {}), t.text, FieldType::kNumber,
                     describeToken(t));
    case TokenKind::kIdentifier:
      if (t.text == "true" || t.text == "false") {
        next();
        return literal(term, FieldValue::ofBool(t.text == "true"), t.text, FieldType::kBool,
                       t.text);
      }
      if (t.text == "null") {
        next();
        return literal(term, FieldValue::null(), "", FieldType::kAny, "null");
      }
      if (isRoot(t.text)) {
        const size_t offset = t.offset;
        std::optional<FieldPath> path = parsePath();
        if (!path) {
          return std::nullopt;
        }
        std::string problem;
        std::optional<FieldType> type = types_->typeOf(*path, problem);
        if (!type) {
          return fail(offset, path->text() + ": " + problem);
        }
        if (slots_->size() >= kMaxSlots) {
          return fail(offset, "the policy reads more than " + std::to_string(kMaxSlots) +
                                  " distinct fields");
        }
        term.operand = {true, slots_->slotOf(*path)};
        term.text = path->text();
        term.type = *type;
        return term;
      }
      return fail(t.offset,
                  "unknown field " + config::quoted(t.text) +
                      (keywordCase(t.text)
                           ? " (keywords are lower case)"
                           : rootSuggestion(t) + " (a field starts with key, value, headers, "
                                                 "timestamp, topic, partition or offset)"));
    default:
      return fail(t.offset,
                  "expected a field, a literal, 'not', 'exists' or '(', found " + describeToken(t));
    }
  }

  Term literal(Term term, FieldValue value, const std::string& text, FieldType type,
               std::string name) {
    out_.literal_text_.push_back(text);
    if (value.kind == ValueKind::kString || value.kind == ValueKind::kNumber) {
      value.text = out_.literal_text_.back();
    }
    out_.literals_.push_back(value);
    term.operand = {false, static_cast<uint16_t>(out_.literals_.size() - 1)};
    term.is_literal = true;
    term.literal_kind = value.kind;
    term.type = type;
    term.text = std::move(name);
    return term;
  }

  std::optional<FieldPath> parsePath() {
    const Token& root = next();
    FieldPath path;
    path.root =
        static_cast<PathRoot>(std::find(kRoots.begin(), kRoots.end(), root.text) - kRoots.begin());
    while (peek().kind == TokenKind::kDot || peek().kind == TokenKind::kLBracket) {
      const Token& sep = next();
      if (path.root != PathRoot::kKey && path.root != PathRoot::kValue &&
          path.root != PathRoot::kHeaders) {
        return fail(sep.offset, std::string(rootName(path.root)) + " has no fields");
      }
      if (path.segments.size() >= kMaxPathSegments) {
        return fail(sep.offset,
                    "a path may have at most " + std::to_string(kMaxPathSegments) + " segments");
      }
      PathSegment segment;
      if (sep.kind == TokenKind::kDot) {
        const Token& name = next();
        if (name.kind != TokenKind::kIdentifier) {
          return fail(name.offset, "expected a field name after '.', found " + describeToken(name) +
                                       " (write [\"name\"] for names with other characters, "
                                       "[0] for array items)");
        }
        segment.name = name.text;
      } else {
        const Token& inside = next();
        if (inside.kind == TokenKind::kString) {
          segment.name = inside.text;
        } else if (inside.kind == TokenKind::kNumber) {
          if (inside.text.find_first_not_of("0123456789") != std::string::npos ||
              inside.number > kMaxIndex) {
            return fail(inside.offset, "an array index is a whole number from 0 to " +
                                           std::to_string(kMaxIndex) + ", found " + inside.text);
          }
          segment.is_index = true;
          segment.index = static_cast<uint32_t>(inside.number);
        } else {
          return fail(inside.offset, "expected an array index or a quoted name in [ ], found " +
                                         describeToken(inside));
        }
        if (peek().kind != TokenKind::kRBracket) {
          return fail(peek().offset, "expected ']', found " + describeToken(peek()));
        }
        next();
      }
      if (path.root == PathRoot::kHeaders) {
        if (segment.is_index || !path.segments.empty()) {
          return fail(sep.offset, "a header is named by one name: headers.NAME or "
                                  "headers[\"content-type\"]");
        }
      }
      path.segments.push_back(std::move(segment));
    }
    if (path.root == PathRoot::kHeaders && path.segments.empty()) {
      return fail(root.offset, "name the header: headers.NAME or headers[\"content-type\"]");
    }
    return path;
  }

  std::string typed(const Term& term) const {
    if (term.is_literal) {
      return term.text;
    }
    return term.text + " (" + typeName(term.type) + ")";
  }

  bool isNullLiteral(const Term& t) const {
    return t.is_literal && t.literal_kind == ValueKind::kNull;
  }

  std::optional<uint32_t> buildCompare(const Term& lhs, const Token& op, const Term& rhs) {
    Cmp cmp = Cmp::kEq;
    switch (op.kind) {
    case TokenKind::kEq:
      cmp = Cmp::kEq;
      break;
    case TokenKind::kNe:
      cmp = Cmp::kNe;
      break;
    case TokenKind::kLt:
      cmp = Cmp::kLt;
      break;
    case TokenKind::kLe:
      cmp = Cmp::kLe;
      break;
    case TokenKind::kGt:
      cmp = Cmp::kGt;
      break;
    default:
      cmp = Cmp::kGe;
      break;
    }
    const bool ordering = cmp != Cmp::kEq && cmp != Cmp::kNe;
    for (const Term* t : {&lhs, &rhs}) {
      if (ordering && isNullLiteral(*t)) {
        return fail(t->offset, "null has no order; use == null or != null");
      }
      if (ordering && t->type == FieldType::kBool) {
        return fail(t->offset, typed(*t) + ": booleans have no order; use == or !=");
      }
      if (t->type == FieldType::kObject || t->type == FieldType::kArray) {
        return fail(t->offset, typed(*t) + " cannot be compared; compare one of its fields");
      }
    }
    if (lhs.type != FieldType::kAny && rhs.type != FieldType::kAny &&
        !sameClass(lhs.type, rhs.type)) {
      return fail(rhs.offset, "cannot compare " + typed(lhs) + " with " + typed(rhs));
    }
    Predicate::Node node;
    node.op = Op::kCompare;
    node.cmp = cmp;
    node.lhs = lhs.operand;
    node.rhs = rhs.operand;
    return add(node);
  }

  std::optional<uint32_t> parseIn(const Term& lhs) {
    if (lhs.type == FieldType::kObject || lhs.type == FieldType::kArray) {
      return fail(lhs.offset, typed(lhs) + " cannot be compared; compare one of its fields");
    }
    if (peek().kind != TokenKind::kLBracket) {
      return fail(peek().offset, "expected a list like [\"DE\", \"AT\"] after 'in', found " +
                                     describeToken(peek()));
    }
    next();
    std::vector<Term> items;
    FieldType list_type = FieldType::kAny;
    if (peek().kind != TokenKind::kRBracket) {
      while (true) {
        const Token& t = peek();
        if (t.kind == TokenKind::kIdentifier && isRoot(t.text)) {
          return fail(t.offset, "a list after 'in' holds literals only, found the field " +
                                    config::quoted(t.text));
        }
        std::optional<Term> item = parseTerm();
        if (!item) {
          return std::nullopt;
        }
        if (item->type != FieldType::kAny) {
          if (lhs.type != FieldType::kAny && !sameClass(lhs.type, item->type)) {
            return fail(item->offset, "cannot compare " + typed(lhs) + " with " + typed(*item));
          }
          if (list_type != FieldType::kAny && list_type != item->type) {
            return fail(item->offset, "the list mixes " + std::string(typeName(list_type)) +
                                          " and " + typeName(item->type) + " values");
          }
          list_type = item->type;
        }
        items.push_back(std::move(*item));
        if (peek().kind == TokenKind::kComma) {
          next();
          continue;
        }
        if (peek().kind == TokenKind::kRBracket) {
          break;
        }
        return fail(peek().offset,
                    "expected ',' or ']' in the list, found " + describeToken(peek()));
      }
    }
    next();  // ]
    // The list's literals must be contiguous: copy them to the end of literals_.
    Predicate::Node node;
    node.op = Op::kIn;
    node.lhs = lhs.operand;
    node.a = static_cast<uint32_t>(out_.literals_.size());
    node.b = static_cast<uint32_t>(items.size());
    for (const Term& item : items) {
      out_.literals_.push_back(out_.literals_[item.operand.index]);
    }
    return add(node);
  }

  std::optional<uint32_t> parseMatches(const Term& lhs) {
    if (lhs.type != FieldType::kAny && !sameClass(lhs.type, FieldType::kString)) {
      return fail(lhs.offset, typed(lhs) + " is not text; 'matches' takes a string field");
    }
    if (lhs.is_literal) {
      return fail(lhs.offset, "'matches' takes a field on its left, found " + lhs.text);
    }
    const Token& t = peek();
    if (t.kind != TokenKind::kString) {
      return fail(t.offset,
                  "expected a regex in quotes after 'matches', found " + describeToken(t));
    }
    next();
    if (t.text.size() > config::kMaxRegexLength) {
      return fail(t.offset, "the regex is longer than " + std::to_string(config::kMaxRegexLength) +
                                " characters");
    }
    try {
      out_.regexes_.emplace_back(t.text, std::regex::ECMAScript | std::regex::optimize);
    } catch (const std::regex_error& e) {
      return fail(t.offset, "invalid regex " + config::quoted(t.text) + ": " + e.what());
    }
    Predicate::Node node;
    node.op = Op::kMatches;
    node.lhs = lhs.operand;
    node.a = static_cast<uint32_t>(out_.regexes_.size() - 1);
    return add(node);
  }

  std::optional<uint32_t> buildTruthy(const Term& term) {
    Predicate::Node node;
    if (term.is_literal) {
      if (term.literal_kind != ValueKind::kBool) {
        return fail(term.offset, "expected a condition, found " + term.text);
      }
      node.op = Op::kConst;
      node.a = out_.literals_[term.operand.index].boolean ? 1 : 0;
      return add(node);
    }
    if (term.type != FieldType::kAny && term.type != FieldType::kBool) {
      return fail(term.offset,
                  typed(term) + " is not a condition; compare it, as in " + term.text + " == ...");
    }
    node.op = Op::kTruthy;
    node.lhs = term.operand;
    return add(node);
  }

  const FieldTypes* types_;
  FieldSlots* slots_;
  PredicateError& error_;
  bool failed_ = false;
  std::vector<Token> tokens_;
  size_t pos_ = 0;
  Predicate out_;
};

std::optional<Predicate> Predicate::compile(std::string_view text, const FieldTypes& types,
                                            FieldSlots& slots, PredicateError& error) {
  // Slots are only committed when the whole predicate compiles.
  FieldSlots scratch = slots;
  PredicateCompiler compiler(&types, &scratch, error);
  std::optional<Predicate> out = compiler.compile(text);
  if (out) {
    slots = std::move(scratch);
  }
  return out;
}

std::optional<FieldPath> parseFieldPath(std::string_view text, PredicateError& error) {
  FieldSlots slots;
  PredicateCompiler compiler(nullptr, &slots, error);
  return compiler.pathOnly(text);
}

}  // namespace causeway::policies
