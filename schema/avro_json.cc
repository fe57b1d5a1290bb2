#include "schema/avro_json.h"

#include "common/base64.h"
#include "common/json_string.h"

#include <nlohmann/json.hpp>
#include <simdjson.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <set>

namespace causeway::schema {

using Kind = AvroNode::Kind;

namespace {

// Nesting deeper than this is refused (walkAvro refuses it first).
constexpr int kMaxDepth = 256;

void appendBase64String(std::string& out, std::string_view bytes) {
  out += '"';
  appendBase64(out, bytes);
  out += '"';
}

// A default as the schema writes it (Avro's JSON encoding of the field's type) in the shape
// append() writes data: bytes and fixed (strings of code points 0-255) become base64, a
// union's default is its first fitting branch. False when the value does not fit the type.
bool appendDefault(const AvroNode& type, const nlohmann::json& value, std::string& out,
                   int depth) {
  if (depth > kMaxDepth) {
    return false;
  }
  switch (type.kind) {
  case Kind::kNull:
    out += "null";
    return value.is_null();
  case Kind::kBoolean:
    out += value.dump();
    return value.is_boolean();
  case Kind::kInt:
  case Kind::kLong:
    out += value.dump();
    return value.is_number_integer();
  case Kind::kFloat:
  case Kind::kDouble:
    if (value.is_string()) {
      const auto text = value.get<std::string>();
      out += value.dump();
      return text == "NaN" || text == "Infinity" || text == "-Infinity";
    }
    out += value.dump();
    return value.is_number();
  case Kind::kString:
  case Kind::kEnum:
    if (!value.is_string()) {
      return false;
    }
    out += value.dump();
    return type.kind == Kind::kString ||
           std::find(type.symbols.begin(), type.symbols.end(), value.get<std::string>()) !=
               type.symbols.end();
  case Kind::kBytes:
  case Kind::kFixed: {
    if (!value.is_string()) {
      return false;
    }
    // Each code point is one byte.
    const auto text = value.get<std::string>();
    std::string bytes;
    for (size_t i = 0; i < text.size(); ++i) {
      const auto c = static_cast<unsigned char>(text[i]);
      if (c < 0x80) {
        bytes += static_cast<char>(c);
      } else if ((c == 0xc2 || c == 0xc3) && i + 1 < text.size()) {
        bytes += static_cast<char>(((c & 0x03) << 6) | (static_cast<unsigned char>(text[++i]) & 0x3f));
      } else {
        return false;  // a code point above 255
      }
    }
    if (type.kind == Kind::kFixed && bytes.size() != static_cast<size_t>(type.size)) {
      return false;
    }
    appendBase64String(out, bytes);
    return true;
  }
  case Kind::kArray: {
    if (!value.is_array()) {
      return false;
    }
    out += '[';
    for (size_t i = 0; i < value.size(); ++i) {
      if (i > 0) {
        out += ',';
      }
      if (!appendDefault(*type.items, value[i], out, depth + 1)) {
        return false;
      }
    }
    out += ']';
    return true;
  }
  case Kind::kMap: {
    if (!value.is_object()) {
      return false;
    }
    out += '{';
    bool first = true;
    for (const auto& [key, item] : value.items()) {
      if (!first) {
        out += ',';
      }
      first = false;
      appendJsonString(out, key);
      out += ':';
      if (!appendDefault(*type.items, item, out, depth + 1)) {
        return false;
      }
    }
    out += '}';
    return true;
  }
  case Kind::kRecord: {
    if (!value.is_object()) {
      return false;
    }
    out += '{';
    bool first = true;
    for (const auto& field : type.fields) {
      if (!first) {
        out += ',';
      }
      first = false;
      appendJsonString(out, field.name);
      out += ':';
      if (auto it = value.find(field.name); it != value.end()) {
        if (!appendDefault(*field.type, *it, out, depth + 1)) {
          return false;
        }
      } else if (!field.has_default ||
                 !appendDefault(*field.type, nlohmann::json::parse(field.default_json), out,
                                depth + 1)) {
        return false;
      }
    }
    out += '}';
    return true;
  }
  case Kind::kUnion: {
    const size_t start = out.size();
    for (const AvroNode* branch : type.branches) {
      if (appendDefault(*branch, value, out, depth + 1)) {
        return true;
      }
      out.resize(start);
    }
    return false;
  }
  }
  return false;
}

}  // namespace

// Builds an AvroJsonShape's tables over every (writer, reader) pair the two schemas reach.
class AvroShapePlanner {
public:
  explicit AvroShapePlanner(AvroJsonShape& shape) : shape_(shape) {}

