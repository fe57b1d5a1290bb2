#pragma once

// Protobuf payloads for policies on links: records framed for a schema registry (byte 0x00,
// the 4-byte ID of the writer's schema, the message indexes, then the message in binary
// encoding). The reader finds the policy's paths in one pass over the message with the
// writer's descriptors (fields by name, elements of a repeated field by index in wire order),
// and the writer re-encodes only what the edits touch, for the file the policy derives from
// the writer's (protobuf_policy_schema.h): a dropped field's bytes are left out, a masked
// number is written as a string, and the lengths of the messages around an edit are written
// again. Everything else (unknown fields too) is copied byte for byte.
//
// Values as predicates and transforms see them: booleans, numbers (every integer and floating
// type, with its decimal text), strings, enums as their symbol (a string; a number the enum
// does not declare as its number), bytes, and messages as bytes (their encoding). A proto3
// field without presence (not `optional`, not in a oneof, not a message or repeated field)
// that is not on the wire holds its default, as every proto3 parser reads it: 0, false, "",
// empty bytes, the enum's first symbol. Its one occurrence is at the end of its message, where
// an edit adds the field. Other fields that are not on the wire (and the fields of a message
// that is not) are missing. A field written more than once is edited everywhere; predicates
// see the last value; elements of repeated fields are counted across the copies of a message
// written more than once, as parsers merge them. A packed run of repeated numbers is one
// occurrence (its encoding, as bytes) that only `drop` can edit; its elements are read by
// index, not edited. `set` on a field that is not on the wire adds it at the end of its
// message. Proto2 groups a path names make the record unreadable; extensions are not read.
//
// The writer's schema comes from a table the control plane fills (ProtobufShapes), as for
// Avro (avro_payload.h).

#include "common/result.h"
#include "policies/path_trie.h"
#include "policies/payload_format.h"
#include "policies/protobuf_policy_schema.h"
#include "policies/shape_table.h"
#include "schema/protobuf_validator.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace causeway::policies {

// One writer schema as the reader needs it.
struct ProtobufShape {
  std::shared_ptr<const schema::ProtoFile> writer;
  ProtobufPolicySchema derived;  // what the policy's rules make of it
};
using ProtobufShapePtr = std::shared_ptr<const ProtobufShape>;

// Compiles the writer's file (with its references) and derives the policy's shape of it. An
// error when the text is not a .proto file that builds.
Result<ProtobufShapePtr> makeProtobufShape(const schema::ResolvedSchema& writer,
                                           const std::vector<TransformRule>& rules,
                                           size_t slot_count);

using ProtobufShapes = ShapeTable<ProtobufShape>;

// Messages nested deeper than this in a payload are refused (protobuf's own parser bound).
inline constexpr int kMaxProtobufDepth = 100;

class ProtobufReader : public WriterSchemaReader {
public:
  ProtobufReader(const std::vector<ReaderPath>& paths,
                 std::shared_ptr<const ProtobufShapes> shapes);

  void selectWriter(std::string_view topic, std::optional<std::string_view> source_payload,
                    bool id_in_header) override;
  const std::vector<std::string>* shapeProblems() const override;
  bool read(std::string_view payload, std::string& problem) override;
  bool rewritesUnedited() const override { return retyped_; }
  std::span<const FieldOccurrence> occurrences() const override { return occurrences_; }
  bool write(std::span<const FieldEdit> edits, std::string_view arena, std::string& out,
             std::string& problem) override;
  // A message (the record's, or a message field a path goes into) can get a missing field.
  bool acceptsInsert(const FieldOccurrence& occurrence) const override;

private:
  // Where one occurrence is: the whole field (tag to the value's end), and the message around
  // it (-1: the record's message).
  struct Location {
    uint32_t begin = 0;
    uint32_t end = 0;
    const google::protobuf::FieldDescriptor* field = nullptr;
    int32_t frame = -1;
    bool packed = false;          // a packed run of repeated numbers, or one of its elements
    bool packed_element = false;  // one element of a packed run (read only)
    // A message: its type, and its frame (-1: the record's message), where fields are added.
    const google::protobuf::Descriptor* message = nullptr;
    int32_t inner_frame = -1;
  };
  // A length-delimited message on a path: where its length varint is, and where its body ends.
  struct Frame {
    uint32_t length_begin = 0;
    uint32_t body_begin = 0;
    uint32_t body_end = 0;
    int32_t parent = -1;
    int64_t delta = 0;  // write(): how much the body grows
  };
  struct Splice {
    uint32_t begin = 0;
    uint32_t end = 0;
    int32_t frame = -1;  // the message around it
    uint32_t text = 0;   // its bytes, at [text, text + size) of scratch_
    uint32_t size = 0;
  };

  bool walk(const google::protobuf::Descriptor& message, int32_t trie, size_t end, int32_t frame,
            int depth, std::string& problem);
  bool varint(size_t end, uint64_t& out, std::string& problem);
  // A field's tag: its wire type and a valid field number.
  bool tag(size_t end, int& wire_type, uint64_t& number, std::string& problem);
  bool skip(size_t end, int wire_type, uint64_t number, int depth, std::string& problem);
  bool value(const google::protobuf::FieldDescriptor& field, int wire_type, size_t end,
             FieldValue& out, std::string& problem);
  void addNumberText(std::string_view text);
  // The occurrence of the slot at trie node `node` (if a path ends there), at `at`; not
  // `on_wire`: a default.
  void addOccurrence(int32_t node, const FieldValue& value, const Location& at,
                     bool on_wire = true);
  // The defaults of the proto3 fields without presence that paths name below `trie` and that
  // `message` (ending at `end`) did not hold.
  void addDefaults(const google::protobuf::Descriptor& message, int32_t trie, uint32_t end,
                   int32_t frame);
  bool packedElements(const google::protobuf::FieldDescriptor& field, int32_t node, size_t end,
                      int32_t frame, std::string& problem);
  bool encode(const Location& at, const FieldEdit* edit, const FieldOccurrence& occurrence,
              std::string_view arena, std::string& problem);
  bool insert(const FieldEdit& edit, std::string_view arena, std::string& problem);
  // Field `field` (tag and value) holding `text` as `type`, into scratch_.
  bool encodeField(const google::protobuf::FieldDescriptor& field,
                   google::protobuf::FieldDescriptor::Type type, ValueKind kind,
                   std::string_view text, std::string& problem);

  PathTrie trie_;
  WriterSelection<ProtobufShape> selection_;
  const ProtobufShape* shape_ = nullptr;
  bool retyped_ = false;
  std::vector<std::string> record_problems_;  // this record's message is not the derived one

  std::string_view payload_;
  size_t body_ = 0;  // where the message starts in payload_
  size_t pos_ = 0;
  std::vector<FieldOccurrence> occurrences_;
  std::vector<Location> locations_;
  std::vector<Frame> frames_;
  std::vector<uint32_t> element_counts_;  // by trie node: elements of a repeated field seen
  std::vector<uint8_t> seen_;             // by trie node: a value was read (or defaulted)
  // Number texts, referred to by (occurrence, (offset, size)) until the walk ends.
  std::string numbers_;
  std::pair<uint32_t, uint32_t> number_;  // the text of the value read last
  std::vector<std::pair<uint32_t, std::pair<uint32_t, uint32_t>>> number_texts_;
  std::vector<Splice> splices_;
  std::vector<bool> edited_;  // write(): by occurrence, whether an edit touches it
  std::string scratch_;
};

}  // namespace causeway::policies
