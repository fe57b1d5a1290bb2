#include "monitoring/progress_view.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <sstream>

namespace causeway::monitoring {
namespace {

using replicator::LinkState;
using replicator::LinkStatus;
using replicator::PartitionStatus;

std::string printf1(const char* format, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), format, value);
  return buffer;
}

const LinkStatus* findLink(const std::vector<LinkStatus>* links, const std::string& name) {
  if (links == nullptr) {
    return nullptr;
  }
  for (const auto& link : *links) {
    if (link.name == name) {
      return &link;
    }
  }
  return nullptr;
}

const PartitionStatus* findPartition(const LinkStatus& link, const std::string& topic,
                                     int32_t partition) {
  for (const auto& p : link.partitions) {
    if (p.source_topic == topic && p.partition == partition) {
      return &p;
    }
  }
  return nullptr;
}

double ratePerSecond(uint64_t before, uint64_t after, std::chrono::duration<double> elapsed) {
  if (elapsed.count() <= 0 || after <= before) {
    return 0;
  }
  return static_cast<double>(after - before) / elapsed.count();
}

std::string padLeft(const std::string& s, size_t width) {
  return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}
std::string padRight(const std::string& s, size_t width) {
  return s.size() >= width ? s : s + std::string(width - s.size(), ' ');
}

std::string upper(const char* s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

std::string formatUptime(std::chrono::duration<double> uptime) {
  return printf1("%.1fs", std::max(0.0, uptime.count()));
}

struct LinkTotals {
  int64_t lag = 0;        // sum of known lags
  size_t unknown_lag = 0; // partitions whose lag is not known yet
  size_t paused = 0;
};

LinkTotals totals(const LinkStatus& link) {
  LinkTotals t;
  for (const auto& p : link.partitions) {
    if (p.lag < 0) {
      ++t.unknown_lag;
    } else {
      t.lag += p.lag;
    }
    if (p.paused) {
      ++t.paused;
    }
  }
  return t;
}

std::string formatTotalLag(const LinkTotals& t) {
  std::string out = formatCount(static_cast<uint64_t>(t.lag));
  if (t.unknown_lag > 0) {
    out += "+?";
  }
  return out;
}

} // namespace

std::string formatCount(uint64_t value) {
  std::string digits = std::to_string(value);
  std::string out;
  out.reserve(digits.size() + digits.size() / 3);
  const size_t lead = digits.size() % 3;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (i + 3 - lead) % 3 == 0) {
      out += ',';
    }
    out += digits[i];
  }
  return out;
}

std::string formatRate(double per_second) {
  if (!(per_second > 0)) {
    return "0/s";
  }
  if (per_second < 1000) {
    return printf1("%.0f/s", per_second);
  }
  if (per_second < 999500) {
    return printf1(per_second < 99950 ? "%.1fk/s" : "%.0fk/s", per_second / 1e3);
  }
  return printf1("%.2fM/s", per_second / 1e6);
}

std::string formatBytes(uint64_t bytes) {
  if (bytes < 1000) {
    return std::to_string(bytes) + " B";
  }
  const double b = static_cast<double>(bytes);
  if (bytes < 999'950) {
    return printf1("%.1f KB", b / 1e3);
  }
  if (bytes < 999'950'000) {
    return printf1("%.1f MB", b / 1e6);
  }
  return printf1("%.2f GB", b / 1e9);
}

std::string formatLag(int64_t lag) {
  return lag < 0 ? "-" : formatCount(static_cast<uint64_t>(lag));
}

double partitionRate(const SnapshotPair& snapshots, const std::string& link,
                     const std::string& source_topic, int32_t partition) {
  const LinkStatus* now = findLink(snapshots.current, link);
  const LinkStatus* before = findLink(snapshots.previous, link);
  if (now == nullptr || before == nullptr) {
    return 0;
  }
  const PartitionStatus* p_now = findPartition(*now, source_topic, partition);
  const PartitionStatus* p_before = findPartition(*before, source_topic, partition);
  if (p_now == nullptr || p_before == nullptr) {
    return 0;
  }
  return ratePerSecond(p_before->records_replicated, p_now->records_replicated,
                       snapshots.elapsed);
}

