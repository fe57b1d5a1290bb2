#include "policies/protobuf_policy_schema.h"

#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/stubs/logging.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <functional>
#include <map>
#include <set>

namespace causeway::policies {
namespace {

namespace pb = google::protobuf;
using FD = pb::FieldDescriptor;

// How many fields of `file` (extensions too) name each message type.
void countUses(const pb::Descriptor& message, std::map<const pb::Descriptor*, int>& uses) {
  for (int i = 0; i < message.field_count(); ++i) {
    if (const pb::Descriptor* type = message.field(i)->message_type()) {
      ++uses[type];
    }
  }
  for (int i = 0; i < message.extension_count(); ++i) {
    if (const pb::Descriptor* type = message.extension(i)->message_type()) {
      ++uses[type];
    }
  }
  for (int i = 0; i < message.nested_type_count(); ++i) {
    countUses(*message.nested_type(i), uses);
  }
}

// The DescriptorProto of `message` inside `file` (found by its nesting).
pb::DescriptorProto* protoOf(const pb::Descriptor& message, pb::FileDescriptorProto& file) {
  if (message.containing_type() == nullptr) {
    return file.mutable_message_type(message.index());
  }
  return protoOf(*message.containing_type(), file)->mutable_nested_type(message.index());
}

pb::FieldDescriptorProto* fieldProto(pb::DescriptorProto& message, int number, int* at) {
  for (int i = 0; i < message.field_size(); ++i) {
    if (message.field(i).number() == number) {
      *at = i;
      return message.mutable_field(i);
    }
  }
  return nullptr;
}

void removeField(pb::DescriptorProto& message, const FD& field) {
  int at = -1;
  pb::FieldDescriptorProto* proto = fieldProto(message, field.number(), &at);
  if (proto == nullptr) {
    return;
  }
  const int oneof = proto->has_oneof_index() ? proto->oneof_index() : -1;
  message.mutable_field()->DeleteSubrange(at, 1);
  auto* range = message.add_reserved_range();
  range->set_start(field.number());
  range->set_end(field.number() + 1);  // exclusive
  message.add_reserved_name(field.name());
  if (oneof < 0) {
    return;
  }
  for (const auto& other : message.field()) {
    if (other.has_oneof_index() && other.oneof_index() == oneof) {
      return;  // the oneof keeps other members
    }
  }
  // An empty oneof (also proto3 optional's synthetic one) is not valid: it goes.
  message.mutable_oneof_decl()->DeleteSubrange(oneof, 1);
  for (auto& other : *message.mutable_field()) {
    if (other.has_oneof_index() && other.oneof_index() > oneof) {
      other.set_oneof_index(other.oneof_index() - 1);
    }
  }
}

void retypeField(pb::DescriptorProto& message, const FD& field, FD::Type type) {
  int at = -1;
  pb::FieldDescriptorProto* proto = fieldProto(message, field.number(), &at);
  if (proto == nullptr) {
    return;
  }
  proto->set_type(static_cast<pb::FieldDescriptorProto::Type>(type));
  proto->clear_type_name();
  proto->clear_default_value();  // a proto2 default of the old type
  if (proto->has_options()) {
    proto->mutable_options()->clear_packed();
    proto->mutable_options()->clear_jstype();
    proto->mutable_options()->clear_lazy();
    proto->mutable_options()->clear_unverified_lazy();
    if (proto->options().ByteSizeLong() == 0) {
      proto->clear_options();
    }
  }
}

FD::Type targetType(const TransformRule& rule, const FD& field, std::string& problem) {
  if (rule.action != Action::kSet) {
    return FD::TYPE_STRING;
  }
  if (rule.constant_kind == ValueKind::kNull) {
    problem = "Protobuf fields hold no null: drop the field instead of setting it to null";
    return FD::TYPE_STRING;
  }
  return setType(field, rule.constant_kind, rule.replacement);
}

template <class T> bool parses(std::string_view text, T& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// The first error a DescriptorPool reports.
struct FirstError final : pb::DescriptorPool::ErrorCollector {
  void AddError(const std::string& /*filename*/, const std::string& element_name,
                const pb::Message* /*descriptor*/, ErrorLocation /*location*/,
                const std::string& message) override {
    if (text.empty()) {
      text = element_name + ": " + message;
    }
  }
  std::string text;
};

// Copies `file`'s imports (and theirs) into `pool`, each before the files that use it.
bool addImports(const pb::FileDescriptor& file, pb::DescriptorPool& pool,
                std::set<std::string>& added) {
  for (int i = 0; i < file.dependency_count(); ++i) {
    const pb::FileDescriptor* dependency = file.dependency(i);
    if (added.count(dependency->name()) > 0) {
      continue;
    }
    if (!addImports(*dependency, pool, added)) {
      return false;
    }
    pb::FileDescriptorProto proto;
    dependency->CopyTo(&proto);
    if (pool.BuildFile(proto) == nullptr) {
      return false;
    }
    added.insert(dependency->name());
  }
  return true;
}

class Deriver {
public:
  Deriver(const schema::ProtoFile& writer, ProtobufPolicySchema& out) : writer_(writer), out_(out) {
    writer.file->CopyTo(&file_);
    for (int i = 0; i < writer.file->message_type_count(); ++i) {
      countUses(*writer.file->message_type(i), uses_);
    }
    for (int i = 0; i < writer.file->extension_count(); ++i) {
      if (const pb::Descriptor* type = writer.file->extension(i)->message_type()) {
        ++uses_[type];
      }
    }
  }

  void rule(const TransformRule& rule) {
    const pb::Descriptor* message = out_.root;
    // The fields that lead to the message holding the leaf, and whether an index was crossed.
    bool indexed = false;
    std::vector<const FD*> chain;
    const FD* leaf = nullptr;
    bool leaf_indexed = false;
    const auto& segments = rule.path.segments;
    for (size_t i = 0; i < segments.size(); ++i) {
      if (segments[i].is_index) {
        return;  // an index right after a message, not a repeated field: never resolves
      }
      const FD* field = message->FindFieldByName(segments[i].name);
      if (field == nullptr) {
        return;  // not declared: records never hold it, and the rule finds nothing
      }
      const bool index_next = i + 1 < segments.size() && segments[i + 1].is_index;
      if (field->is_repeated() != index_next && i + 1 < segments.size()) {
        return;  // an index on a singular field, or a member of a repeated one: never resolves
      }
      const size_t next = index_next ? i + 2 : i + 1;
      if (next >= segments.size()) {
        leaf = field;
        leaf_indexed = index_next;
        break;
      }
      if (field->type() == FD::TYPE_GROUP) {
        out_.problems.push_back(rule.path.text() + ": " + field->full_name() +
                                " is a proto2 group, which policies do not read or edit");
        return;
      }
      if (field->type() != FD::TYPE_MESSAGE) {
        return;  // a member of a scalar: never resolves
      }
      indexed = indexed || index_next;
      chain.push_back(field);
      message = field->message_type();
      i = next - 1;
    }
    if (leaf == nullptr) {
      return;  // the path is the whole value: policies keep the value side's type
    }
    if (leaf->type() == FD::TYPE_GROUP) {
      out_.problems.push_back(rule.path.text() + ": " + leaf->full_name() +
                              " is a proto2 group, which policies do not read or edit");
      return;
    }
    ProtobufSlotPlan& plan = out_.slots[rule.slot];
    std::string problem;
    if (rule.action == Action::kDrop) {
      plan.change = ProtobufSlotPlan::Change::kRemove;
      if (leaf_indexed) {
        return;  // one element left out: the field's type stays
      }
    } else {
      const FD::Type type = targetType(rule, *leaf, problem);
      if (!problem.empty()) {
        out_.problems.push_back(rule.path.text() + ": " + problem);
        return;
      }
      if (type == leaf->type()) {
        return;  // written in the field's own type
      }
      plan.change = ProtobufSlotPlan::Change::kRetype;
      plan.type = type;
      if (leaf->is_repeated()) {
        out_.problems.push_back(rule.path.text() + ": the elements of repeated field " +
                                leaf->full_name() + " (" + leaf->type_name() +
                                ") cannot change their type to " + FD::TypeName(type));
        return;
      }
    }
    if (const std::string why = whyFixed(*leaf, chain, indexed); !why.empty()) {
      out_.problems.push_back(rule.path.text() + ": " + why);
      return;
    }
    pb::DescriptorProto* holder = protoOf(*leaf->containing_type(), file_);
    if (plan.change == ProtobufSlotPlan::Change::kRemove) {
      removeField(*holder, *leaf);
      if (leaf->is_map()) {
        map_entries_.push_back(leaf->message_type());  // its entry type goes too (below)
      }
    } else {
      retypeField(*holder, *leaf, plan.type);
    }
    out_.changed = true;
  }

  Status finish() {
    if (!out_.changed) {
      return {};
    }
    // A map's entry type without its map field is not valid .proto (`option map_entry` is
    // protoc's own). Removed deepest first, and last to first within a message, so that the
    // positions protoOf() follows stay right.
    auto depth = [](const pb::Descriptor* d) {
      int n = 0;
      for (; d != nullptr; d = d->containing_type()) {
        ++n;
      }
      return n;
    };
    std::sort(map_entries_.begin(), map_entries_.end(),
              [&](const pb::Descriptor* a, const pb::Descriptor* b) {
                return depth(a) != depth(b) ? depth(a) > depth(b) : a->index() > b->index();
              });
    for (const pb::Descriptor* entry : map_entries_) {
      protoOf(*entry->containing_type(), file_)
          ->mutable_nested_type()
          ->DeleteSubrange(entry->index(), 1);
    }
    pb::DescriptorPool pool;
    std::set<std::string> added;
    pb::LogSilencer silence;
    if (!addImports(*writer_.file, pool, added)) {
      return Error{"the writer schema's imports do not build again"};
    }
    FirstError error;
    const pb::FileDescriptor* derived = pool.BuildFileCollectingErrors(file_, &error);
    if (derived == nullptr) {
      return Error{"the derived .proto file does not build: " + error.text};
    }
    out_.schema = derived->DebugString();
    return {};
  }

private:
  // Why the declaration of `leaf` cannot change (empty: it can): every message on the way
  // must be reached only this way, so that no record holds it unedited elsewhere.
  std::string whyFixed(const FD& leaf, const std::vector<const FD*>& chain, bool indexed) {
    if (indexed) {
      return "the path goes through an element of a repeated field, whose other elements keep "
             "the type";
    }
    const pb::Descriptor* holder = leaf.containing_type();
    if (holder->file() != writer_.file) {
      return "message " + holder->full_name() +
             " comes from a schema reference (another subject's), which the policy cannot change";
    }
    if (uses_[out_.root] > 0) {
      return "message " + out_.root->full_name() +
             " is also used as a field's type, where it keeps its fields";
    }
    for (const FD* field : chain) {
      if (uses_[field->message_type()] > 1) {
        return "message " + field->message_type()->full_name() +
               " is used in more than one place, whose other uses keep its fields";
      }
    }
    return {};
  }

  const schema::ProtoFile& writer_;
  ProtobufPolicySchema& out_;
  pb::FileDescriptorProto file_;
  std::vector<const pb::Descriptor*> map_entries_;  // of dropped map fields
  std::map<const pb::Descriptor*, int> uses_;
};

}  // namespace

FD::Type setType(const FD& field, ValueKind kind, std::string_view text) {
  if (kind == ValueKind::kBool) {
    return FD::TYPE_BOOL;
  }
  if (kind != ValueKind::kNumber) {
    if (field.type() == FD::TYPE_BYTES ||
        (field.type() == FD::TYPE_ENUM &&
         field.enum_type()->FindValueByName(std::string(text)) != nullptr)) {
      return field.type();
    }
    return FD::TYPE_STRING;
  }
  int64_t n = 0;
  uint64_t u = 0;
  double d = 0;
  const bool integer = parses(text, n);
  switch (field.type()) {
  case FD::TYPE_INT32:
  case FD::TYPE_SINT32:
  case FD::TYPE_SFIXED32:
    if (integer && n >= INT32_MIN && n <= INT32_MAX) {
      return field.type();
    }
    break;
  case FD::TYPE_INT64:
  case FD::TYPE_SINT64:
  case FD::TYPE_SFIXED64:
    if (integer) {
      return field.type();
    }
    break;
  case FD::TYPE_UINT32:
  case FD::TYPE_FIXED32:
    if (parses(text, u) && u <= UINT32_MAX) {
      return field.type();
    }
    break;
  case FD::TYPE_UINT64:
  case FD::TYPE_FIXED64:
    if (parses(text, u)) {
      return field.type();
    }
    break;
  case FD::TYPE_DOUBLE:
  case FD::TYPE_FLOAT:
    if (parses(text, d)) {
      return field.type();
    }
    break;
  default:
    break;
  }
  return integer ? FD::TYPE_INT64 : FD::TYPE_DOUBLE;
}

Result<ProtobufPolicySchema> deriveProtobufSchema(const schema::ProtoFile& writer,
                                                  const std::vector<TransformRule>& rules,
                                                  size_t slot_count) {
  ProtobufPolicySchema out;
  out.slots.resize(slot_count);
  if (writer.file == nullptr || writer.file->message_type_count() == 0) {
    return Error{"the schema defines no message"};
  }
  out.root = writer.file->message_type(0);
  Deriver deriver(writer, out);
  for (const TransformRule& rule : rules) {
    if (rule.path.root == PathRoot::kValue) {
      deriver.rule(rule);
    }
  }
  if (Status done = deriver.finish(); !done) {
    return done.error();
  }
  return out;
}

}  // namespace causeway::policies
