#pragma once

// Server-Sent Events framing (the WHATWG HTML "event stream" format): what egress writes on
// text/event-stream responses, and a parser for clients (tests, benchmarks, `causeway products
// follow`).

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace causeway::egress {

// Appends one event: `event:` when `type` is not empty, `id:` when `id` is not empty, then the
// data, one `data:` line per line of `data` (split at CRLF, CR and LF, which a client joins back
// with LF), then the blank line that dispatches it. `type` and `id` must not contain CR, LF or
// NUL (callers pass names and base64url tokens); such characters are dropped rather than break
// the framing.
void appendSseEvent(std::string& out, std::string_view type, std::string_view id,
                    std::string_view data);
// A comment line (": text"); clients ignore it. Heartbeats keep idle connections and proxies
// alive. Line breaks in `text` become spaces.
void appendSseComment(std::string& out, std::string_view text);
// An `id:` field alone, then the blank line. With no data it dispatches no event but sets the
// client's last event id (the SSE specification): where a stream starts, so one that ends
// before its first event resumes there. CR, LF and NUL in `id` are dropped.
void appendSseId(std::string& out, std::string_view id);
// The reconnection delay hint browsers use after a lost connection.
void appendSseRetry(std::string& out, long milliseconds);

// One dispatched event.
struct SseEvent {
  std::string type;  // "message" when the stream did not name one
  std::string id;    // the last event id (carried over from earlier events, as in browsers)
  std::string data;
};

// Incremental parser of an event stream, as browsers read it: any chunking of the input gives
// the same events. Comments are counted; `retry:` is remembered. Lines longer than
// `max_line_bytes` are an error (a stream that never sends a newline must not grow memory
// without bound).
class SseParser {
public:
  using OnEvent = std::function<void(const SseEvent&)>;

  explicit SseParser(OnEvent on_event, size_t max_line_bytes = 16u << 20)
      : on_event_(std::move(on_event)), max_line_bytes_(max_line_bytes) {}

  // False once a line was too long (the parser then ignores further input).
  bool feed(std::string_view bytes);

  size_t comments() const { return comments_; }
  std::optional<long> retry() const { return retry_; }
  const std::string& lastEventId() const { return last_id_; }
  bool failed() const { return failed_; }

private:
  bool feedLines(std::string_view bytes);
  void line(std::string_view line);

  OnEvent on_event_;
  size_t max_line_bytes_;
  std::string pending_;    // an incomplete line
  bool after_cr_ = false;  // the previous chunk ended with CR: a following LF is part of it
  bool bom_checked_ = false;
  std::string head_;  // the first bytes, until the BOM question is settled
  std::string data_;
  bool has_data_ = false;
  std::string type_;
  std::string last_id_;
  size_t comments_ = 0;
  std::optional<long> retry_;
  bool failed_ = false;
};

} // namespace causeway::egress
