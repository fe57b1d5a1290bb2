// libFuzzer target for the schema wire-format parser (schema/wire_format.h), which reads the
// first bytes of every key and value on a link with contracts or ID translation, and the
// `__key_schema_id` / `__value_schema_id` header values. Any bytes give a frame or an error
// with a message, never a crash. An accepted frame stays inside the bytes, written back it
// parses to the same schema and message indexes, and an ID rewrite changes only the ID.

#include "schema/wire_format.h"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using causeway::schema::appendPrefix;
using causeway::schema::Frame;
using causeway::schema::FrameError;
using causeway::schema::parseFrame;
using causeway::schema::parseHeaderId;

void check(bool condition) {
  if (!condition) {
    std::abort();
  }
}

void roundTrip(std::string_view bytes, bool protobuf) {
  Frame frame;
  FrameError error;
  if (!parseFrame(bytes, protobuf, frame, error)) {
    check(!error.describe().empty());
    return;
  }
  check(frame.prefix_size <= bytes.size());
  check(protobuf == (frame.indexes.size > 0));
  std::string written;
  appendPrefix(written, frame.schema, frame.indexes);
  Frame again;
  check(parseFrame(written, protobuf, again, error));
  check(again.schema == frame.schema);
  check(again.indexes == frame.indexes);
  check(again.prefix_size == written.size());
  // The header form of the same prefix is exactly the prefix.
  check(parseHeaderId(written, protobuf, again, error));
  check(again.prefix_size == 0 && again.schema == frame.schema);
  if (!frame.schema.isGuid()) {
    std::string rewritten;
    causeway::schema::rewriteId(bytes, frame.schema.id ^ 0x5a5a5a5au, rewritten);
    check(rewritten.size() == bytes.size());
    check(rewritten.compare(5, std::string::npos, bytes.substr(5)) == 0);
    check(parseFrame(rewritten, protobuf, again, error));
    check(again.schema.id == (frame.schema.id ^ 0x5a5a5a5au));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  roundTrip(bytes, false);
  roundTrip(bytes, true);
  Frame frame;
  FrameError error;
  for (bool protobuf : {false, true}) {
    if (parseHeaderId(bytes, protobuf, frame, error)) {
      check(frame.prefix_size == 0);
    } else {
      check(!error.describe().empty());
    }
  }
  return 0;
}
