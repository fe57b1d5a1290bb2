#pragma once

// Egress test helpers: a configuration with one product and partners over an embedded cluster,
// a masking test stage (what a partner policy does to a field), and an SSE client on a raw
// socket that can read slowly, resume and time out.

#include "config/config.h"
#include "egress/sse.h"
#include "egress/stages.h"
#include "tests/support/test_support.h"

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace causeway::testing {

inline constexpr const char* kProduct = "payments.authorized.v1";
inline constexpr const char* kTopic = "payments.authorized";
inline constexpr const char* kAcmeToken = "acme-token-0123456789abcdef";
inline constexpr const char* kGlobexToken = "globex-token-0123456789abcdef";

// A config with cluster "east" (bootstrap), product kProduct over kTopic (headers: seq), and
// partners "acme" (policy "mask-pad", token kAcmeToken as "acme-1") and "globex" (no policy,
// kGlobexToken, no products except kProduct, max 2 connections). Files go to `dir`. egress
// listens on 127.0.0.1:0.
config::Config makeEgressConfig(const std::string& bootstrap, const std::string& dir);

// Gives kTopic a JSON Schema contract (domain "payments") served by a local catalog in
// `dir`/catalog as subject "payments.authorized-value", schema ID 7 (cluster "east" names the
// catalog as its registry), and defines policy "mask-pad" the way the listing reads it: mask
// value.card.number, drop value.internal_notes, hash value.customer.emial (a path the schema
// lacks), headers allowed: seq, traceparent.
void addPaymentsContract(config::Config& config, const std::string& dir);

// The stage factory of the tests: partner policy "mask-pad" replaces the value's "pad" field
// with "MASKED" (what a policy's mask transform does); any other policy name is refused.
// The filter factory accepts "seq-even" (passes records whose seq header is even) and
// refuses anything else.
egress::PartnerStageFactory testStageFactory();
egress::FilterFactory testFilterFactory();

// An SSE client over one HTTP/1.1 connection.
class SseClient {
public:
  struct Options {
    std::string host = "127.0.0.1";
    int port = 0;
    std::string path;
    std::string method = "GET";
    std::map<std::string, std::string> headers;  // Authorization, Last-Event-ID, ...
    int receive_buffer = 0;                      // SO_RCVBUF when > 0 (a slow client)
  };
  explicit SseClient(Options options);
  ~SseClient();
  SseClient(const SseClient&) = delete;
  SseClient& operator=(const SseClient&) = delete;

  // Connects and reads the response head; false with error() on failure.
  bool connect(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  int status() const { return status_; }
  const std::map<std::string, std::string>& responseHeaders() const { return response_headers_; }
  // The body read so far of a non-streaming (or ended) response.
  const std::string& body() const { return body_; }

  // Reads until `count` events in total arrived, the stream ended, or `timeout` passed.
  // Returns the number of events.
  size_t readEvents(size_t count, std::chrono::milliseconds timeout);
  // Reads until the server closes the connection or `timeout` passes. True if closed.
  bool readToEnd(std::chrono::milliseconds timeout);
  const std::vector<egress::SseEvent>& events() const { return events_; }
  // The last id the stream gave, with or without an event (what an EventSource resumes from).
  const std::string& lastEventId() const { return parser_.lastEventId(); }
  size_t comments() const { return parser_.comments(); }
  bool closed() const { return closed_; }
  void close();
  const std::string& error() const { return error_; }

private:
  bool readSome(std::chrono::milliseconds timeout);

  Options options_;
  int fd_ = -1;
  int status_ = 0;
  std::map<std::string, std::string> response_headers_;
  std::string body_;
  bool chunked_ = false;
  std::string chunk_buffer_;
  std::vector<egress::SseEvent> events_;
  egress::SseParser parser_;
  bool closed_ = false;
  std::string error_;
};

// A plain HTTP GET (one request per connection): status, headers and body.
struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};
HttpResponse httpGet(int port, const std::string& path,
                     const std::map<std::string, std::string>& headers = {},
                     const std::string& method = "GET");

}  // namespace causeway::testing

namespace causeway::testing {

// Debian's Pushpin (and the zurl it proxies through) started unprivileged for a test, on free
// ports, from a copy of /etc/pushpin/pushpin.conf, routing every request to `origin_port`.
class PushpinProcess {
public:
  // Starts and waits until it accepts connections; null with a gtest failure on error.
  // `settings`: pushpin.conf keys to set (e.g. {"message_hwm", "10"}) over the test defaults.
  static std::unique_ptr<PushpinProcess>
  start(const std::string& dir, int origin_port,
        const std::map<std::string, std::string>& settings = {});
  ~PushpinProcess();

  int httpPort() const { return http_port_; }
  std::string publishUrl() const;
  const std::string& sigKeyFile() const { return sig_key_file_; }
  // Lines of the handler's log containing `text` ("subscribe " counts held connections).
  size_t handlerLogCount(const std::string& text) const;

private:
  PushpinProcess() = default;
  static std::unique_ptr<PushpinProcess>
  startOnce(const std::string& dir, int origin_port,
            const std::map<std::string, std::string>& settings, bool last_attempt, bool& exited);
  std::string dir_;
  int http_port_ = 0;
  int publish_port_ = 0;
  std::string sig_key_file_;
  std::unique_ptr<ChildProcess> zurl_;
  std::unique_ptr<ChildProcess> pushpin_;
};

}  // namespace causeway::testing