double linkRate(const SnapshotPair& snapshots, const std::string& link) {
  const LinkStatus* now = findLink(snapshots.current, link);
  const LinkStatus* before = findLink(snapshots.previous, link);
  if (now == nullptr || before == nullptr) {
    return 0;
  }
  return ratePerSecond(before->records_replicated, now->records_replicated, snapshots.elapsed);
}

std::string formatTable(const SnapshotPair& snapshots, std::chrono::duration<double> uptime,
                        const std::vector<std::string>& headline) {
  std::ostringstream out;
  for (const auto& line : headline) {
    out << line << "\n";
  }
  if (snapshots.current == nullptr || snapshots.current->empty()) {
    out << "no links (" << formatUptime(uptime) << ")\n";
    return out.str();
  }
  for (const auto& link : *snapshots.current) {
    const LinkTotals t = totals(link);
    out << "link " << link.name << "  " << link.source_cluster << " -> " << link.target_cluster
        << "  " << upper(replicator::toString(link.state)) << "  up " << formatUptime(uptime)
        << "  topics " << link.topics.size() << "  partitions " << link.partitions.size()
        << "\n";

    size_t topic_width = 5;   // "TOPIC"
    size_t target_width = 6;  // "TARGET"
    for (const auto& p : link.partitions) {
      topic_width = std::max(topic_width, p.source_topic.size());
      target_width = std::max(target_width, p.target_topic.size());
    }
    constexpr size_t kPart = 4, kReplicated = 12, kRate = 9, kLag = 10;
    out << "  " << padRight("TOPIC", topic_width) << "  " << padLeft("PART", kPart) << "  "
        << padRight("TARGET", target_width) << "  " << padLeft("REPLICATED", kReplicated) << "  "
        << padLeft("REC/S", kRate) << "  " << padLeft("LAG", kLag) << "  PAUSED\n";
    for (const auto& p : link.partitions) {
      out << "  " << padRight(p.source_topic, topic_width) << "  "
          << padLeft(std::to_string(p.partition), kPart) << "  "
          << padRight(p.target_topic, target_width) << "  "
          << padLeft(formatCount(p.records_replicated), kReplicated) << "  "
          << padLeft(formatRate(partitionRate(snapshots, link.name, p.source_topic, p.partition)),
                     kRate)
          << "  " << padLeft(formatLag(p.lag), kLag) << (p.paused ? "  paused" : "") << "\n";
    }
    out << "  " << padRight("total", topic_width) << "  " << padLeft("", kPart) << "  "
        << padRight("", target_width) << "  "
        << padLeft(formatCount(link.records_replicated), kReplicated) << "  "
        << padLeft(formatRate(linkRate(snapshots, link.name)), kRate) << "  "
        << padLeft(formatTotalLag(t), kLag);
    if (t.paused > 0) {
      out << "  " << t.paused << " paused";
    }
    out << "\n";
    out << "  " << formatBytes(link.bytes_replicated) << " replicated, in flight "
        << formatCount(link.in_flight_records) << " records (" << formatBytes(link.in_flight_bytes)
        << "), rebalances " << link.rebalances << "\n";
    if (!link.error.empty()) {
      out << "  error: " << link.error << "\n";
    }
    if (!link.last_error.empty()) {
      out << "  last error: " << link.last_error << "\n";
    }
  }
  return out.str();
}

