#pragma once

// Helpers for integration tests: embedded cluster pairs, a record producer, a YAML writer for
// configs handed to `causeway run` subprocesses, and child-process control. Every wait has a
// deadline.

#include "config/config.h"
#include "embedded/embedded_cluster.h"
#include "verify/mirror_check.h"
#include "verify/topic_reader.h"

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace causeway::testing {

using namespace std::chrono_literals;

// Polls `condition` every `interval` until it holds or `timeout` passes; returns its last value.
bool waitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
             std::chrono::milliseconds interval = 100ms);

// Starts an embedded cluster; fails the test (ADD_FAILURE) and returns null on error.
embedded::EmbeddedClusterPtr startCluster(const std::string& name, int brokers,
                                          const std::vector<embedded::TopicSpec>& topics = {});

// A config with clusters "source"/"target" pointing at the two embedded clusters and one link
// "test-link" replicating `include` with identity naming, tuned for quick tests.
config::Config makeConfig(const embedded::EmbeddedCluster& source,
                          const embedded::EmbeddedCluster& target,
                          const std::vector<std::string>& include);
// The same for any clusters by bootstrap list; an empty control address means a real cluster
// (topics are created through the Admin API).
config::Config makeConfig(const std::string& source_bootstrap, const std::string& source_control,
                          const std::string& target_bootstrap, const std::string& target_control,
                          const std::vector<std::string>& include);

// The same config as YAML text, for `causeway run --config`.
std::string toYaml(const config::Config& config);

// A free TCP port on 127.0.0.1 (bound, read, released: another process could take it in
// between, which is unlikely enough for tests).
int freePort();

// Writes `text` to a fresh file under the test temp dir and returns its path.
std::string writeTempFile(const std::string& name, const std::string& text);

// The record a test produces for (topic, partition, seq): a key, a JSON-ish value, three
// headers (one with an empty value), and an explicit CreateTime timestamp.
struct TestRecord {
  std::string key;
  std::string value;
  std::vector<std::pair<std::string, std::string>> headers;
  int64_t timestamp = 0;
};
TestRecord makeRecord(const std::string& topic, int32_t partition, uint64_t seq);

// Produces `per_partition` records into each partition of `topic` (sequence numbers start at
// `first_seq`), idempotent, acks=all, and waits for every acknowledgement. Returns false (with
// a gtest failure) on error.
bool produceRecords(const std::string& bootstrap, const std::string& topic, int32_t partitions,
                    uint64_t per_partition, uint64_t first_seq = 0);
// The same for records a test wrote itself: (partition, record) in the order to produce.
bool produceTestRecords(const std::string& bootstrap, const std::string& topic,
                        const std::vector<std::pair<int32_t, TestRecord>>& records);

// Reads a whole topic (see verify::readTopic), failing the test on error.
std::vector<std::vector<verify::ConsumedRecord>> readAll(const std::string& bootstrap,
                                                         const std::string& topic);

// A child process with stdout+stderr redirected to a log file.
class ChildProcess {
public:
  ChildProcess(std::vector<std::string> argv, std::string log_path);
  ~ChildProcess();  // SIGKILLs the child if still running

  pid_t pid() const { return pid_; }
  void signal(int sig);
  // Exit code (or 128+signal) once it exited within `timeout`, else nullopt.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  bool running();
  std::string log() const;
  const std::string& logPath() const { return log_path_; }

private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::string log_path_;
};

} // namespace causeway::testing

namespace causeway::testing {

// Sum of the high watermarks of a topic's partitions (the records it holds on the mock, which
// never truncates below 5 MiB per partition); -1 if the topic cannot be queried.
int64_t totalRecords(const std::string& bootstrap, const std::string& topic, int32_t partitions);

// Reads source and target every second until no source record is missing on the target or
// `timeout` passes; returns the last comparison.
verify::MirrorCheck waitForMirror(const std::string& source_bootstrap,
                                  const std::string& target_bootstrap, const std::string& topic,
                                  std::chrono::milliseconds timeout);

// argv for `causeway run --config PATH` with the built binary.
std::vector<std::string> runCommand(const std::string& config_path);

} // namespace causeway::testing

namespace causeway::testing {

// Sets a consumer group's committed offsets on a cluster (admin AlterConsumerGroupOffsets);
// the group must have no active members. Returns false with a gtest failure on error.
bool setGroupOffsets(const std::string& bootstrap, const std::string& group,
                     const std::string& topic, const std::vector<int64_t>& offsets);

} // namespace causeway::testing
