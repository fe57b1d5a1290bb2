#include "schema/protobuf_validator.h"

#include "schema/proto_source.h"
#include "schema/protobuf_json.h"

#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/util/json_util.h>
#include <simdjson.h>

#include <map>
#include <set>
#include <unordered_map>
#include <vector>

namespace causeway::schema {
namespace {

namespace pb = google::protobuf;
using FD = pb::FieldDescriptor;

// Nesting of messages (and groups) within a payload, as protobuf's own parser bounds it.
constexpr int kMaxDepth = 100;

class PoolErrors final : public pb::DescriptorPool::ErrorCollector {
public:
  void AddError(const std::string& filename, const std::string& element_name, const pb::Message*,
                ErrorLocation, const std::string& message) override {
    if (errors_.size() < 5) {
      errors_.push_back(filename + (element_name.empty() ? "" : " (" + element_name + ")") + ": " +
                        message);
    }
  }
  std::string text() const {
    std::string out;
    for (const auto& e : errors_) {
      out += (out.empty() ? "" : "; ") + e;
    }
    return out.empty() ? "does not build" : out;
  }

private:
  std::vector<std::string> errors_;
};

// The wire type a field's values use (packed repeated fields also use 2).
int wireTypeOf(const FD& field) {
  switch (field.type()) {
  case FD::TYPE_INT32:
  case FD::TYPE_INT64:
  case FD::TYPE_UINT32:
  case FD::TYPE_UINT64:
  case FD::TYPE_SINT32:
  case FD::TYPE_SINT64:
  case FD::TYPE_BOOL:
  case FD::TYPE_ENUM:
    return 0;
  case FD::TYPE_FIXED64:
  case FD::TYPE_SFIXED64:
  case FD::TYPE_DOUBLE:
    return 1;
  case FD::TYPE_FIXED32:
  case FD::TYPE_SFIXED32:
  case FD::TYPE_FLOAT:
    return 5;
  case FD::TYPE_GROUP:
    return 3;
  default:
    return 2;  // string, bytes, message
  }
}

const char* wireTypeName(int wire_type) {
  switch (wire_type) {
  case 0:
    return "varint";
  case 1:
    return "fixed64";
  case 2:
    return "length-delimited";
  case 3:
    return "group start";
  case 4:
    return "group end";
  case 5:
    return "fixed32";
  default:
    return "invalid";
  }
}

bool needsUtf8(const FD& field) {
  return field.type() == FD::TYPE_STRING &&
         field.file()->syntax() == pb::FileDescriptor::SYNTAX_PROTO3;
}

// Field lookup by number without protobuf's hash map: most messages number their fields
// densely from 1.
struct FieldTable {
  std::vector<const FD*> by_number;  // index = field number, up to kDense
  const pb::Descriptor* descriptor = nullptr;
  static constexpr int kDense = 256;

  const FD* find(uint32_t number) const {
    if (number < by_number.size()) {
      return by_number[number];
    }
    return number <= static_cast<uint32_t>(FD::kMaxNumber)
               ? descriptor->FindFieldByNumber(static_cast<int>(number))
               : nullptr;
  }
};

class WireWalker {
public:
  // `all_strings_utf8`: proto2 strings must be UTF-8 too (JSON cannot carry other bytes).
  WireWalker(const std::unordered_map<const pb::Descriptor*, FieldTable>& tables,
             Violation& violation, bool all_strings_utf8 = false)
      : tables_(tables), violation_(violation), all_strings_utf8_(all_strings_utf8) {}