std::string formatPlainLines(const SnapshotPair& snapshots,
                             std::chrono::duration<double> uptime) {
  std::ostringstream out;
  if (snapshots.current == nullptr || snapshots.current->empty()) {
    out << "[" << formatUptime(uptime) << "] no links\n";
    return out.str();
  }
  for (const auto& link : *snapshots.current) {
    const LinkTotals t = totals(link);
    out << "[" << formatUptime(uptime) << "] " << link.name << " "
        << replicator::toString(link.state) << ": " << formatCount(link.records_replicated)
        << " replicated (" << formatBytes(link.bytes_replicated) << "), "
        << formatRate(linkRate(snapshots, link.name)) << ", lag " << formatTotalLag(t) << " over "
        << link.partitions.size() << " partitions, " << t.paused << " paused, in flight "
        << formatCount(link.in_flight_records) << ", rebalances " << link.rebalances;
    if (!link.error.empty()) {
      out << ", error: " << link.error;
    }
    if (!link.last_error.empty()) {
      out << ", last error: " << link.last_error;
    }
    out << "\n";
  }
  return out.str();
}

size_t terminalRows(const std::string& text, size_t columns) {
  size_t rows = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    const bool complete = end != std::string::npos;
    if (!complete) {
      end = text.size();
    }
    const size_t length = end - start;
    // A line exactly as wide as the terminal does not wrap by itself: the cursor waits at the
    // margin until the next character (here the newline).
    const size_t wrapped = columns == 0 || length == 0 ? 1 : (length + columns - 1) / columns;
    rows += complete ? wrapped : wrapped - 1;
    start = end + 1;
  }
  return rows;
}

std::string ttyRewind(size_t lines) {
  if (lines == 0) {
    return "";
  }
  // Column 1, cursor up N lines (CUU), then erase to the end of the screen (ED) so a shorter
  // frame leaves nothing of the longer one behind.
  return "\r\x1b[" + std::to_string(lines) + "A\x1b[J";
}

ProgressRenderer::ProgressRenderer(std::FILE* out, Options options)
    : out_(out), options_(options), started_(std::chrono::steady_clock::now()) {}

std::string ProgressRenderer::frame(const std::vector<LinkStatus>& statuses,
                                    std::chrono::steady_clock::time_point now,
                                    const std::vector<std::string>& headline) {
  SnapshotPair pair;
  pair.previous = rendered_once_ ? &previous_ : nullptr;
  pair.current = &statuses;
  pair.elapsed = now - last_render_;
  const auto uptime = now - started_;
  std::string text;
  if (options_.mode == Mode::kTty) {
    std::string table = formatTable(pair, uptime, headline);
    const size_t rows = terminalRows(table, options_.columns);
    const bool fits = options_.rows == 0 || (rows < options_.rows && lines_drawn_ < options_.rows);
    // Home + erase the screen when a frame is taller than the terminal (the first frame just
    // goes below whatever is on the screen).
    const bool first = lines_drawn_ == 0;
    text = (fits || first ? ttyRewind(lines_drawn_) : std::string("\x1b[H\x1b[2J")) + table;
    lines_drawn_ = rows;
  } else {
    for (const auto& line : headline) {
      text += "[" + formatUptime(uptime) + "] " + line + "\n";
    }
    text += formatPlainLines(pair, uptime);
  }
  previous_ = statuses;
  last_render_ = now;
  rendered_once_ = true;
  return text;
}

bool ProgressRenderer::update(const std::vector<LinkStatus>& statuses,
                              std::chrono::steady_clock::time_point now,
                              const std::vector<std::string>& headline, bool force) {
  const auto interval =
      options_.mode == Mode::kTty ? options_.tty_interval : options_.plain_interval;
  if (!force && rendered_once_ && now - last_render_ < interval) {
    return false;
  }
  const std::string text = frame(statuses, now, headline);
  std::fwrite(text.data(), 1, text.size(), out_);
  std::fflush(out_);
  return true;
}

void ProgressRenderer::finish(const std::vector<LinkStatus>& statuses,
                              std::chrono::steady_clock::time_point now,
                              const std::vector<std::string>& headline) {
  update(statuses, now, headline, true);
  lines_drawn_ = 0;  // the last frame stays on screen; later output goes below it
}

} // namespace causeway::monitoring
