#include "replicator/resume_finder.h"

#include "common/concurrently.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace causeway::replicator {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// How many partitions' transactional.ids are taken over at once.
constexpr size_t kConcurrentTakeovers = 16;

}  // namespace

ResumeFinder::ResumeFinder(const config::ClusterConfig& target, std::string link,
                           bool read_committed, Fence fence)
    : target_(target), link_(std::move(link)), fence_(std::move(fence)),
      tail_(target_, link_, read_committed), state_(target_, link_) {}

ResumeFinder::~ResumeFinder() { stop(); }

Status ResumeFinder::start() {
  if (auto opened = tail_.open(); !opened) {
    return opened;
  }
  if (auto opened = state_.open(); !opened) {
    return opened;
  }
  thread_ = std::thread([this] { run(); });
  return {};
}

void ResumeFinder::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) {
    thread_.join();
  }
}

void ResumeFinder::request(Request request) {
  {
    std::lock_guard lock(mu_);
    requests_.push_back(std::move(request));
  }
  cv_.notify_all();
}

void ResumeFinder::cancel(const std::string& source_topic, int32_t partition, uint64_t epoch) {
  const Key key{source_topic, partition, epoch};
  std::unique_lock lock(mu_);
  std::erase_if(requests_, [&](const Request& r) {
    return r.source_topic == source_topic && r.partition == partition && r.epoch == epoch;
  });
  cancelled_.insert(key);
  cv_.wait(lock, [&] { return fencing_.count(key) == 0; });
}

std::vector<ResumeFinder::Answer> ResumeFinder::takeAnswers() {
  std::lock_guard lock(mu_);
  return std::exchange(answers_, {});
}

void ResumeFinder::run() {
  while (true) {
    std::vector<Request> batch;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !requests_.empty(); });
      if (stopping_) {
        return;
      }
      batch = std::exchange(requests_, {});
      cancelled_.clear();  // withdrawals of the last batch; this one's are not in it
    }
    // Ownership first: after the fence, no earlier owner's record can still land in these mirror
    // partitions, and its open transaction is aborted, so the tails read below are final.
    std::vector<std::optional<Result<std::unique_ptr<ProducerSlot>>>> slots(batch.size());
    if (fence_) {
      const auto started = Clock::now();
      // Up to kConcurrentTakeovers at once: each is a client of its own (its connections, a
      // FindCoordinator and an InitProducerId, retried while an earlier owner's transaction is
      // being aborted), independent of the others.
      runConcurrently(batch.size(), kConcurrentTakeovers, "link '" + link_ + "': taking over",
                      [&](size_t i) {
                        const Request& r = batch[i];
                        const Key key{r.source_topic, r.partition, r.epoch};
                        {
                          std::lock_guard lock(mu_);
                          if (cancelled_.count(key) > 0) {
                            slots[i] = Error{"the partition was revoked before it was taken over"};
                            return;
                          }
                          fencing_.insert(key);
                        }
                        slots[i] = fence_(r);
                        {
                          std::lock_guard lock(mu_);
                          fencing_.erase(key);
                        }
                        cv_.notify_all();
                      });
      const auto took =
          std::count_if(slots.begin(), slots.end(), [](const auto& s) { return s->ok(); });
      spdlog::info("link '{}': took over the transactional.id of {} of {} partition(s) in {} ms",
                   link_, took, batch.size(),
                   std::chrono::duration_cast<milliseconds>(Clock::now() - started).count());
    }
    // Partitions whose takeover failed are answered with that error at once (the link asks again
    // when the target does not answer; docs/failover.md): their tails are not read.
    std::vector<size_t> taken;
    taken.reserve(batch.size());
    for (size_t i = 0; i < batch.size(); ++i) {
      if (!fence_ || *slots[i]) {
        taken.push_back(i);
      }
    }
    std::vector<TargetTail::Found> found;
    Status refreshed = Error{"not read"};
    bool read_tails = !taken.empty();
    if (read_tails) {
      // The saved runs first: the tail read below must not see fewer records than the runs claim.
      refreshed =
          state_.refresh(Clock::now() + std::max(milliseconds(10000), target_.connect_timeout));
      if (!refreshed && refreshed.kind() == ErrorKind::kNotFound) {
        spdlog::warn("link '{}': saved offset runs not available, starting new ones: {}", link_,
                     refreshed.message());
      } else if (!refreshed) {
        // Starting without the saved runs would send records dead-lettered after the last one on
        // the target to the dead-letter queue again, and leave the runs unsaved (translation
        // stale) for as long as this worker owns the partitions. A read the target does not
        // answer makes them wait and ask again (a state read that timed out keeps what it read,
        // so the next one goes on from there); one it refuses, or cannot serve, stops the link
        // (Link::applyResumePositions).
        found.assign(taken.size(), TargetTail::Found(refreshed.error()));
        read_tails = false;
      }
    }
    if (read_tails) {
      std::vector<TargetTail::Partition> partitions;
      partitions.reserve(taken.size());
      for (size_t i : taken) {
        partitions.push_back(TargetTail::Partition{batch[i].mirror_topic, batch[i].partition});
      }
      const auto started = Clock::now();
      found = tail_.lastSourceOffsets(
          partitions, started + std::max(milliseconds(30000), target_.connect_timeout));
      const auto read =
          std::count_if(found.begin(), found.end(), [](const auto& f) { return f.ok(); });
      spdlog::info("link '{}': found where {} of {} partition(s) resume in {} ms", link_, read,
                   taken.size(),
                   std::chrono::duration_cast<milliseconds>(Clock::now() - started).count());
    }
    std::vector<Answer> answers;
    answers.reserve(batch.size());
    size_t next_taken = 0;
    for (size_t i = 0; i < batch.size(); ++i) {
      Answer answer;
      answer.request = batch[i];
      if (fence_ && !*slots[i]) {
        answer.last_source = slots[i]->error();
        answers.push_back(std::move(answer));
        continue;
      }
      const size_t k = next_taken++;  // this partition's place in the tail read
      answer.state_readable = refreshed.ok();
      answer.last_source = std::move(found[k]);
      if (fence_) {
        answer.slot = std::move(**slots[i]);
      }
      if (refreshed) {
        const auto* saved = state_.find(batch[i].mirror_topic, batch[i].partition);
        if (saved != nullptr && saved->error.empty() && !saved->runs.empty()) {
          answer.saved_runs = saved->runs;
        }
      }
      answers.push_back(std::move(answer));
    }
    std::lock_guard lock(mu_);
    for (auto& answer : answers) {
      answers_.push_back(std::move(answer));
    }
  }
}

}  // namespace causeway::replicator