  bool message(const pb::Descriptor& descriptor, const char* p, const char* end, int depth,
               int end_group = -1, const char** group_end = nullptr) {
    if (depth > kMaxDepth) {
      return fail("messages nested more than " + std::to_string(kMaxDepth) + " levels deep");
    }
    const FieldTable* table = nullptr;
    if (auto it = tables_.find(&descriptor); it != tables_.end()) {
      table = &it->second;
    }
    // Occurrences of repeated fields so far, for paths like items[3].
    uint32_t occurrences[64] = {};
    while (p < end) {
      uint64_t tag = 0;
      if (!varint(p, end, tag, "a field tag")) {
        return false;
      }
      if (tag > UINT32_MAX) {
        return fail("a field tag out of range");
      }
      const uint32_t number = static_cast<uint32_t>(tag >> 3);
      const int wire_type = static_cast<int>(tag & 7);
      if (number == 0) {
        return fail("field number 0 (not a valid tag)");
      }
      if (wire_type == 4) {
        if (static_cast<int>(number) == end_group) {
          *group_end = p;
          return true;
        }
        return fail("an unexpected group end for field " + std::to_string(number));
      }
      const FD* field = table ? table->find(number) : descriptor.FindFieldByNumber(number);
      uint32_t occurrence = 0;
      if (field != nullptr && field->is_repeated() && field->index() < 64) {
        occurrence = occurrences[field->index()]++;
      }
      if (!value(field, number, wire_type, p, end, depth)) {
        if (field != nullptr) {
          prefix(field->name() + (field->is_repeated() && field->index() < 64
                                      ? "[" + std::to_string(occurrence) + "]"
                                      : std::string()));
        }
        return false;
      }
    }
    if (end_group >= 0) {
      return fail("truncated: group " + std::to_string(end_group) + " has no end");
    }
    return true;
  }

private:
  bool value(const FD* field, uint32_t number, int wire_type, const char*& p, const char* end,
             int depth) {
    if (wire_type > 5) {
      return fail("invalid wire type " + std::to_string(wire_type));
    }
    if (field != nullptr) {
      const int expected = wireTypeOf(*field);
      const bool packed = wire_type == 2 && field->is_packable();
      if (wire_type != expected && !packed) {
        return fail(std::string("wire type ") + wireTypeName(wire_type) + " for a field of type " +
                    field->type_name() + " (expects " + wireTypeName(expected) + ")");
      }
      if (packed && expected != 2) {
        return packedValues(expected, p, end);
      }
    }
    switch (wire_type) {
    case 0: {
      uint64_t ignored = 0;
      return varint(p, end, ignored, "a varint");
    }
    case 1:
      return skip(p, end, 8, "a fixed64");
    case 5:
      return skip(p, end, 4, "a fixed32");
    case 2: {
      uint64_t length = 0;
      if (!varint(p, end, length, "a length")) {
        return false;
      }
      if (length > static_cast<uint64_t>(end - p)) {
        return fail("truncated: " + std::to_string(length) + " bytes announced, " +
                    std::to_string(end - p) + " left");
      }
      const char* inner_end = p + length;
      if (field != nullptr && field->type() == FD::TYPE_MESSAGE) {
        if (!message(*field->message_type(), p, inner_end, depth + 1)) {
          return false;
        }
      } else if (field != nullptr &&
                 (needsUtf8(*field) || (all_strings_utf8_ && field->type() == FD::TYPE_STRING)) &&
                 !simdjson::validate_utf8(p, static_cast<size_t>(length))) {
        return fail(needsUtf8(*field) ? "a string that is not UTF-8 (proto3 requires it)"
                                      : "a string that is not UTF-8 (JSON cannot carry it)");
      }
      p = inner_end;
      return true;
    }
    case 3: {
      const char* after = nullptr;
      const pb::Descriptor* group =
          field != nullptr && field->type() == FD::TYPE_GROUP ? field->message_type() : nullptr;
      if (group != nullptr) {
        if (!message(*group, p, end, depth + 1, static_cast<int>(number), &after)) {
          return false;
        }
      } else if (!skipGroup(number, p, end, depth + 1, after)) {
        return false;
      }
      p = after;
      return true;
    }
    default:
      return fail("invalid wire type " + std::to_string(wire_type));
    }
  }

  bool packedValues(int wire_type, const char*& p, const char* end) {
    uint64_t length = 0;
    if (!varint(p, end, length, "a length")) {
      return false;
    }
    if (length > static_cast<uint64_t>(end - p)) {
      return fail("truncated: " + std::to_string(length) + " bytes announced, " +
                  std::to_string(end - p) + " left");
    }
    const char* inner_end = p + length;
    if (wire_type == 0) {
      while (p < inner_end) {
        uint64_t ignored = 0;
        if (!varint(p, inner_end, ignored, "a packed varint")) {
          return false;
        }
      }
    } else {
      const size_t size = wire_type == 1 ? 8 : 4;
      if (length % size != 0) {
        return fail("packed fixed-size values of " + std::to_string(length) +
                    " bytes (not a multiple of " + std::to_string(size) + ")");
      }
      p = inner_end;
    }
    return true;
  }

