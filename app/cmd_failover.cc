// causeway failover --config F --link L [--group G ...] [--dry-run] [--force] [--undo]

#include "app/commands.h"
#include "common/duration.h"
#include "common/secrets.h"
#include "config/config_loader.h"
#include "replicator/failover.h"
#include "replicator/offset_state.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>

namespace causeway::app {
namespace {

void printPlan(const replicator::FailoverPlan& plan) {
  std::printf("link '%s': %lld record(s) still to replicate\n", plan.link.c_str(),
              static_cast<long long>(plan.total_lag));
  std::printf("  %-24s %9s %14s %14s %10s\n", "SOURCE TOPIC", "PARTITION", "SOURCE END",
              "REPLICATED TO", "LAG");
  bool hidden = false;
  for (const auto& p : plan.partitions) {
    std::printf("  %-24s %9d %14lld %14lld %10lld%s\n", p.source_topic.c_str(), p.partition,
                static_cast<long long>(p.source_high), static_cast<long long>(p.next_source_offset),
                static_cast<long long>(p.lag),
                p.target_hidden ? "  (target: open transaction)" : "");
    hidden = hidden || p.target_hidden;
  }
  if (hidden) {
    std::printf("  records past a mirror partition's last stable offset (an "
                "open transaction) "
                "count as replicated once the transaction ends\n");
  }
  if (plan.rereads_possible) {
    std::printf("  at-least-once link: each group moves to the FIRST copy of "
                "its next record; "
                "its consumers may read again records they already read on the "
                "source (never "
                "skip one)\n");
  }
  for (const auto& g : plan.groups) {
    if (!g.problem.empty()) {
      // printf bypasses the redacting std::cout (common/output_guard.h): redact here.
      std::printf("group '%s': cannot be moved: %s\n", g.group.c_str(),
                  secrets::redact(g.problem).c_str());
      continue;
    }
    std::printf("group '%s': RPO if failed over now: %lld record(s)\n", g.group.c_str(),
                static_cast<long long>(g.rpo_records));
    for (const auto& t : g.offsets) {
      if (t.source_offset < 0) {
        std::printf("  %s[%d]: no committed offset (starts per its "
                    "auto.offset.reset)\n",
                    t.source_topic.c_str(), t.partition);
      } else if (t.target_offset < 0) {
        std::printf("  %s[%d]: source %lld -> not yet replicated that far (%lld "
                    "behind)%s\n",
                    t.source_topic.c_str(), t.partition, static_cast<long long>(t.source_offset),
                    static_cast<long long>(t.not_yet_replicated),
                    t.resume == replicator::ResumeReason::kHiddenByTransaction
                        ? "; records on the target wait behind an open transaction"
                        : "");
      } else {
        std::printf("  %s[%d]: source %lld -> %s[%d] target %lld\n", t.source_topic.c_str(),
                    t.partition, static_cast<long long>(t.source_offset), t.target_topic.c_str(),
                    t.partition, static_cast<long long>(t.target_offset));
      }
    }
  }
}

}  // namespace

int runFailover(const FailoverOptions& options) {
  auto loaded = config::loadConfigFile(options.config_path);
  if (!loaded.ok()) {
    for (const auto& error : loaded.errors) {
      std::cerr << error.str() << "\n";
    }
    return 1;
  }
  if (options.undo) {
    auto cleared = replicator::Failover::clearFailoverMark(*loaded.config, options.link,
                                                           std::chrono::seconds(30));
    if (!cleared) {
      std::cerr << "causeway failover --undo: " << cleared.message() << "\n";
      return 1;
    }
    std::printf("failover mark of link '%s' cleared: its workers replicate again once "
                "restarted. Consumer groups already moved to the target stay there.\n",
                options.link.c_str());
    return 0;
  }
  replicator::Failover failover(*loaded.config, options.link, options.groups);
  if (auto opened = failover.open(); !opened) {
    std::cerr << "causeway failover: " << opened.message() << "\n";
    return 1;
  }
  const auto timeout = std::chrono::seconds(30);
  auto plan = failover.plan(timeout);
  if (!plan) {
    std::cerr << "causeway failover: " << plan.error().message << "\n";
    return 1;
  }
  std::printf("== plan%s\n", options.dry_run ? " (dry run: nothing is changed)" : "");
  printPlan(*plan);
  if (options.dry_run) {
    return 0;
  }

  if (plan->total_lag > 0 && !options.force) {
    std::printf("== draining: waiting up to %s for the link's workers to "
                "replicate the rest "
                "(stop the source's producers first)\n",
                formatDuration(options.drain_timeout).c_str());
    int64_t last_reported = -1;
    plan = failover.drain(options.drain_timeout, [&](const replicator::FailoverPlan& p) {
      if (p.total_lag != last_reported) {
        std::printf("  lag %lld\n", static_cast<long long>(p.total_lag));
        std::fflush(stdout);
        last_reported = p.total_lag;
      }
    });
    if (!plan) {
      std::cerr << "causeway failover: " << plan.error().message << "\n";
      return 1;
    }
    if (plan->total_lag > 0) {
      std::cerr << "causeway failover: the link still lags by " << plan->total_lag
                << " record(s) after " << formatDuration(options.drain_timeout)
                << "; nothing was changed. Are its workers running and the producers "
                   "stopped? "
                   "--force fails over anyway and loses what is not replicated.\n";
      return 1;
    }
  }
  const int64_t left_behind = plan->total_lag;
  if (left_behind > 0) {
    std::printf("== forced: %lld record(s) not replicated are left behind\n",
                static_cast<long long>(left_behind));
  }

  std::printf("== moving the consumer groups to the target\n");
  bool all = true;
  for (const auto& outcome : failover.moveGroups(timeout, options.force)) {
    if (outcome.committed) {
      std::printf("  group '%s': committed on the target\n", outcome.group.c_str());
    } else {
      all = false;
      std::printf("  group '%s': NOT moved: %s\n", outcome.group.c_str(),
                  secrets::redact(outcome.problem).c_str());
    }
  }
  bool stopped = false;
  if (all) {
    // Stop the link on every worker: the promoted target must not receive the old source.
    std::printf("== stopping the link\n");
    char host[256] = "?";
    gethostname(host, sizeof(host) - 1);
    auto marked = failover.markFailedOver(options.force, left_behind,
                                          "causeway failover on " + std::string(host) + " (pid " +
                                              std::to_string(getpid()) + ")",
                                          timeout);
    if (marked) {
      stopped = true;
      std::printf("  failover mark written to %s: every worker of '%s' stops "
                  "replicating "
                  "within its discovery_interval, and the link will not start "
                  "again until "
                  "`causeway failover --link %s --undo`\n",
                  replicator::stateTopic(options.link).c_str(), options.link.c_str(),
                  options.link.c_str());
    } else {
      std::printf("  NOT stopped: %s; stop the link's workers yourself (SIGTERM)\n",
                  secrets::redact(marked.message()).c_str());
    }
  }
  std::printf("== report\n");
  auto final_plan = failover.plan(timeout);
  if (final_plan) {
    printPlan(*final_plan);
  }
  std::printf("%s\n", all ? "FAILOVER DONE: start the consumers on the target cluster. For "
                            "failback, run the reverse link (see docs/failover.md)."
                          : "FAILOVER INCOMPLETE: see the groups above; the link keeps "
                            "running");
  if (all && plan->rereads_possible) {
    std::printf("NOTE: '%s' is an at-least-once link: the target may hold some "
                "records twice, "
                "and the groups were moved to the first copy of their next "
                "record, so their "
                "consumers may read again records they already read on the "
                "source (none is "
                "skipped).\n",
                options.link.c_str());
  }
  return all && stopped ? 0 : 1;
}

}  // namespace causeway::app
