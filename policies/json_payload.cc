#include "policies/json_payload.h"

#include "common/json_string.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

namespace causeway::policies {

const char* formatName(PayloadFormat format) {
  switch (format) {
  case PayloadFormat::kString:
    return "string";
  case PayloadFormat::kJson:
    return "json";
  case PayloadFormat::kAvro:
    return "avro";
  case PayloadFormat::kProtobuf:
    return "protobuf";
  }
  return "?";
}

namespace {

int hexDigit(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

bool readHex4(const char* p, const char* end, uint32_t& out) {
  if (end - p < 4) {
    return false;
  }
  out = 0;
  for (int i = 0; i < 4; ++i) {
    const int d = hexDigit(p[i]);
    if (d < 0) {
      return false;
    }
    out = out << 4 | static_cast<uint32_t>(d);
  }
  return true;
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

// Length of the valid UTF-8 sequence starting at p (its first byte >= 0x80), or 0.
size_t utf8Sequence(const unsigned char* p, const unsigned char* end) {
  const unsigned char c = p[0];
  auto cont = [&](size_t i, unsigned char lo, unsigned char hi) {
    return p + i < end && p[i] >= lo && p[i] <= hi;
  };
  if (c >= 0xC2 && c <= 0xDF) {
    return cont(1, 0x80, 0xBF) ? 2 : 0;
  }
  if (c == 0xE0) {
    return cont(1, 0xA0, 0xBF) && cont(2, 0x80, 0xBF) ? 3 : 0;
  }
  if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
    return cont(1, 0x80, 0xBF) && cont(2, 0x80, 0xBF) ? 3 : 0;
  }
  if (c == 0xED) {
    return cont(1, 0x80, 0x9F) && cont(2, 0x80, 0xBF) ? 3 : 0;
  }
  if (c == 0xF0) {
    return cont(1, 0x90, 0xBF) && cont(2, 0x80, 0xBF) && cont(3, 0x80, 0xBF) ? 4 : 0;
  }
  if (c >= 0xF1 && c <= 0xF3) {
    return cont(1, 0x80, 0xBF) && cont(2, 0x80, 0xBF) && cont(3, 0x80, 0xBF) ? 4 : 0;
  }
  if (c == 0xF4) {
    return cont(1, 0x80, 0x8F) && cont(2, 0x80, 0xBF) && cont(3, 0x80, 0xBF) ? 4 : 0;
  }
  return 0;
}

// Resolves the escapes of a string already checked by the scanner.
void decodeEscapes(std::string_view raw, std::string& out) {
  for (size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c != '\\') {
      out += c;
      continue;
    }
    const char e = raw[++i];
    switch (e) {
    case 'b':
      out += '\b';
      break;
    case 'f':
      out += '\f';
      break;
    case 'n':
      out += '\n';
      break;
    case 'r':
      out += '\r';
      break;
    case 't':
      out += '\t';
      break;
    case 'u': {
      uint32_t cp = 0;
      readHex4(raw.data() + i + 1, raw.data() + raw.size(), cp);
      i += 4;
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        uint32_t low = 0;
        readHex4(raw.data() + i + 3, raw.data() + raw.size(), low);
        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        i += 6;
      }
      appendUtf8(cp, out);
      break;
    }
    default:  // " \ /
      out += e;
      break;
    }
  }
}

// True when none of the 8 bytes of `w` needs attention in a string: no '"', no '\\', no
// control character, no byte >= 0x80 (SWAR: eight bytes per step instead of one).
inline bool plainWord(uint64_t w) {
  constexpr uint64_t kOnes = 0x0101010101010101ull;
  constexpr uint64_t kHigh = 0x8080808080808080ull;
  const uint64_t quote = w ^ (kOnes * '"');
  const uint64_t backslash = w ^ (kOnes * '\\');
  const uint64_t special = ((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash) |
                           ((w - kOnes * 0x20) & ~w) | w;
  return (special & kHigh) == 0;
}

}  // namespace

JsonReader::JsonReader(const std::vector<ReaderPath>& paths) : trie_(paths) {}

bool JsonReader::fail(std::string& problem, const char* what) {
  problem = "invalid JSON at byte " + std::to_string(p_ - begin_) + ": " + what;
  return false;
}

void JsonReader::skipSpace() {
  while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) {
    ++p_;
  }
}

