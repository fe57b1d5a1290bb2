#include "egress/event_json.h"

#include "common/base64.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>

namespace causeway::egress {

struct EventJsonEncoder::Impl {
  simdjson::dom::parser parser;
};

EventJsonEncoder::EventJsonEncoder() : impl_(std::make_unique<Impl>()) {}
EventJsonEncoder::~EventJsonEncoder() = default;

bool EventJsonEncoder::isJson(std::string_view bytes) {
  if (bytes.empty()) {
    return false;
  }
  return !impl_->parser.parse(bytes.data(), bytes.size(), true).error();
}

namespace {

// "name":<text or base64>; `base64_name` is used for bytes that are not UTF-8.
void appendBytes(std::string& out, std::string_view name, std::string_view base64_name,
                 std::optional<std::string_view> bytes) {
  if (bytes && !simdjson::validate_utf8(bytes->data(), bytes->size())) {
    appendJsonString(out, base64_name);
    out += ":\"";
    appendBase64(out, *bytes);
    out += '"';
    return;
  }
  appendJsonString(out, name);
  out += ':';
  if (!bytes) {
    out += "null";
  } else {
    appendJsonString(out, *bytes);
  }
}

void appendNumber(std::string& out, int64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, static_cast<size_t>(end - buf));
}

} // namespace

void EventJsonEncoder::encode(const pipeline::Record& record,
                              const std::vector<std::string>& header_names, std::string& out) {
  const pipeline::RecordView& source = record.source();
  out.clear();
  out += "{\"topic\":";
  appendJsonString(out, source.topic);
  out += ",\"partition\":";
  appendNumber(out, source.partition);
  out += ",\"offset\":";
  appendNumber(out, source.offset);
  out += ",\"timestamp\":";
  if (record.timestamp() >= 0) {
    appendNumber(out, record.timestamp());
  } else {
    out += "null";
  }
  out += ',';
  appendBytes(out, "key", "key_base64", record.key());
  out += ',';
  const auto value = record.value();
  if (value && isJson(*value)) {
    out += "\"value\":";
    const size_t start = out.size();
    out.append(*value);
    // JSON allows CR and LF only as whitespace: as spaces the event stays one SSE line.
    std::replace_if(
        out.begin() + static_cast<std::ptrdiff_t>(start), out.end(),
        [](char c) { return c == '\n' || c == '\r'; }, ' ');
  } else {
    appendBytes(out, "value", "value_base64", value);
  }
  if (!header_names.empty()) {
    std::string binary;
    bool any = false;
    bool any_binary = false;
    out += ",\"headers\":{";
    record.forEachHeader([&](std::string_view name, std::optional<std::string_view> v) {
      if (std::find(header_names.begin(), header_names.end(), name) == header_names.end()) {
        return;
      }
      if (v && !simdjson::validate_utf8(v->data(), v->size())) {
        binary += any_binary ? "," : "";
        appendJsonString(binary, name);
        binary += ":\"";
        appendBase64(binary, *v);
        binary += '"';
        any_binary = true;
        return;
      }
      out += any ? "," : "";
      appendJsonString(out, name);
      out += ':';
      if (v) {
        appendJsonString(out, *v);
      } else {
        out += "null";
      }
      any = true;
    });
    out += '}';
    if (any_binary) {
      out += ",\"headers_base64\":{";
      out += binary;
      out += '}';
    }
  }
  out += '}';
}

} // namespace causeway::egress
