#include "schema/avro_model.h"

#include <nlohmann/json.hpp>
#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <set>

namespace causeway::schema {
namespace {

using Kind = AvroNode::Kind;
using nlohmann::json;

// Deeper nesting (of the schema, or of a datum through recursive types) is refused: it is a
// stack overflow waiting to happen, not a real schema or record.
constexpr int kMaxDepth = 200;

std::optional<Kind> primitiveKind(std::string_view name) {
  static const std::pair<std::string_view, Kind> kPrimitives[] = {
      {"null", Kind::kNull},   {"boolean", Kind::kBoolean}, {"int", Kind::kInt},
      {"long", Kind::kLong},   {"float", Kind::kFloat},     {"double", Kind::kDouble},
      {"bytes", Kind::kBytes}, {"string", Kind::kString},
  };
  for (const auto& [word, kind] : kPrimitives) {
    if (word == name) {
      return kind;
    }
  }
  return std::nullopt;
}

std::string fullName(const std::string& name, const std::string& space) {
  if (name.find('.') != std::string::npos || space.empty()) {
    return name;
  }
  return space + "." + name;
}

std::string namespaceOf(const std::string& full) {
  const size_t dot = full.rfind('.');
  return dot == std::string::npos ? std::string() : full.substr(0, dot);
}

}  // namespace

const char* avroKindName(Kind kind) {
  switch (kind) {
  case Kind::kNull:
    return "null";
  case Kind::kBoolean:
    return "boolean";
  case Kind::kInt:
    return "int";
  case Kind::kLong:
    return "long";
  case Kind::kFloat:
    return "float";
  case Kind::kDouble:
    return "double";
  case Kind::kBytes:
    return "bytes";
  case Kind::kString:
    return "string";
  case Kind::kRecord:
    return "record";
  case Kind::kEnum:
    return "enum";
  case Kind::kArray:
    return "array";
  case Kind::kMap:
    return "map";
  case Kind::kUnion:
    return "union";
  case Kind::kFixed:
    return "fixed";
  }
  return "?";
}

// Builds an AvroModel from JSON, reporting the first problem with its place in the schema.
class AvroParser {
public:
  explicit AvroParser(AvroModel& model) : model_(model) {}

  Result<const AvroNode*> parse(const json& j, const std::string& space, const std::string& at,
                                int depth) {
    if (depth > kMaxDepth) {
      return Error{at + ": nested more than " + std::to_string(kMaxDepth) + " levels deep"};
    }
    if (j.is_string()) {
      const std::string name = j.get<std::string>();
      if (auto kind = primitiveKind(name)) {
        return add(*kind);
      }
      if (const AvroNode* named = model_.named(fullName(name, space))) {
        return named;
      }
      if (const AvroNode* named = model_.named(name)) {
        return named;
      }
      return Error{at + ": unknown type '" + name + "'"};
    }
    if (j.is_array()) {
      AvroNode* node = add(Kind::kUnion);
      for (size_t i = 0; i < j.size(); ++i) {
        auto branch = parse(j[i], space, at + "[" + std::to_string(i) + "]", depth + 1);
        if (!branch) {
          return branch.error();
        }
        if ((*branch)->kind == Kind::kUnion) {
          return Error{at + ": a union may not contain a union"};
        }
        node->branches.push_back(*branch);
      }
      if (node->branches.empty()) {
        return Error{at + ": an empty union"};
      }
      return static_cast<const AvroNode*>(node);
    }
    if (!j.is_object()) {
      return Error{at + ": expected a type name, a union or a type object, found " +
                   std::string(j.type_name())};
    }
    auto type = j.find("type");
    if (type == j.end()) {
      return Error{at + ": a type object without \"type\""};
    }
    if (!type->is_string()) {
      // {"type": {"type": "string"}} and {"type": [..]} are types too.
      return parse(*type, space, at, depth + 1);
    }
    const std::string word = type->get<std::string>();
    if (auto kind = primitiveKind(word)) {
      return add(*kind);  // logicalType and other attributes do not change the encoding
    }
    if (word == "array" || word == "map") {
      AvroNode* node = add(word == "array" ? Kind::kArray : Kind::kMap);
      const char* key = word == "array" ? "items" : "values";
      auto inner = j.find(key);
      if (inner == j.end()) {
        return Error{at + ": " + word + " without \"" + key + "\""};
      }
      auto items = parse(*inner, space, at + "." + key, depth + 1);
      if (!items) {
        return items.error();
      }
      node->items = *items;
      return static_cast<const AvroNode*>(node);
    }
    if (word == "record" || word == "error" || word == "enum" || word == "fixed") {
      return parseNamed(j, word, space, at, depth);
    }
    // A named type written as {"type": "com.acme.Money"}.
    return parse(*type, space, at, depth + 1);
  }

