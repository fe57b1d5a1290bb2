#pragma once

// Reading back what a benchmark run left on the target topic, for the load generator's checks
// after the measured window (--policy-check, --expect-schema-id). Benchmarks only.

#include "bench/bench_common.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

namespace causeway::bench {

// What readRetained() saw.
struct RetainedRead {
  int64_t retained = 0;  // this run's records the target still holds
  int64_t read = 0;      // handed to the callback
  int64_t read_errors = 0;
  int64_t not_read() const { return retained - read; }
};

// Reads back every record of this run that topic `topic` on `target` still holds and hands each
// to `each`; the run's records of partition p start at offset base_hwm[p] (one entry per
// partition). The mock keeps only the last 5 MiB of a partition, so a large run is read from
// each partition's low watermark; the records before it were counted by the high watermarks.
// Gives up when nothing comes for 20 s. False when the watermarks cannot be read or the
// partitions assigned (`what` names the check in the message and the client's id).
inline bool readRetained(const std::string& target, const std::string& topic,
                         const std::vector<int64_t>& base_hwm, const char* what,
                         const std::function<void(const rd_kafka_message_t&)>& each,
                         RetainedRead* read) {
  const int partitions = static_cast<int>(base_hwm.size());
  kafka::HandlePtr reader =
      makeClient(RD_KAFKA_CONSUMER, {{"bootstrap.servers", target},
                                     {"client.id", std::string("causeway-bench-") + what},
                                     {"group.id", std::string("causeway-bench-") + what},
                                     {"enable.auto.commit", "false"},
                                     {"auto.offset.reset", "error"},
                                     {"fetch.wait.max.ms", "10"}});
  if (!reader) {
    return false;
  }
  kafka::PartitionListPtr assignment(rd_kafka_topic_partition_list_new(partitions));
  std::vector<int64_t> end(partitions);
  for (int p = 0; p < partitions; ++p) {
    int64_t low = 0;
    int64_t high = 0;
    if (rd_kafka_query_watermark_offsets(reader.get(), topic.c_str(), p, &low, &high, 5000) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::cerr << what << ": cannot read the watermarks of partition " << p << "\n";
      return false;
    }
    const int64_t start = std::max(low, base_hwm[p]);
    end[p] = high;
    read->retained += std::max<int64_t>(0, high - start);
    rd_kafka_topic_partition_list_add(assignment.get(), topic.c_str(), p)->offset = start;
  }
  if (rd_kafka_resp_err_t err = rd_kafka_assign(reader.get(), assignment.get())) {
    std::cerr << what << " assign: " << rd_kafka_err2str(err) << "\n";
    return false;
  }
  double quiet_until = monoSeconds() + 20;
  while (read->not_read() > 0 && monoSeconds() < quiet_until) {
    kafka::MessagePtr message(rd_kafka_consumer_poll(reader.get(), 100));
    if (!message) {
      continue;
    }
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      if (message->err != RD_KAFKA_RESP_ERR__PARTITION_EOF && read->read_errors++ == 0) {
        std::cerr << what << ": " << rd_kafka_message_errstr(message.get()) << "\n";
      }
      continue;
    }
    const int p = message->partition;
    if (p < 0 || p >= partitions || message->offset >= end[p]) {
      continue;
    }
    quiet_until = monoSeconds() + 20;
    read->read += 1;
    each(*message);
  }
  rd_kafka_consumer_close(reader.get());
  return true;
}

}  // namespace causeway::bench
