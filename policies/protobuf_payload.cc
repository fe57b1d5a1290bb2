#include "policies/protobuf_payload.h"

#include "policies/protobuf_wire.h"
#include "schema/wire_format.h"

#include <simdjson.h>

namespace causeway::policies {

namespace pb = google::protobuf;
using FD = pb::FieldDescriptor;
using protobuf_wire::loadFixed;
using protobuf_wire::WireFormatLite;
using protobuf_wire::wireTypeOf;

Result<ProtobufShapePtr> makeProtobufShape(const schema::ResolvedSchema& writer,
                                           const std::vector<TransformRule>& rules,
                                           size_t slot_count) {
  auto file = schema::compileProto(writer);
  if (!file) {
    return file.error();
  }
  auto derived = deriveProtobufSchema(**file, rules, slot_count);
  if (!derived) {
    return derived.error();
  }
  auto shape = std::make_shared<ProtobufShape>();
  shape->writer = std::move(*file);
  shape->derived = std::move(*derived);
  return ProtobufShapePtr(std::move(shape));
}

ProtobufReader::ProtobufReader(const std::vector<ReaderPath>& paths,
                               std::shared_ptr<const ProtobufShapes> shapes)
    : trie_(paths), selection_(std::move(shapes)) {}

void ProtobufReader::selectWriter(std::string_view topic,
                                  std::optional<std::string_view> source_payload,
                                  bool id_in_header) {
  selection_.select(topic, source_payload, id_in_header);
  shape_ = selection_.shape();
}

const std::vector<std::string>* ProtobufReader::shapeProblems() const {
  if (shape_ == nullptr) {
    return nullptr;
  }
  return shape_->derived.problems.empty() ? &record_problems_ : &shape_->derived.problems;
}

bool ProtobufReader::varint(size_t end, uint64_t& out, std::string& problem) {
  out = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (pos_ >= end) {
      problem = "truncated Protobuf message: a varint at byte " + std::to_string(pos_ - body_);
      return false;
    }
    const auto byte = static_cast<unsigned char>(payload_[pos_++]);
    if (shift == 63 && byte > 1) {
      break;
    }
    out |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) {
      return true;
    }
  }
  problem = "invalid Protobuf varint at byte " + std::to_string(pos_ - body_);
  return false;
}

bool ProtobufReader::tag(size_t end, int& wire_type, uint64_t& number, std::string& problem) {
  const size_t at = pos_;
  uint64_t tag = 0;
  if (!varint(end, tag, problem)) {
    return false;
  }
  wire_type = static_cast<int>(tag & 7);
  number = tag >> 3;
  if (number == 0 || number > static_cast<uint64_t>(FD::kMaxNumber)) {
    problem = "invalid Protobuf field number " + std::to_string(number) + " at byte " +
              std::to_string(at - body_);
    return false;
  }
  return true;
}

// Skips the value of field `number` (its tag just read): a group up to its end, anything else
// by its wire type.
bool ProtobufReader::skip(size_t end, int wire_type, uint64_t number, int depth,
                          std::string& problem) {
  uint64_t n = 0;
  switch (wire_type) {
  case 0:
    return varint(end, n, problem);
  case 1:
  case 5:
    n = wire_type == 1 ? 8 : 4;
    break;
  case 2:
    if (!varint(end, n, problem)) {
      return false;
    }
    break;
  case 3:
    if (depth >= kMaxProtobufDepth) {
      problem = "Protobuf message nested more than " + std::to_string(kMaxProtobufDepth) + " deep";
      return false;
    }
    while (pos_ < end) {
      int inner_type = 0;
      uint64_t inner = 0;
      if (!tag(end, inner_type, inner, problem)) {
        return false;
      }
      if (inner_type == 4) {
        if (inner != number) {
          problem = "Protobuf group " + std::to_string(number) + " ends with the end of group " +
                    std::to_string(inner) + " at byte " + std::to_string(pos_ - body_);
          return false;
        }
        return true;
      }
      if (!skip(end, inner_type, inner, depth + 1, problem)) {
        return false;
      }
    }
    problem = "truncated Protobuf message: group " + std::to_string(number) + " has no end";
    return false;
  default:
    problem = "invalid Protobuf wire type " + std::to_string(wire_type) + " at byte " +
              std::to_string(pos_ - body_);
    return false;
  }
  if (end - pos_ < n) {
    problem = "truncated Protobuf message at byte " + std::to_string(pos_ - body_);
    return false;
  }
  pos_ += n;
  return true;
}