  Status plan(const AvroNode& writer, const AvroNode& reader, const std::string& at) {
    if (!done_.insert({&writer, &reader}).second) {
      return Status::success();  // planned, or being planned further up (recursive types)
    }
    if (writer.kind == Kind::kUnion) {
      std::vector<const AvroNode*> targets;
      for (const AvroNode* branch : writer.branches) {
        const AvroNode* target = reader.kind == Kind::kUnion ? resolving(*branch, reader) : &reader;
        if (target == nullptr) {
          return Error{where(at) + "a branch of the writer's union matches no branch of the "
                                   "reader's"};
        }
        targets.push_back(target);
        if (auto planned = plan(*branch, *target, at); !planned) {
          return planned;
        }
      }
      shape_.unions_[{&writer, &reader}] = std::move(targets);
      return Status::success();
    }
    if (reader.kind == Kind::kUnion) {
      const AvroNode* target = resolving(writer, reader);
      if (target == nullptr) {
        return Error{where(at) + "the writer's type matches no branch of the reader's union"};
      }
      shape_.branches_[{&writer, &reader}] = target;
      return plan(writer, *target, at);
    }
    if (writer.kind != reader.kind) {
      return avroPromotes(writer.kind, reader.kind)
                 ? Status::success()
                 : Status(Error{where(at) + "the writer's type cannot be read as the reader's"});
    }
    switch (writer.kind) {
    case Kind::kRecord:
      return planRecord(writer, reader, at);
    case Kind::kEnum: {
      std::vector<int> symbols;
      for (const auto& symbol : writer.symbols) {
        auto it = std::find(reader.symbols.begin(), reader.symbols.end(), symbol);
        if (it == reader.symbols.end()) {
          it = std::find(reader.symbols.begin(), reader.symbols.end(), reader.enum_default);
        }
        symbols.push_back(it == reader.symbols.end()
                              ? -1
                              : static_cast<int>(it - reader.symbols.begin()));
      }
      shape_.enums_[{&writer, &reader}] = std::move(symbols);
      return Status::success();
    }
    case Kind::kArray:
    case Kind::kMap:
      return plan(*writer.items, *reader.items, at + "[]");
    default:
      return Status::success();
    }
  }

private:
  Status planRecord(const AvroNode& writer, const AvroNode& reader, const std::string& at) {
    AvroJsonShape::RecordPlan record;
    std::vector<bool> matched(reader.fields.size(), false);
    for (const auto& field : writer.fields) {
      const AvroNode::Field* target = nullptr;
      for (size_t i = 0; i < reader.fields.size() && target == nullptr; ++i) {
        const auto& candidate = reader.fields[i];
        if (!matched[i] &&
            (candidate.name == field.name ||
             std::find(candidate.aliases.begin(), candidate.aliases.end(), field.name) !=
                 candidate.aliases.end())) {
          target = &candidate;
          matched[i] = true;
        }
      }
      record.reader_fields.push_back(target);
      if (target != nullptr) {
        const std::string path = at.empty() ? target->name : at + "." + target->name;
        if (auto planned = plan(*field.type, *target->type, path); !planned) {
          return planned;
        }
      }
    }
    for (size_t i = 0; i < reader.fields.size(); ++i) {
      if (matched[i]) {
        continue;
      }
      const auto& field = reader.fields[i];
      const std::string path = at.empty() ? field.name : at + "." + field.name;
      if (!field.has_default) {
        return Error{path + ": the reader's field is not in the writer's schema and has no "
                            "default"};
      }
      if (!record.defaults.empty()) {
        record.defaults += ',';
      }
      appendJsonString(record.defaults, field.name);
      record.defaults += ':';
      const auto value = nlohmann::json::parse(field.default_json, nullptr, false);
      if (value.is_discarded() || !appendDefault(*field.type, value, record.defaults, 0)) {
        return Error{path + ": its default does not fit its type"};
      }
    }
    shape_.records_[{&writer, &reader}] = std::move(record);
    return Status::success();
  }

  // The reader's branch for a writer type: the first of the same type (same kind, and for
  // named types the same name or an alias) that resolves, else the first that resolves by
  // promotion (a string read as bytes), as Avro's Java reader chooses.
  static const AvroNode* resolving(const AvroNode& writer, const AvroNode& reader_union) {
    for (const AvroNode* branch : reader_union.branches) {
      const bool same = branch->kind == writer.kind &&
                        (!writer.isNamed() || branch->name == writer.name ||
                         std::find(branch->aliases.begin(), branch->aliases.end(), writer.name) !=
                             branch->aliases.end());
      if (same && avroResolves(writer, *branch)) {
        return branch;
      }
    }
    for (const AvroNode* branch : reader_union.branches) {
      if (avroResolves(writer, *branch)) {
        return branch;
      }
    }
    return nullptr;
  }

  static std::string where(const std::string& at) { return at.empty() ? "" : at + ": "; }

