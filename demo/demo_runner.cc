#include "demo/demo_runner.h"

#include "demo/sharing_demo.h"

#include "common/duration.h"
#include "config/config.h"
#include "embedded/embedded_cluster.h"
#include "monitoring/progress_view.h"
#include "replicator/worker.h"
#include "verify/mirror_check.h"
#include "verify/topic_reader.h"

#include <spdlog/spdlog.h>
#include <sys/ioctl.h>

#include <algorithm>
#include <cstdarg>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

namespace causeway::demo {
namespace {

using Clock = std::chrono::steady_clock;
using monitoring::formatBytes;
using monitoring::formatCount;
using replicator::LinkState;
using replicator::LinkStatus;
using namespace std::chrono_literals;

constexpr const char* kSource = "east";
constexpr const char* kTarget = "west";
constexpr const char* kLink = "east-to-west";
constexpr int kBrokers = 3;

void say(std::FILE* out, const char* format, ...) __attribute__((format(printf, 2, 3)));
void say(std::FILE* out, const char* format, ...) {
  va_list args;
  va_start(args, format);
  std::vfprintf(out, format, args);
  va_end(args);
  std::fflush(out);
}

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// The newest snapshot's source positions, for the producer's ahead-of-the-replicator limit.
class PositionBoard {
public:
  void update(const std::vector<LinkStatus>& statuses) {
    std::lock_guard lock(mutex_);
    for (const auto& link : statuses) {
      for (const auto& p : link.partitions) {
        positions_[{p.source_topic, p.partition}] = p.next_offset;
      }
    }
  }
  int64_t position(const std::string& topic, int32_t partition) const {
    std::lock_guard lock(mutex_);
    auto it = positions_.find({topic, partition});
    return it == positions_.end() ? -1 : it->second;
  }

private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int32_t>, int64_t> positions_;
};

const LinkStatus* demoLink(const std::vector<LinkStatus>& statuses) {
  for (const auto& link : statuses) {
    if (link.name == kLink) {
      return &link;
    }
  }
  return nullptr;
}

// Every acknowledged record of every partition is acknowledged by the target too, and the
// replicator sees nothing left on the source. The sample topics are fresh, so a partition's
// acknowledged count is its high watermark.
bool caughtUp(const LinkStatus& link, const std::map<std::string, std::vector<uint64_t>>& acked,
              int64_t* total_lag) {
  bool done = true;
  int64_t lag = 0;
  for (const auto& [topic, partitions] : acked) {
    for (size_t p = 0; p < partitions.size(); ++p) {
      const replicator::PartitionStatus* found = nullptr;
      for (const auto& status : link.partitions) {
        if (status.source_topic == topic && status.partition == static_cast<int32_t>(p)) {
          found = &status;
          break;
        }
      }
      const auto expected = static_cast<int64_t>(partitions[p]);
      if (found == nullptr) {
        done = done && expected == 0;
        lag += expected;
        continue;
      }
      const int64_t position = std::max<int64_t>(0, found->next_offset);
      lag += std::max<int64_t>(0, expected - position);
      // An empty partition may never have been fetched (lag unknown): nothing to wait for.
      const bool lag_settled = found->lag == 0 || (expected == 0 && found->lag < 0);
      if (position < expected || !lag_settled) {
        done = false;
      }
    }
  }
  *total_lag = lag;
  return done;
}

std::string producerHeadline(const SampleProducer& producer, const DemoSettings& settings,
                             bool finished, int64_t lag) {
  std::ostringstream out;
  out << "producer: " << formatCount(producer.acked()) << "/" << formatCount(settings.records)
      << " acked on " << kSource << " ("
      << (settings.rate > 0 ? formatCount(static_cast<uint64_t>(settings.rate)) + "/s"
                            : std::string("max rate"))
      << ")";
  if (producer.failed() > 0) {
    out << ", " << formatCount(producer.failed()) << " failed";
  }
  if (finished) {
    out << "; done, " << kTarget << " "
        << formatCount(static_cast<uint64_t>(lag)) << " records behind";
  }
  return out.str();
}

// The embedded clusters keep 5 MiB per partition: when either side dropped its oldest records,
// compare the window both still hold (from the first record present on both).
struct Window {
  bool trimmed = false;
};
Window alignRetained(std::vector<verify::ConsumedRecord>& source,
                     std::vector<verify::ConsumedRecord>& target) {
  Window window;
  if (source.empty() || target.empty()) {
    return window;
  }
  if (source.front().offset > 0) {
    for (size_t k = 0; k < target.size(); ++k) {
      if (verify::sameRecord(source.front(), target[k])) {
        target.erase(target.begin(), target.begin() + static_cast<std::ptrdiff_t>(k));
        window.trimmed = window.trimmed || k > 0;
        break;
      }
    }
  }
  if (target.front().offset > 0) {
    for (size_t i = 0; i < source.size(); ++i) {
      if (verify::sameRecord(source[i], target.front())) {
        source.erase(source.begin(), source.begin() + static_cast<std::ptrdiff_t>(i));
        window.trimmed = window.trimmed || i > 0;
        break;
      }
    }
  }
  return window;
}

// Lowers the log level while the table redraws in place, so log lines do not tear it.
class QuietLogs {
public:
  explicit QuietLogs(bool quiet) : previous_(spdlog::get_level()) {
    if (quiet && previous_ < spdlog::level::warn) {
      spdlog::set_level(spdlog::level::warn);
    }
  }
  ~QuietLogs() { spdlog::set_level(previous_); }

private:
  spdlog::level::level_enum previous_;
};

DemoOutcome fail(std::FILE* out, const std::string& what) {
  DemoOutcome outcome;
  outcome.failure = what;
  say(out, "VERIFICATION FAILED: %s\n", what.c_str());
  return outcome;
}

DemoOutcome interruptedOutcome(std::FILE* out) {
  DemoOutcome outcome;
  outcome.interrupted = true;
  outcome.failure = "interrupted";
  say(out, "demo interrupted: stopped cleanly, nothing verified\n");
  return outcome;
}

config::Config demoConfig(const embedded::EmbeddedCluster& east,
                          const embedded::EmbeddedCluster& west,
                          const std::vector<SampleTopic>& topics) {
  config::Config config;
  for (const auto* cluster : {&east, &west}) {
    config::ClusterConfig c;
    c.name = cluster->name();
    c.bootstrap = cluster->bootstrap();
    c.embedded_control = cluster->controlAddress();
    config.clusters[c.name] = c;
  }
  config::LinkConfig link;
  link.name = kLink;
  link.source = kSource;
  link.target = kTarget;
  std::string include;
  for (const auto& topic : topics) {
    include += (include.empty() ? "" : "|") + topic.name;
  }
  link.topics.include = {include};
  link.naming.mode = config::NamingMode::kIdentity;
  link.start = config::StartPosition::kEarliest;
  link.discovery_interval = 2s;
  link.consumer_properties["fetch.wait.max.ms"] = "10";
  config.links.push_back(link);
  return config;
}

struct TopicResult {
  std::string topic;
  int32_t partitions = 0;
  uint64_t produced = 0;
  uint64_t on_source = 0;
  uint64_t on_target = 0;
  bool identical = false;
  bool trimmed = false;
  std::string problem;  // empty when identical
  std::string details;  // MirrorCheck::describe() when not identical
};

} // namespace

DemoOutcome runDemoScenario(const DemoSettings& settings, const std::atomic<bool>& interrupted) {
  std::FILE* out = settings.out;
  std::ostringstream topic_list;
  int32_t total_partitions = 0;
  for (const auto& topic : settings.topics) {
    topic_list << (total_partitions == 0 ? "" : ", ") << topic.name << " (" << topic.partitions
               << ")";
    total_partitions += topic.partitions;
  }
  say(out, "causeway demo: embedded clusters '%s' and '%s' (%d brokers each), link '%s'\n",
      kSource, kTarget, kBrokers, kLink);
  say(out, "  %s records into %s, %s\n", formatCount(settings.records).c_str(),
      topic_list.str().c_str(),
      settings.rate > 0
          ? ("at " + formatCount(static_cast<uint64_t>(settings.rate)) + " records/s").c_str()
          : "as fast as possible");

  // Declared first so they are destroyed last: every client below talks to them.
  embedded::EmbeddedClusterPtr east;
  embedded::EmbeddedClusterPtr west;
  {
    embedded::EmbeddedCluster::Options options;
    options.name = kSource;
    options.brokers = kBrokers;
    for (const auto& topic : settings.topics) {
      options.topics.push_back({topic.name, topic.partitions});
    }
    auto started = embedded::EmbeddedCluster::start(options);
    if (!started) {
      return fail(out, "cannot start embedded cluster '" + std::string(kSource) +
                           "': " + started.error().message);
    }
    east = std::move(*started);
    options.name = kTarget;
    options.topics.clear();
    started = embedded::EmbeddedCluster::start(options);
    if (!started) {
      return fail(out, "cannot start embedded cluster '" + std::string(kTarget) +
                           "': " + started.error().message);
    }
    west = std::move(*started);
  }
  say(out, "  %s: %s\n  %s: %s\n", kSource, east->bootstrap().c_str(), kTarget,
      west->bootstrap().c_str());
  if (interrupted.load()) {
    return interruptedOutcome(out);
  }

  auto worker = std::make_unique<replicator::Worker>(demoConfig(*east, *west, settings.topics));
  if (Status started = worker->start(); !started.ok()) {
    worker.reset();
    return fail(out, "the replicator did not start: " + started.message());
  }

  PositionBoard board;
  SampleProducerOptions producer_options;
  producer_options.bootstrap = east->bootstrap();
  producer_options.topics = settings.topics;
  producer_options.records = settings.records;
  producer_options.rate = settings.rate;
  producer_options.seed = settings.seed;
  producer_options.consumed = [&board](const std::string& topic, int32_t partition) {
    return board.position(topic, partition);
  };
  auto created = SampleProducer::create(producer_options);
  if (!created) {
    worker.reset();
    return fail(out, created.error().message);
  }
  std::unique_ptr<SampleProducer> producer = std::move(*created);

  // The producer's own stop flag: set on Ctrl-C or when the link fails.
  std::atomic<bool> stop_producer{false};
  std::atomic<bool> producer_done{false};
  Status producer_status;
  const auto produce_start = Clock::now();
  Clock::time_point produce_end{};
  std::thread producer_thread([&] {
    producer_status = producer->run(stop_producer);
    produce_end = Clock::now();
    producer_done.store(true);
  });
  auto stopAndJoinProducer = [&] {
    stop_producer.store(true);
    if (producer_thread.joinable()) {
      producer_thread.join();
    }
  };

  monitoring::ProgressRenderer::Options view_options;
  view_options.mode = settings.tty ? monitoring::ProgressRenderer::Mode::kTty
                                   : monitoring::ProgressRenderer::Mode::kPlain;
  view_options.plain_interval = 3s;
  if (settings.tty) {
    struct winsize size {};
    if (ioctl(fileno(out), TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
      view_options.columns = size.ws_col;
      view_options.rows = size.ws_row;
    }
  }
  monitoring::ProgressRenderer view(out, view_options);
  std::optional<QuietLogs> quiet(std::in_place, settings.tty);

  std::string failure;
  bool caught_up = false;
  Clock::time_point caught_up_at{};
  std::optional<Clock::time_point> catch_up_deadline;
  std::optional<Clock::time_point> assigned_at;  // first snapshot with partitions assigned
  std::vector<LinkStatus> statuses;
  int64_t lag = 0;
  while (true) {
    const auto now = Clock::now();
    statuses = worker->statuses();
    board.update(statuses);
    const bool finished = producer_done.load();
    const LinkStatus* link = demoLink(statuses);
    if (interrupted.load()) {
      break;
    }
    if (link == nullptr) {
      failure = "the worker reports no link '" + std::string(kLink) + "'";
      break;
    }
    if (link->state == LinkState::kFailed) {
      failure = "link '" + std::string(kLink) + "' failed: " + link->error;
      break;
    }
    if (finished && !producer_status.ok()) {
      failure = producer_status.message();
      break;
    }
    const bool done = finished && caughtUp(*link, producer->ackedPerPartition(), &lag);
    if (finished && !catch_up_deadline) {
      catch_up_deadline = now + settings.timeout;
    }
    if (!finished) {
      int64_t ignored = 0;
      caughtUp(*link, producer->ackedPerPartition(), &ignored);
      lag = ignored;
    }
    if (!assigned_at && !link->partitions.empty()) {
      assigned_at = now;
    }
    view.update(statuses, now, {producerHeadline(*producer, settings, finished, lag)});
    if (done) {
      caught_up = true;
      caught_up_at = now;
      break;
    }
    if (catch_up_deadline && now >= *catch_up_deadline) {
      failure = "the target did not catch up within " + formatDuration(settings.timeout) +
                " after the producer finished (" + formatCount(static_cast<uint64_t>(lag)) +
                " records behind)";
      break;
    }
    std::this_thread::sleep_for(100ms);
  }
  view.finish(statuses, Clock::now(),
              {producerHeadline(*producer, settings, producer_done.load(), lag)});
  quiet.reset();

  stopAndJoinProducer();
  const auto acked = producer->ackedPerPartition();
  const uint64_t acked_total = producer->acked();
  const LinkStatus* final_link = demoLink(statuses);
  const uint64_t bytes_replicated = final_link ? final_link->bytes_replicated : 0;
  const uint64_t records_replicated = final_link ? final_link->records_replicated : 0;
  producer.reset();  // before the clusters

  say(out, "stopping the replicator (drain)...\n");
  worker->stop(30s);
  worker.reset();  // before the clusters

  if (interrupted.load()) {
    return interruptedOutcome(out);
  }
  if (!caught_up) {
    return fail(out, failure);
  }

  // Record-by-record verification, both sides read from their clusters.
  say(out, "\nverifying: reading every partition from %s and %s...\n", kSource, kTarget);
  std::vector<TopicResult> results;
  uint64_t compared_records = 0;
  for (const auto& topic : settings.topics) {
    if (interrupted.load()) {
      return interruptedOutcome(out);
    }
    TopicResult result;
    result.topic = topic.name;
    result.partitions = topic.partitions;
    if (auto it = acked.find(topic.name); it != acked.end()) {
      for (uint64_t n : it->second) {
        result.produced += n;
      }
    }
    verify::ReadOptions read;
    read.timeout = 60s;
    read.bootstrap = east->bootstrap();
    auto source = verify::readTopic(read, topic.name);
    read.bootstrap = west->bootstrap();
    auto target = verify::readTopic(read, topic.name);
    if (!source || !target) {
      result.problem = !source ? "cannot read the source: " + source.error().message
                               : "cannot read the target: " + target.error().message;
      results.push_back(result);
      continue;
    }
    // The producer's acknowledgements must all be on the source (high watermark per partition).
    const auto& produced = acked.at(topic.name);
    for (size_t p = 0; p < source->size() && p < produced.size(); ++p) {
      const auto& records = (*source)[p];
      const uint64_t high = records.empty() ? 0 : static_cast<uint64_t>(records.back().offset) + 1;
      if (high != produced[p] && result.problem.empty()) {
        result.problem = "partition " + std::to_string(p) + " has " + std::to_string(high) +
                         " records on the source, the producer got " +
                         std::to_string(produced[p]) + " acknowledgements";
      }
    }
    for (size_t p = 0; p < source->size() && p < target->size(); ++p) {
      result.trimmed = alignRetained((*source)[p], (*target)[p]).trimmed || result.trimmed;
    }
    const verify::MirrorCheck check = verify::checkMirror(topic.name, *source, topic.name, *target);
    result.on_source = check.sourceRecords();
    result.on_target = check.targetRecords();
    result.identical = check.identical() && result.problem.empty();
    if (!check.identical()) {
      std::ostringstream problem;
      problem << check.missing() << " missing, " << check.duplicates() << " duplicated, "
              << check.unexpected() << " unexpected, " << check.outOfOrder() << " out of order";
      if (!check.partition_count_matches) {
        problem << ", " << source->size() << " partitions on the source but " << target->size()
                << " on the target";
      }
      result.problem = result.problem.empty() ? problem.str() : result.problem + "; " +
                                                                    problem.str();
      result.details = check.describe();
    }
    compared_records += check.sourceRecords();
    results.push_back(result);
  }

  size_t topic_width = 5;
  for (const auto& r : results) {
    topic_width = std::max(topic_width, r.topic.size());
  }
  const int tw = static_cast<int>(topic_width);
  say(out, "\n  %-*s  %10s  %10s  %10s  %10s  %s\n", tw, "TOPIC", "PARTITIONS", "PRODUCED",
      "ON SOURCE", "ON TARGET", "IDENTICAL");
  bool all_identical = true;
  bool any_trimmed = false;
  std::string first_problem;
  for (const auto& r : results) {
    say(out, "  %-*s  %10d  %10s  %10s  %10s  %s\n", tw, r.topic.c_str(), r.partitions,
        formatCount(r.produced).c_str(), formatCount(r.on_source).c_str(),
        formatCount(r.on_target).c_str(), r.identical ? "yes" : "NO");
    all_identical = all_identical && r.identical;
    any_trimmed = any_trimmed || r.trimmed;
    if (!r.identical && first_problem.empty()) {
      first_problem = r.topic + ": " + r.problem;
    }
  }
  for (const auto& r : results) {
    if (!r.identical) {
      say(out, "\n%s: %s\n%s", r.topic.c_str(), r.problem.c_str(), r.details.c_str());
    }
  }
  if (any_trimmed) {
    say(out, "\n  note: the embedded clusters keep 5 MiB per partition; the oldest records were "
             "dropped, so the records both clusters still hold were compared\n");
  }

  const double produce_seconds = seconds(produce_end - produce_start);
  const double total_seconds = seconds(caught_up_at - produce_start);
  // Replication can only begin once the link owns its partitions (the first consumer group
  // assignment takes ~3 s), so the rate is over the time from the first assignment seen.
  const double active_seconds =
      std::max(1e-3, seconds(caught_up_at - assigned_at.value_or(produce_start)));
  say(out, "\n  producer: %s records in %.2f s (%s records/s)\n",
      formatCount(acked_total).c_str(), produce_seconds,
      formatCount(static_cast<uint64_t>(acked_total / std::max(produce_seconds, 1e-3))).c_str());
  say(out,
      "  replication: %s records (%s of keys and values) caught up %.2f s after the producer "
      "started; since the first partition assignment (%.2f s): %s records/s, %.2f MB/s%s\n",
      formatCount(records_replicated).c_str(), formatBytes(bytes_replicated).c_str(),
      total_seconds, active_seconds,
      formatCount(static_cast<uint64_t>(records_replicated / active_seconds)).c_str(),
      bytes_replicated / active_seconds / 1e6,
      !assigned_at || produce_end <= *assigned_at
          ? " (a backlog: the producer finished before the first assignment)"
          : (settings.rate > 0 ? " (paced by the producer's --rate)" : ""));

  if (!all_identical) {
    return fail(out, first_problem);
  }
  DemoOutcome outcome;
  outcome.verified = true;
  outcome.records = compared_records;
  outcome.partitions = static_cast<uint64_t>(total_partitions);
  say(out,
      "\nVERIFIED: %llu records in %llu partitions replicated, every partition identical "
      "(order, keys, values, headers, timestamps)\n",
      static_cast<unsigned long long>(compared_records),
      static_cast<unsigned long long>(total_partitions));
  if (settings.extensions && !interrupted.load()) {
    SharingSettings sharing_settings;
    sharing_settings.timeout = settings.timeout;
    sharing_settings.serve_for = settings.serve_for;
    const SharingOutcome sharing =
        runSharingScenario(*east, settings.extensions, sharing_settings, out, interrupted);
    if (!sharing.verified) {
      outcome.verified = false;
      outcome.interrupted = interrupted.load();
      outcome.failure = sharing.failure;
    }
  }
  return outcome;
}

} // namespace causeway::demo
