#pragma once

// An Avro datum as plain JSON, for readers that know no Avro (partner egress streams and the
// policies that edit JSON), in the shape of the contract's schema: the datum is read with the
// writer's schema and resolved to the contract's as the Avro specification resolves a reader
// schema (fields matched by name or the reader's aliases and named as the reader names them,
// the writer's extra fields left out, the reader's missing fields given their defaults, enum
// symbols the reader lacks replaced by its default, numbers promoted). Without a contract
// schema the writer's own shape is used. The JSON is the data's, not Avro's JSON encoding:
//  - records and maps are objects, arrays are arrays, enums are their symbol as a string;
//  - a union is the value of its branch, unwrapped (Avro's encoding would write
//    {"string": "x"}); a null branch is null;
//  - int and long are numbers (a long beyond 2^53 loses precision in JavaScript readers);
//    float and double are numbers, except NaN and the infinities, which become the strings
//    "NaN", "Infinity" and "-Infinity" (as the Protobuf JSON mapping writes them);
//  - bytes and fixed are standard base64 strings;
//  - logical types are written as their underlying type (a decimal's bytes, a
//    timestamp-millis' long).
// Immutable once made and shared by threads; append() allocates nothing beyond `out`'s growth
// and does no I/O.

#include "common/result.h"
#include "schema/avro_model.h"

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace causeway::schema {

class AvroJsonShape {
public:
  // `reader` null: the writer's shape. An error when the writer's schema does not resolve to
  // the reader's or a default of the reader's does not fit its field's type.
  static Result<std::shared_ptr<const AvroJsonShape>> make(AvroModelPtr writer,
                                                           AvroModelPtr reader);

  // Appends the JSON of the one datum `bytes` holds. Meant for bytes walkAvro() accepted; on
  // other bytes, or when the JSON would grow beyond 64 times the datum plus 1 MiB, it returns
  // false with `problem` set and `out` partly written.
  bool append(std::string_view bytes, std::string& out, std::string& problem) const;

private:
  friend class AvroShapePlanner;
  friend class AvroJsonWriter;
  using Pair = std::pair<const AvroNode*, const AvroNode*>;  // (writer, reader)
  struct RecordPlan {
    // Per writer field: the reader's field it becomes, or null (left out).
    std::vector<const AvroNode::Field*> reader_fields;
    // `"name":<default>` of each reader field the writer lacks, joined by commas.
    std::string defaults;
  };

  AvroModelPtr writer_;
  AvroModelPtr reader_;
  std::map<Pair, RecordPlan> records_;
  // A writer union read as `reader`: the reader schema of each writer branch.
  std::map<Pair, std::vector<const AvroNode*>> unions_;
  // A writer type read as a reader union: the branch it resolves to.
  std::map<Pair, const AvroNode*> branches_;
  // Writer enum symbol index -> reader symbol (an index into the reader's symbols), or -1.
  std::map<Pair, std::vector<int>> enums_;
};

}  // namespace causeway::schema
