#pragma once

// JSON payloads for policies: a strict RFC 8259 reader that finds the policy's paths in one pass
// without building a document, and a writer that splices the edits into the original bytes.
// Everything a policy does not touch stays byte for byte as it was (whitespace, number
// spelling, member order), and nothing is parsed twice.
//
// Strict, because what the partner's reader understands must be what the policy saw: invalid
// UTF-8, control characters in strings, trailing commas, comments, NaN, leading zeros and
// nesting deeper than kMaxJsonDepth are refused (the record is a violation). Member names are
// compared after resolving escapes ("c\u0061rd" is "card"), and a duplicate member name is
// transformed at every occurrence.
//
// A payload may start with a schema registry's prefix, as Confluent's JSON Schema serializer
// writes it (0x00 and a 4-byte schema ID, or 0x01 and a 16-byte GUID): the JSON after it is
// read, and the prefix is written back unchanged.

#include "policies/path_trie.h"
#include "policies/payload_format.h"

#include <string>
#include <vector>

namespace causeway::policies {

inline constexpr int kMaxJsonDepth = 256;
// The schema registry prefixes (schema/wire_format.h has the full wire format).
inline constexpr size_t kIdPrefixSize = 5;
inline constexpr size_t kGuidPrefixSize = 17;

class JsonReader : public PayloadReader {
public:
  explicit JsonReader(const std::vector<ReaderPath>& paths);

  bool read(std::string_view payload, std::string& problem) override;
  std::span<const FieldOccurrence> occurrences() const override { return occurrences_; }
  bool write(std::span<const FieldEdit> edits, std::string_view arena, std::string& out,
             std::string& problem) override;

private:
  // Where an occurrence is, for edits.
  struct Location {
    uint32_t begin = 0;        // the item: a member's name, or an element's value
    uint32_t value_begin = 0;  // the value
    uint32_t end = 0;          // after the value
    uint32_t sep_before = 0;   // the ',' before the item; kNone for the first item
    uint32_t next_begin = 0;   // the next item of the container; kNone for the last
    uint32_t container = 0;    // the container holding the item; kNone for the top value
    uint32_t position = 0;     // the item's position in its container
    // When the value itself is an object: where a new member goes.
    uint32_t self_container = 0;  // kNone unless the value is an object
    uint32_t last_item_end = 0;   // kNone when the object is empty
  };
  struct Container {
    uint32_t open = 0;
    uint32_t items = 0;
  };
  static constexpr uint32_t kNone = 0xFFFFFFFFu;

  bool fail(std::string& problem, const char* what);
  void skipSpace();
  bool parseValue(int32_t node, int depth, Location& at, FieldValue& value, std::string& problem);
  bool parseObject(int32_t node, int depth, Location& at, std::string& problem);
  bool parseArray(int32_t node, int depth, Location& at, std::string& problem);
  // Scans a string whose opening quote is at p_; `decoded` gets its content (a view of the
  // payload, or of scratch when it had escapes) when `decode` is set.
  bool parseString(bool decode, std::string& scratch, std::string_view& decoded,
                   std::string& problem);
  bool parseNumber(bool convert, FieldValue& value, std::string& problem);
  bool parseLiteral(std::string_view word, std::string& problem);

  PathTrie trie_;
  const char* begin_ = nullptr;
  const char* p_ = nullptr;
  const char* end_ = nullptr;
  std::string scratch_;      // decoded strings of this record (reserved to the payload's size)
  std::string key_scratch_;  // a member name with escapes, decoded for comparison
  std::vector<FieldOccurrence> occurrences_;
  std::vector<Location> locations_;
  std::vector<Container> containers_;
  // write(): byte ranges to replace, reused.
  struct Splice {
    uint32_t begin;
    uint32_t end;
    uint32_t edit;  // index into the edits; kNone: a bare removal
    uint8_t form;   // 0: value, 1: ",\"name\":value", 2: "\"name\":value"
  };
  std::vector<Splice> splices_;
  std::vector<uint32_t> removed_per_container_;
  std::vector<uint32_t> order_;
};

// True when `text` is exactly one valid JSON value (for `set` constants and tests).
bool isValidJson(std::string_view text);

}  // namespace causeway::policies