  AvroJsonShape& shape_;
  std::set<AvroJsonShape::Pair> done_;
};

// One append(): reads the writer's datum, writes the reader's shape.
class AvroJsonWriter {
public:
  AvroJsonWriter(const AvroJsonShape& shape, std::string_view bytes, std::string& out,
                 std::string& problem)
      : shape_(shape), bytes_(bytes), out_(out), problem_(problem),
        limit_(out.size() + 64 * bytes.size() + (1u << 20)) {}

  bool datum(const AvroNode& w, const AvroNode& r, size_t& pos, int depth) {
    if (depth > kMaxDepth) {
      return fail("nested too deep");
    }
    if (out_.size() > limit_) {
      return fail("its JSON form would be more than 64 times its size");
    }
    if (w.kind == Kind::kUnion) {
      int64_t index = 0;
      if (!varint(pos, index)) {
        return false;
      }
      const auto it = shape_.unions_.find({&w, &r});
      if (it == shape_.unions_.end() || index < 0 ||
          static_cast<uint64_t>(index) >= w.branches.size()) {
        return fail("a union branch outside the branches");
      }
      const auto i = static_cast<size_t>(index);
      return datum(*w.branches[i], *it->second[i], pos, depth + 1);
    }
    if (r.kind == Kind::kUnion) {
      const auto it = shape_.branches_.find({&w, &r});
      if (it == shape_.branches_.end()) {
        return fail("no branch of the contract's union reads the writer's type");
      }
      // Not a level of the writer's datum: depth stays within walkAvro's limit.
      return datum(w, *it->second, pos, depth);
    }
    switch (w.kind) {
    case Kind::kNull:
      out_ += "null";
      return true;
    case Kind::kBoolean:
      if (pos >= bytes_.size()) {
        return fail("truncated boolean");
      }
      out_ += bytes_[pos++] != 0 ? "true" : "false";
      return true;
    case Kind::kInt:
    case Kind::kLong: {
      int64_t value = 0;
      if (!varint(pos, value)) {
        return false;
      }
      char buf[24];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
      out_.append(buf, static_cast<size_t>(end - buf));
      return true;
    }
    case Kind::kFloat: {
      float value = 0;
      if (!little(pos, &value, sizeof value)) {
        return false;
      }
      appendJsonReal(out_, value);
      return true;
    }
    case Kind::kDouble: {
      double value = 0;
      if (!little(pos, &value, sizeof value)) {
        return false;
      }
      appendJsonReal(out_, value);
      return true;
    }
    case Kind::kString:
    case Kind::kBytes: {
      int64_t length = 0;
      if (!varint(pos, length)) {
        return false;
      }
      if (length < 0 || static_cast<uint64_t>(length) > bytes_.size() - pos) {
        return fail("a length beyond the bytes");
      }
      const std::string_view content = bytes_.substr(pos, static_cast<size_t>(length));
      pos += static_cast<size_t>(length);
      if (r.kind == Kind::kBytes) {
        appendBase64String(out_, content);
      } else if (!simdjson::validate_utf8(content.data(), content.size())) {
        return fail("a string that is not UTF-8");
      } else {
        appendJsonString(out_, content);
      }
      return true;
    }
    case Kind::kFixed: {
      const auto size = static_cast<size_t>(w.size);
      if (size > bytes_.size() - pos) {
        return fail("truncated fixed");
      }
      appendBase64String(out_, bytes_.substr(pos, size));
      pos += size;
      return true;
    }
    case Kind::kEnum: {
      int64_t index = 0;
      if (!varint(pos, index)) {
        return false;
      }
      const auto it = shape_.enums_.find({&w, &r});
      if (it == shape_.enums_.end() || index < 0 ||
          static_cast<uint64_t>(index) >= it->second.size()) {
        return fail("an enum index outside the symbols");
      }
      const int symbol = it->second[static_cast<size_t>(index)];
      if (symbol < 0) {
        return fail("enum symbol " + w.symbols[static_cast<size_t>(index)] +
                    " is not in the contract's enum, which has no default");
      }
      appendJsonString(out_, r.symbols[static_cast<size_t>(symbol)]);
      return true;
    }
    case Kind::kRecord:
      return record(w, r, pos, depth);
    case Kind::kArray:
    case Kind::kMap:
      return blocks(w, r, pos, depth);
    case Kind::kUnion:
      break;
    }
    return fail("an unknown type");
  }

private:
  bool record(const AvroNode& w, const AvroNode& r, size_t& pos, int depth) {
    const auto it = shape_.records_.find({&w, &r});
    if (it == shape_.records_.end()) {
      return fail("no plan for record " + w.name);
    }
    const AvroJsonShape::RecordPlan& plan = it->second;
    out_ += '{';
    bool first = true;
    for (size_t i = 0; i < w.fields.size(); ++i) {
      const AvroNode::Field* target = plan.reader_fields[i];
      if (target == nullptr) {
        AvroWalkError skipped;  // a field the contract does not have: read past it
        if (!walkAvro(*w.fields[i].type, bytes_, pos, skipped)) {
          return fail(skipped.problem);
        }
        continue;
      }
      if (!first) {
        out_ += ',';
      }
      first = false;
      appendJsonString(out_, target->name);
      out_ += ':';
      if (!datum(*w.fields[i].type, *target->type, pos, depth + 1)) {
        return false;
      }
    }
    if (!plan.defaults.empty()) {
      if (!first) {
        out_ += ',';
      }
      out_ += plan.defaults;
    }
    out_ += '}';
    return true;
  }

