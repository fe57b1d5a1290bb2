// A topic whose schema cannot cross says so in `causeway ctl status`: through the real binary, a
// link translating schema IDs between two test registries meets a target subject that would not
// take the source schema. The link pauses the topic (nothing reaches the target), and the
// control API and `causeway ctl status` (text and --json) name the topic and say why. Once the
// target subject takes the schema, the records cross and the note goes away. The link's small
// `schemas.paused_recheck` makes the recheck quick.

#include "control/ctl_client.h"
#include "tests/support/test_registry.h"
#include "tests/support/test_support.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <csignal>
#include <regex>
#include <string>
#include <vector>

namespace causeway {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using ::testing::HasSubstr;
using testing::startCluster;
using testing::TestRecord;
using testing::TestRegistry;
using testing::waitFor;

const std::string kTopic = "payments.authorized";
const std::string kMirror = "east.payments.authorized";
const std::string kSubject = "payments.authorized-value";
// Where the link registers the schema: its context, and the mirror topic's subject.
const std::string kTargetSubject = ":.east:east.payments.authorized-value";
const std::string kLink = "east-to-west";

schema::Schema json(const std::string& text) {
  return schema::Schema{schema::SchemaType::kJson, text, {}, {}, {}};
}

std::string frame(uint32_t id, const std::string& payload) {
  std::string out(1, '\0');
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((id >> shift) & 0xff));
  }
  return out + payload;
}

std::string controlAddress(const ChildProcess& worker) {
  static const std::regex pattern(R"(control API \(causeway\.v1\.Control\) on (127\.0\.0\.1:\d+))");
  std::smatch match;
  const std::string log = worker.log();
  return std::regex_search(log, match, pattern) ? match[1].str() : "";
}

// Runs the binary with `args` and answers what it printed.
std::string run(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {CAUSEWAY_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  ChildProcess child(argv, testing::writeTempFile("ctl.log", ""));
  EXPECT_EQ(child.wait(30s), 0) << child.log();
  return child.log();
}

std::string config(const embedded::EmbeddedCluster& east, const embedded::EmbeddedCluster& west,
                   const TestRegistry& east_sr, const TestRegistry& west_sr) {
  return R"(
registries:
  east-sr: {url: ")" +
         east_sr.url() + R"("}
  west-sr: {url: ")" +
         west_sr.url() + R"(", retries: 0, timeout: 2s}
clusters:
  east: {bootstrap: ")" +
         east.bootstrap() + R"(", embedded_control: ")" + east.controlAddress() +
         R"(", registry: east-sr}
  west: {bootstrap: ")" +
         west.bootstrap() + R"(", embedded_control: ")" + west.controlAddress() +
         R"(", registry: west-sr}
links:
  - name: east-to-west
    source: east
    target: west
    topics: {include: ["payments\\..*"]}
    naming: {prefix: "east."}
    schemas:
      translate_ids: true
      context: ".east"
      retry: {initial: 50ms, max: 200ms}
      paused_recheck: 200ms
    discovery_interval: 1s
    commit_interval: 500ms
    consumer_properties: {"fetch.wait.max.ms": "10", "session.timeout.ms": "6000"}
)";
}

// The note of `topic` in a status answer, or "".
std::string noteOf(const v1::GetLinkStatusResponse& status, const std::string& topic) {
  for (const auto& note : status.topic_notes()) {
    if (note.topic() == topic) {
      return note.note();
    }
  }
  return "";
}

bool anyPaused(const v1::GetLinkStatusResponse& status, const std::string& topic) {
  for (const auto& p : status.partitions()) {
    if (p.source_topic() == topic && p.paused()) {
      return true;
    }
  }
  return false;
}

