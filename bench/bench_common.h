#pragma once

// Small helpers shared by the benchmark binaries (bench/): clocks, librdkafka configuration
// with a readable failure, and the record layout the load generator writes and the checker
// reads. Benchmarks only; nothing in the product includes this.

#include "kafka/handles.h"

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <map>
#include <string>

namespace causeway::bench {

using Properties = std::map<std::string, std::string>;

// Wall-clock microseconds (comparable between processes on one machine).
inline int64_t nowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Monotonic seconds, for rates.
inline double monoSeconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Builds a client from `props`, or prints what is wrong and returns null.
inline kafka::HandlePtr makeClient(rd_kafka_type_t type, const Properties& props,
                                   void (*configure)(rd_kafka_conf_t*, void*) = nullptr,
                                   void* opaque = nullptr) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char errstr[512];
  for (const auto& [key, value] : props) {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr, sizeof(errstr)) !=
        RD_KAFKA_CONF_OK) {
      std::cerr << "property " << key << "=" << value << ": " << errstr << "\n";
      rd_kafka_conf_destroy(conf);
      return nullptr;
    }
  }
  if (configure != nullptr) {
    configure(conf, opaque);
  }
  kafka::HandlePtr handle(rd_kafka_new(type, conf, errstr, sizeof(errstr)));
  if (!handle) {
    rd_kafka_conf_destroy(conf);  // rd_kafka_new takes ownership only on success
    std::cerr << "cannot create client: " << errstr << "\n";
  }
  return handle;
}

// The first bytes of every benchmark record's value (little-endian, this machine only). The
// rest of the value is filler up to the requested record size.
struct RecordStamp {
  int64_t send_micros;  // nowMicros() when the load generator handed the record to librdkafka
  int64_t sequence;     // per-partition sequence number, from 0 (warm-up records: -1)
  int32_t partition;
  int32_t padding;
};
static_assert(sizeof(RecordStamp) == 24);

inline bool readStamp(const void* payload, size_t len, RecordStamp* stamp) {
  if (payload == nullptr || len < sizeof(RecordStamp)) {
    return false;
  }
  std::memcpy(stamp, payload, sizeof(RecordStamp));
  return true;
}

} // namespace causeway::bench
