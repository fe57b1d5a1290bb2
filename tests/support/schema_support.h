#pragma once

// Helpers for end-to-end tests of data contracts through the real binary: Confluent framing of
// keys and values, reading headers of consumed records, and what a test reads from a running
// worker (its /metrics port and control address from the log, one series of the metrics text).

#include "tests/support/test_support.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace causeway::testing {

// 0x00, `id` as 4 big-endian bytes, then `payload` (which may start with Protobuf message
// indexes).
std::string confluentFrame(uint32_t id, std::string_view payload);
// The ID of a Confluent prefix, or 0 when `bytes` has none.
uint32_t confluentId(std::string_view bytes);

// The value of the first header called `name` ("" for a null value), or nullopt when absent.
std::optional<std::string> recordHeader(const verify::ConsumedRecord& record,
                                        std::string_view name);

// The port of a worker's /metrics and the address of its control API, read from its log; 0 and
// "" while it has not logged them yet.
int metricsPort(const ChildProcess& worker);
std::string controlAddress(const ChildProcess& worker);

// GET http://127.0.0.1:port/path, the body ("" without an answer). (egress_support.h has
// httpGet with the status and headers.)
std::string httpGetBody(int port, const std::string& path);

// The value of the series whose line starts with `series` (name and labels), or -1.
double metricSample(const std::string& metrics, const std::string& series);

}  // namespace causeway::testing