  // An unknown group: skipped, checking its structure.
  bool skipGroup(uint32_t number, const char*& p, const char* end, int depth, const char*& after) {
    if (depth > kMaxDepth) {
      return fail("groups nested more than " + std::to_string(kMaxDepth) + " levels deep");
    }
    while (p < end) {
      uint64_t tag = 0;
      if (!varint(p, end, tag, "a field tag")) {
        return false;
      }
      const uint32_t inner = static_cast<uint32_t>(tag >> 3);
      const int wire_type = static_cast<int>(tag & 7);
      if (wire_type == 4) {
        if (inner != number) {
          return fail("a group end that does not match its start");
        }
        after = p;
        return true;
      }
      if (wire_type == 3) {
        const char* inner_after = nullptr;
        if (!skipGroup(inner, p, end, depth + 1, inner_after)) {
          return false;
        }
        p = inner_after;
        continue;
      }
      if (!value(nullptr, inner, wire_type, p, end, depth)) {
        return false;
      }
    }
    return fail("truncated: a group has no end");
  }

  bool varint(const char*& p, const char* end, uint64_t& out, const char* what) {
    uint64_t value = 0;
    for (int i = 0; i < 10; ++i) {
      if (p >= end) {
        return fail(std::string("truncated: the bytes end inside ") + what);
      }
      const auto b = static_cast<uint8_t>(*p++);
      value |= uint64_t{b & 0x7fu} << (7 * i);
      if ((b & 0x80u) == 0) {
        out = value;
        return true;
      }
    }
    return fail(std::string(what) + ": a varint longer than 10 bytes");
  }

  bool skip(const char*& p, const char* end, size_t n, const char* what) {
    if (static_cast<size_t>(end - p) < n) {
      return fail(std::string("truncated: ") + what + " needs " + std::to_string(n) + " bytes, " +
                  std::to_string(end - p) + " left");
    }
    p += n;
    return true;
  }

  bool fail(std::string message) {
    violation_.path.clear();
    violation_.message = std::move(message);
    return false;
  }

  void prefix(const std::string& component) {
    violation_.path = violation_.path.empty() ? component : component + "." + violation_.path;
  }

  const std::unordered_map<const pb::Descriptor*, FieldTable>& tables_;
  Violation& violation_;
  const bool all_strings_utf8_;
};

// --- Compatibility -----------------------------------------------------------------------------

// Field types whose values read as each other's (same wire type and the same interpretation
// of the bits, as protobuf's own compatibility rules describe).
int typeFamily(const FD& field) {
  switch (field.type()) {
  case FD::TYPE_INT32:
  case FD::TYPE_INT64:
  case FD::TYPE_UINT32:
  case FD::TYPE_UINT64:
  case FD::TYPE_BOOL:
  case FD::TYPE_ENUM:
    return 1;
  case FD::TYPE_SINT32:
  case FD::TYPE_SINT64:
    return 2;
  case FD::TYPE_FIXED32:
  case FD::TYPE_SFIXED32:
    return 3;
  case FD::TYPE_FIXED64:
  case FD::TYPE_SFIXED64:
    return 4;
  case FD::TYPE_FLOAT:
    return 5;
  case FD::TYPE_DOUBLE:
    return 6;
  case FD::TYPE_STRING:
  case FD::TYPE_BYTES:
    return 7;
  case FD::TYPE_MESSAGE:
    return 8;
  case FD::TYPE_GROUP:
    return 9;
  }
  return 0;
}

class CompatibilityChecker {
public:
  std::string check(const pb::Descriptor& writer, const pb::Descriptor& reader,
                    const std::string& at) {
    if (!in_progress_.insert({&writer, &reader}).second) {
      return "";
    }
    for (int i = 0; i < reader.field_count(); ++i) {
      const FD& r = *reader.field(i);
      const std::string path = at.empty() ? r.name() : at + "." + r.name();
      const FD* w = writer.FindFieldByNumber(r.number());
      if (w == nullptr) {
        if (r.is_required()) {
          return path + ": required in the reader's message but not in the writer's";
        }
        continue;
      }
      if (typeFamily(*w) != typeFamily(r)) {
        return path + ": field " + std::to_string(r.number()) + " is " + w->type_name() +
               " in the writer's message and " + r.type_name() + " in the reader's";
      }
      if (w->is_repeated() != r.is_repeated() && typeFamily(r) != 7 && typeFamily(r) != 8) {
        return path + ": field " + std::to_string(r.number()) + " is " +
               (w->is_repeated() ? "repeated" : "singular") + " in the writer's message and " +
               (r.is_repeated() ? "repeated" : "singular") + " in the reader's";
      }
      if (r.type() == FD::TYPE_MESSAGE && w->type() == FD::TYPE_MESSAGE) {
        std::string problem = check(*w->message_type(), *r.message_type(), path);
        if (!problem.empty()) {
          return problem;
        }
      }
    }
    return "";
  }

private:
  std::set<std::pair<const pb::Descriptor*, const pb::Descriptor*>> in_progress_;
};

// --- The validator -------------------------------------------------------------------------------

struct MessageEntry {
  MessageIndexes indexes;
  const pb::Descriptor* descriptor = nullptr;
  std::string incompatible;  // why the message does not fit the contract; empty if it does
  // What its JSON form is printed as: the contract's message of the same name where the
  // contract was checked to read it (fields by number, the contract's names, fields only the
  // writer has left out), else the writer's.
  const pb::Descriptor* shown = nullptr;
  bool own_printer = false;  // `shown` is printed by appendProtobufJson (protobuf_json.h)
};

class ProtobufState final : public ScratchState {
public:
  explicit ProtobufState(std::shared_ptr<const void> keepalive)
      : keepalive_(std::move(keepalive)) {}
  // Destroyed before keepalive_ (declared after it): the messages need their factory.
  ~ProtobufState() override { messages_.clear(); }