  Result<const AvroNode*> parseNamed(const json& j, const std::string& word,
                                     const std::string& space, const std::string& at, int depth) {
    auto name = j.find("name");
    if (name == j.end() || !name->is_string() || name->get<std::string>().empty()) {
      return Error{at + ": a " + word + " without a \"name\""};
    }
    std::string own_space = space;
    if (auto ns = j.find("namespace"); ns != j.end() && ns->is_string()) {
      own_space = ns->get<std::string>();
    }
    const std::string full = fullName(name->get<std::string>(), own_space);
    if (model_.named_.count(full)) {
      return Error{at + ": the type '" + full + "' is defined twice"};
    }
    const Kind kind = word == "enum" ? Kind::kEnum : word == "fixed" ? Kind::kFixed : Kind::kRecord;
    AvroNode* node = add(kind);
    node->name = full;
    model_.named_[full] = node;  // before the fields: a record may refer to itself
    const std::string inner_space = namespaceOf(full);
    if (auto aliases = j.find("aliases"); aliases != j.end() && aliases->is_array()) {
      for (const auto& alias : *aliases) {
        if (alias.is_string()) {
          node->aliases.push_back(fullName(alias.get<std::string>(), inner_space));
        }
      }
    }
    const std::string here = at.empty() ? full : at;
    if (kind == Kind::kFixed) {
      auto size = j.find("size");
      if (size == j.end() || !size->is_number_integer() || size->get<int64_t>() < 0) {
        return Error{here + ": fixed without a \"size\""};
      }
      node->size = size->get<int64_t>();
      return static_cast<const AvroNode*>(node);
    }
    if (kind == Kind::kEnum) {
      auto symbols = j.find("symbols");
      if (symbols == j.end() || !symbols->is_array()) {
        return Error{here + ": enum without \"symbols\""};
      }
      for (const auto& symbol : *symbols) {
        if (!symbol.is_string()) {
          return Error{here + ": enum symbols must be strings"};
        }
        node->symbols.push_back(symbol.get<std::string>());
      }
      node->has_enum_default = j.contains("default");
      if (node->has_enum_default && j["default"].is_string()) {
        node->enum_default = j["default"].get<std::string>();
      }
      return static_cast<const AvroNode*>(node);
    }
    auto fields = j.find("fields");
    if (fields == j.end() || !fields->is_array()) {
      return Error{here + ": record without \"fields\""};
    }
    for (const auto& field : *fields) {
      if (!field.is_object() || !field.contains("name") || !field["name"].is_string() ||
          !field.contains("type")) {
        return Error{here + ": a field without \"name\" and \"type\""};
      }
      AvroNode::Field out;
      out.name = field["name"].get<std::string>();
      auto type = parse(field["type"], inner_space, here + "." + out.name, depth + 1);
      if (!type) {
        return type.error();
      }
      out.type = *type;
      out.has_default = field.contains("default");
      if (out.has_default) {
        out.default_json = field["default"].dump();
      }
      if (auto aliases = field.find("aliases"); aliases != field.end() && aliases->is_array()) {
        for (const auto& alias : *aliases) {
          if (alias.is_string()) {
            out.aliases.push_back(alias.get<std::string>());
          }
        }
      }
      node->fields.push_back(std::move(out));
    }
    return static_cast<const AvroNode*>(node);
  }

  AvroNode* add(Kind kind) {
    model_.nodes_.push_back(std::make_unique<AvroNode>());
    model_.nodes_.back()->kind = kind;
    return model_.nodes_.back().get();
  }

  void computeMinSizes() {
    std::set<const AvroNode*> active;
    for (auto& node : model_.nodes_) {
      node->min_size = minSize(*node, active);
    }
  }