bool JsonReader::read(std::string_view payload, std::string& problem) {
  occurrences_.clear();
  locations_.clear();
  containers_.clear();
  scratch_.clear();
  if (payload.size() >= kNone) {
    problem = "payload larger than 4 GiB";
    return false;
  }
  scratch_.reserve(payload.size());  // decoded strings are never longer than the payload
  begin_ = payload.data();
  p_ = begin_;
  end_ = begin_ + payload.size();
  // A schema registry's prefix (Confluent's JSON Schema serializer: 0x00 and a 4-byte schema
  // ID, or 0x01 and a 16-byte GUID) is kept as it is: positions count from the payload's start,
  // so write() copies it unchanged. JSON text never starts with either byte.
  size_t prefix = 0;
  if (!payload.empty() && (payload[0] == '\x00' || payload[0] == '\x01')) {
    prefix = payload[0] == '\x00' ? kIdPrefixSize : kGuidPrefixSize;
    if (payload.size() < prefix) {
      return fail(problem, payload[0] == '\x00'
                               ? "truncated schema ID prefix (0x00 and 4 bytes)"
                               : "truncated schema GUID prefix (0x01 and 16 bytes)");
    }
    p_ += prefix;
  }
  skipSpace();
  if (p_ == end_) {
    return fail(problem, payload.size() == prefix
                             ? (prefix == 0 ? "empty payload" : "nothing after the schema prefix")
                             : "only whitespace");
  }
  Location top;
  top.begin = static_cast<uint32_t>(p_ - begin_);
  top.sep_before = kNone;
  top.next_begin = kNone;
  top.container = kNone;
  FieldValue value;
  if (!parseValue(0, 0, top, value, problem)) {
    return false;
  }
  skipSpace();
  if (p_ != end_) {
    return fail(problem, "unexpected data after the JSON value");
  }
  return true;
}

bool JsonReader::parseValue(int32_t node, int depth, Location& at, FieldValue& value,
                            std::string& problem) {
  if (p_ >= end_) {
    return fail(problem, "unexpected end, expected a value");
  }
  const bool wanted = trie_.slot(node) >= 0;
  at.value_begin = static_cast<uint32_t>(p_ - begin_);
  at.self_container = kNone;
  at.last_item_end = kNone;
  switch (*p_) {
  case '{':
    if (depth >= kMaxJsonDepth) {
      return fail(problem, "nested deeper than 256 levels");
    }
    if (!parseObject(node, depth + 1, at, problem)) {
      return false;
    }
    value.kind = ValueKind::kObject;
    break;
  case '[':
    if (depth >= kMaxJsonDepth) {
      return fail(problem, "nested deeper than 256 levels");
    }
    if (!parseArray(node, depth + 1, at, problem)) {
      return false;
    }
    value.kind = ValueKind::kArray;
    break;
  case '"': {
    std::string_view decoded;
    if (!parseString(wanted, scratch_, decoded, problem)) {
      return false;
    }
    value = FieldValue::ofString(decoded);
    break;
  }
  case 't':
    if (!parseLiteral("true", problem)) {
      return false;
    }
    value = FieldValue::ofBool(true);
    break;
  case 'f':
    if (!parseLiteral("false", problem)) {
      return false;
    }
    value = FieldValue::ofBool(false);
    break;
  case 'n':
    if (!parseLiteral("null", problem)) {
      return false;
    }
    value = FieldValue::null();
    break;
  default:
    if (*p_ == '-' || (*p_ >= '0' && *p_ <= '9')) {
      if (!parseNumber(wanted, value, problem)) {
        return false;
      }
      break;
    }
    return fail(problem, "expected a value");
  }
  at.end = static_cast<uint32_t>(p_ - begin_);
  if (wanted) {
    if (value.kind == ValueKind::kObject || value.kind == ValueKind::kArray) {
      value.text = std::string_view(begin_ + at.value_begin, at.end - at.value_begin);
    }
    locations_.push_back(at);
    occurrences_.push_back(FieldOccurrence{static_cast<uint16_t>(trie_.slot(node)), value,
                                           static_cast<uint32_t>(locations_.size() - 1)});
  }
  return true;
}

