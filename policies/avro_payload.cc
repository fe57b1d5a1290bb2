#include "policies/avro_payload.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>

namespace causeway::policies {

using schema::AvroNode;
using Kind = schema::AvroNode::Kind;

Result<AvroShapePtr> makeAvroShape(std::string_view writer_text,
                                   const std::vector<std::string_view>& references,
                                   const std::vector<TransformRule>& rules, size_t slot_count) {
  auto model = schema::AvroModel::parse(writer_text, references);
  if (!model) {
    return model.error();
  }
  auto derived = deriveAvroSchema(writer_text, references, rules, slot_count);
  if (!derived) {
    return derived.error();
  }
  auto shape = std::make_shared<AvroShape>();
  shape->writer = std::move(*model);
  shape->derived = std::move(*derived);
  return AvroShapePtr(std::move(shape));
}

namespace {

constexpr size_t kPrefix = 5;  // 0x00 and a big-endian 4-byte schema ID

void putVarint(int64_t value, std::string& out) {
  uint64_t z = (static_cast<uint64_t>(value) << 1) ^ static_cast<uint64_t>(value >> 63);
  while (z >= 0x80) {
    out.push_back(static_cast<char>((z & 0x7F) | 0x80));
    z >>= 7;
  }
  out.push_back(static_cast<char>(z));
}

}  // namespace

AvroReader::AvroReader(const std::vector<ReaderPath>& paths,
                       std::shared_ptr<const AvroShapes> shapes)
    : trie_(paths), selection_(std::move(shapes)) {}

void AvroReader::selectWriter(std::string_view topic,
                              std::optional<std::string_view> source_payload, bool id_in_header) {
  selection_.select(topic, source_payload, id_in_header);
  shape_ = selection_.shape();
}

const std::vector<std::string>* AvroReader::shapeProblems() const {
  return shape_ == nullptr ? nullptr : &shape_->derived.problems;
}

bool AvroReader::varint(int64_t& out, const char* what, std::string& problem) {
  uint64_t z = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (pos_ >= datum_.size()) {
      problem = std::string("truncated Avro datum: ") + what + " at byte " + std::to_string(pos_);
      return false;
    }
    const auto byte = static_cast<unsigned char>(datum_[pos_++]);
    if (shift == 63 && byte > 1) {
      break;
    }
    z |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) {
      out = static_cast<int64_t>(z >> 1) ^ -static_cast<int64_t>(z & 1);
      return true;
    }
  }
  problem = std::string("invalid Avro varint: ") + what + " at byte " + std::to_string(pos_);
  return false;
}

bool AvroReader::skip(const AvroNode& type, std::string& problem) {
  schema::AvroWalkError error;
  if (!schema::walkAvro(type, datum_, pos_, error)) {
    problem = "invalid Avro datum" + (error.path.empty() ? "" : " at " + error.path) + ": " +
              error.problem;
    return false;
  }
  return true;
}

void AvroReader::addOccurrence(uint16_t slot, uint32_t begin, FieldValue value) {
  occurrences_.push_back({slot, value, static_cast<uint32_t>(locations_.size())});
  locations_.push_back({begin, static_cast<uint32_t>(pos_)});
}

bool AvroReader::index(size_t count, const char* what, size_t& out, std::string& problem) {
  const size_t at = pos_;
  int64_t n = 0;
  if (!varint(n, what, problem)) {
    return false;
  }
  if (n < 0 || static_cast<uint64_t>(n) >= count) {
    problem = std::string("invalid Avro datum: ") + what + " of " + std::to_string(n) +
              " at byte " + std::to_string(at);
    return false;
  }
  out = static_cast<size_t>(n);
  return true;
}

void AvroReader::addNumberText(std::string_view text) {
  number_texts_.push_back(
      {static_cast<uint32_t>(occurrences_.size()),
       {static_cast<uint32_t>(numbers_.size()), static_cast<uint32_t>(text.size())}});
  numbers_.append(text);
}

