// `causeway demo` end to end: the built binary, as a user runs it.

#include "tests/support/test_support.h"

#include <gtest/gtest.h>

#include <signal.h>

#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace causeway::testing {
namespace {

// Runs the demo with stdout to one file and stderr (logs) to another, so that the test sees
// exactly what a user sees on stdout.
class DemoProcess {
public:
  explicit DemoProcess(const std::vector<std::string>& demo_args)
      : stdout_path_(writeTempFile("demo-stdout.txt", "")),
        stderr_path_(writeTempFile("demo-stderr.txt", "")),
        child_(command(demo_args), stdout_path_) {}

  std::optional<int> wait(std::chrono::milliseconds timeout) { return child_.wait(timeout); }
  void signal(int sig) { child_.signal(sig); }
  std::string stdoutText() const { return child_.log(); }
  std::string stderrTail() const {
    std::ifstream in(stderr_path_);
    std::ostringstream out;
    out << in.rdbuf();
    const std::string text = out.str();
    return text.size() > 4000 ? text.substr(text.size() - 4000) : text;
  }
  std::string report() const {
    return "--- stdout ---\n" + stdoutText() + "--- stderr (tail) ---\n" + stderrTail();
  }

private:
  std::vector<std::string> command(const std::vector<std::string>& demo_args) const {
    std::string line = "exec '" + std::string(CAUSEWAY_BINARY) + "' demo";
    for (const auto& arg : demo_args) {
      line += " '" + arg + "'";
    }
    line += " 2>'" + stderr_path_ + "'";
    return {"/bin/sh", "-c", line};
  }

  std::string stdout_path_;
  std::string stderr_path_;
  ChildProcess child_;
};

TEST(DemoTest, ReplicatesAndVerifiesThreeThousandRecords) {
  // given / when
  DemoProcess demo({"--records", "3000", "--rate", "3000", "--plain", "--serve-for", "1s"});
  const std::optional<int> exit_code = demo.wait(150s);
  if (!exit_code) {
    demo.signal(SIGKILL);
    FAIL() << "causeway demo still running after 150 s\n" << demo.report();
  }
  // then
  const std::string out = demo.stdoutText();
  EXPECT_EQ(*exit_code, 0) << demo.report();
  EXPECT_NE(out.find("\nVERIFIED: 3000 records in 13 partitions replicated, every partition "
                     "identical (order, keys, values, headers, timestamps)\n"),
            std::string::npos)
      << demo.report();
  EXPECT_EQ(out.find("VERIFICATION FAILED"), std::string::npos) << demo.report();
  // ... and the data-sharing part: the partner gets what the policy lets through, nothing in clear
  EXPECT_NE(out.find("\nVERIFIED: the partner received exactly the 189 of 400 payments the "
                     "policy lets through, no card number, e-mail, IBAN or note in clear in any "
                     "byte, no internal header; 4 unreadable records in causeway.east-to-acme.dlq "
                     "on east; payments.internal not shared\n"),
            std::string::npos)
      << demo.report();
  EXPECT_NE(out.find("dropped        policy     filtered / partner-acme.filter"), std::string::npos)
      << demo.report();
  // ... and the data product: the same payments over HTTP, with a command a user can paste
  EXPECT_NE(out.find("\nVERIFIED: the partner read the same 189 payments over HTTP as an event "
                     "stream, through its policy, no protected value in clear\n"),
            std::string::npos)
      << demo.report();
  EXPECT_TRUE(std::regex_search(
      out,
      std::regex(
          R"(curl -sN -H 'Authorization: Bearer demo-[0-9a-f]{24}' 'http://127\.0\.0\.1:[0-9]+/v1/products/payments\.authorized\.v1/events\?from=earliest')")))
      << demo.report();
  // The per-topic summary: partitions, produced / on source / on target, identical.
  // "  orders   6   1,520   1,520   1,520  yes": topic, partitions, produced, source, target.
  const std::regex row(
      R"(\n  (orders|payments|customers) +(\d+) +([\d,]+) +([\d,]+) +([\d,]+) +yes(?=\n))");
  size_t rows = 0;
  for (auto it = std::sregex_iterator(out.begin(), out.end(), row); it != std::sregex_iterator();
       ++it) {
    ++rows;
    const auto& m = *it;
    EXPECT_EQ(m[3].str(), m[4].str()) << "produced vs on source for " << m[1];
    EXPECT_EQ(m[4].str(), m[5].str()) << "on source vs on target for " << m[1];
  }
  EXPECT_EQ(rows, 3u) << out;
  EXPECT_NE(out.find("records/s"), std::string::npos) << "throughput is reported\n" << out;
  // --plain: progress lines, no terminal escape sequences.
  EXPECT_NE(out.find(" east-to-west running: "), std::string::npos) << out;
  EXPECT_EQ(out.find('\x1b'), std::string::npos) << out;
}

TEST(DemoTest, CtrlCStopsCleanly) {
  // given: a demo that would run for minutes
  DemoProcess demo({"--records", "1000000", "--rate", "2000", "--plain"});
  const bool replicating = waitFor(
      [&] {
        const std::string out = demo.stdoutText();
        const std::regex progress(R"(east-to-west running: [1-9][\d,]* replicated)");
        return std::regex_search(out, progress) || demo.wait(0ms).has_value();
      },
      90s, 200ms);
  ASSERT_TRUE(replicating) << "no replication progress within 90 s\n" << demo.report();
  ASSERT_FALSE(demo.wait(0ms).has_value()) << "the demo ended early\n" << demo.report();
  // when
  demo.signal(SIGINT);
  const std::optional<int> exit_code = demo.wait(60s);
  if (!exit_code) {
    demo.signal(SIGKILL);
    FAIL() << "causeway demo did not stop within 60 s of SIGINT\n" << demo.report();
  }
  // then
  EXPECT_EQ(*exit_code, 130) << demo.report();
  EXPECT_NE(demo.stdoutText().find("demo interrupted: stopped cleanly"), std::string::npos)
      << demo.report();
  EXPECT_EQ(demo.stdoutText().find("VERIFIED"), std::string::npos) << demo.report();
}

}  // namespace
}  // namespace causeway::testing