void ProtobufReader::addNumberText(std::string_view text) {
  number_ = {static_cast<uint32_t>(numbers_.size()), static_cast<uint32_t>(text.size())};
  numbers_.append(text);
}

bool ProtobufReader::value(const FD& field, int wire_type, size_t end, FieldValue& out,
                           std::string& problem) {
  char text[32];
  auto number = [&](auto n) {
    auto [at, ec] = std::to_chars(text, text + sizeof(text), n);
    addNumberText(std::string_view(text, static_cast<size_t>(at - text)));
    out = FieldValue::ofNumber(static_cast<double>(n), {});
  };
  if (wire_type == 2) {
    uint64_t size = 0;
    if (!varint(end, size, problem)) {
      return false;
    }
    if (end - pos_ < size) {
      problem = "truncated Protobuf message: field " + field.name() + " at byte " +
                std::to_string(pos_ - body_);
      return false;
    }
    const std::string_view content = payload_.substr(pos_, size);
    pos_ += size;
    if (field.type() == FD::TYPE_STRING) {
      if (!simdjson::validate_utf8(content.data(), content.size())) {
        problem = "field " + field.full_name() + " holds a string that is not UTF-8";
        return false;
      }
      out = FieldValue::ofString(content);
    } else {
      out = FieldValue{ValueKind::kBytes, false, 0, content};  // bytes, messages, packed runs
    }
    return true;
  }
  if (wire_type == 1 || wire_type == 5) {
    const size_t size = wire_type == 1 ? 8 : 4;
    if (end - pos_ < size) {
      problem = "truncated Protobuf message: field " + field.name() + " at byte " +
                std::to_string(pos_ - body_);
      return false;
    }
    const char* at = payload_.data() + pos_;
    pos_ += size;
    switch (field.type()) {
    case FD::TYPE_FIXED32:
      number(loadFixed<uint32_t>(at));
      break;
    case FD::TYPE_SFIXED32:
      number(loadFixed<int32_t>(at));
      break;
    case FD::TYPE_FLOAT:
      number(loadFixed<float>(at));
      break;
    case FD::TYPE_FIXED64:
      number(loadFixed<uint64_t>(at));
      break;
    case FD::TYPE_SFIXED64:
      number(loadFixed<int64_t>(at));
      break;
    default:
      number(loadFixed<double>(at));
      break;
    }
    return true;
  }
  uint64_t v = 0;
  if (!varint(end, v, problem)) {
    return false;
  }
  switch (field.type()) {
  case FD::TYPE_BOOL:
    out = FieldValue::ofBool(v != 0);
    break;
  case FD::TYPE_ENUM: {
    const auto n = static_cast<int32_t>(v);
    if (const pb::EnumValueDescriptor* symbol = field.enum_type()->FindValueByNumber(n)) {
      out = FieldValue::ofString(symbol->name());
    } else {
      number(n);
    }
    break;
  }
  case FD::TYPE_INT32:
    number(static_cast<int32_t>(v));
    break;
  case FD::TYPE_UINT32:
    number(static_cast<uint32_t>(v));
    break;
  case FD::TYPE_SINT32:
    number(WireFormatLite::ZigZagDecode32(static_cast<uint32_t>(v)));
    break;
  case FD::TYPE_SINT64:
    number(WireFormatLite::ZigZagDecode64(v));
    break;
  case FD::TYPE_UINT64:
    number(v);
    break;
  default:
    number(static_cast<int64_t>(v));
    break;
  }
  return true;
}

