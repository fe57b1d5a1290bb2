#pragma once

#include "replicator/link_status.h"

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace causeway::monitoring {

// The live progress view of `causeway demo` (and anything else that holds LinkStatus snapshots):
// a per-partition table (topic, partition, target topic, replicated, records/s, lag, paused)
// with link totals, state and errors.
//
// The formatting functions are pure: snapshots and elapsed time in, text out. Records/s are the
// difference between two successive snapshots divided by the time between them; counters that go
// backwards (a partition that moved to another worker and came back) count as 0/s.

// "0", "999", "12,345", "1,234,567".
std::string formatCount(uint64_t value);
// "0/s", "950/s", "12.3k/s", "1.25M/s".
std::string formatRate(double per_second);
// "512 B", "1.5 KB", "12.3 MB", "1.02 GB" (decimal units, like MB/s in the demo summary).
std::string formatBytes(uint64_t bytes);
// Lag: "-" when unknown (-1), else formatCount.
std::string formatLag(int64_t lag);

// Two snapshots of the same worker's links, `elapsed` apart. `previous` may be empty (no rates
// yet: every rate is 0).
struct SnapshotPair {
  const std::vector<replicator::LinkStatus>* previous = nullptr;
  const std::vector<replicator::LinkStatus>* current = nullptr;
  std::chrono::duration<double> elapsed{0};
};

// Records/s of one partition / one link between the two snapshots.
double partitionRate(const SnapshotPair& snapshots, const std::string& link,
                     const std::string& source_topic, int32_t partition);
double linkRate(const SnapshotPair& snapshots, const std::string& link);

// The full table for a terminal, without escape sequences (the renderer adds them). `headline`
// lines (e.g. the producer's progress) come first; `uptime` is shown in the title. Every line
// ends with '\n'.
std::string formatTable(const SnapshotPair& snapshots, std::chrono::duration<double> uptime,
                        const std::vector<std::string>& headline = {});

// One line per link for logs and pipes, e.g.
// "[12.0s] east-to-west running: 12,345 replicated (1.2 MB), 4,000/s, lag 120 over 13
// partitions, 0 paused, in flight 10, rebalances 1"
// plus ", error: ..." / ", last error: ..." when set. Every line ends with '\n'.
std::string formatPlainLines(const SnapshotPair& snapshots, std::chrono::duration<double> uptime);

// Writes the view to a FILE* at a bounded rate.
//  kTty:   redraws the table in place (ANSI cursor-up + clear), at most every `tty_interval`.
//  kPlain: appends formatPlainLines() (and the headline) every `plain_interval`, no escapes.
//
// Lifecycle: construct -> update() as often as convenient -> finish() once. Not thread-safe: one
// thread (the one that owns `out`) drives it. It does not own `out`.
class ProgressRenderer {
public:
  enum class Mode { kTty, kPlain };

  struct Options {
    Mode mode = Mode::kPlain;
    std::chrono::milliseconds tty_interval{250};
    std::chrono::milliseconds plain_interval{5000};
    // kTty: the terminal's width, so that lines the terminal wraps are counted when moving the
    // cursor back up (0: unknown, assume nothing wraps).
    size_t columns = 0;
    // kTty: the terminal's height. A frame that does not fit cannot be redrawn by moving up (the
    // top scrolled away), so it is drawn from the top of a cleared screen instead (0: unknown).
    size_t rows = 0;
  };

  ProgressRenderer(std::FILE* out, Options options);

  // Renders if the interval since the last render has passed (or `force`). Returns true if it
  // wrote something. The snapshot is remembered for the next rate computation only when
  // rendered, so rates always cover the time between two renders.
  bool update(const std::vector<replicator::LinkStatus>& statuses,
              std::chrono::steady_clock::time_point now,
              const std::vector<std::string>& headline = {}, bool force = false);

  // Renders a last frame with these statuses; afterwards the cursor is below the table.
  void finish(const std::vector<replicator::LinkStatus>& statuses,
              std::chrono::steady_clock::time_point now,
              const std::vector<std::string>& headline = {});

private:
  std::string frame(const std::vector<replicator::LinkStatus>& statuses,
                    std::chrono::steady_clock::time_point now,
                    const std::vector<std::string>& headline);

  std::FILE* out_;
  Options options_;
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point last_render_{};
  bool rendered_once_ = false;
  std::vector<replicator::LinkStatus> previous_;
  size_t lines_drawn_ = 0;  // kTty: lines of the last frame, to move the cursor back up
};

// How many terminal rows `text` occupies on a terminal `columns` wide (0: no wrapping).
size_t terminalRows(const std::string& text, size_t columns);

// The escape sequence that moves the cursor up `lines` lines to column 0 and clears from there to
// the end of the screen ("" for 0 lines). Exposed for tests.
std::string ttyRewind(size_t lines);

} // namespace causeway::monitoring
