#include "monitoring/progress_view.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <string>
#include <vector>

namespace causeway::monitoring {
namespace {

using replicator::LinkState;
using replicator::LinkStatus;
using replicator::PartitionStatus;
using namespace std::chrono_literals;

PartitionStatus partitionStatus(const std::string& topic, int32_t partition, uint64_t replicated,
                                int64_t lag, bool paused = false) {
  PartitionStatus p;
  p.source_topic = topic;
  p.target_topic = "east." + topic;
  p.partition = partition;
  p.records_replicated = replicated;
  p.lag = lag;
  p.next_offset = static_cast<int64_t>(replicated);
  p.high_watermark = lag < 0 ? -1 : static_cast<int64_t>(replicated) + lag;
  p.paused = paused;
  return p;
}

LinkStatus link(uint64_t orders0, uint64_t orders1, int64_t lag1 = 5) {
  LinkStatus l;
  l.name = "east-to-west";
  l.source_cluster = "east";
  l.target_cluster = "west";
  l.state = LinkState::kRunning;
  l.topics = {"orders"};
  l.partitions = {partitionStatus("orders", 0, orders0, 0),
                  partitionStatus("orders", 1, orders1, lag1, true)};
  l.records_replicated = orders0 + orders1;
  l.bytes_replicated = (orders0 + orders1) * 100;
  l.in_flight_records = 3;
  l.in_flight_bytes = 300;
  l.rebalances = 1;
  return l;
}

bool hasEscape(const std::string& text) { return text.find('\x1b') != std::string::npos; }

std::string upper(std::string s) {
  for (char& c : s) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return s;
}

TEST(ProgressViewFormatTest, CountsGetThousandsSeparators) {
  EXPECT_EQ(formatCount(0), "0");
  EXPECT_EQ(formatCount(999), "999");
  EXPECT_EQ(formatCount(1000), "1,000");
  EXPECT_EQ(formatCount(12345), "12,345");
  EXPECT_EQ(formatCount(123456), "123,456");
  EXPECT_EQ(formatCount(1234567), "1,234,567");
}

TEST(ProgressViewFormatTest, RatesUseUnits) {
  EXPECT_EQ(formatRate(0), "0/s");
  EXPECT_EQ(formatRate(-3), "0/s");
  EXPECT_EQ(formatRate(950.4), "950/s");
  EXPECT_EQ(formatRate(12345), "12.3k/s");
  EXPECT_EQ(formatRate(250000), "250k/s");
  EXPECT_EQ(formatRate(1250000), "1.25M/s");
}

TEST(ProgressViewFormatTest, BytesAndLag) {
  EXPECT_EQ(formatBytes(512), "512 B");
  EXPECT_EQ(formatBytes(1500), "1.5 KB");
  EXPECT_EQ(formatBytes(12'300'000), "12.3 MB");
  EXPECT_EQ(formatBytes(1'020'000'000), "1.02 GB");
  EXPECT_EQ(formatLag(-1), "-");
  EXPECT_EQ(formatLag(0), "0");
  EXPECT_EQ(formatLag(4321), "4,321");
}

TEST(ProgressViewFormatTest, RatesComeFromSuccessiveSnapshots) {
  // given: partition 0 went from 1,000 to 3,000 records in 2 s; partition 1 from 500 to 500
  const std::vector<LinkStatus> before = {link(1000, 500)};
  const std::vector<LinkStatus> after = {link(3000, 500)};
  const SnapshotPair pair{&before, &after, 2s};
  // then
  EXPECT_DOUBLE_EQ(partitionRate(pair, "east-to-west", "orders", 0), 1000.0);
  EXPECT_DOUBLE_EQ(partitionRate(pair, "east-to-west", "orders", 1), 0.0);
  EXPECT_DOUBLE_EQ(linkRate(pair, "east-to-west"), 1000.0);
  EXPECT_DOUBLE_EQ(partitionRate(pair, "east-to-west", "orders", 7), 0.0);
  EXPECT_DOUBLE_EQ(linkRate(pair, "other-link"), 0.0);
}

TEST(ProgressViewFormatTest, CounterGoingBackwardsIsZeroRate) {
  // given: partition 0 came back to this worker with a fresh counter
  const std::vector<LinkStatus> before = {link(5000, 500)};
  const std::vector<LinkStatus> after = {link(10, 500)};
  // then
  EXPECT_DOUBLE_EQ(partitionRate({&before, &after, 1s}, "east-to-west", "orders", 0), 0.0);
  EXPECT_DOUBLE_EQ(partitionRate({nullptr, &after, 1s}, "east-to-west", "orders", 0), 0.0);
}

TEST(ProgressViewFormatTest, TableShowsEveryPartitionAndTheTotals) {
  // given
  const std::vector<LinkStatus> before = {link(1000, 500)};
  const std::vector<LinkStatus> after = {link(3000, 1500, 25)};
  // when
  const std::string table =
      formatTable({&before, &after, 1s}, 12.34s, {"producer: 4,500 of 10,000 records"});
  // then
  EXPECT_EQ(table.rfind("producer: 4,500 of 10,000 records\n", 0), 0u) << table;
  EXPECT_NE(table.find("link east-to-west  east -> west  RUNNING  up 12.3s"), std::string::npos)
      << table;
  EXPECT_NE(table.find("TOPIC"), std::string::npos);
  // partition rows: topic, partition, target, replicated, rate, lag, paused
  EXPECT_NE(table.find("orders     0  east.orders         3,000     2.0k/s           0\n"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("orders     1  east.orders         1,500     1.0k/s          25  paused\n"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("4,500     3.0k/s          25  1 paused\n"), std::string::npos) << table;
  EXPECT_NE(table.find("450.0 KB replicated, in flight 3 records (300 B), rebalances 1"),
            std::string::npos)
      << table;
  EXPECT_FALSE(hasEscape(table));
  EXPECT_EQ(table.back(), '\n');
}

TEST(ProgressViewFormatTest, TableShowsStateAndErrors) {
  // given
  std::vector<LinkStatus> now = {link(0, 0, -1)};
  now[0].state = LinkState::kFailed;
  now[0].error = "cluster 'west' unreachable";
  now[0].last_error = "broker 2 down";
  // when
  const std::string table = formatTable({nullptr, &now, 0s}, 1s);
  // then
  EXPECT_NE(table.find("  " + upper(replicator::toString(LinkState::kFailed)) + "  "),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("  error: cluster 'west' unreachable\n"), std::string::npos) << table;
  EXPECT_NE(table.find("  last error: broker 2 down\n"), std::string::npos) << table;
  EXPECT_NE(table.find("  -  paused"), std::string::npos) << table;  // unknown lag
  EXPECT_NE(table.find("0+?"), std::string::npos) << table;          // total lag incomplete
}

TEST(ProgressViewFormatTest, PlainLineSummarizesEachLink) {
  // given
  const std::vector<LinkStatus> before = {link(1000, 500)};
  std::vector<LinkStatus> after = {link(3000, 1500, 25)};
  after.push_back(after[0]);
  after[1].name = "second";
  after[1].state = LinkState::kStopping;
  // when
  const std::string lines = formatPlainLines({&before, &after, 2s}, 7s);
  // then
  const std::string expected_first =
      std::string("[7.0s] east-to-west ") + replicator::toString(LinkState::kRunning) +
      ": 4,500 replicated (450.0 KB), 1.5k/s, lag 25 over 2 partitions, 1 paused, in flight 3, "
      "rebalances 1\n";
  EXPECT_EQ(lines.substr(0, expected_first.size()), expected_first) << lines;
  // a link missing from the previous snapshot has no rate yet
  EXPECT_NE(lines.find(std::string("[7.0s] second ") + replicator::toString(LinkState::kStopping) +
                       ": 4,500 replicated (450.0 KB), 0/s"),
            std::string::npos)
      << lines;
  EXPECT_FALSE(hasEscape(lines));
}

// Renders into a temporary file and returns what was written.
class RendererTest : public ::testing::Test {
protected:
  void SetUp() override {
    file_ = std::tmpfile();
    ASSERT_NE(file_, nullptr);
  }
  void TearDown() override { std::fclose(file_); }
  std::string written() {
    std::fflush(file_);
    std::rewind(file_);
    std::string out;
    char buffer[4096];
    size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof(buffer), file_)) > 0) {
      out.append(buffer, n);
    }
    return out;
  }
  std::FILE* file_ = nullptr;
};

TEST_F(RendererTest, PlainModeWritesAtMostOncePerIntervalWithoutEscapes) {
  // given
  ProgressRenderer renderer(file_, {ProgressRenderer::Mode::kPlain, 250ms, 5000ms});
  const auto t0 = std::chrono::steady_clock::now();
  // when
  EXPECT_TRUE(renderer.update({link(0, 0)}, t0));
  EXPECT_FALSE(renderer.update({link(100, 0)}, t0 + 1s));
  EXPECT_FALSE(renderer.update({link(200, 0)}, t0 + 4900ms));
  EXPECT_TRUE(renderer.update({link(5000, 0)}, t0 + 5s, {"producer: done"}));
  // then
  const std::string out = written();
  EXPECT_FALSE(hasEscape(out)) << out;
  EXPECT_NE(out.find("] producer: done\n"), std::string::npos) << out;
  EXPECT_NE(out.find("5,000 replicated"), std::string::npos) << out;
  EXPECT_NE(out.find("1.0k/s"), std::string::npos) << out;  // 5,000 records in 5 s
  EXPECT_EQ(out.find("200 replicated"), std::string::npos) << out;
}

TEST_F(RendererTest, TtyModeRedrawsInPlaceAtMostFourTimesASecond) {
  // given
  ProgressRenderer renderer(file_, {ProgressRenderer::Mode::kTty, 250ms, 5000ms});
  const auto t0 = std::chrono::steady_clock::now();
  // when
  EXPECT_TRUE(renderer.update({link(0, 0)}, t0));
  EXPECT_FALSE(renderer.update({link(10, 0)}, t0 + 100ms));
  EXPECT_TRUE(renderer.update({link(20, 0)}, t0 + 250ms));
  renderer.finish({link(30, 0)}, t0 + 300ms);
  // then: the first frame has no rewind; each later one moves up over the previous frame
  const std::string out = written();
  const std::vector<LinkStatus> one = {link(0, 0)};
  const std::string first_frame = formatTable({nullptr, &one, 0s}, 0s);
  const auto lines = static_cast<size_t>(std::count(first_frame.begin(), first_frame.end(), '\n'));
  ASSERT_GT(lines, 3u);
  EXPECT_EQ(out.rfind("link east-to-west", 0), 0u) << "first frame starts without escapes";
  const std::string rewind = ttyRewind(lines);
  size_t rewinds = 0;
  for (size_t pos = out.find(rewind); pos != std::string::npos; pos = out.find(rewind, pos + 1)) {
    ++rewinds;
  }
  EXPECT_EQ(rewinds, 2u) << out;
  EXPECT_NE(out.find("           30  "), std::string::npos) << "last frame drawn";
}

TEST(ProgressViewFormatTest, TerminalRowsCountWrappedLines) {
  EXPECT_EQ(terminalRows("", 80), 0u);
  EXPECT_EQ(terminalRows("a\nb\n", 80), 2u);
  EXPECT_EQ(terminalRows("\n\n", 80), 2u);
  EXPECT_EQ(terminalRows(std::string(80, 'x') + "\n", 80), 1u);
  EXPECT_EQ(terminalRows(std::string(81, 'x') + "\n", 80), 2u);
  EXPECT_EQ(terminalRows(std::string(200, 'x') + "\nshort\n", 80), 4u);
  EXPECT_EQ(terminalRows(std::string(200, 'x') + "\n", 0), 1u);  // width unknown
}

TEST_F(RendererTest, TtyModeMovesUpOverWrappedLines) {
  // given: a 40-column terminal and a headline of 100 characters (3 rows)
  ProgressRenderer::Options options{ProgressRenderer::Mode::kTty, 250ms, 5000ms, 40};
  ProgressRenderer renderer(file_, options);
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<std::string> headline = {std::string(100, 'h')};
  const std::vector<LinkStatus> one = {link(0, 0)};
  // when
  renderer.update(one, t0, headline);
  renderer.update(one, t0 + 1s, headline);
  // then
  const std::string first = formatTable({nullptr, &one, 0s}, 0s, headline);
  const size_t rows = terminalRows(first, 40);
  EXPECT_GT(rows, static_cast<size_t>(std::count(first.begin(), first.end(), '\n')));
  EXPECT_NE(written().find(ttyRewind(rows)), std::string::npos);
}

TEST_F(RendererTest, TtyModeClearsTheScreenWhenTheFrameIsTallerThanTheTerminal) {
  // given: a terminal of 5 rows, too small for the table
  ProgressRenderer::Options options{ProgressRenderer::Mode::kTty, 250ms, 5000ms, 200, 5};
  ProgressRenderer renderer(file_, options);
  const auto t0 = std::chrono::steady_clock::now();
  // when
  renderer.update({link(0, 0)}, t0);
  renderer.update({link(1, 0)}, t0 + 1s);
  // then: no cursor-up beyond the top; the second frame starts from a cleared screen
  const std::string out = written();
  const size_t clear = out.find("\x1b[H\x1b[2J");
  ASSERT_NE(clear, std::string::npos) << out;
  EXPECT_GT(clear, 0u) << "the first frame goes below what is on the screen";
  EXPECT_EQ(clear, out.rfind("\x1b[H\x1b[2J")) << "cleared once, for the second frame";
  EXPECT_EQ(out.find("A\x1b[J"), std::string::npos) << out;
}

TEST(ProgressViewFormatTest, RewindMovesUpAndClears) {
  EXPECT_EQ(ttyRewind(0), "");
  EXPECT_EQ(ttyRewind(7), "\r\x1b[7A\x1b[J");
}

} // namespace
} // namespace causeway::monitoring
