#include "schema/avro_from_json.h"

#include "common/base64.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <cstring>
#include <iterator>
#include <limits>
#include <optional>

namespace causeway::schema {
namespace {

using Kind = AvroNode::Kind;
using json = nlohmann::json;

// Values nested deeper than this (a recursive schema) are refused rather than risking the stack.
constexpr size_t kMaxDepth = 256;

void appendLong(std::string& out, int64_t value) {
  uint64_t zigzag = (static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63);
  while (zigzag >= 0x80) {
    out.push_back(static_cast<char>((zigzag & 0x7f) | 0x80));
    zigzag >>= 7;
  }
  out.push_back(static_cast<char>(zigzag));
}

template <typename T> void appendLittleEndian(std::string& out, T value) {
  uint8_t bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  if constexpr (std::endian::native == std::endian::big) {
    std::reverse(std::begin(bytes), std::end(bytes));
  }
  out.append(reinterpret_cast<const char*>(bytes), sizeof(T));
}

std::string shown(const json& value) {
  std::string text = value.dump();
  if (text.size() > 40) {
    text.resize(37);
    text += "...";
  }
  return text;
}

std::optional<std::string> decodeStandardBase64(const std::string& text) {
  std::string url;
  url.reserve(text.size());
  for (char c : text) {
    url.push_back(c == '+' ? '-' : c == '/' ? '_' : c);
  }
  while (!url.empty() && url.back() == '=') {
    url.pop_back();
  }
  return decodeBase64Url(url);
}

// A bytes or fixed default as the Avro specification writes it: a string whose code points,
// each at most 255, are the bytes. nullopt when it is not.
std::optional<std::string> bytesOfCodePoints(const std::string& utf8) {
  std::string bytes;
  for (size_t i = 0; i < utf8.size(); ++i) {
    const auto c = static_cast<uint8_t>(utf8[i]);
    if (c < 0x80) {
      bytes.push_back(static_cast<char>(c));
    } else if ((c == 0xc2 || c == 0xc3) && i + 1 < utf8.size() &&
               (static_cast<uint8_t>(utf8[i + 1]) & 0xc0) == 0x80) {
      bytes.push_back(static_cast<char>(((c & 0x03) << 6) | (utf8[++i] & 0x3f)));
    } else {
      return std::nullopt;
    }
  }
  return bytes;
}

// How well a union branch of `kind` suits a JSON value: 0 its own kind, 1 a kind it can hold,
// -1 none.
int suits(Kind kind, const json& value) {
  switch (value.type()) {
  case json::value_t::null:
    return kind == Kind::kNull ? 0 : -1;
  case json::value_t::boolean:
    return kind == Kind::kBoolean ? 0 : -1;
  case json::value_t::number_integer:
  case json::value_t::number_unsigned:
    return kind == Kind::kInt || kind == Kind::kLong       ? 0
           : kind == Kind::kFloat || kind == Kind::kDouble ? 1
                                                           : -1;
  case json::value_t::number_float:
    return kind == Kind::kDouble || kind == Kind::kFloat ? 0 : -1;
  case json::value_t::string:
    return kind == Kind::kString || kind == Kind::kEnum ? 0
           : kind == Kind::kBytes || kind == Kind::kFixed || kind == Kind::kFloat ||
                   kind == Kind::kDouble
               ? 1
               : -1;
  case json::value_t::object:
    return kind == Kind::kRecord ? 0 : kind == Kind::kMap ? 1 : -1;
  case json::value_t::array:
    return kind == Kind::kArray ? 0 : -1;
  default:
    return -1;
  }
}

class Encoder {
public:
  explicit Encoder(std::string& out) : out_(out) {}

  bool encode(const AvroNode& node, const json& value, size_t depth) {
    if (depth > kMaxDepth) {
      return fail("nested deeper than " + std::to_string(kMaxDepth) + " levels");
    }
    switch (node.kind) {
    case Kind::kNull:
      return value.is_null() || expected("null", value);
    case Kind::kBoolean:
      if (!value.is_boolean()) {
        return expected("a boolean", value);
      }
      out_.push_back(value.get<bool>() ? 1 : 0);
      return true;
    case Kind::kInt:
    case Kind::kLong:
      return integer(node.kind, value);
    case Kind::kFloat:
    case Kind::kDouble:
      return real(node.kind, value);
    case Kind::kString:
      if (!value.is_string()) {
        return expected("a string", value);
      }
      appendLong(out_, static_cast<int64_t>(value.get_ref<const std::string&>().size()));
      out_ += value.get_ref<const std::string&>();
      return true;
    case Kind::kBytes:
    case Kind::kFixed:
      return bytes(node, value);
    case Kind::kEnum:
      return symbol(node, value);
    case Kind::kArray:
      return array(node, value, depth);
    case Kind::kMap:
      return map(node, value, depth);
    case Kind::kRecord:
      return record(node, value, depth);
    case Kind::kUnion:
      return branch(node, value, depth);
    }
    return fail("an unknown Avro type");
  }