bool AvroReader::walk(const AvroNode& declared, int32_t trie, std::string& problem) {
  const auto begin = static_cast<uint32_t>(pos_);
  const AvroNode* type = &declared;
  if (type->kind == Kind::kUnion) {
    size_t branch = 0;
    if (!index(type->branches.size(), "a union branch", branch, problem)) {
      return false;
    }
    type = type->branches[branch];
  }
  const int slot = trie_.slot(trie);
  const bool deeper = trie_.hasChildren(trie);
  const auto value_begin = pos_;
  FieldValue value;
  switch (type->kind) {
  case Kind::kNull:
    value = FieldValue::null();
    break;
  case Kind::kBoolean:
    if (pos_ >= datum_.size() || static_cast<unsigned char>(datum_[pos_]) > 1) {
      problem = "invalid Avro datum: a boolean at byte " + std::to_string(pos_);
      return false;
    }
    value = FieldValue::ofBool(datum_[pos_++] == 1);
    break;
  case Kind::kInt:
  case Kind::kLong: {
    int64_t n = 0;
    if (!varint(n, type->kind == Kind::kInt ? "an int" : "a long", problem)) {
      return false;
    }
    if (type->kind == Kind::kInt && (n < INT32_MIN || n > INT32_MAX)) {
      problem = "invalid Avro datum: an int out of range at byte " + std::to_string(value_begin);
      return false;
    }
    if (slot >= 0) {
      char text[24];
      auto [end, ec] = std::to_chars(text, text + sizeof text, n);
      addNumberText(std::string_view(text, static_cast<size_t>(end - text)));
      value = FieldValue::ofNumber(static_cast<double>(n), {});
    }
    break;
  }
  case Kind::kFloat:
  case Kind::kDouble: {
    const size_t size = type->kind == Kind::kFloat ? 4 : 8;
    if (datum_.size() - pos_ < size) {
      problem = "truncated Avro datum: a floating-point number at byte " + std::to_string(pos_);
      return false;
    }
    double d = 0;
    if (size == 4) {
      float f = 0;
      std::memcpy(&f, datum_.data() + pos_, 4);
      d = f;
    } else {
      std::memcpy(&d, datum_.data() + pos_, 8);
    }
    pos_ += size;
    if (slot >= 0) {
      if (!std::isfinite(d)) {
        value = FieldValue::ofString(std::isnan(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
        break;
      }
      char text[32];
      auto [end, ec] = type->kind == Kind::kFloat
                           ? std::to_chars(text, text + sizeof text, static_cast<float>(d))
                           : std::to_chars(text, text + sizeof text, d);
      addNumberText(std::string_view(text, static_cast<size_t>(end - text)));
      value = FieldValue::ofNumber(d, {});
    }
    break;
  }
  case Kind::kString:
  case Kind::kBytes: {
    int64_t length = 0;
    if (!varint(length, type->kind == Kind::kString ? "a string length" : "a bytes length",
                problem)) {
      return false;
    }
    if (length < 0 || static_cast<uint64_t>(length) > datum_.size() - pos_) {
      problem = "invalid Avro datum: a length of " + std::to_string(length) + " at byte " +
                std::to_string(value_begin);
      return false;
    }
    const std::string_view content = datum_.substr(pos_, static_cast<size_t>(length));
    if (type->kind == Kind::kString && !simdjson::validate_utf8(content.data(), content.size())) {
      problem =
          "invalid Avro datum: a string that is not UTF-8 at byte " + std::to_string(value_begin);
      return false;
    }
    pos_ += static_cast<size_t>(length);
    value = type->kind == Kind::kString ? FieldValue::ofString(content)
                                        : FieldValue{ValueKind::kBytes, false, 0, content};
    break;
  }
  case Kind::kFixed:
    if (datum_.size() - pos_ < static_cast<size_t>(type->size)) {
      problem = "truncated Avro datum: a fixed at byte " + std::to_string(pos_);
      return false;
    }
    value = {ValueKind::kBytes, false, 0, datum_.substr(pos_, static_cast<size_t>(type->size))};
    pos_ += static_cast<size_t>(type->size);
    break;
  case Kind::kEnum: {
    size_t symbol = 0;
    if (!index(type->symbols.size(), "an enum index", symbol, problem)) {
      return false;
    }
    value = FieldValue::ofString(type->symbols[symbol]);
    break;
  }
  case Kind::kRecord:
    if (deeper) {
      for (const AvroNode::Field& field : type->fields) {
        const int32_t next = trie_.child(trie, field.name);
        if (next >= 0 ? !walk(*field.type, next, problem) : !skip(*field.type, problem)) {
          return false;
        }
      }
    } else if (!skip(*type, problem)) {
      return false;
    }
    // Records, maps and arrays are their Avro encoding: bytes, not JSON text.
    value = {ValueKind::kBytes, false, 0, datum_.substr(value_begin, pos_ - value_begin)};
    break;
  case Kind::kArray:
  case Kind::kMap: {
    if (!deeper) {
      if (!skip(*type, problem)) {
        return false;
      }
    } else {
      const bool map = type->kind == Kind::kMap;
      uint32_t index = 0;
      while (true) {
        const auto header = static_cast<uint32_t>(pos_);
        int64_t count = 0;
        if (!varint(count, map ? "a map block count" : "an array block count", problem)) {
          return false;
        }
        if (count == 0) {
          break;
        }
        if (count < 0) {
          int64_t bytes = 0;
          if (count == INT64_MIN || !varint(bytes, "a block size", problem) || bytes < 0) {
            problem = "invalid Avro datum: a block count or size out of range at byte " +
                      std::to_string(pos_);
            return false;
          }
          count = -count;
          blocks_.push_back({header, static_cast<uint32_t>(pos_), count});
        }
        // As walkAvro() bounds them: items that take no bytes are limited in number, others
        // by the bytes left.
        const size_t min_item = type->items->min_size + (map ? 1 : 0);
        empty_items_ += min_item == 0 ? static_cast<uint64_t>(count) : 0;
        if (min_item == 0 ? empty_items_ > schema::kMaxEmptyAvroItems
                          : static_cast<uint64_t>(count) > (datum_.size() - pos_) / min_item) {
          problem = "invalid Avro datum: a block of " + std::to_string(count) + " items at byte " +
                    std::to_string(pos_);
          return false;
        }
        for (int64_t i = 0; i < count; ++i, ++index) {
          int32_t next = -1;
          if (map) {
            int64_t length = 0;
            if (!varint(length, "a map key length", problem)) {
              return false;
            }
            if (length < 0 || static_cast<uint64_t>(length) > datum_.size() - pos_) {
              problem = "invalid Avro datum: a map key length at byte " + std::to_string(pos_);
              return false;
            }
            const std::string_view name = datum_.substr(pos_, static_cast<size_t>(length));
            if (!simdjson::validate_utf8(name.data(), name.size())) {
              problem =
                  "invalid Avro datum: a map key that is not UTF-8 at byte " + std::to_string(pos_);
              return false;
            }
            next = trie_.child(trie, name);
            pos_ += static_cast<size_t>(length);
          } else {
            next = trie_.child(trie, index);
          }
          if (next >= 0 ? !walk(*type->items, next, problem) : !skip(*type->items, problem)) {
            return false;
          }
        }
      }
    }
    value = {ValueKind::kBytes, false, 0, datum_.substr(value_begin, pos_ - value_begin)};
    break;
  }
  case Kind::kUnion:
    problem = "invalid Avro schema: a union directly in a union";
    return false;
  }
  if (slot >= 0) {
    addOccurrence(static_cast<uint16_t>(slot), begin, value);
  }
  return true;
}

bool AvroReader::read(std::string_view payload, std::string& problem) {
  occurrences_.clear();
  locations_.clear();
  retyped_ = false;
  empty_items_ = 0;
  blocks_.clear();
  numbers_.clear();
  number_texts_.clear();
  if (selection_.ready("Avro", "the datum (0x00 and 4 bytes)", problem) == nullptr) {
    return false;
  }
  if (payload.size() < kPrefix || payload[0] != 0) {
    problem = "the record does not start with a schema ID (0x00 and 4 bytes)";
    return false;
  }
  payload_ = payload;
  datum_ = payload.substr(kPrefix);
  pos_ = 0;
  if (!walk(shape_->writer->root(), PathTrie::kRoot, problem)) {
    return false;
  }
  if (pos_ != datum_.size()) {
    problem =
        "invalid Avro datum: " + std::to_string(datum_.size() - pos_) + " bytes after its end";
    return false;
  }
  for (const auto& [occurrence, text] : number_texts_) {
    occurrences_[occurrence].value.text =
        std::string_view(numbers_).substr(text.first, text.second);
  }
  retyped_ = std::any_of(occurrences_.begin(), occurrences_.end(), [&](const FieldOccurrence& o) {
    return shape_->derived.slots[o.slot].change != AvroSlotPlan::Change::kNone;
  });
  return true;
}

bool AvroReader::encode(const Splice& splice, std::string_view arena, std::string& out,
                        std::string& problem) const {
  if (splice.block_count >= 0) {
    putVarint(splice.block_count, out);
    return true;
  }
  const FieldOccurrence& occurrence = occurrences_[splice.occurrence];
  const AvroSlotPlan& plan = shape_->derived.slots[occurrence.slot];
  ValueKind kind = occurrence.value.kind;
  std::string_view text = occurrence.value.text;
  if (plan.change == AvroSlotPlan::Change::kRemove) {
    return true;  // the field is not in the derived schema, whatever else a rule did to it
  }
  if (splice.edit != nullptr) {
    if (splice.edit->kind == FieldEdit::Kind::kRemove) {
      problem = "an Avro array element or map value cannot be left out";
      return false;
    }
    kind = splice.edit->value_kind;
    text = arena.substr(splice.edit->text_begin, splice.edit->text_size);
  }
  if (kind == ValueKind::kNull) {
    if (plan.null_branch >= 0) {
      putVarint(plan.null_branch, out);
      return true;
    }
    if (plan.kind == Kind::kNull) {
      return true;
    }
    problem = "null where the schema has no null";
    return false;
  }
  if (plan.branch >= 0) {
    putVarint(plan.branch, out);
  }
  switch (plan.kind) {
  case Kind::kString:
    if (kind == ValueKind::kString || kind == ValueKind::kNumber || kind == ValueKind::kBool) {
      putVarint(static_cast<int64_t>(text.size()), out);
      out.append(text);
      return true;
    }
    break;
  case Kind::kLong: {
    int64_t n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (kind == ValueKind::kNumber && ec == std::errc() && end == text.data() + text.size()) {
      putVarint(n, out);
      return true;
    }
    break;
  }
  case Kind::kDouble: {
    double d = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
    if (kind == ValueKind::kNumber && ec == std::errc() && end == text.data() + text.size()) {
      char bytes[8];
      std::memcpy(bytes, &d, 8);
      out.append(bytes, 8);
      return true;
    }
    break;
  }
  case Kind::kBoolean:
    if (kind == ValueKind::kBool) {
      out.push_back(text == "true" ? 1 : 0);
      return true;
    }
    break;
  default:
    break;
  }
  problem = std::string("a ") + kindName(kind) + " cannot be written as Avro " +
            schema::avroKindName(plan.kind);
  return false;
}

bool AvroReader::write(std::span<const FieldEdit> edits, std::string_view arena, std::string& out,
                       std::string& problem) {
  splices_.clear();
  edited_.assign(occurrences_.size(), false);
  for (const FieldEdit& edit : edits) {
    if (edit.kind == FieldEdit::Kind::kInsert) {
      problem = "an Avro record holds every field its schema declares: a missing field (under a "
                "null) cannot be added";
      return false;
    }
    const Location& at = locations_[edit.handle];
    splices_.push_back({at.begin, at.end, edit.handle, &edit});
    edited_[edit.handle] = true;
  }
  // Occurrences of retyped or removed fields that no edit touched (nulls, values kept as they
  // were) are written again in the derived type, or left out.
  for (const FieldOccurrence& occurrence : occurrences_) {
    const AvroSlotPlan& plan = shape_->derived.slots[occurrence.slot];
    if (plan.change == AvroSlotPlan::Change::kNone) {
      continue;
    }
    if (!edited_[occurrence.handle]) {
      const Location& at = locations_[occurrence.handle];
      splices_.push_back({at.begin, at.end, occurrence.handle, nullptr});
    }
  }
  // A block that says its size in bytes would say the wrong one after edits inside it: its
  // header is written as the item count alone (Avro's other block form).
  for (const BlockHeader& block : blocks_) {
    splices_.push_back({block.begin, block.end, 0, nullptr, block.count});
  }
  // Outer values first. An edit inside a value already replaced or left out has nothing left
  // to change.
  std::sort(splices_.begin(), splices_.end(), [](const Splice& a, const Splice& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end > b.end;
  });
  out.clear();
  out.append(payload_.substr(0, kPrefix));
  size_t pos = 0;
  for (const Splice& splice : splices_) {
    if (splice.begin == splice.end && splice.block_count < 0 &&
        shape_->derived.slots[occurrences_[splice.occurrence].slot].change !=
            AvroSlotPlan::Change::kRemove) {
      // A value of no bytes (a null type, an empty record) sits where the next value starts;
      // which of the two comes first cannot be told from byte positions.
      problem = "Avro datum byte " + std::to_string(splice.begin) +
                ": a field that takes no bytes (type null, an empty record) cannot be rewritten";
      return false;
    }
    if (splice.begin < pos) {
      continue;  // inside a value already replaced or left out
    }
    out.append(datum_.substr(pos, splice.begin - pos));
    if (!encode(splice, arena, out, problem)) {
      problem = "Avro datum byte " + std::to_string(splice.begin) + ": " + problem;
      return false;
    }
    pos = splice.end;
  }
  out.append(datum_.substr(pos));
  return true;
}

}  // namespace causeway::policies
