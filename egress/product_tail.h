#pragma once

// The live tail of one (product, partner): one Kafka reader in assign mode, the partner's stages,
// and the LiveWindow every client of that pair at the live edge reads from.
//
// Lifecycle: start() launches the thread, which opens the reader, resolves the start position,
// fills the window, and polls until stop() (or the destructor). ready() waits until the window
// has its start position (or the tail failed). A failure (the cluster unreachable at start, a
// stage answering kStop) fails the window, so every client ends with the reason and its resume
// token. All methods are thread-safe.

#include "common/result.h"
#include "config/config.h"
#include "egress/live_window.h"
#include "egress/product_reader.h"
#include "egress/resume_token.h"
#include "egress/stages.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace causeway::egress {

struct TailStats {
  uint64_t records_read = 0;
  uint64_t events = 0;               // records that passed the stages
  uint64_t dropped = 0;              // records the stages dropped, dead-lettered or stopped at
  int64_t newest_timestamp_ms = -1;  // newest record timestamp read (passed or not)
  bool caught_up = false;            // no known record left to read
  size_t window_bytes = 0;
  size_t window_events = 0;
  std::vector<pipeline::VerdictCount> verdicts;
};

class ProductTail {
public:
  struct Options {
    const config::Config* config = nullptr;
    const config::ProductConfig* product = nullptr;
    const config::PartnerConfig* partner = nullptr;
    const config::ClusterConfig* cluster = nullptr;
    const ResumeTokenCodec* codec = nullptr;
    PartnerStageFactory stages;
    size_t window_bytes = 64u << 20;
    // Events are appended to the window in chunks of at most about this many bytes, so a client
    // at the live edge is never more than a chunk behind because of one large poll (keep it well
    // under the clients' buffer).
    size_t append_bytes = 256 * 1024;
    std::chrono::milliseconds discovery_interval{5000};
  };

  explicit ProductTail(Options options);
  ~ProductTail();  // stop()
  ProductTail(const ProductTail&) = delete;
  ProductTail& operator=(const ProductTail&) = delete;

  // Starts reading at `start` (resolved positions, as ProductReader::resolve gives them, keyed
  // like the reader's partitions); empty: at the latest offsets.
  void start(std::vector<TokenPosition> start);
  // Waits until the window is usable; the failure otherwise.
  Status ready(std::chrono::milliseconds timeout);
  void stop();

  LiveWindow& window() { return window_; }
  const config::ProductConfig& product() const { return *options_.product; }
  const config::PartnerConfig& partner() const { return *options_.partner; }
  TailStats stats();

private:
  void run(std::vector<TokenPosition> start);
  bool startReading(ProductReader& reader, std::vector<TokenPosition> start);
  // Processes one record; false when the tail must stop (a kStop verdict).
  bool process(const pipeline::RecordView& record, size_t index);
  void rediscover(ProductReader& reader);
  void finishStart(Status status);

  Options options_;
  LiveWindow window_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};

  std::mutex ready_mu_;
  std::condition_variable ready_cv_;
  bool started_ = false;
  Status start_status_;

  // The tail thread's own state.
  pipeline::StageChain chain_;
  std::unique_ptr<class EventJsonEncoder> encoder_;
  pipeline::Record record_;
  std::vector<TokenPosition> position_;  // V: next offset per partition, sorted like partitions
  std::vector<StreamEvent> batch_;
  size_t batch_bytes_ = 0;
  std::chrono::steady_clock::time_point next_discovery_;

  std::mutex stats_mu_;
  TailStats stats_;
};

} // namespace causeway::egress