  const std::string& path() const { return path_; }
  const std::string& problem() const { return problem_; }

private:
  bool fail(std::string problem) {
    problem_ = std::move(problem);
    return false;
  }

  bool expected(const std::string& what, const json& value) {
    return fail("expected " + what + ", not " + shown(value));
  }

  bool integer(Kind kind, const json& value) {
    int64_t number = 0;
    if (value.is_number_integer()) {
      number = value.get<int64_t>();
    } else if (value.is_number_unsigned() &&
               value.get<uint64_t>() <=
                   static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      number = static_cast<int64_t>(value.get<uint64_t>());
    } else {
      return expected(
          kind == Kind::kInt ? "an int (a 32-bit integer)" : "a long (a 64-bit integer)", value);
    }
    if (kind == Kind::kInt && (number < std::numeric_limits<int32_t>::min() ||
                               number > std::numeric_limits<int32_t>::max())) {
      return expected("an int (a 32-bit integer)", value);
    }
    appendLong(out_, number);
    return true;
  }

  bool real(Kind kind, const json& value) {
    double number = 0;
    if (value.is_number()) {
      number = value.get<double>();
    } else if (value.is_string() && value.get_ref<const std::string&>() == "NaN") {
      number = std::numeric_limits<double>::quiet_NaN();
    } else if (value.is_string() && value.get_ref<const std::string&>() == "Infinity") {
      number = std::numeric_limits<double>::infinity();
    } else if (value.is_string() && value.get_ref<const std::string&>() == "-Infinity") {
      number = -std::numeric_limits<double>::infinity();
    } else {
      return expected(kind == Kind::kFloat ? "a float (a number, \"NaN\", \"Infinity\" or "
                                             "\"-Infinity\")"
                                           : "a double (a number, \"NaN\", \"Infinity\" or "
                                             "\"-Infinity\")",
                      value);
    }
    if (kind == Kind::kFloat) {
      appendLittleEndian(out_, static_cast<float>(number));
    } else {
      appendLittleEndian(out_, number);
    }
    return true;
  }

  bool bytes(const AvroNode& node, const json& value) {
    const char* what = node.kind == Kind::kFixed ? "a fixed (a standard base64 string)"
                                                 : "bytes (a standard base64 string)";
    if (!value.is_string()) {
      return expected(what, value);
    }
    std::optional<std::string> decoded = in_default_
                                             ? bytesOfCodePoints(value.get<std::string>())
                                             : decodeStandardBase64(value.get<std::string>());
    if (!decoded) {
      return expected(in_default_ ? "a string of code points up to 255 (a default of bytes)" : what,
                      value);
    }
    if (node.kind == Kind::kFixed) {
      if (static_cast<int64_t>(decoded->size()) != node.size) {
        return fail("a fixed " + node.name + " holds " + std::to_string(node.size) +
                    " bytes, and " + shown(value) + " decodes to " +
                    std::to_string(decoded->size()));
      }
    } else {
      appendLong(out_, static_cast<int64_t>(decoded->size()));
    }
    out_ += *decoded;
    return true;
  }

  bool symbol(const AvroNode& node, const json& value) {
    if (value.is_string()) {
      for (size_t i = 0; i < node.symbols.size(); ++i) {
        if (node.symbols[i] == value.get_ref<const std::string&>()) {
          appendLong(out_, static_cast<int64_t>(i));
          return true;
        }
      }
    }
    std::string symbols;
    for (const std::string& s : node.symbols) {
      symbols += (symbols.empty() ? "" : ", ") + s;
    }
    return fail("expected a symbol of enum " + node.name + " (" + symbols + "), not " +
                shown(value));
  }

  bool array(const AvroNode& node, const json& value, size_t depth) {
    if (!value.is_array()) {
      return expected("an array", value);
    }
    if (!value.empty()) {
      appendLong(out_, static_cast<int64_t>(value.size()));
      const size_t length = path_.size();
      for (size_t i = 0; i < value.size(); ++i) {
        path_ += "[" + std::to_string(i) + "]";
        if (!encode(*node.items, value[i], depth + 1)) {
          return false;
        }
        path_.resize(length);
      }
    }
    out_.push_back(0);
    return true;
  }

