#pragma once

// Fan-out through Pushpin (GRIP): clients connect to Pushpin, Pushpin asks egress, egress answers
// with a hold instruction (Grip-Hold: stream) on the channel of the (product, partner), and
// every event of that pair is published once to Pushpin, which writes it to all held clients.
// Thousands of clients then cost Pushpin connections, not Causeway reads or sockets.
//
// Items: each published item holds the SSE text of several events (up to 64 KiB), because
// Pushpin keeps at most 100 items per connection it cannot write yet and drops the rest.
//
// Reliability: an item carries id = the resume token after its last event and prev-id = the
// previous item's id, and holds name the last id the client has (Grip-Channel: ...; prev-id=).
// When Pushpin sees a gap (an item whose prev-id is not the client's last id: published while
// the hold was being set up, or dropped by Pushpin's queue or publish limiter), it asks the
// next link (Grip-Link) with Grip-Last, and egress answers with the missing events (pages of
// max_initial_bytes, the next one asked a second later) and a new hold: no gap, no repeat.

#include "common/result.h"
#include "config/config.h"
#include "egress/crypto.h"
#include "egress/partner_auth.h"

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace causeway::egress {

class StreamHub;
class Subscription;

// The Pushpin channel of a (partner, product): "causeway:<partner>:<product>".
std::string gripChannel(const std::string& partner, const std::string& product);

// Parses "Grip-Last: <channel>; last-id=<id>" (one or more channels, comma-separated) and
// returns the last id of `channel`.
std::optional<std::string> gripLastId(std::string_view header, std::string_view channel);

// Signed session parameters for the next links of held streams: Pushpin's recovery requests
// do not carry the client's credentials, so the link names the identity, signed by the worker.
class GripSessions {
public:
  explicit GripSessions(std::string_view secret);
  std::string encode(const Identity& who, std::string_view product) const;
  // The identity, when the session was signed by this worker for `product`.
  std::optional<Identity> decode(std::string_view session, std::string_view product) const;

private:
  HmacSha256 mac_;
};

// Publishes every event of the (product, partner) streams that clients hold through Pushpin.
// One thread per pair, started by the first hold (ensure()) and running until stop(). Each
// reads the shared live tail like any client (a Subscription from the live edge) and posts
// batches to Pushpin's publish endpoint, retrying on failure. Thread-safe.
class PushpinPublisher {
public:
  PushpinPublisher(const config::PushpinConfig& config, StreamHub& hub);
  ~PushpinPublisher();  // stop()

  // Starts the pair's publisher if it does not run; an error when the stream cannot be opened.
  Status ensure(const std::string& partner, const std::string& product);
  void stop();

  struct Stats {
    uint64_t items = 0;
    uint64_t posts = 0;
    uint64_t errors = 0;
  };
  std::map<std::pair<std::string, std::string>, Stats> stats();

private:
  struct Channel;
  void run(Channel& channel);

  const config::PushpinConfig& config_;
  StreamHub& hub_;
  std::string host_;
  int port_ = 0;
  std::string path_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::map<std::pair<std::string, std::string>, std::unique_ptr<Channel>> channels_;
};

}  // namespace causeway::egress
