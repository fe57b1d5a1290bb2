#pragma once

#include "common/result.h"
#include "config/config.h"
#include "replicator/offset_runs.h"
#include "replicator/offset_state.h"
#include "replicator/producer_slot.h"
#include "replicator/target_tail.h"

#include <condition_variable>
#include <functional>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace causeway::replicator {

// Where exactly-once partitions resume, looked up off the data plane: a thread of its own reads
// the mirror partitions' tails (TargetTail, many partitions at once) and the saved offset runs
// (OffsetStateReader), so a rebalance callback never waits for the target and hundreds of newly
// assigned partitions are found in a few round trips. The data plane assigns such partitions
// paused, asks here, and starts each one when its answer arrives.
//
// Transactional links first take the partition's transactional.id over (the fence function,
// TargetWriter::fence): that aborts a previous owner's open transaction, so the tail read after it
// is final, and no write of the previous owner can land after it.
//
// Thread-safe: request() and takeAnswers() from the data plane; the lookups on the finder's
// thread.
class ResumeFinder {
public:
  struct Request {
    std::string source_topic;
    int32_t partition = 0;
    std::string mirror_topic;
    uint64_t epoch = 0;  // the caller's assignment epoch: answers for older ones are stale
  };
  struct Answer {
    Request request;
    // The last source offset the link wrote to the mirror partition (nullopt: none), or why it
    // could not be found.
    Result<std::optional<int64_t>> last_source = std::optional<int64_t>();
    // The saved offset runs of the mirror partition (when the state topic could be read and
    // holds a valid entry), and whether the state topic could be read at all (false: the runs
    // must not be saved over a history this worker did not see).
    std::optional<OffsetRuns> saved_runs;
    bool state_readable = false;
    // Transactional links: the partition's producer, its transactional.id taken over.
    std::unique_ptr<ProducerSlot> slot;
  };
  using Fence = std::function<Result<std::unique_ptr<ProducerSlot>>(const Request&)>;

  // `fence` (transactional links; empty otherwise) runs before a partition's tail is read.
  ResumeFinder(const config::ClusterConfig& target, std::string link, bool read_committed,
               Fence fence = {});
  ~ResumeFinder();

  // Opens the clients and starts the thread.
  Status start();
  void stop();

  void request(Request request);
  // Withdraws the request of a partition that was revoked (`epoch`: the assignment it was made
  // for). A transactional.id taken over after the partition's next owner took it would fence that
  // owner, so a withdrawn request is never fenced, and a fence under way is waited for: once this
  // returns, no takeover of this worker can follow the next owner's.
  void cancel(const std::string& source_topic, int32_t partition, uint64_t epoch);
  // Answers found since the last call.
  std::vector<Answer> takeAnswers();

private:
  void run();

  const config::ClusterConfig target_;
  const std::string link_;
  const Fence fence_;
  TargetTail tail_;
  OffsetStateReader state_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Request> requests_;  // guarded by mu_
  std::vector<Answer> answers_;    // guarded by mu_
  bool stopping_ = false;          // guarded by mu_
  // Withdrawn requests of the batch being looked up, and the one being fenced (guarded by mu_).
  using Key = std::tuple<std::string, int32_t, uint64_t>;
  std::set<Key> cancelled_;
  std::set<Key> fencing_;
  std::thread thread_;
};

}  // namespace causeway::replicator
