#include "egress/sse_stream.h"

#include "egress/event_json.h"
#include "egress/sse.h"
#include "egress/stream_hub.h"

namespace causeway::egress {
namespace {

// Writes events as SSE into the connection's buffer.
class SseSink : public EventSink {
public:
  explicit SseSink(std::string& out) : out_(out) {}
  void add(const EventRef& event) override {
    // Event JSON is one line (event_json.h) and tokens are base64url: no framing work needed.
    out_ += "id: ";
    out_ += event.id;
    out_ += "\ndata: ";
    out_ += event.data;
    out_ += "\n\n";
  }

private:
  std::string& out_;
};

} // namespace

std::string errorEventData(const Subscription& subscription, const std::string& token) {
  std::string data = "{\"reason\":";
  appendJsonString(data, toString(subscription.endReason()));
  data += ",\"message\":";
  appendJsonString(data, subscription.endDetail());
  data += ",\"resume_token\":";
  appendJsonString(data, token);
  data += '}';
  return data;
}

SseStream::SseStream(std::unique_ptr<Subscription> subscription, StreamHub& hub, StreamAudit audit,
                     long retry_ms)
    : subscription_(std::move(subscription)),
      hub_(hub),
      audit_(std::move(audit)),
      retry_ms_(retry_ms) {}

SseStream::~SseStream() {
  audit_.finish(hub_, *subscription_, bytes_);
}

StreamBody::Pull SseStream::pull(std::string& out, size_t budget,
                                 const std::function<void()>& wake) {
  const size_t before = out.size();
  if (!started_) {
    started_ = true;
    appendSseRetry(out, retry_ms_);
    // Where the stream starts, as the client's last event id (an id field alone dispatches no
    // event): a stream that ends before its first event resumes from there, not from the live
    // edge of a later moment.
    if (const std::string& token = subscription_->token(); !token.empty()) {
      appendSseId(out, token);
    }
  }
  SseSink sink(out);
  const Subscription::Pull result = subscription_->pull(sink, budget, wake);
  if (result == Subscription::Pull::kEnded) {
    appendError(out);
  }
  bytes_ += out.size() - before;
  switch (result) {
    case Subscription::Pull::kData:
      return Pull::kData;
    case Subscription::Pull::kIdle:
      return Pull::kIdle;
    case Subscription::Pull::kEnded:
      break;
  }
  return Pull::kEnded;
}

void SseStream::appendError(std::string& out) {
  const std::string token = subscription_->token();
  appendSseEvent(out, "error", token, errorEventData(*subscription_, token));
}

void SseStream::heartbeat(std::string& out) {
  appendSseComment(out, "heartbeat");
  bytes_ += 13;
}

void SseStream::shutdown(std::string& out) {
  subscription_->end(EndReason::kShutdown, "the server is stopping; resume with the token");
  const size_t before = out.size();
  appendError(out);
  bytes_ += out.size() - before;
}

void SseStream::clientGone(bool write_timeout) {
  subscription_->end(write_timeout ? EndReason::kWriteTimeout : EndReason::kClientGone);
}

} // namespace causeway::egress
