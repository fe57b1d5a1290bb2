#include "egress/sse.h"

#include <charconv>
#include <cstring>

namespace causeway::egress {
namespace {

void appendField(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ": ";
  for (const char c : value) {
    if (c != '\r' && c != '\n' && c != '\0') {
      out += c;
    }
  }
  out += '\n';
}

// The first CR or LF at or after `start`, or npos. Two memchr calls instead of
// find_first_of, which tests each byte against the set one at a time: this runs over every
// event's data for every client.
size_t nextLineBreak(std::string_view data, size_t start) {
  const char* from = data.data() + start;
  const size_t n = data.size() - start;
  const auto* lf = static_cast<const char*>(std::memchr(from, '\n', n));
  const size_t limit = lf != nullptr ? static_cast<size_t>(lf - from) : n;
  if (const auto* cr = static_cast<const char*>(std::memchr(from, '\r', limit)); cr != nullptr) {
    return start + static_cast<size_t>(cr - from);
  }
  return lf != nullptr ? start + limit : std::string_view::npos;
}

} // namespace

void appendSseEvent(std::string& out, std::string_view type, std::string_view id,
                    std::string_view data) {
  if (!type.empty()) {
    appendField(out, "event", type);
  }
  if (!id.empty()) {
    appendField(out, "id", id);
  }
  size_t start = 0;
  while (true) {
    const size_t end = nextLineBreak(data, start);
    out += "data: ";
    if (end == std::string_view::npos) {
      out.append(data.substr(start));
      out += '\n';
      break;
    }
    out.append(data.substr(start, end - start));
    out += '\n';
    start = end + 1;
    if (data[end] == '\r' && start < data.size() && data[start] == '\n') {
      ++start;
    }
  }
  out += '\n';
}

void appendSseComment(std::string& out, std::string_view text) {
  out += ": ";
  for (const char c : text) {
    out += (c == '\r' || c == '\n') ? ' ' : c;
  }
  out += '\n';
}

void appendSseId(std::string& out, std::string_view id) {
  appendField(out, "id", id);
  out += '\n';
}

void appendSseRetry(std::string& out, long milliseconds) {
  out += "retry: ";
  out += std::to_string(milliseconds < 0 ? 0 : milliseconds);
  out += "\n\n";
}

bool SseParser::feed(std::string_view bytes) {
  if (failed_) {
    return false;
  }
  if (!bom_checked_) {
    // A UTF-8 byte order mark may start the stream; it is not part of the first line.
    constexpr std::string_view kBom = "\xEF\xBB\xBF";
    head_.append(bytes);
    const size_t n = std::min(head_.size(), kBom.size());
    if (head_.size() < kBom.size() && std::string_view(head_).substr(0, n) == kBom.substr(0, n)) {
      return true;  // too few bytes to tell yet
    }
    bom_checked_ = true;
    const std::string head = std::move(head_);
    std::string_view view(head);
    if (view.substr(0, kBom.size()) == kBom) {
      view.remove_prefix(kBom.size());
    }
    return feedLines(view);
  }
  return feedLines(bytes);
}

bool SseParser::feedLines(std::string_view bytes) {
  size_t start = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    const char c = bytes[i];
    if (c == '\n' && after_cr_ && i == 0 && pending_.empty()) {
      after_cr_ = false;
      start = 1;
      continue;
    }
    after_cr_ = false;
    if (c == '\r' || c == '\n') {
      pending_.append(bytes.substr(start, i - start));
      line(pending_);
      pending_.clear();
      if (c == '\r') {
        if (i + 1 < bytes.size()) {
          if (bytes[i + 1] == '\n') {
            ++i;
          }
        } else {
          after_cr_ = true;
        }
      }
      start = i + 1;
    }
  }
  pending_.append(bytes.substr(start));
  if (pending_.size() > max_line_bytes_) {
    failed_ = true;
    pending_.clear();
    return false;
  }
  return true;
}

void SseParser::line(std::string_view line) {
  if (line.empty()) {
    if (has_data_) {
      if (!data_.empty() && data_.back() == '\n') {
        data_.pop_back();
      }
      SseEvent event{type_.empty() ? "message" : type_, last_id_, std::move(data_)};
      on_event_(event);
    }
    data_.clear();
    has_data_ = false;
    type_.clear();
    return;
  }
  if (line.front() == ':') {
    ++comments_;
    return;
  }
  std::string_view name = line;
  std::string_view value;
  if (const size_t colon = line.find(':'); colon != std::string_view::npos) {
    name = line.substr(0, colon);
    value = line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') {
      value.remove_prefix(1);
    }
  }
  if (name == "data") {
    data_.append(value);
    data_ += '\n';
    has_data_ = true;
  } else if (name == "event") {
    type_ = value;
  } else if (name == "id") {
    if (value.find('\0') == std::string_view::npos) {
      last_id_ = value;
    }
  } else if (name == "retry") {
    long ms = 0;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), ms);
    if (ec == std::errc() && p == value.data() + value.size() && !value.empty()) {
      retry_ = ms;
    }
  }
}

} // namespace causeway::egress
