#pragma once

// The JSON of one product event, as partners receive it in SSE `data:` lines and gRPC events:
//   {"topic":"payments.authorized","partition":0,"offset":17,"timestamp":1700000000123,
//    "key":"card-42","value":{...},"headers":{"trace-id":"abc"}}
// - value: JSON values pass as JSON (line breaks, which JSON allows only as whitespace, become
//   spaces so the event is one SSE line); other UTF-8 text becomes a JSON string; other bytes
//   become "value_base64" (standard base64); a tombstone is "value": null.
// - key: a JSON string for UTF-8 text, "key_base64" otherwise, null for a null key.
// - headers: only the product's selected headers, after the partner's policy; the same
//   text/base64 rule ("headers_base64" for the binary ones); a null header value is null.
// - timestamp: milliseconds since the Unix epoch, or null when the record has none.

#include "common/json_string.h"
#include "pipeline/record.h"

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace causeway::egress {

// Encodes events. Holds a JSON validator's buffers, reused from record to record: one per
// thread.
class EventJsonEncoder {
public:
  EventJsonEncoder();
  ~EventJsonEncoder();
  EventJsonEncoder(const EventJsonEncoder&) = delete;
  EventJsonEncoder& operator=(const EventJsonEncoder&) = delete;

  // Replaces `out` with the event JSON of `record` (after the stages).
  void encode(const pipeline::Record& record, const std::vector<std::string>& header_names,
              std::string& out);

  // Whether `bytes` is one complete JSON value.
  bool isJson(std::string_view bytes);

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

} // namespace causeway::egress