  bool blocks(const AvroNode& w, const AvroNode& r, size_t& pos, int depth) {
    const bool map = w.kind == Kind::kMap;
    out_ += map ? '{' : '[';
    bool first = true;
    while (true) {
      int64_t count = 0;
      if (!varint(pos, count)) {
        return false;
      }
      if (count == 0) {
        break;
      }
      if (count < 0) {
        if (count == INT64_MIN) {
          return fail("a block count out of range");
        }
        count = -count;
        int64_t block_bytes = 0;
        if (!varint(pos, block_bytes)) {
          return false;
        }
      }
      if (w.items->min_size == 0 && !map) {
        empty_items_ += static_cast<uint64_t>(count);
        if (empty_items_ > kMaxEmptyAvroItems) {
          return fail("more than " + std::to_string(kMaxEmptyAvroItems) +
                      " array items that take no bytes");
        }
      }
      for (int64_t i = 0; i < count; ++i) {
        if (!first) {
          out_ += ',';
        }
        first = false;
        if (map) {
          int64_t length = 0;
          if (!varint(pos, length)) {
            return false;
          }
          if (length < 0 || static_cast<uint64_t>(length) > bytes_.size() - pos) {
            return fail("a map key beyond the bytes");
          }
          const std::string_view key = bytes_.substr(pos, static_cast<size_t>(length));
          if (!simdjson::validate_utf8(key.data(), key.size())) {
            return fail("a map key that is not UTF-8");
          }
          pos += static_cast<size_t>(length);
          appendJsonString(out_, key);
          out_ += ':';
        }
        if (!datum(*w.items, *r.items, pos, depth + 1)) {
          return false;
        }
      }
    }
    out_ += map ? '}' : ']';
    return true;
  }

  bool varint(size_t& pos, int64_t& value) {
    uint64_t raw = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (pos >= bytes_.size()) {
        return fail("truncated varint");
      }
      const auto byte = static_cast<uint8_t>(bytes_[pos++]);
      raw |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        value = static_cast<int64_t>(raw >> 1) ^ -static_cast<int64_t>(raw & 1);
        return true;
      }
    }
    return fail("a varint longer than 10 bytes");
  }

  // Avro writes floats and doubles little-endian.
  bool little(size_t& pos, void* value, size_t size) {
    if (size > bytes_.size() - pos) {
      return fail("truncated number");
    }
    unsigned char raw[8];
    std::memcpy(raw, bytes_.data() + pos, size);
    if constexpr (std::endian::native == std::endian::big) {
      std::reverse(raw, raw + size);
    }
    std::memcpy(value, raw, size);
    pos += size;
    return true;
  }

  bool fail(std::string problem) {
    problem_ = std::move(problem);
    return false;
  }

  const AvroJsonShape& shape_;
  std::string_view bytes_;
  std::string& out_;
  std::string& problem_;
  const size_t limit_;
  uint64_t empty_items_ = 0;
};

Result<std::shared_ptr<const AvroJsonShape>> AvroJsonShape::make(AvroModelPtr writer,
                                                                 AvroModelPtr reader) {
  auto shape = std::make_shared<AvroJsonShape>();
  shape->writer_ = std::move(writer);
  shape->reader_ = reader ? std::move(reader) : shape->writer_;
  if (auto resolves = avroResolves(shape->writer_->root(), shape->reader_->root()); !resolves) {
    return resolves.error();
  }
  AvroShapePlanner planner(*shape);
  if (auto planned = planner.plan(shape->writer_->root(), shape->reader_->root(), ""); !planned) {
    return planned.error();
  }
  return std::shared_ptr<const AvroJsonShape>(std::move(shape));
}

bool AvroJsonShape::append(std::string_view bytes, std::string& out, std::string& problem) const {
  size_t pos = 0;
  AvroJsonWriter writer(*this, bytes, out, problem);
  if (!writer.datum(writer_->root(), reader_->root(), pos, 0)) {
    return false;
  }
  if (pos != bytes.size()) {
    problem = "bytes after the end of the datum";
    return false;
  }
  return true;
}

}  // namespace causeway::schema