  // A record that holds itself on every path (no union branch, array or map to end on) has no
  // finite datum: refused, since no record could be written with it and a block of its items
  // would take no bytes. Finite types are found by fixpoint: records once all their fields are,
  // unions once a branch is.
  Status checkFinite() const {
    std::set<const AvroNode*> finite;
    for (bool grew = true; grew;) {
      grew = false;
      for (const auto& node : model_.nodes_) {
        if (finite.count(node.get())) {
          continue;
        }
        bool is_finite = true;
        if (node->kind == Kind::kRecord) {
          for (const auto& field : node->fields) {
            is_finite = is_finite && finite.count(field.type) > 0;
          }
        } else if (node->kind == Kind::kUnion) {
          is_finite = false;
          for (const AvroNode* branch : node->branches) {
            is_finite = is_finite || finite.count(branch) > 0;
          }
        }
        if (is_finite) {
          finite.insert(node.get());
          grew = true;
        }
      }
    }
    for (const auto& node : model_.nodes_) {
      if (node->kind == Kind::kRecord && !finite.count(node.get())) {
        return Error{"record " + node->name +
                     " holds itself on every path (no null branch, array or map to end "
                     "on), so no finite datum exists"};
      }
    }
    return {};
  }

  size_t minSize(AvroNode& node, std::set<const AvroNode*>& active) {
    switch (node.kind) {
    case Kind::kNull:
      return 0;
    case Kind::kFloat:
      return 4;
    case Kind::kDouble:
      return 8;
    case Kind::kFixed:
      return static_cast<size_t>(node.size);
    case Kind::kRecord: {
      if (!active.insert(&node).second) {
        return 0;  // recursion: a lower bound is enough
      }
      size_t total = 0;
      for (const auto& field : node.fields) {
        total += minSize(const_cast<AvroNode&>(*field.type), active);
      }
      active.erase(&node);
      return total;
    }
    default:
      return 1;  // one varint at least
    }
  }

private:
  AvroModel& model_;
};

Result<std::shared_ptr<const AvroModel>>
AvroModel::parse(std::string_view text, const std::vector<std::string_view>& references) {
  std::shared_ptr<AvroModel> model(new AvroModel());
  AvroParser parser(*model);
  for (size_t i = 0; i < references.size(); ++i) {
    const json j = json::parse(references[i], nullptr, false);
    if (j.is_discarded()) {
      return Error{"reference " + std::to_string(i + 1) + " is not JSON"};
    }
    auto parsed = parser.parse(j, "", "", 0);
    if (!parsed) {
      return Error{"reference " + std::to_string(i + 1) + ": " + parsed.error().message};
    }
  }
  const json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) {
    return Error{"not JSON"};
  }
  auto root = parser.parse(j, "", "", 0);
  if (!root) {
    return root.error();
  }
  model->root_ = *root;
  if (Status finite = parser.checkFinite(); !finite.ok()) {
    return finite.error();
  }
  parser.computeMinSizes();
  return std::shared_ptr<const AvroModel>(std::move(model));
}

const AvroNode* AvroModel::named(const std::string& full_name) const {
  auto it = named_.find(full_name);
  return it == named_.end() ? nullptr : it->second;
}

namespace {

void writeCanonical(const AvroNode& node, std::set<const AvroNode*>& defined, std::string& out) {
  auto quote = [&out](const std::string& text) { out += json(text).dump(); };
  switch (node.kind) {
  case Kind::kUnion:
    out += '[';
    for (size_t i = 0; i < node.branches.size(); ++i) {
      if (i) {
        out += ',';
      }
      writeCanonical(*node.branches[i], defined, out);
    }
    out += ']';
    return;
  case Kind::kArray:
  case Kind::kMap:
    out += node.kind == Kind::kArray ? R"({"type":"array","items":)" : R"({"type":"map","values":)";
    writeCanonical(*node.items, defined, out);
    out += '}';
    return;
  case Kind::kRecord:
  case Kind::kEnum:
  case Kind::kFixed:
    if (!defined.insert(&node).second) {
      quote(node.name);
      return;
    }
    out += R"({"name":)";
    quote(node.name);
    if (node.kind == Kind::kRecord) {
      out += R"(,"type":"record","fields":[)";
      for (size_t i = 0; i < node.fields.size(); ++i) {
        out += i ? R"(,{"name":)" : R"({"name":)";
        quote(node.fields[i].name);
        out += R"(,"type":)";
        writeCanonical(*node.fields[i].type, defined, out);
        out += '}';
      }
      out += "]}";
    } else if (node.kind == Kind::kEnum) {
      out += R"(,"type":"enum","symbols":[)";
      for (size_t i = 0; i < node.symbols.size(); ++i) {
        if (i) {
          out += ',';
        }
        quote(node.symbols[i]);
      }
      out += "]}";
    } else {
      out += R"(,"type":"fixed","size":)" + std::to_string(node.size) + "}";
    }
    return;
  default:
    out += '"';
    out += avroKindName(node.kind);
    out += '"';
  }
}

}  // namespace

