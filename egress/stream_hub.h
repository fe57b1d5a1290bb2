#pragma once

// Where every product stream of a worker starts: checks what a partner may read, enforces the
// connection limits, resolves the client's start (resume token, ?from=), and puts the client on
// the shared live tail of its (product, partner) or, when it is too far behind, on a bounded
// catch-up reader first. Keeps the counters behind egress metrics and the products listing.
//
// Lifecycle: construct with the configuration (which must outlive the hub), open() from any
// thread, stop() ends every stream (kShutdown) and waits for the readers. Tails start on the
// first client of a (product, partner) and stop `tail_linger` after the last one left.

#include "common/result.h"
#include "config/config.h"
#include "egress/catchup_reader.h"
#include "egress/partner_auth.h"
#include "egress/product_reader.h"
#include "egress/product_tail.h"
#include "egress/resume_token.h"
#include "egress/stages.h"
#include "egress/subscription.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

namespace causeway::egress {

// Why a stream could not be opened, as the transport reports it.
struct OpenError {
  int http_status = 500;  // 400, 403, 404, 429, 503 (gRPC maps them)
  std::string code;       // "bad_request", "not_found", "forbidden", "too_many_connections", ...
  std::string message;    // for the client: names nothing the partner may not know
  int retry_after_seconds = 0;
};

struct OpenRequest {
  std::optional<std::string> last_event_id;  // a resume token
  std::optional<std::string> from;           // earliest | latest | RFC 3339 time
  std::optional<std::string> filter;         // a predicate (FilterFactory)
  bool internal = false;  // the Pushpin publisher: no connection limit, never a catch-up
};

// One row of the products listing.
struct ProductInfo {
  const config::ProductConfig* product = nullptr;
  std::optional<double> freshness_seconds;  // age of the newest record; nullopt: unknown
  bool empty = false;                       // the product has no record at all
  // The product's topics on its cluster, sorted; nullopt when the cluster did not answer.
  std::optional<std::vector<std::string>> topics;
};

// Counters by (partner, product) and disconnects by reason, for metrics.
struct HubMetrics {
  struct Stream {
    std::string partner;
    std::string product;
    int64_t connected = 0;
    uint64_t events = 0;
    uint64_t bytes = 0;
    uint64_t catchup_events = 0;
    uint64_t filtered = 0;
    std::map<std::string, uint64_t> disconnects;  // by EndReason name
    std::optional<double> freshness_seconds;
    std::optional<double> freshness_slo_seconds;
  };
  std::vector<Stream> streams;
  uint64_t catchup_readers = 0;
  std::map<std::string, uint64_t> rejected;  // opens refused, by OpenError::code
};

class StreamHub {
public:
  struct Options {
    const config::Config* config = nullptr;
    const ResumeTokenCodec* codec = nullptr;
    PartnerStageFactory stages = defaultPartnerStageFactory();
    FilterFactory filters = defaultFilterFactory();
    std::chrono::milliseconds tail_linger{30000};
    std::chrono::milliseconds freshness_cache{5000};
  };

  explicit StreamHub(Options options);
  ~StreamHub();  // stop()
  StreamHub(const StreamHub&) = delete;
  StreamHub& operator=(const StreamHub&) = delete;

  std::variant<std::unique_ptr<Subscription>, OpenError>
  open(const Identity& who, std::string_view product, const OpenRequest& request);

  // Whether `who` may read `product` (404/403 as open() answers), without opening anything.
  std::optional<OpenError> checkAccess(const Identity& who, std::string_view product) const;

  // The products `who` may read (its partner's, narrowed by a JWT claim), in config order.
  std::vector<const config::ProductConfig*> productsFor(const Identity& who) const;
  // Freshness and topics of a product: read from the cluster (cached for freshness_cache);
  // freshness from a running tail that has caught up when there is one.
  ProductInfo describe(const config::ProductConfig& product);

  // Records why a stream ended (for metrics); the transport calls it once per stream.
  void recordDisconnect(const std::string& partner, const std::string& product, EndReason reason);
  void recordRejected(const std::string& code);
  HubMetrics metrics();

  // Live tails, for tests and metrics.
  size_t tailCount();
  std::shared_ptr<ProductTail> tailFor(const std::string& product, const std::string& partner);

  void stop();
  bool stopping() const { return stopping_; }
  const config::Config& config() const { return *options_.config; }

private:
  struct TailEntry {
    std::shared_ptr<ProductTail> tail;
    int users = 0;
    std::chrono::steady_clock::time_point idle_since;
  };
  struct Resolver {
    std::mutex mu;
    std::unique_ptr<ProductReader> reader;
    std::chrono::steady_clock::time_point discovered;
    std::chrono::steady_clock::time_point fresh_at;
    ProductInfo info;
  };
  using Key = std::pair<std::string, std::string>;  // (product, partner)

  // The (product, partner) tail, started (at `start`, or latest) if it does not run.
  Result<std::shared_ptr<ProductTail>> tailOf(const config::ProductConfig& product,
                                              const config::PartnerConfig& partner,
                                              const std::vector<TokenPosition>& start);
  Result<std::vector<TokenPosition>> resolve(const config::ProductConfig& product,
                                             const StartSpec& start);
  Resolver& resolverOf(const config::ProductConfig& product);
  void releaseTail(const Key& key);
  void janitor();
  StreamCounters& countersOf(const std::string& partner, const std::string& product);

  Options options_;
  std::atomic<bool> stopping_{false};

  std::mutex mu_;
  std::map<Key, TailEntry> tails_;
  std::map<std::string, int> partner_connections_;
  int connections_ = 0;
  std::map<std::string, std::unique_ptr<Resolver>> resolvers_;
  std::map<Key, std::unique_ptr<StreamCounters>> counters_;  // key: (partner, product)
  std::map<Key, std::map<std::string, uint64_t>> disconnects_;
  std::map<std::string, uint64_t> rejected_;

  std::mutex catchup_mu_;
  std::condition_variable catchup_cv_;
  size_t catchups_ = 0;

  std::condition_variable janitor_cv_;
  std::thread janitor_;
};

}  // namespace causeway::egress
