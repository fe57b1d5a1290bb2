#pragma once

// A product stream as a text/event-stream body: `retry:` first, one event per record
// (`id:` = resume token, `data:` = event JSON), `: heartbeat` comments on idle streams, and,
// when the server ends the stream, an `event: error` naming the reason with the resume token
// (as `id:` and in the data) so the client continues exactly there.

#include "egress/http_server.h"
#include "egress/stream_audit.h"
#include "egress/subscription.h"

#include <memory>

namespace causeway::egress {

class StreamHub;

class SseStream : public StreamBody {
public:
  SseStream(std::unique_ptr<Subscription> subscription, StreamHub& hub, StreamAudit audit,
            long retry_ms);
  ~SseStream() override;

  Pull pull(std::string& out, size_t budget, const std::function<void()>& wake) override;
  void heartbeat(std::string& out) override;
  void shutdown(std::string& out) override;
  void clientGone(bool write_timeout) override;

private:
  void appendError(std::string& out);

  std::unique_ptr<Subscription> subscription_;
  StreamHub& hub_;
  StreamAudit audit_;
  long retry_ms_;
  bool started_ = false;
  uint64_t bytes_ = 0;
};

// The data of an `event: error`: {"reason": ..., "message": ..., "resume_token": ...}.
std::string errorEventData(const Subscription& subscription, const std::string& token);

} // namespace causeway::egress