std::string AvroModel::canonical() const {
  std::string out;
  std::set<const AvroNode*> defined;
  writeCanonical(*root_, defined, out);
  return out;
}

// --- Resolution ---------------------------------------------------------------------------------

namespace {

bool namesMatch(const AvroNode& writer, const AvroNode& reader) {
  if (writer.name == reader.name) {
    return true;
  }
  return std::find(reader.aliases.begin(), reader.aliases.end(), writer.name) !=
         reader.aliases.end();
}


class Resolver {
public:
  // An empty string when `writer` data reads as `reader`; otherwise why not.
  std::string check(const AvroNode& writer, const AvroNode& reader, const std::string& at) {
    if (!in_progress_.insert({&writer, &reader}).second) {
      return "";  // a recursive type being checked further up
    }
    std::string problem = checkNew(writer, reader, at);
    in_progress_.erase({&writer, &reader});
    return problem;
  }

private:
  std::string where(const std::string& at) const { return at.empty() ? "" : at + ": "; }

  std::string checkNew(const AvroNode& writer, const AvroNode& reader, const std::string& at) {
    if (writer.kind == Kind::kUnion) {
      for (size_t i = 0; i < writer.branches.size(); ++i) {
        std::string problem = check(*writer.branches[i], reader, at);
        if (!problem.empty()) {
          return problem;
        }
      }
      return "";
    }
    if (reader.kind == Kind::kUnion) {
      std::string first;
      for (const AvroNode* branch : reader.branches) {
        std::string problem = check(writer, *branch, at);
        if (problem.empty()) {
          return "";
        }
        if (first.empty()) {
          first = problem;
        }
      }
      return where(at) + "the writer's " + describe(writer) +
             " matches no branch of the reader's union";
    }
    if (writer.kind != reader.kind) {
      if (avroPromotes(writer.kind, reader.kind)) {
        return "";
      }
      return where(at) + "the writer's " + describe(writer) + " cannot be read as " +
             describe(reader);
    }
    switch (writer.kind) {
    case Kind::kRecord:
      return checkRecord(writer, reader, at);
    case Kind::kEnum: {
      if (!namesMatch(writer, reader)) {
        return where(at) + "enum " + writer.name + " cannot be read as enum " + reader.name;
      }
      if (reader.has_enum_default) {
        return "";
      }
      for (const auto& symbol : writer.symbols) {
        if (std::find(reader.symbols.begin(), reader.symbols.end(), symbol) ==
            reader.symbols.end()) {
          return where(at) + "the reader's enum " + reader.name + " lacks the symbol " + symbol +
                 " and has no default";
        }
      }
      return "";
    }
    case Kind::kFixed:
      if (!namesMatch(writer, reader) || writer.size != reader.size) {
        return where(at) + "fixed " + writer.name + " (" + std::to_string(writer.size) +
               " bytes) cannot be read as fixed " + reader.name + " (" +
               std::to_string(reader.size) + " bytes)";
      }
      return "";
    case Kind::kArray:
      return check(*writer.items, *reader.items, at + "[]");
    case Kind::kMap:
      return check(*writer.items, *reader.items, at + "{}");
    default:
      return "";
    }
  }

  std::string checkRecord(const AvroNode& writer, const AvroNode& reader, const std::string& at) {
    if (!namesMatch(writer, reader)) {
      return where(at) + "record " + writer.name + " cannot be read as record " + reader.name;
    }
    for (const auto& field : reader.fields) {
      const AvroNode::Field* match = nullptr;
      for (const auto& candidate : writer.fields) {
        if (candidate.name == field.name || std::find(field.aliases.begin(), field.aliases.end(),
                                                      candidate.name) != field.aliases.end()) {
          match = &candidate;
          break;
        }
      }
      const std::string path = at.empty() ? field.name : at + "." + field.name;
      if (match == nullptr) {
        if (!field.has_default) {
          return path + ": the reader's field is not in the writer's schema and has no default";
        }
        continue;
      }
      std::string problem = check(*match->type, *field.type, path);
      if (!problem.empty()) {
        return problem;
      }
    }
    return "";
  }