bool JsonReader::parseObject(int32_t node, int depth, Location& at, std::string& problem) {
  const auto container = static_cast<uint32_t>(containers_.size());
  containers_.push_back(Container{static_cast<uint32_t>(p_ - begin_), 0});
  at.self_container = container;
  ++p_;
  skipSpace();
  if (p_ < end_ && *p_ == '}') {
    ++p_;
    at.self_container = container;
    return true;
  }
  uint32_t sep = kNone;
  uint32_t pending = kNone;  // the previous item's location, waiting for next_begin
  uint32_t position = 0;
  while (true) {
    if (p_ >= end_ || *p_ != '"') {
      return fail(problem, p_ >= end_ ? "unexpected end in an object" : "expected a member name");
    }
    const auto item_begin = static_cast<uint32_t>(p_ - begin_);
    if (pending != kNone) {
      locations_[pending].next_begin = item_begin;
    }
    std::string_view name;
    key_scratch_.clear();
    if (!parseString(node >= 0, key_scratch_, name, problem)) {
      return false;
    }
    const int32_t next = trie_.child(node, name);
    skipSpace();
    if (p_ >= end_ || *p_ != ':') {
      return fail(problem, "expected ':' after a member name");
    }
    ++p_;
    skipSpace();
    Location item;
    item.begin = item_begin;
    item.sep_before = sep;
    item.next_begin = kNone;
    item.container = container;
    item.position = position++;
    const size_t before = locations_.size();
    FieldValue value;
    if (!parseValue(next, depth, item, value, problem)) {
      return false;
    }
    const bool recorded = trie_.slot(next) >= 0;
    pending = recorded && locations_.size() > before ? static_cast<uint32_t>(locations_.size() - 1)
                                                     : kNone;
    at.last_item_end = item.end;
    skipSpace();
    if (p_ < end_ && *p_ == ',') {
      sep = static_cast<uint32_t>(p_ - begin_);
      ++p_;
      skipSpace();
      continue;
    }
    if (p_ < end_ && *p_ == '}') {
      ++p_;
      break;
    }
    return fail(problem, p_ >= end_ ? "unexpected end in an object" : "expected ',' or '}'");
  }
  containers_[container].items = position;
  at.self_container = container;
  return true;
}

bool JsonReader::parseArray(int32_t node, int depth, Location& at, std::string& problem) {
  const auto container = static_cast<uint32_t>(containers_.size());
  containers_.push_back(Container{static_cast<uint32_t>(p_ - begin_), 0});
  ++p_;
  skipSpace();
  if (p_ < end_ && *p_ == ']') {
    ++p_;
    at.self_container = kNone;
    return true;
  }
  uint32_t sep = kNone;
  uint32_t pending = kNone;
  uint32_t position = 0;
  while (true) {
    const auto item_begin = static_cast<uint32_t>(p_ - begin_);
    if (pending != kNone) {
      locations_[pending].next_begin = item_begin;
    }
    const int32_t next = trie_.child(node, position);
    Location item;
    item.begin = item_begin;
    item.sep_before = sep;
    item.next_begin = kNone;
    item.container = container;
    item.position = position++;
    const size_t before = locations_.size();
    FieldValue value;
    if (!parseValue(next, depth, item, value, problem)) {
      return false;
    }
    const bool recorded = trie_.slot(next) >= 0;
    pending = recorded && locations_.size() > before ? static_cast<uint32_t>(locations_.size() - 1)
                                                     : kNone;
    skipSpace();
    if (p_ < end_ && *p_ == ',') {
      sep = static_cast<uint32_t>(p_ - begin_);
      ++p_;
      skipSpace();
      continue;
    }
    if (p_ < end_ && *p_ == ']') {
      ++p_;
      break;
    }
    return fail(problem, p_ >= end_ ? "unexpected end in an array" : "expected ',' or ']'");
  }
  containers_[container].items = position;
  at.self_container = kNone;  // members are only inserted into objects
  at.last_item_end = kNone;
  return true;
}

