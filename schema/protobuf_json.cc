#include "schema/protobuf_json.h"

#include "common/base64.h"
#include "common/json_string.h"

#include <charconv>
#include <cmath>
#include <set>
#include <string_view>

namespace causeway::schema {
namespace {

namespace pb = google::protobuf;
using FD = pb::FieldDescriptor;

bool wellKnown(const std::string& full_name) {
  return std::string_view(full_name).substr(0, 16) == "google.protobuf.";
}

bool covers(const pb::Descriptor& descriptor, std::set<const pb::Descriptor*>& seen) {
  if (!seen.insert(&descriptor).second) {
    return true;
  }
  if (wellKnown(descriptor.full_name()) || descriptor.extension_range_count() > 0) {
    return false;
  }
  for (int i = 0; i < descriptor.field_count(); ++i) {
    const FD& field = *descriptor.field(i);
    if (field.enum_type() != nullptr &&
        (wellKnown(field.enum_type()->full_name()) ||
         field.file()->syntax() != pb::FileDescriptor::SYNTAX_PROTO3)) {
      // google.protobuf.NullValue prints as null. A closed (proto2) enum keeps a number it
      // does not name among the unknown fields, which protobuf's printer shows and
      // reflection does not.
      return false;
    }
    if (field.type() == FD::TYPE_GROUP) {
      return false;  // protobuf 3.21's printer has its own (odd) rendering of groups
    }
    if (field.message_type() != nullptr && !covers(*field.message_type(), seen)) {
      return false;
    }
  }
  return true;
}

template <typename Int> void appendInt(std::string& out, Int value, bool quoted) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  if (quoted) {
    out.push_back('"');
  }
  out.append(buf, end);
  if (quoted) {
    out.push_back('"');
  }
}

// A float as protobuf's printer writes it (SimpleFtoa): 6 significant digits when they read
// back as the same float, else 9. Read as a double (as JSON readers do), the shortest text of
// a float is another number than this one.
void appendFloat(std::string& out, float value) {
  if (!std::isfinite(value)) {
    appendJsonReal(out, value);
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::general, 6);
  float back = 0;
  std::from_chars(buf, end, back);
  // protobuf reads the 6 digits back with strtof, which reports a subnormal result as an
  // underflow: those get 9 digits too.
  if (back != value || std::fpclassify(value) == FP_SUBNORMAL) {
    end = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::general, 9).ptr;
  }
  out.append(buf, end);
}

class Printer {
public:
  Printer(std::string& out, size_t limit, ProtobufJsonScratch& scratch)
      : out_(out), limit_(limit), scratch_(scratch) {}

  ProtobufJsonResult result() const { return result_; }

  bool message(const pb::Message& message, size_t depth) {
    if (depth > kMaxProtobufJsonDepth) {
      result_ = ProtobufJsonResult::kTooDeep;
      return false;
    }
    if (scratch_.fields.size() <= depth) {
      scratch_.fields.resize(depth + 1);
    }
    // The list of this level is not touched by deeper levels: index it again after recursing.
    scratch_.fields[depth].clear();
    const pb::Reflection& reflection = *message.GetReflection();
    reflection.ListFields(message, &scratch_.fields[depth]);
    out_.push_back('{');
    for (size_t i = 0; i < scratch_.fields[depth].size(); ++i) {
      const FD& field = *scratch_.fields[depth][i];
      if (i > 0) {
        out_.push_back(',');
      }
      appendJsonString(out_, field.name());
      out_.push_back(':');
      bool ok = true;
      if (field.is_map()) {
        ok = map(message, reflection, field, depth);
      } else if (field.is_repeated()) {
        out_.push_back('[');
        const int size = reflection.FieldSize(message, &field);
        for (int j = 0; j < size && ok && out_.size() <= limit_; ++j) {
          if (j > 0) {
            out_.push_back(',');
          }
          ok = value(message, reflection, field, j, depth);
        }
        out_.push_back(']');
      } else {
        ok = value(message, reflection, field, -1, depth);
      }
      if (!ok || out_.size() > limit_) {
        return false;
      }
    }
    out_.push_back('}');
    return out_.size() <= limit_;
  }

private:
  // A map field: its entries (messages with fields `key` and `value`) as one object.
  bool map(const pb::Message& message, const pb::Reflection& reflection, const FD& field,
           size_t depth) {
    const FD& key = *field.message_type()->map_key();
    const FD& mapped = *field.message_type()->map_value();
    out_.push_back('{');
    const int size = reflection.FieldSize(message, &field);
    for (int j = 0; j < size; ++j) {
      const pb::Message& entry = reflection.GetRepeatedMessage(message, &field, j);
      const pb::Reflection& entry_reflection = *entry.GetReflection();
      if (j > 0) {
        out_.push_back(',');
      }
      switch (key.cpp_type()) {
      case FD::CPPTYPE_STRING:
        appendJsonString(out_, entry_reflection.GetStringReference(entry, &key, &scratch_.text));
        break;
      case FD::CPPTYPE_BOOL:
        out_ += entry_reflection.GetBool(entry, &key) ? "\"true\"" : "\"false\"";
        break;
      case FD::CPPTYPE_INT32:
        appendInt(out_, entry_reflection.GetInt32(entry, &key), true);
        break;
      case FD::CPPTYPE_INT64:
        appendInt(out_, entry_reflection.GetInt64(entry, &key), true);
        break;
      case FD::CPPTYPE_UINT32:
        appendInt(out_, entry_reflection.GetUInt32(entry, &key), true);
        break;
      case FD::CPPTYPE_UINT64:
        appendInt(out_, entry_reflection.GetUInt64(entry, &key), true);
        break;
      default:
        return false;  // the language allows no other key type
      }
      out_.push_back(':');
      if (!value(entry, entry_reflection, mapped, -1, depth) || out_.size() > limit_) {
        return false;
      }
    }
    out_.push_back('}');
    return true;
  }