  static std::string describe(const AvroNode& node) {
    return node.isNamed() ? std::string(avroKindName(node.kind)) + " " + node.name
                          : avroKindName(node.kind);
  }

  std::set<std::pair<const AvroNode*, const AvroNode*>> in_progress_;
};

}  // namespace

bool avroPromotes(Kind writer, Kind reader) {
  switch (writer) {
  case Kind::kInt:
    return reader == Kind::kLong || reader == Kind::kFloat || reader == Kind::kDouble;
  case Kind::kLong:
    return reader == Kind::kFloat || reader == Kind::kDouble;
  case Kind::kFloat:
    return reader == Kind::kDouble;
  case Kind::kString:
    return reader == Kind::kBytes;
  case Kind::kBytes:
    return reader == Kind::kString;
  default:
    return false;
  }
}

Status avroResolves(const AvroNode& writer, const AvroNode& reader) {
  Resolver resolver;
  std::string problem = resolver.check(writer, reader, "");
  if (problem.empty()) {
    return Status::success();
  }
  return Error{problem};
}

// --- The walk over a datum
// ------------------------------------------------------------------------

namespace {

class Walker {
public:
  Walker(std::string_view bytes, AvroWalkError& error) : bytes_(bytes), error_(error) {}

  bool walk(const AvroNode& node, size_t& pos, int depth) {
    if (depth > kMaxDepth) {
      return fail("nested more than " + std::to_string(kMaxDepth) + " levels deep");
    }
    switch (node.kind) {
    case Kind::kNull:
      return true;
    case Kind::kBoolean:
      if (pos >= bytes_.size()) {
        return truncated("a boolean", 1, pos);
      }
      if (static_cast<uint8_t>(bytes_[pos]) > 1) {
        return fail("a boolean byte must be 0 or 1, found " +
                    std::to_string(static_cast<uint8_t>(bytes_[pos])));
      }
      ++pos;
      return true;
    case Kind::kInt: {
      int64_t value = 0;
      if (!varint(pos, value, "an int")) {
        return false;
      }
      if (value < INT32_MIN || value > INT32_MAX) {
        return fail("an int out of the 32-bit range");
      }
      return true;
    }
    case Kind::kLong: {
      int64_t value = 0;
      return varint(pos, value, "a long");
    }
    case Kind::kFloat:
      return fixedBytes(pos, 4, "a float");
    case Kind::kDouble:
      return fixedBytes(pos, 8, "a double");
    case Kind::kFixed:
      return fixedBytes(pos, static_cast<size_t>(node.size), "a fixed");
    case Kind::kBytes:
    case Kind::kString: {
      const bool text = node.kind == Kind::kString;
      int64_t length = 0;
      if (!varint(pos, length, text ? "a string length" : "a bytes length")) {
        return false;
      }
      if (length < 0) {
        return fail(std::string("a negative ") + (text ? "string" : "bytes") + " length");
      }
      if (static_cast<uint64_t>(length) > bytes_.size() - pos) {
        return truncated(text ? "a string" : "bytes", static_cast<uint64_t>(length), pos);
      }
      if (text && !simdjson::validate_utf8(bytes_.data() + pos, static_cast<size_t>(length))) {
        return fail("a string that is not UTF-8");
      }
      pos += static_cast<size_t>(length);
      return true;
    }
    case Kind::kEnum: {
      int64_t index = 0;
      if (!varint(pos, index, "an enum index")) {
        return false;
      }
      if (index < 0 || static_cast<uint64_t>(index) >= node.symbols.size()) {
        return fail("enum index " + std::to_string(index) + " outside the " +
                    std::to_string(node.symbols.size()) + " symbols");
      }
      return true;
    }
    case Kind::kUnion: {
      int64_t index = 0;
      if (!varint(pos, index, "a union branch")) {
        return false;
      }
      if (index < 0 || static_cast<uint64_t>(index) >= node.branches.size()) {
        return fail("union branch " + std::to_string(index) + " outside the " +
                    std::to_string(node.branches.size()) + " branches");
      }
      return walk(*node.branches[static_cast<size_t>(index)], pos, depth + 1);
    }
    case Kind::kRecord:
      for (const auto& field : node.fields) {
        if (!walk(*field.type, pos, depth + 1)) {
          prefix(field.name);
          return false;
        }
      }
      return true;
    case Kind::kArray:
    case Kind::kMap:
      return blocks(node, pos, depth);
    }
    return fail("unknown type");
  }

private:
  bool blocks(const AvroNode& node, size_t& pos, int depth) {
    const bool map = node.kind == Kind::kMap;
    uint64_t item = 0;
    while (true) {
      int64_t count = 0;
      if (!varint(pos, count, map ? "a map block count" : "an array block count")) {
        return false;
      }
      if (count == 0) {
        return true;
      }
      if (count < 0) {
        if (count == INT64_MIN) {
          return fail("a block count out of range");
        }
        count = -count;
        int64_t block_bytes = 0;
        if (!varint(pos, block_bytes, "a block size")) {
          return false;
        }
        if (block_bytes < 0) {
          return fail("a negative block size");
        }
      }
      const size_t min_item = node.items->min_size + (map ? 1 : 0);
      if (min_item == 0) {
        item += static_cast<uint64_t>(count);  // items of zero bytes: nothing to read
        empty_items_ += static_cast<uint64_t>(count);
        if (empty_items_ > kMaxEmptyAvroItems) {
          return fail("more than " + std::to_string(kMaxEmptyAvroItems) +
                      " array items that take no bytes (nulls, empty records) in one datum");
        }
        continue;
      }
      if (static_cast<uint64_t>(count) > (bytes_.size() - pos) / min_item) {
        return fail("a block of " + std::to_string(count) + " items in " +
                    std::to_string(bytes_.size() - pos) + " remaining bytes (truncated)");
      }
      for (int64_t i = 0; i < count; ++i, ++item) {
        if (map) {
          static const AvroNode kKey = [] {
            AvroNode key;
            key.kind = Kind::kString;
            return key;
          }();
          if (!walk(kKey, pos, depth + 1)) {
            prefix("[" + std::to_string(item) + "] key");
            return false;
          }
        }
        if (!walk(*node.items, pos, depth + 1)) {
          prefix("[" + std::to_string(item) + "]");
          return false;
        }
      }
    }
  }