bool JsonReader::parseString(bool decode, std::string& scratch, std::string_view& decoded,
                             std::string& problem) {
  ++p_;  // opening quote
  const char* start = p_;
  bool escaped = false;
  const auto* u = reinterpret_cast<const unsigned char*>(p_);
  const auto* end = reinterpret_cast<const unsigned char*>(end_);
  while (true) {
    // The common case first: printable ASCII that needs no attention, eight bytes at a time.
    while (end - u >= 8) {
      uint64_t word;
      std::memcpy(&word, u, sizeof word);
      if (!plainWord(word)) {
        break;
      }
      u += 8;
    }
    while (u < end && *u >= 0x20 && *u < 0x80 && *u != '"' && *u != '\\') {
      ++u;
    }
    if (u >= end) {
      p_ = reinterpret_cast<const char*>(u);
      return fail(problem, "unterminated string");
    }
    const unsigned char c = *u;
    if (c == '"') {
      break;
    }
    if (c == '\\') {
      escaped = true;
      if (u + 1 >= end) {
        p_ = reinterpret_cast<const char*>(u);
        return fail(problem, "unterminated escape");
      }
      const unsigned char e = u[1];
      if (e == 'u') {
        uint32_t cp = 0;
        if (!readHex4(reinterpret_cast<const char*>(u + 2), end_, cp)) {
          p_ = reinterpret_cast<const char*>(u);
          return fail(problem, "\\u needs four hex digits");
        }
        if (cp >= 0xDC00 && cp <= 0xDFFF) {
          p_ = reinterpret_cast<const char*>(u);
          return fail(problem, "lone low surrogate escape");
        }
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          uint32_t low = 0;
          if (end - u < 12 || u[6] != '\\' || u[7] != 'u' ||
              !readHex4(reinterpret_cast<const char*>(u + 8), end_, low) || low < 0xDC00 ||
              low > 0xDFFF) {
            p_ = reinterpret_cast<const char*>(u);
            return fail(problem, "high surrogate escape without a low surrogate");
          }
          u += 12;
        } else {
          u += 6;
        }
        continue;
      }
      if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' && e != 'r' &&
          e != 't') {
        p_ = reinterpret_cast<const char*>(u);
        return fail(problem, "invalid escape");
      }
      u += 2;
      continue;
    }
    if (c < 0x20) {
      p_ = reinterpret_cast<const char*>(u);
      return fail(problem, "control character in a string");
    }
    const size_t n = utf8Sequence(u, end);
    if (n == 0) {
      p_ = reinterpret_cast<const char*>(u);
      return fail(problem, "invalid UTF-8");
    }
    u += n;
  }
  p_ = reinterpret_cast<const char*>(u);
  const std::string_view raw(start, static_cast<size_t>(p_ - start));
  ++p_;  // closing quote
  if (decode) {
    if (!escaped) {
      decoded = raw;
    } else {
      const size_t from = scratch.size();
      decodeEscapes(raw, scratch);
      decoded = std::string_view(scratch.data() + from, scratch.size() - from);
    }
  }
  return true;
}

bool JsonReader::parseNumber(bool convert, FieldValue& value, std::string& problem) {
  const char* start = p_;
  if (*p_ == '-') {
    ++p_;
  }
  if (p_ >= end_ || *p_ < '0' || *p_ > '9') {
    return fail(problem, "expected a digit");
  }
  if (*p_ == '0') {
    ++p_;
    if (p_ < end_ && *p_ >= '0' && *p_ <= '9') {
      return fail(problem, "leading zero in a number");
    }
  } else {
    while (p_ < end_ && *p_ >= '0' && *p_ <= '9') {
      ++p_;
    }
  }
  bool negative_exponent = false;
  if (p_ < end_ && *p_ == '.') {
    ++p_;
    if (p_ >= end_ || *p_ < '0' || *p_ > '9') {
      return fail(problem, "expected a digit after '.'");
    }
    while (p_ < end_ && *p_ >= '0' && *p_ <= '9') {
      ++p_;
    }
  }
  if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
    ++p_;
    if (p_ < end_ && (*p_ == '+' || *p_ == '-')) {
      negative_exponent = *p_ == '-';
      ++p_;
    }
    if (p_ >= end_ || *p_ < '0' || *p_ > '9') {
      return fail(problem, "expected a digit in the exponent");
    }
    while (p_ < end_ && *p_ >= '0' && *p_ <= '9') {
      ++p_;
    }
  }
  const std::string_view text(start, static_cast<size_t>(p_ - start));
  double number = 0;
  if (convert) {
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (ec == std::errc::result_out_of_range) {
      // Beyond double's range: infinity, or zero for a tiny magnitude.
      number = negative_exponent ? 0.0 : std::numeric_limits<double>::infinity();
      if (text[0] == '-') {
        number = -number;
      }
    }
  }
  value = FieldValue::ofNumber(number, text);
  return true;
}