TEST(SchemaPauseStatus, CtlStatusSaysWhyATopicIsPausedUntilTheTargetSubjectTakesTheSchema) {
  // given: the target registry's subject for the mirror topic holds a schema that the source
  // schema cannot follow (the registry says why)
  auto east = startCluster("east", 1, {{kTopic, 1}});
  auto west = startCluster("west", 1);
  ASSERT_TRUE(east && west);
  TestRegistry east_sr(TestRegistry::Options{1, {}, {}, {}, {}, {}});
  TestRegistry west_sr(TestRegistry::Options{1000, {}, {}, {}, {}, {}});
  const uint32_t v1 =
      east_sr.add(kSubject, json(R"({"type":"object","properties":{"amount":{"type":"number"}}})"));
  west_sr.add(kTargetSubject, json(R"({"type":"string"})"));
  west_sr.setCompatibility(
      [](const std::string& subject, const schema::Schema&, const schema::Schema&) {
        schema::CompatibilityResult result;
        if (subject.find("east.payments.authorized-value") != std::string::npos) {
          result.compatible = false;
          result.messages = {"TYPE_MISMATCH at #/: string -> object"};
        }
        return result;
      });
  const auto config_path =
      testing::writeTempFile("pause-status.yaml", config(*east, *west, east_sr, west_sr));

  // when: the worker runs and records framed with the source schema arrive
  auto argv = testing::runCommand(config_path);
  argv.insert(argv.end(), {"--control-listen", "127.0.0.1:0"});
  ChildProcess worker(argv, testing::writeTempFile("worker.log", ""));
  std::vector<std::pair<int32_t, TestRecord>> records;
  for (int i = 0; i < 5; ++i) {
    records.emplace_back(0, TestRecord{"k" + std::to_string(i),
                                       frame(v1, R"({"amount":)" + std::to_string(i) + "}"),
                                       {},
                                       1700000000000});
  }
  ASSERT_TRUE(testing::produceTestRecords(east->bootstrap(), kTopic, records));
  std::string address;
  ASSERT_TRUE(waitFor([&] { return !(address = controlAddress(worker)).empty(); }, 15s))
      << worker.log();
  control::ClientOptions options;
  options.address = address;
  options.timeout = 5s;
  auto client = control::ControlClient::connect(options);
  ASSERT_TRUE(client) << client.error().message;

  // then: the control API names the topic and says why it is paused, and its partition shows
  // paused
  v1::GetLinkStatusResponse status;
  ASSERT_TRUE(waitFor(
      [&] {
        auto answer = (*client)->getLinkStatus(kLink);
        if (!answer) {
          return false;
        }
        status = std::move(*answer);
        return noteOf(status, kTopic).rfind("paused", 0) == 0 && anyPaused(status, kTopic);
      },
      15s))
      << status.DebugString() << worker.log();
  const std::string note = noteOf(status, kTopic);
  EXPECT_THAT(note, HasSubstr("paused (ID translation)"));
  EXPECT_THAT(note, HasSubstr("is incompatible with subject " + kTargetSubject));
  EXPECT_THAT(note, HasSubstr("in registry 'west-sr'"));
  EXPECT_THAT(note, HasSubstr("TYPE_MISMATCH at #/: string -> object"));
  // ... nothing crossed
  EXPECT_EQ(status.link().records_replicated(), 0u);
  EXPECT_LE(testing::totalRecords(west->bootstrap(), kMirror, 1), 0);
  // ... the link list points at it
  auto links = (*client)->listLinks();
  ASSERT_TRUE(links);
  ASSERT_EQ(links->links_size(), 1);
  EXPECT_EQ(links->links(0).noted_topics(), 1u);
  // ... and so does `causeway ctl status`, as text and as JSON
  const std::string text = run({"ctl", "--address", address, "status", kLink});
  EXPECT_THAT(text, HasSubstr("topic '" + kTopic + "': paused (ID translation): "));
  EXPECT_THAT(text, HasSubstr("in registry 'west-sr'"));
  const std::string json_text = run({"ctl", "--address", address, "--json", "status", kLink});
  EXPECT_THAT(json_text, HasSubstr("\"topic_notes\""));
  EXPECT_THAT(json_text, HasSubstr("\"topic\": \"" + kTopic + "\""));
  EXPECT_THAT(json_text, HasSubstr("\"note\": \"paused (ID translation): "));
  const std::string list = run({"ctl", "--address", address, "links"});
  EXPECT_THAT(list, HasSubstr("link '" + kLink + "': 1 topic(s) waiting or refusing records"));

  // when: the target subject takes the schema
  west_sr.setCompatibility(nullptr);

  // then: the records cross (the recheck comes within paused_recheck) and the note goes away
  ASSERT_TRUE(
      waitFor([&] { return testing::totalRecords(west->bootstrap(), kMirror, 1) >= 5; }, 15s))
      << worker.log();
  ASSERT_TRUE(waitFor(
      [&] {
        auto answer = (*client)->getLinkStatus(kLink);
        if (!answer) {
          return false;
        }
        status = std::move(*answer);
        return status.topic_notes_size() == 0 && status.link().records_replicated() >= 5;
      },
      10s))
      << status.DebugString();
  EXPECT_FALSE(anyPaused(status, kTopic)) << status.DebugString();
  EXPECT_EQ(status.link().noted_topics(), 0u);
  EXPECT_EQ(testing::totalRecords(west->bootstrap(), kMirror, 1), 5);
  EXPECT_TRUE(west_sr.latest(kTargetSubject).has_value());
  const std::string after = run({"ctl", "--address", address, "status", kLink});
  EXPECT_THAT(after, ::testing::Not(HasSubstr("topic '" + kTopic + "'")));

  worker.signal(SIGTERM);
  EXPECT_EQ(worker.wait(30s), 0) << worker.log();
}

}  // namespace
}  // namespace causeway