bool ProtobufReader::walk(const pb::Descriptor& message, int32_t trie, size_t end, int32_t frame,
                          int depth, std::string& problem) {
  if (depth >= kMaxProtobufDepth) {
    problem = "Protobuf message nested more than " + std::to_string(kMaxProtobufDepth) + " deep";
    return false;
  }
  while (pos_ < end) {
    const auto tag_begin = static_cast<uint32_t>(pos_);
    int wire_type = 0;
    uint64_t number = 0;
    if (!tag(end, wire_type, number, problem)) {
      return false;
    }
    const FD* field = message.FindFieldByNumber(static_cast<int>(number));
    const int32_t node = field != nullptr ? trie_.child(trie, field->name()) : -1;
    const bool expected = field != nullptr && (wire_type == wireTypeOf(field->type()) ||
                                               (wire_type == 2 && field->is_packable()));
    if (node >= 0 && !expected) {
      problem = "field " + field->full_name() + " has wire type " + std::to_string(wire_type) +
                " where its type " + field->type_name() + " is written with " +
                std::to_string(wireTypeOf(field->type())) + ", at byte " +
                std::to_string(tag_begin - body_);
      return false;
    }
    if (node < 0) {
      if (!skip(end, wire_type, number, depth + 1, problem)) {
        return false;
      }
      continue;
    }
    if (field->type() == FD::TYPE_GROUP) {
      // A group's value runs to its end tag; the derivation refuses rules on groups, and a
      // value a predicate or rule names is never skipped.
      problem = "field " + field->full_name() + " is a proto2 group, which policies do not read";
      return false;
    }
    const bool packed = wire_type == 2 && wireTypeOf(field->type()) != 2;
    const auto value_begin = static_cast<uint32_t>(pos_);
    if (packed && trie_.hasChildren(node) && !packedElements(*field, node, end, frame, problem)) {
      return false;
    }
    // The slot the whole field (or this element) fills, and where a path continues inside it.
    // Elements are counted per path node, so that a message written twice (which parsers
    // merge, appending its repeated fields) counts on where its first copy stopped.
    int32_t element = -1;
    if (field->is_repeated() && !packed && trie_.hasChildren(node)) {
      element = trie_.child(node, element_counts_[static_cast<size_t>(node)]++);
    }
    const int32_t inner = field->is_repeated() ? element : node;
    int32_t inner_frame = -1;
    if (field->type() == FD::TYPE_MESSAGE && inner >= 0 && trie_.hasChildren(inner)) {
      uint64_t size = 0;
      const auto length_begin = static_cast<uint32_t>(pos_);
      if (!varint(end, size, problem)) {
        return false;
      }
      if (end - pos_ < size) {
        problem = "truncated Protobuf message: field " + field->name() + " at byte " +
                  std::to_string(pos_ - body_);
        return false;
      }
      frames_.push_back({length_begin, static_cast<uint32_t>(pos_),
                         static_cast<uint32_t>(pos_ + size), frame, 0});
      inner_frame = static_cast<int32_t>(frames_.size() - 1);
      if (!walk(*field->message_type(), inner, pos_ + size, inner_frame, depth + 1, problem)) {
        return false;
      }
      pos_ = value_begin;  // read again below as the occurrence's bytes
    }
    FieldValue read;
    number_ = {0, 0};
    if (!value(*field, wire_type, end, read, problem)) {
      return false;
    }
    seen_[static_cast<size_t>(node)] = 1;
    for (const int32_t at : {node, element}) {
      addOccurrence(at, read,
                    {tag_begin, static_cast<uint32_t>(pos_), field, frame, packed, false,
                     field->message_type(), inner_frame});
    }
  }
  addDefaults(message, trie, static_cast<uint32_t>(end), frame);
  return true;
}

void ProtobufReader::addDefaults(const pb::Descriptor& message, int32_t trie, uint32_t end,
                                 int32_t frame) {
  for (const auto& [name, child] : trie_.names(trie)) {
    // Seen also when an earlier copy of this message held the field or gave its default: a
    // later copy that holds it comes after, and predicates see the last value.
    if (seen_[child] != 0 || trie_.slot(static_cast<int32_t>(child)) < 0) {
      continue;
    }
    const FD* field = message.FindFieldByName(name);
    if (field == nullptr || field->is_repeated() || field->has_presence()) {
      continue;
    }
    seen_[child] = 1;
    FieldValue value;
    number_ = {0, 0};
    switch (field->cpp_type()) {
    case FD::CPPTYPE_BOOL:
      value = FieldValue::ofBool(false);
      break;
    case FD::CPPTYPE_STRING:
      value = field->type() == FD::TYPE_STRING ? FieldValue::ofString({})
                                               : FieldValue{ValueKind::kBytes, false, 0, {}};
      break;
    case FD::CPPTYPE_ENUM:
      value = FieldValue::ofString(field->default_value_enum()->name());
      break;
    default:
      addNumberText("0");
      value = FieldValue::ofNumber(0, {});
      break;
    }
    addOccurrence(static_cast<int32_t>(child), value,
                  {end, end, field, frame, false, false, nullptr, -1}, false);
  }
}