  // Zig-zag varint of at most 10 bytes.
  bool varint(size_t& pos, int64_t& out, const char* what) {
    uint64_t raw = 0;
    for (int i = 0; i < 10; ++i) {
      if (pos >= bytes_.size()) {
        return fail(std::string("truncated: the bytes end inside ") + what);
      }
      const auto b = static_cast<uint8_t>(bytes_[pos++]);
      raw |= uint64_t{b & 0x7fu} << (7 * i);
      if ((b & 0x80u) == 0) {
        out = static_cast<int64_t>((raw >> 1) ^ (~(raw & 1) + 1));
        return true;
      }
    }
    return fail(std::string(what) + ": a varint longer than 10 bytes");
  }

  bool fixedBytes(size_t& pos, size_t n, const char* what) {
    if (n > bytes_.size() - pos) {
      return truncated(what, n, pos);
    }
    pos += n;
    return true;
  }

  bool truncated(const char* what, uint64_t needed, size_t pos) {
    return fail(std::string("truncated: ") + what + " needs " + std::to_string(needed) +
                " bytes, " + std::to_string(bytes_.size() - pos) + " left");
  }

  bool fail(std::string problem) {
    error_.problem = std::move(problem);
    error_.path.clear();
    return false;
  }

  void prefix(const std::string& component) {
    if (error_.path.empty()) {
      error_.path = component;
    } else if (error_.path[0] == '[' || error_.path.rfind("] key", 0) == 0) {
      error_.path = component + error_.path;
    } else {
      error_.path = component + "." + error_.path;
    }
  }

  std::string_view bytes_;
  AvroWalkError& error_;
  uint64_t empty_items_ = 0;  // items of zero bytes so far in this datum
};

}  // namespace

bool walkAvro(const AvroNode& node, std::string_view bytes, size_t& pos, AvroWalkError& error) {
  Walker walker(bytes, error);
  return walker.walk(node, pos, 0);
}

}  // namespace causeway::schema
