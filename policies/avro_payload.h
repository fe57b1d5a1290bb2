#pragma once

// Avro payloads for policies on links: records framed for a schema registry (byte 0x00 and
// the 4-byte ID of the writer's schema, then one Avro datum in binary encoding). The reader
// finds the policy's paths in one pass over the datum with the writer's schema (record fields
// by name, array items by index, map values by key; a union is the value of its branch), and
// the writer re-encodes only what the edits touch, for the schema the policy derives from the
// writer's (avro_policy_schema.h): a dropped field's bytes are left out, a masked number is
// written as a string. Everything else is copied byte for byte.
//
// Values as predicates and transforms see them: null, boolean, numbers (int, long, float,
// double, with their decimal text), strings, enums as their symbol (a string), bytes and fixed
// as bytes, records and maps as objects and arrays as arrays (their encoded bytes).
//
// The writer's schema comes from a table the control plane fills (AvroShapes): on a link, the
// schema service derives each writer schema's shape when it first translates its ID, before
// any record naming it passes the ID-translation stage. Since that stage rewrites the prefix
// to the target's ID, the stage names the writer's schema from the source record
// (selectWriter()).

#include "common/result.h"
#include "policies/avro_policy_schema.h"
#include "policies/path_trie.h"
#include "policies/payload_format.h"
#include "policies/shape_table.h"
#include "schema/avro_model.h"

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace causeway::policies {

// One writer schema as the reader needs it.
struct AvroShape {
  schema::AvroModelPtr writer;
  AvroPolicySchema derived;  // what the policy's rules make of it
};
using AvroShapePtr = std::shared_ptr<const AvroShape>;

// Parses the writer's schema (after the texts of its references) and derives the policy's
// shape of it. An error when the text is not an Avro schema.
Result<AvroShapePtr> makeAvroShape(std::string_view writer_text,
                                   const std::vector<std::string_view>& references,
                                   const std::vector<TransformRule>& rules, size_t slot_count);

// (source topic, writer schema ID) -> shape (shape_table.h).
using AvroShapes = ShapeTable<AvroShape>;

class AvroReader : public WriterSchemaReader {
public:
  AvroReader(const std::vector<ReaderPath>& paths, std::shared_ptr<const AvroShapes> shapes);

  // The writer's schema for the next read(): the one `source_payload` (the record of `topic` as
  // the source cluster has it) names in its prefix. A payload without an ID prefix, or a record
  // whose schema ID is in a header (`id_in_header`: the payload is a bare datum whose first
  // bytes are no ID), leaves no schema selected, and read() says why.
  void selectWriter(std::string_view topic, std::optional<std::string_view> source_payload,
                    bool id_in_header) override;
  // The derivation's problems for the selected schema (empty when its records can be edited).
  const std::vector<std::string>* shapeProblems() const override;

  bool read(std::string_view payload, std::string& problem) override;
  // After read(): whether the record must be written again even without edits (it holds a
  // field whose type the derived schema changes or that it leaves out).
  bool rewritesUnedited() const override { return retyped_; }
  std::span<const FieldOccurrence> occurrences() const override { return occurrences_; }
  bool write(std::span<const FieldEdit> edits, std::string_view arena, std::string& out,
             std::string& problem) override;

private:
  struct Location {
    uint32_t begin = 0;  // the value, with its union branch index
    uint32_t end = 0;
  };
  struct Splice {
    uint32_t begin = 0;
    uint32_t end = 0;
    uint32_t occurrence = 0;
    const FieldEdit* edit = nullptr;  // null: the occurrence's own value, re-encoded
    // >= 0: an array or map block header (count and byte size) written again as this count
    // alone, since edits inside the block change its size.
    int64_t block_count = -1;
  };
  struct BlockHeader {
    uint32_t begin = 0;
    uint32_t end = 0;
    int64_t count = 0;
  };

  bool walk(const schema::AvroNode& type, int32_t trie, std::string& problem);
  bool skip(const schema::AvroNode& type, std::string& problem);
  bool varint(int64_t& out, const char* what, std::string& problem);
  // A varint that must be an index below `count` (a union branch, an enum symbol).
  bool index(size_t count, const char* what, size_t& out, std::string& problem);
  // The decimal text of the number the next occurrence holds (views are set after the walk).
  void addNumberText(std::string_view text);
  void addOccurrence(uint16_t slot, uint32_t begin, FieldValue value);
  bool encode(const Splice& splice, std::string_view arena, std::string& out,
              std::string& problem) const;

  PathTrie trie_;
  WriterSelection<AvroShape> selection_;
  const AvroShape* shape_ = nullptr;
  bool retyped_ = false;

  std::string_view payload_;
  std::string_view datum_;
  size_t pos_ = 0;
  uint64_t empty_items_ = 0;  // array and map items of no bytes in this datum
  std::vector<FieldOccurrence> occurrences_;
  std::vector<Location> locations_;
  // Number texts, referred to by (occurrence, offset, size) until the walk ends.
  std::string numbers_;
  std::vector<std::pair<uint32_t, std::pair<uint32_t, uint32_t>>> number_texts_;
  std::vector<Splice> splices_;
  std::vector<bool> edited_;         // write(): by occurrence, whether an edit touches it
  std::vector<BlockHeader> blocks_;  // sized block headers on the paths walked
};

}  // namespace causeway::policies