  bool map(const AvroNode& node, const json& value, size_t depth) {
    if (!value.is_object()) {
      return expected("an object (a map)", value);
    }
    if (!value.empty()) {
      appendLong(out_, static_cast<int64_t>(value.size()));
      const size_t length = path_.size();
      for (const auto& [key, item] : value.items()) {
        path_ += "[\"" + key + "\"]";
        appendLong(out_, static_cast<int64_t>(key.size()));
        out_ += key;
        if (!encode(*node.items, item, depth + 1)) {
          return false;
        }
        path_.resize(length);
      }
    }
    out_.push_back(0);
    return true;
  }

  bool record(const AvroNode& node, const json& value, size_t depth) {
    if (!value.is_object()) {
      return expected("an object (record " + node.name + ")", value);
    }
    for (const auto& [key, item] : value.items()) {
      bool known = false;
      for (const AvroNode::Field& field : node.fields) {
        known = known || field.name == key;
      }
      if (!known) {
        std::string names;
        for (const AvroNode::Field& field : node.fields) {
          names += (names.empty() ? "" : ", ") + field.name;
        }
        return fail("record " + node.name + " has no field \"" + key + "\" (its fields: " + names +
                    ")");
      }
    }
    const size_t length = path_.size();
    for (const AvroNode::Field& field : node.fields) {
      path_ += (path_.empty() ? "" : ".") + field.name;
      if (auto it = value.find(field.name); it != value.end()) {
        if (!encode(*field.type, *it, depth + 1)) {
          return false;
        }
      } else if (!field.has_default) {
        return fail("missing, and the field has no default");
      } else if (!fieldDefault(field, depth)) {
        return false;
      }
      path_.resize(length);
    }
    return true;
  }

  bool fieldDefault(const AvroNode::Field& field, size_t depth) {
    const json value = json::parse(field.default_json, nullptr, false);
    if (value.is_discarded()) {
      return fail("missing, and its default is not JSON");
    }
    // A union field's default is a value of the union's first branch.
    const AvroNode* type = field.type;
    if (type->kind == Kind::kUnion) {
      if (type->branches.empty()) {
        return fail("missing, and its type is an empty union");
      }
      appendLong(out_, 0);
      type = type->branches.front();
    }
    // A default's bytes and fixed are strings of code points, not base64.
    const bool outer = in_default_;
    in_default_ = true;
    const bool encoded = encode(*type, value, depth + 1);
    in_default_ = outer;
    if (!encoded) {
      problem_ = "missing, and its default does not fit its type: " + problem_;
      return false;
    }
    return true;
  }

  bool branch(const AvroNode& node, const json& value, size_t depth) {
    const size_t mark = out_.size();
    const std::string path = path_;
    // Why the first branch of the value's own kind refused it: the likeliest intent.
    std::optional<std::pair<std::string, std::string>> refusal;
    for (int wanted = 0; wanted <= 1; ++wanted) {
      for (size_t i = 0; i < node.branches.size(); ++i) {
        if (suits(node.branches[i]->kind, value) != wanted) {
          continue;
        }
        appendLong(out_, static_cast<int64_t>(i));
        if (encode(*node.branches[i], value, depth + 1)) {
          return true;
        }
        if (!refusal && wanted == 0) {
          refusal.emplace(path_, problem_);
        }
        out_.resize(mark);
        path_ = path;
      }
    }
    if (refusal) {
      path_ = std::move(refusal->first);
      problem_ = std::move(refusal->second);
      return false;
    }
    std::string kinds;
    for (const AvroNode* branch : node.branches) {
      kinds += std::string(kinds.empty() ? "" : ", ") +
               (branch->name.empty() ? avroKindName(branch->kind) : branch->name.c_str());
    }
    return fail("no branch of the union [" + kinds + "] takes " + shown(value));
  }

  std::string& out_;
  bool in_default_ = false;  // encoding a field's default (see fieldDefault)
  std::string path_;
  std::string problem_;
};

}  // namespace

Status appendAvroFromJson(const AvroNode& node, const nlohmann::json& value, std::string& out) {
  Encoder encoder(out);
  if (encoder.encode(node, value, 0)) {
    return {};
  }
  return Error{(encoder.path().empty() ? std::string("the value") : encoder.path()) + ": " +
               encoder.problem()};
}

}  // namespace causeway::schema
