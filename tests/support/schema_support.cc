#include "tests/support/schema_support.h"

#include <httplib.h>

#include <regex>

namespace causeway::testing {

std::string confluentFrame(uint32_t id, std::string_view payload) {
  std::string out(1, '\0');
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((id >> shift) & 0xff));
  }
  out.append(payload);
  return out;
}

uint32_t confluentId(std::string_view bytes) {
  if (bytes.size() < 5 || bytes[0] != '\0') {
    return 0;
  }
  uint32_t id = 0;
  for (size_t i = 1; i <= 4; ++i) {
    id = (id << 8) | static_cast<uint8_t>(bytes[i]);
  }
  return id;
}

std::optional<std::string> recordHeader(const verify::ConsumedRecord& record,
                                        std::string_view name) {
  for (const auto& [key, value] : record.headers) {
    if (key == name) {
      return value.value_or("");
    }
  }
  return std::nullopt;
}

int metricsPort(const ChildProcess& worker) {
  static const std::regex pattern(R"(metrics on http://127\.0\.0\.1:(\d+)/metrics)");
  std::smatch match;
  const std::string log = worker.log();
  return std::regex_search(log, match, pattern) ? std::stoi(match[1]) : 0;
}

std::string controlAddress(const ChildProcess& worker) {
  static const std::regex pattern(R"(control API \(causeway\.v1\.Control\) on (127\.0\.0\.1:\d+))");
  std::smatch match;
  const std::string log = worker.log();
  return std::regex_search(log, match, pattern) ? match[1].str() : "";
}

std::string httpGetBody(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(5, 0);
  client.set_read_timeout(10, 0);
  auto res = client.Get(path);
  return res ? res->body : "";
}

double metricSample(const std::string& metrics, const std::string& series) {
  const size_t at = metrics.find("\n" + series + " ");
  if (at == std::string::npos) {
    return -1;
  }
  return std::stod(metrics.substr(at + series.size() + 2));
}

}  // namespace causeway::testing
