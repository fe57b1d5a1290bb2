#include "kafka/client_factory.h"

#include "common/secrets.h"
#include "kafka/error_kind.h"

#include <spdlog/spdlog.h>

namespace causeway::kafka {
namespace {

Status setProperty(rd_kafka_conf_t* conf, const config::ClusterConfig& cluster,
                   const std::string& key, const std::string& value) {
  char errstr[512];
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr, sizeof(errstr)) !=
      RD_KAFKA_CONF_OK) {
    return Error{describeCluster(cluster) + ": property '" + key +
                 "': " + redactPropertyError(key, value, errstr)};
  }
  return {};
}

void logCallback(const rd_kafka_t* rk, int level, const char* facility, const char* buf) {
  logLibrdkafkaLine(level, rd_kafka_name(rk), facility, buf);
}

}  // namespace

std::string describeCluster(const config::ClusterConfig& cluster) {
  return "cluster '" + cluster.name + "' (" + cluster.bootstrap + ")";
}

std::string redactPropertyError(const std::string& key, const std::string& value,
                                std::string_view message) {
  std::string out(message);
  // librdkafka quotes the value it refused: `Invalid value "..." for configuration property`.
  // A secret's value is hidden there whatever its length (too short to be registered, it would
  // pass the general redaction).
  if (!value.empty() &&
      (secrets::isSecretName(key) || secrets::registeredSecrets()->contains(value))) {
    const std::string quoted_value = "\"" + value + "\"";
    for (size_t pos = 0; (pos = out.find(quoted_value, pos)) != std::string::npos;) {
      out.replace(pos, quoted_value.size(), "\"***\"");
      pos += 5;
    }
  }
  secrets::redactInPlace(out);
  return out;
}

void logLibrdkafkaLine(int level, std::string_view client, std::string_view facility,
                       std::string_view line) {
  // Redacted here as well as in the log sink: librdkafka echoes configuration (debug=conf dumps
  // every property it was given), and this line must be safe whichever logger is installed.
  const std::string text = secrets::redact(line);
  // syslog levels: 0-3 error, 4 warning, 5-6 info, 7 debug.
  if (level <= 3) {
    spdlog::error("librdkafka {} {}: {}", client, facility, text);
  } else if (level == 4) {
    spdlog::warn("librdkafka {} {}: {}", client, facility, text);
  } else if (level <= 6) {
    spdlog::info("librdkafka {} {}: {}", client, facility, text);
  } else {
    spdlog::debug("librdkafka {} {}: {}", client, facility, text);
  }
}

void routeLibrdkafkaLogs(rd_kafka_conf_t* conf) { rd_kafka_conf_set_log_cb(conf, logCallback); }

Result<HandlePtr> makeClient(const ClientSpec& spec) {
  const config::ClusterConfig& cluster = *spec.cluster;
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  auto apply = [&](const Properties& props) -> Status {
    for (const auto& [key, value] : props) {
      if (auto status = setProperty(conf, cluster, key, value); !status) {
        return status;
      }
    }
    return {};
  };
  Properties base = {{"bootstrap.servers", cluster.bootstrap}};
  if (!spec.client_id.empty()) {
    base["client.id"] = spec.client_id;
  }
  for (const Properties* layer : std::initializer_list<const Properties*>{
           &base, &spec.defaults, &cluster.properties, &spec.overrides, &spec.owned}) {
    if (auto status = apply(*layer); !status) {
      rd_kafka_conf_destroy(conf);
      return status.error();
    }
  }
  routeLibrdkafkaLogs(conf);
  if (spec.configure) {
    spec.configure(conf);
  }
  char errstr[512];
  // rd_kafka_new takes ownership of conf only on success.
  HandlePtr handle(rd_kafka_new(spec.type, conf, errstr, sizeof(errstr)));
  if (!handle) {
    rd_kafka_conf_destroy(conf);
    return Error{describeCluster(cluster) + ": cannot create client: " + secrets::redact(errstr)};
  }
  return handle;
}

Status checkReachable(rd_kafka_t* rk, const config::ClusterConfig& cluster) {
  const rd_kafka_metadata_t* raw = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk, /*all_topics=*/0, /*only_rkt=*/nullptr, &raw,
                                              static_cast<int>(cluster.connect_timeout.count()));
  MetadataPtr md(raw);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Error{describeCluster(cluster) + " unreachable: no broker answered within " +
                 std::to_string(cluster.connect_timeout.count()) + " ms (" + rd_kafka_err2str(err) +
                 ")"};
  }
  if (md->broker_cnt == 0) {
    return Error{describeCluster(cluster) + ": metadata lists no brokers"};
  }
  return {};
}

Result<MetadataPtr> fetchAllTopics(rd_kafka_t* rk, const config::ClusterConfig& cluster,
                                   std::chrono::milliseconds timeout) {
  const rd_kafka_metadata_t* raw = nullptr;
  rd_kafka_resp_err_t err =
      rd_kafka_metadata(rk, /*all_topics=*/1, nullptr, &raw, static_cast<int>(timeout.count()));
  MetadataPtr md(raw);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Error{describeCluster(cluster) + ": listing topics failed: " + rd_kafka_err2str(err),
                 readErrorKind(err)};
  }
  return md;
}

void refreshMetadataAfterFailedQuery(rd_kafka_t* rk, const config::ClusterConfig& cluster,
                                     rd_kafka_resp_err_t err, std::chrono::milliseconds timeout) {
  if (watermarkQueryErrorKind(err) != ErrorKind::kUnavailable || timeout.count() <= 0) {
    return;
  }
  (void)fetchAllTopics(rk, cluster, timeout);
}

}  // namespace causeway::kafka