  // One value of `field`: element `index` of a repeated field, or the singular value (-1).
  bool value(const pb::Message& message, const pb::Reflection& r, const FD& field, int index,
             size_t depth) {
    const bool repeated = index >= 0;
    switch (field.cpp_type()) {
    case FD::CPPTYPE_INT32:
      appendInt(out_,
                repeated ? r.GetRepeatedInt32(message, &field, index) : r.GetInt32(message, &field),
                false);
      return true;
    case FD::CPPTYPE_UINT32:
      appendInt(out_,
                repeated ? r.GetRepeatedUInt32(message, &field, index)
                         : r.GetUInt32(message, &field),
                false);
      return true;
    case FD::CPPTYPE_INT64:
      appendInt(out_,
                repeated ? r.GetRepeatedInt64(message, &field, index) : r.GetInt64(message, &field),
                true);
      return true;
    case FD::CPPTYPE_UINT64:
      appendInt(out_,
                repeated ? r.GetRepeatedUInt64(message, &field, index)
                         : r.GetUInt64(message, &field),
                true);
      return true;
    case FD::CPPTYPE_DOUBLE:
      appendJsonReal(out_, repeated ? r.GetRepeatedDouble(message, &field, index)
                                    : r.GetDouble(message, &field));
      return true;
    case FD::CPPTYPE_FLOAT:
      appendFloat(out_, repeated ? r.GetRepeatedFloat(message, &field, index)
                                    : r.GetFloat(message, &field));
      return true;
    case FD::CPPTYPE_BOOL:
      out_ += (repeated ? r.GetRepeatedBool(message, &field, index) : r.GetBool(message, &field))
                  ? "true"
                  : "false";
      return true;
    case FD::CPPTYPE_ENUM: {
      const int number = repeated ? r.GetRepeatedEnumValue(message, &field, index)
                                  : r.GetEnumValue(message, &field);
      if (const pb::EnumValueDescriptor* named = field.enum_type()->FindValueByNumber(number)) {
        appendJsonString(out_, named->name());
      } else {
        appendInt(out_, number, false);
      }
      return true;
    }
    case FD::CPPTYPE_STRING: {
      const std::string& text =
          repeated ? r.GetRepeatedStringReference(message, &field, index, &scratch_.text)
                   : r.GetStringReference(message, &field, &scratch_.text);
      if (field.type() == FD::TYPE_BYTES) {
        out_.push_back('"');
        appendBase64(out_, text);
        out_.push_back('"');
      } else {
        appendJsonString(out_, text);
      }
      return true;
    }
    case FD::CPPTYPE_MESSAGE:
      return this->message(repeated ? r.GetRepeatedMessage(message, &field, index)
                                    : r.GetMessage(message, &field),
                           depth + 1);
    }
    return false;
  }

  std::string& out_;
  const size_t limit_;
  ProtobufJsonScratch& scratch_;
  ProtobufJsonResult result_ = ProtobufJsonResult::kTooLarge;
};

}  // namespace

bool protobufJsonCovers(const pb::Descriptor& descriptor) {
  std::set<const pb::Descriptor*> seen;
  return covers(descriptor, seen);
}

ProtobufJsonResult appendProtobufJson(const pb::Message& message, std::string& out,
                                      size_t limit, ProtobufJsonScratch& scratch) {
  Printer printer(out, limit, scratch);
  if (printer.message(message, 0)) {
    return ProtobufJsonResult::kOk;
  }
  return printer.result();
}

}  // namespace causeway::schema