  pb::Message& messageFor(const pb::Message& prototype) {
    auto& slot = messages_[&prototype];
    if (!slot) {
      slot.reset(prototype.New());
    }
    return *slot;
  }

  ProtobufJsonScratch json;

private:
  std::shared_ptr<const void> keepalive_;
  std::unordered_map<const pb::Message*, std::unique_ptr<pb::Message>> messages_;
};

class ProtobufValidator final : public Validator,
                                public std::enable_shared_from_this<ProtobufValidator> {
public:
  ProtobufValidator(std::shared_ptr<const ProtoFile> writer,
                    std::shared_ptr<const ProtoFile> reader, std::vector<MessageEntry> messages)
      : writer_(std::move(writer)), reader_(std::move(reader)), messages_(std::move(messages)),
        factory_(std::make_unique<pb::DynamicMessageFactory>(writer_->pool.get())) {
    if (reader_) {
      reader_factory_ = std::make_unique<pb::DynamicMessageFactory>(reader_->pool.get());
    }
    for (auto& entry : messages_) {
      addTables(*entry.descriptor);
      prototypes_[entry.descriptor] = factory_->GetPrototype(entry.descriptor);
      if (entry.shown == nullptr) {
        entry.shown = entry.descriptor;
      } else if (entry.shown != entry.descriptor && reader_factory_) {
        addTables(*entry.shown);
        prototypes_[entry.shown] = reader_factory_->GetPrototype(entry.shown);
      }
      entry.own_printer = protobufJsonCovers(*entry.shown);
    }
  }
  ~ProtobufValidator() override {
    prototypes_.clear();
    factory_.reset();
    reader_factory_.reset();
  }

  SchemaType type() const override { return SchemaType::kProtobuf; }

  std::unique_ptr<ScratchState> newState() const override {
    return std::make_unique<ProtobufState>(shared_from_this());
  }

  bool validate(std::string_view payload, const MessageIndexes& indexes, ValidationScratch& scratch,
                Violation& violation) const override {
    const MessageEntry* entry = find(indexes);
    if (entry == nullptr) {
      violation.path.clear();
      violation.message = "message indexes " + indexes.str() + " name no message of the schema";
      return false;
    }
    if (!entry->incompatible.empty()) {
      violation.path.clear();
      violation.message = entry->incompatible;
      return false;
    }
    WireWalker walker(tables_, violation);
    if (!walker.message(*entry->descriptor, payload.data(), payload.data() + payload.size(), 0)) {
      return false;
    }
    auto& state = static_cast<ProtobufState&>(scratch.stateFor(*this));
    pb::Message& message = state.messageFor(*prototypes_.at(entry->descriptor));
    message.Clear();
    if (!message.ParsePartialFromArray(payload.data(), static_cast<int>(payload.size()))) {
      violation.path.clear();
      violation.message = "protobuf cannot parse it as " + entry->descriptor->full_name();
      return false;
    }
    if (!message.IsInitialized()) {
      std::vector<std::string> missing;
      message.FindInitializationErrors(&missing);
      violation.path = missing.empty() ? std::string() : missing.front();
      violation.message = "required field is missing";
      return false;
    }
    return true;
  }

  bool toJson(std::string_view payload, const MessageIndexes& indexes, ValidationScratch& scratch,
              std::string& out, Violation& violation) const override {
    const MessageEntry* entry = find(indexes);
    if (entry == nullptr) {
      violation.path.clear();
      violation.message = "message indexes " + indexes.str() + " name no message of the schema";
      return false;
    }
    // protobuf's JSON printer drops the bytes of a string that are not UTF-8 without a word:
    // such a proto2 string has no JSON form. Walked as the message printed (a writer's bytes
    // field may be the contract's string).
    WireWalker walker(tables_, violation, true);
    if (!walker.message(*entry->shown, payload.data(), payload.data() + payload.size(), 0)) {
      return false;
    }
    auto& state = static_cast<ProtobufState&>(scratch.stateFor(*this));
    pb::Message& message = state.messageFor(*prototypes_.at(entry->shown));
    if (entry->shown != entry->descriptor) {  // validate() parsed it as the writer's message
      message.Clear();
      if (!message.ParsePartialFromArray(payload.data(), static_cast<int>(payload.size()))) {
        violation.path.clear();
        violation.message = "protobuf cannot parse it as the contract's " +
                            entry->shown->full_name();
        return false;
      }
    }
    if (entry->own_printer) {
      const size_t limit = out.size() + 64 * payload.size() + (1u << 20);
      switch (appendProtobufJson(message, out, limit, state.json)) {
      case ProtobufJsonResult::kOk:
        return true;
      case ProtobufJsonResult::kTooLarge:
        violation.path.clear();
        violation.message = "its JSON form would be more than 64 times its size";
        return false;
      case ProtobufJsonResult::kTooDeep:
        violation.path.clear();
        violation.message = "no JSON form: messages nest more than 64 deep";
        return false;
      }
      return false;
    }
    pb::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;  // the paths policies name are the .proto's
    std::string json;
    if (auto printed = pb::util::MessageToJsonString(message, &json, options); !printed.ok()) {
      violation.path.clear();
      violation.message = "no JSON form: " + std::string(printed.message());
      return false;
    }
    out += json;
    return true;
  }

private:
  const MessageEntry* find(const MessageIndexes& indexes) const {
    for (const auto& entry : messages_) {
      if (entry.indexes == indexes) {
        return &entry;
      }
    }
    return nullptr;
  }

  void addTables(const pb::Descriptor& descriptor) {
    if (tables_.count(&descriptor)) {
      return;
    }
    FieldTable& table = tables_[&descriptor];
    table.descriptor = &descriptor;
    int max = 0;
    for (int i = 0; i < descriptor.field_count(); ++i) {
      max = std::max(max, descriptor.field(i)->number());
    }
    table.by_number.assign(static_cast<size_t>(std::min(max, FieldTable::kDense)) + 1, nullptr);
    for (int i = 0; i < descriptor.field_count(); ++i) {
      const FD* field = descriptor.field(i);
      if (field->number() <= FieldTable::kDense) {
        table.by_number[static_cast<size_t>(field->number())] = field;
      }
      if (field->message_type() != nullptr) {
        addTables(*field->message_type());
      }
    }
  }

  std::shared_ptr<const ProtoFile> writer_;
  std::shared_ptr<const ProtoFile> reader_;
  std::vector<MessageEntry> messages_;
  std::unique_ptr<pb::DynamicMessageFactory> factory_;
  std::unique_ptr<pb::DynamicMessageFactory> reader_factory_;  // the contract's messages
  std::unordered_map<const pb::Descriptor*, const pb::Message*> prototypes_;
  std::unordered_map<const pb::Descriptor*, FieldTable> tables_;
};

bool holdsGroup(const pb::Descriptor& parent, const pb::Descriptor& type) {
  for (int i = 0; i < parent.field_count(); ++i) {
    if (parent.field(i)->type() == pb::FieldDescriptor::TYPE_GROUP &&
        parent.field(i)->message_type() == &type) {
      return true;
    }
  }
  for (int i = 0; i < parent.extension_count(); ++i) {
    if (parent.extension(i)->type() == pb::FieldDescriptor::TYPE_GROUP &&
        parent.extension(i)->message_type() == &type) {
      return true;
    }
  }
  return false;
}

// Whether message indexes count nested type `type` of `parent`: Confluent's serializers and
// the registry (Java, Wire's parser) count the messages the .proto text declares. Not counted:
// the map-entry types protoc makes for `map<K, V>` fields (they have no place in the text), and
// proto2 groups (Wire keeps them apart from messages). An entry message the text declares
// itself (`option map_entry = true`, as Java's serializer registers a map field when it does
// not normalize the schema) is counted.
bool countedInIndexes(const pb::Descriptor& parent, const pb::Descriptor& type) {
  pb::SourceLocation location;
  if (type.options().map_entry() && !type.GetSourceLocation(&location)) {
    return false;
  }
  return !holdsGroup(parent, type);
}

void collectMessages(const pb::Descriptor& descriptor, MessageIndexes path,
                     std::vector<MessageEntry>& out) {
  out.push_back(MessageEntry{path, &descriptor, {}});
  if (path.size >= kMaxMessageDepth) {
    return;
  }
  int index = 0;
  for (int i = 0; i < descriptor.nested_type_count(); ++i) {
    const pb::Descriptor& type = *descriptor.nested_type(i);
    if (!countedInIndexes(descriptor, type)) {
      continue;
    }
    MessageIndexes nested = path;
    nested.path[nested.size++] = index++;
    collectMessages(type, nested, out);
  }
}

}  // namespace

Result<std::shared_ptr<const ProtoFile>> compileProto(const ResolvedSchema& schema) {
  auto file = std::make_shared<ProtoFile>();
  file->pool = std::make_unique<pb::DescriptorPool>();
  PoolErrors errors;
  std::set<std::string> built;
  // Imports of Google's well-known types that are not given as references come from the
  // descriptors compiled into this process.
  std::function<bool(const pb::FileDescriptorProto&)> addWellKnown =
      [&](const pb::FileDescriptorProto& proto) {
        for (const auto& dependency : proto.dependency()) {
          // Only Google's own files: anything else this process happens to have compiled in
          // is not what the registry means by that name.
          if (built.count(dependency) || dependency.rfind("google/protobuf/", 0) != 0) {
            continue;
          }
          const pb::FileDescriptor* known =
              pb::DescriptorPool::generated_pool()->FindFileByName(dependency);
          if (known == nullptr) {
            continue;  // BuildFile reports it
          }
          pb::FileDescriptorProto known_proto;
          known->CopyTo(&known_proto);
          if (!addWellKnown(known_proto) ||
              file->pool->BuildFileCollectingErrors(known_proto, &errors) == nullptr) {
            return false;
          }
          built.insert(dependency);
        }
        return true;
      };
  auto build = [&](const std::string& name,
                   const std::string& text) -> Result<const pb::FileDescriptor*> {
    pb::FileDescriptorProto proto;
    std::vector<ProtoSyntaxError> syntax;
    if (!parseProtoText(name, text, proto, syntax)) {
      return Error{(name.empty() ? std::string("the schema") : name) + ":" +
                   std::to_string(syntax.front().line) + ":" +
                   std::to_string(syntax.front().column) + ": " + syntax.front().message};
    }
    if (!addWellKnown(proto)) {
      return Error{errors.text()};
    }
    pb::LogSilencer silence;
    const pb::FileDescriptor* built_file = file->pool->BuildFileCollectingErrors(proto, &errors);
    if (built_file == nullptr) {
      return Error{errors.text()};
    }
    built.insert(name);
    return built_file;
  };
  for (const auto& [name, referenced] : schema.references) {
    if (built.count(name)) {
      continue;
    }
    auto referenced_file = build(name, referenced.text);
    if (!referenced_file) {
      return referenced_file.error();
    }
  }
  // The main file's name must differ from every import's.
  auto main = build("causeway-schema-" + std::to_string(schema.schema.text.size()) + ".proto",
                    schema.schema.text);
  if (!main) {
    return main.error();
  }
  file->file = *main;
  if (file->file->message_type_count() == 0) {
    return Error{"the schema defines no message"};
  }
  return std::shared_ptr<const ProtoFile>(std::move(file));
}

const pb::Descriptor* messageAt(const pb::FileDescriptor& file, const MessageIndexes& indexes) {
  if (indexes.size == 0 || indexes.path[0] >= file.message_type_count()) {
    return nullptr;
  }
  const pb::Descriptor* at = file.message_type(indexes.path[0]);
  for (size_t i = 1; i < indexes.size && at != nullptr; ++i) {
    int wanted = indexes.path[i];
    const pb::Descriptor* found = nullptr;
    for (int n = 0; n < at->nested_type_count() && found == nullptr; ++n) {
      const pb::Descriptor* type = at->nested_type(n);
      if (countedInIndexes(*at, *type) && wanted-- == 0) {
        found = type;
      }
    }
    at = found;
  }
  return at;
}

MessageIndexes messageIndexesOf(const pb::Descriptor& message) {
  std::vector<int32_t> reversed;
  for (const pb::Descriptor* at = &message; at != nullptr; at = at->containing_type()) {
    int32_t index = at->index();
    if (const pb::Descriptor* parent = at->containing_type()) {
      index = 0;
      for (int n = 0; n < at->index(); ++n) {
        index += countedInIndexes(*parent, *parent->nested_type(n)) ? 1 : 0;
      }
    }
    reversed.push_back(index);
  }
  MessageIndexes out;
  for (auto it = reversed.rbegin(); it != reversed.rend() && out.size < kMaxMessageDepth; ++it) {
    out.path[out.size++] = *it;
  }
  return out;
}

Status protobufCompatible(const pb::Descriptor& writer, const pb::Descriptor& reader) {
  CompatibilityChecker checker;
  std::string problem = checker.check(writer, reader, "");
  if (problem.empty()) {
    return Status::success();
  }
  return Error{problem};
}

Result<ValidatorPtr> compileProtobufValidator(const ResolvedSchema& writer,
                                              const ResolvedSchema* reader,
                                              config::Compatibility compatibility) {
  auto writer_file = compileProto(writer);
  if (!writer_file) {
    return Error{"the writer's .proto does not compile: " + writer_file.error().message};
  }
  std::shared_ptr<const ProtoFile> reader_file;
  if (reader != nullptr && compatibility != config::Compatibility::kNone) {
    auto compiled = compileProto(*reader);
    if (!compiled) {
      return Error{"the contract's .proto does not compile: " + compiled.error().message};
    }
    reader_file = *compiled;
  }
  std::vector<MessageEntry> messages;
  const pb::FileDescriptor& file = *(*writer_file)->file;
  for (int i = 0; i < file.message_type_count(); ++i) {
    MessageIndexes path;
    path.size = 1;
    path.path[0] = i;
    collectMessages(*file.message_type(i), path, messages);
  }
  if (reader_file) {
    for (auto& entry : messages) {
      const pb::Descriptor* counterpart =
          reader_file->pool->FindMessageTypeByName(entry.descriptor->full_name());
      if (counterpart == nullptr) {
        entry.incompatible =
            "message " + entry.descriptor->full_name() + " is not in the contract's schema";
        continue;
      }
      if (config::contractReadsWriters(compatibility)) {
        if (auto ok = protobufCompatible(*entry.descriptor, *counterpart); !ok) {
          entry.incompatible = "the contract's schema cannot read " +
                               entry.descriptor->full_name() + ": " + ok.message();
          continue;
        }
        entry.shown = counterpart;
      }
      if (config::writersReadContract(compatibility)) {
        if (auto ok = protobufCompatible(*counterpart, *entry.descriptor); !ok) {
          entry.incompatible =
              entry.descriptor->full_name() +
              " cannot read data written with the contract's schema: " + ok.message();
        }
      }
    }
  }
  return ValidatorPtr(
      std::make_shared<ProtobufValidator>(*writer_file, reader_file, std::move(messages)));
}

}  // namespace causeway::schema
