// The example partner page (examples/partner-page/) in a real browser: headless Chromium loads it
// from a web server on another origin, the page follows a product of `causeway run` with fetch
// streaming (the token in a header, CORS allowed for the page's origin), and the test reads the
// DOM the page rendered.

#include "tests/support/egress_support.h"
#include "tests/support/test_support.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

namespace causeway {
namespace {

using namespace std::chrono_literals;

constexpr const char* kToken = "page-token-6f1d2c3b4a59687786a5b4c3";
constexpr const char* kProduct = "payments.authorized.v1";
constexpr const char* kTopic = "payments.authorized";
constexpr const char* kChromium = "/usr/bin/chromium";
constexpr int kPayments = 12;

void write(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
}

std::string configYaml(const std::string& bootstrap, const std::string& dir, int port,
                       int page_port) {
  return R"(clusters:
  east: {bootstrap: ")" +
         bootstrap + R"("}
policies:
  partner-acme:
    topics: {allow: ["payments\\..*"]}
    fields:
      - {path: value.card, action: mask, keep_last: 4}
products:
  - name: payments.authorized.v1
    source: east
    topics: ["payments\\.authorized"]
partners:
  acme:
    policy: partner-acme
    products: ["payments.authorized.v1"]
    auth: {tokens_file: ")" +
         dir + R"(/acme.tokens"}
egress:
  listen: "127.0.0.1:)" +
         std::to_string(port) + R"("
  heartbeat_interval: 1s
  cors_origins: ["http://127.0.0.1:)" +
         std::to_string(page_port) + R"("]
)";
}

// A page next to the example (same origin, so it may read the example's DOM) that opens the
// example in a frame and, once the example says it is done, posts the DOM the example rendered
// to /report. The example itself carries no test hook.
std::string wrapperPage(const std::string& fragment) {
  return R"(<!doctype html><html><body><iframe id="page" src="/index.html#)" + fragment +
         R"(" width="1200" height="800"></iframe><script>
const frame = document.getElementById("page");
const timer = setInterval(() => {
  const doc = frame.contentDocument;
  if (doc && doc.body && doc.body.dataset.state === "done") {
    clearInterval(timer);
    fetch("/report", {method: "POST", body: doc.documentElement.outerHTML});
  }
}, 100);
</script></body></html>)";
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
    ++n;
  }
  return n;
}

TEST(PartnerPageTest, ChromiumFollowsAProductThroughThePartnersPolicy) {
  if (!std::filesystem::exists(kChromium)) {
    FAIL() << "chromium is not installed: scripts/install-deps.sh installs the Debian package";
  }
  auto cluster = testing::startCluster("east", 1, {{kTopic, 2}});
  ASSERT_NE(cluster, nullptr);
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("causeway-partner-page-" + std::to_string(::getpid())))
                              .string();
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);

  // The page, served by a web server of its own (another origin than the egress server), and
  // the wrapper that reports what it rendered.
  httplib::Server pages;
  ASSERT_TRUE(
      pages.set_mount_point("/", std::string(CAUSEWAY_SOURCE_DIR) + "/examples/partner-page"));
  std::string wrapper;
  std::mutex report_mu;
  std::string report;
  pages.Get("/test.html", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(wrapper, "text/html");
  });
  pages.Post("/report", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard lock(report_mu);
    report = req.body;
    res.status = 204;
  });
  const int page_port = pages.bind_to_any_port("127.0.0.1");
  ASSERT_GT(page_port, 0);
  std::thread page_thread([&] { pages.listen_after_bind(); });
  struct StopPages {
    httplib::Server& server;
    std::thread& thread;
    ~StopPages() {
      server.stop();
      thread.join();
    }
  } stop_pages{pages, page_thread};

  write(dir + "/acme.tokens", std::string("acme-page ") + kToken + "\n");
  const int port = testing::freePort();
  write(dir + "/causeway.yaml", configYaml(cluster->bootstrap(), dir, port, page_port));
  testing::ChildProcess worker({CAUSEWAY_BINARY, "run", "-c", dir + "/causeway.yaml",
                                "--metrics-listen", "off", "--control-listen", "off"},
                               dir + "/worker.log");
  const std::map<std::string, std::string> auth = {
      {"Authorization", std::string("Bearer ") + kToken}};
  ASSERT_TRUE(testing::waitFor(
      [&] {
        return worker.running() && testing::httpGet(port, "/v1/products", auth).status == 200;
      },
      20s))
      << worker.log();

  // Payments whose values hold a card number (masked by the policy) and markup (shown as text).
  std::vector<std::pair<int32_t, testing::TestRecord>> records;
  for (int i = 0; i < kPayments; ++i) {
    testing::TestRecord r;
    r.key = "pay-" + std::to_string(i);
    r.value = "{\"id\":" + std::to_string(i) + ",\"card\":\"41110000" +
              std::to_string(10000000 + i) + "\",\"note\":\"<img src=x onerror=alert(1)>\"}";
    records.emplace_back(i % 2, std::move(r));
  }
  ASSERT_TRUE(testing::produceTestRecords(cluster->bootstrap(), kTopic, records));

  wrapper = wrapperPage("base=http://127.0.0.1:" + std::to_string(port) + "&product=" + kProduct +
                        "&token=" + kToken + "&from=earliest&max=" + std::to_string(kPayments));
  std::string dom;
  {
    testing::ChildProcess chromium(
        {kChromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--no-first-run", "--remote-debugging-port=0", "--user-data-dir=" + dir + "/chromium",
         "http://127.0.0.1:" + std::to_string(page_port) + "/test.html"},
        dir + "/chromium.log");
    ASSERT_TRUE(testing::waitFor(
        [&] {
          std::lock_guard lock(report_mu);
          return !report.empty();
        },
        60s))
        << "the page reported nothing in 60 s; chromium's log:\n"
        << chromium.log() << "\nthe worker's log:\n"
        << worker.log();
    {
      std::lock_guard lock(report_mu);
      dom = report;
    }
    chromium.signal(SIGTERM);  // a clean exit takes its helper processes along
    chromium.wait(10s);
  }  // the browser is killed here if it is still running

  // Every payment rendered once, in partition order, through the policy.
  EXPECT_NE(dom.find("done: " + std::to_string(kPayments) + " events"), std::string::npos) << dom;
  EXPECT_EQ(count(dom, "<tr class=\"event\""), static_cast<size_t>(kPayments)) << dom;
  for (int partition = 0; partition < 2; ++partition) {
    for (int offset = 0; offset < kPayments / 2; ++offset) {
      EXPECT_EQ(count(dom, "data-partition=\"" + std::to_string(partition) + "\" data-offset=\"" +
                               std::to_string(offset) + "\""),
                1u)
          << partition << "@" << offset;
    }
  }
  for (int i = 0; i < kPayments; ++i) {
    EXPECT_EQ(dom.find("41110000" + std::to_string(10000000 + i)), std::string::npos)
        << "a card number in clear";
    EXPECT_NE(dom.find("\"************" + std::to_string(10000000 + i).substr(4) + "\""),
              std::string::npos)
        << "payment " << i << " masked to its last 4 digits";
  }
  // Partner data is text, never markup.
  EXPECT_EQ(dom.find("<img"), std::string::npos) << dom;
  EXPECT_NE(dom.find("&lt;img src=x onerror=alert(1)&gt;"), std::string::npos) << dom;

  worker.signal(SIGTERM);
  EXPECT_EQ(worker.wait(20s), std::optional<int>(0)) << worker.log();
  if (!HasFailure()) {
    std::filesystem::remove_all(dir);
  }
}

}  // namespace
}  // namespace causeway