bool JsonReader::parseLiteral(std::string_view word, std::string& problem) {
  if (static_cast<size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) {
    return fail(problem, "expected a value");
  }
  p_ += word.size();
  return true;
}

bool JsonReader::write(std::span<const FieldEdit> edits, std::string_view arena, std::string& out,
                       std::string& problem) {
  splices_.clear();
  removed_per_container_.assign(containers_.size(), 0);
  // Removals, in container and position order, to know which have a kept item before them.
  std::vector<uint32_t>& order = order_;
  order.clear();
  for (uint32_t i = 0; i < edits.size(); ++i) {
    if (edits[i].kind == FieldEdit::Kind::kRemove) {
      const Location& at = locations_[edits[i].handle];
      if (at.container == kNone) {
        problem = "the whole payload cannot be removed";
        return false;
      }
      order.push_back(i);
      ++removed_per_container_[at.container];
    }
  }
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    const Location& x = locations_[edits[a].handle];
    const Location& y = locations_[edits[b].handle];
    return std::pair(x.container, x.position) < std::pair(y.container, y.position);
  });
  uint32_t container = kNone;
  uint32_t expected = 0;  // positions 0..expected-1 of `container` are all removed
  for (uint32_t i : order) {
    const Location& at = locations_[edits[i].handle];
    if (at.container != container) {
      container = at.container;
      expected = 0;
    }
    if (at.position == expected) {
      ++expected;  // nothing kept before it: take the separator after it, if any
      splices_.push_back({at.begin, at.next_begin != kNone ? at.next_begin : at.end, kNone, 0});
    } else {
      splices_.push_back({at.sep_before, at.end, kNone, 0});
    }
  }
  for (uint32_t i = 0; i < edits.size(); ++i) {
    const FieldEdit& edit = edits[i];
    const Location& at = locations_[edit.handle];
    if (edit.kind == FieldEdit::Kind::kReplace) {
      splices_.push_back({at.value_begin, at.end, i, 0});
    } else if (edit.kind == FieldEdit::Kind::kInsert) {
      if (at.self_container == kNone) {
        problem = "a member can only be added to an object";
        return false;
      }
      const uint32_t c = at.self_container;
      if (at.last_item_end == kNone || removed_per_container_[c] == containers_[c].items) {
        splices_.push_back({containers_[c].open + 1, containers_[c].open + 1, i, 2});
      } else {
        splices_.push_back({at.last_item_end, at.last_item_end, i, 1});
      }
    }
  }
  std::sort(splices_.begin(), splices_.end(), [](const Splice& a, const Splice& b) {
    return std::pair(a.begin, a.end) < std::pair(b.begin, b.end);
  });
  const std::string_view payload(begin_, static_cast<size_t>(end_ - begin_));
  out.clear();
  out.reserve(payload.size() + arena.size() + 16 * edits.size());
  uint32_t cursor = 0;
  for (const Splice& splice : splices_) {
    if (splice.begin < cursor) {
      problem = "two edits overlap in the payload";
      return false;
    }
    out.append(payload.data() + cursor, splice.begin - cursor);
    cursor = splice.end;
    if (splice.edit == kNone) {
      continue;
    }
    const FieldEdit& edit = edits[splice.edit];
    if (splice.form == 1) {
      out += ',';
    }
    if (splice.form != 0) {
      appendJsonString(out, edit.name);
      out += ':';
    }
    const std::string_view text = arena.substr(edit.text_begin, edit.text_size);
    switch (edit.value_kind) {
    case ValueKind::kString:
    case ValueKind::kBytes:
      appendJsonString(out, text);
      break;
    case ValueKind::kNull:
      out += "null";
      break;
    default:  // numbers and booleans as written
      out += text;
      break;
    }
  }
  out.append(payload.data() + cursor, payload.size() - cursor);
  return true;
}

bool isValidJson(std::string_view text) {
  if (!text.empty() && (text[0] == '\x00' || text[0] == '\x01')) {
    return false;  // a schema registry's prefix, which the reader accepts, is not JSON
  }
  JsonReader reader({});
  std::string problem;
  return reader.read(text, problem);
}

}  // namespace causeway::policies