void ProtobufReader::addOccurrence(int32_t node, const FieldValue& value, const Location& at,
                                   bool on_wire) {
  const int slot = trie_.slot(node);
  if (slot < 0) {
    return;
  }
  if (value.kind == ValueKind::kNumber) {
    number_texts_.push_back({static_cast<uint32_t>(occurrences_.size()), number_});
  }
  occurrences_.push_back(
      {static_cast<uint16_t>(slot), value, static_cast<uint32_t>(locations_.size())});
  locations_.push_back(at);
  if (shape_->derived.changed && record_problems_.empty()) {
    // A default of a dropped field leaves no bytes to leave out.
    const auto change = shape_->derived.slots[static_cast<size_t>(slot)].change;
    if (change != ProtobufSlotPlan::Change::kNone &&
        (on_wire || change != ProtobufSlotPlan::Change::kRemove)) {
      retyped_ = true;
    }
  }
}

// The elements of a packed run of repeated numbers that paths name by index: read for
// predicates (an edit of one is refused). Leaves pos_ where it was.
bool ProtobufReader::packedElements(const FD& field, int32_t node, size_t end, int32_t frame,
                                    std::string& problem) {
  const size_t begin = pos_;
  uint64_t size = 0;
  if (!varint(end, size, problem)) {
    return false;
  }
  if (end - pos_ < size) {
    problem = "truncated Protobuf message: field " + field.name() + " at byte " +
              std::to_string(pos_ - body_);
    return false;
  }
  const size_t run_end = pos_ + size;
  while (pos_ < run_end) {
    const auto element_begin = static_cast<uint32_t>(pos_);
    const int32_t at = trie_.child(node, element_counts_[static_cast<size_t>(node)]++);
    FieldValue read;
    number_ = {0, 0};
    if (!value(field, wireTypeOf(field.type()), run_end, read, problem)) {
      return false;
    }
    addOccurrence(
        at, read,
        {element_begin, static_cast<uint32_t>(pos_), &field, frame, true, true, nullptr, -1});
  }
  pos_ = begin;
  return true;
}

bool ProtobufReader::read(std::string_view payload, std::string& problem) {
  occurrences_.clear();
  locations_.clear();
  frames_.clear();
  numbers_.clear();
  number_texts_.clear();
  record_problems_.clear();
  element_counts_.assign(trie_.size(), 0);
  seen_.assign(trie_.size(), 0);
  retyped_ = false;
  if (selection_.ready("Protobuf", "the message (0x00, 4 bytes and the message indexes)",
                       problem) == nullptr) {
    return false;
  }
  schema::Frame frame;
  schema::FrameError error;
  if (!schema::parseFrame(payload, true, frame, error) || frame.schema.isGuid()) {
    problem = frame.schema.isGuid() ? "the record names its schema by GUID, not by ID"
                                    : "the record's prefix: " + error.describe();
    return false;
  }
  const pb::Descriptor* message = schema::messageAt(*shape_->writer->file, frame.indexes);
  if (message == nullptr) {
    problem = "message indexes " + frame.indexes.str() + " name no message of schema ID " +
              std::to_string(selection_.id());
    return false;
  }
  if (shape_->derived.changed && message != shape_->derived.root) {
    record_problems_.push_back("records of message " + message->full_name() +
                               " cannot be edited: the policy changes the schema of message " +
                               shape_->derived.root->full_name() +
                               " (the file's first), which the target registry gets");
  }
  payload_ = payload;
  body_ = frame.prefix_size;
  pos_ = body_;
  if (const int slot = trie_.slot(PathTrie::kRoot); slot >= 0) {
    occurrences_.push_back({static_cast<uint16_t>(slot),
                            FieldValue{ValueKind::kBytes, false, 0, payload.substr(body_)},
                            static_cast<uint32_t>(locations_.size())});
    locations_.push_back({static_cast<uint32_t>(body_), static_cast<uint32_t>(payload.size()),
                          nullptr, -1, false, false, message, -1});
  }
  if (!walk(*message, PathTrie::kRoot, payload.size(), -1, 0, problem)) {
    return false;
  }
  for (const auto& [occurrence, text] : number_texts_) {
    occurrences_[occurrence].value.text =
        std::string_view(numbers_).substr(text.first, text.second);
  }
  return true;
}

}  // namespace causeway::policies
