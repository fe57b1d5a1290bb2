// causeway-raw-pipe: the yardstick for Causeway's throughput. A minimal librdkafka consume ->
// produce pipe with exactly the client settings of a Causeway link (replicator/link.cc,
// Link::start(): its defaults and owned settings), and the same data path: each record goes to
// the same partition of the same-named target topic, key and value pointing into the consumed
// message (no copy; the delivery report frees it), headers copied, timestamp kept.
//
// What it leaves out on purpose, so that it is the limit a replicator is measured against: no
// offset tracking, no commits, no backpressure beyond the producer queue, no topic discovery.
//
//   causeway-raw-pipe --source HOST:PORT --target HOST:PORT --topic bench --records N
//
// --fetch-wait-ms sets fetch.wait.max.ms as a link's consumer_properties would (default: 100,
// Causeway's default). --max-in-flight R (diagnostic, off by default) pauses every assigned
// partition while more than R records are unacknowledged and resumes below R/2, as a link's
// backpressure does with max_in_flight_records. Stops after N delivery reports (or at --timeout-s) and prints one JSON object on stdout.
// Exit status: 0 all N delivered, 1 usage or client error, 2 timeout or failed deliveries.

#include "bench/bench_common.h"

#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <iostream>
#include <string>

namespace causeway::bench {
namespace {

constexpr size_t kMaxRecordsPerPoll = 2000;  // as Link::pollSource()
constexpr size_t kMaxInFlightRecords = 200000;  // Causeway's max_in_flight_records default

std::atomic<bool> g_stop{false};

struct PipeStats {
  uint64_t consumed = 0;
  uint64_t delivered = 0;
  uint64_t failed = 0;
  uint64_t bytes = 0;
  double first_delivery = 0;
  double last_delivery = 0;
  std::string first_error;
};

void onDelivery(rd_kafka_t*, const rd_kafka_message_t* report, void* opaque) {
  auto* stats = static_cast<PipeStats*>(opaque);
  // The consumed message owns the key and value the producer pointed at: free it now.
  rd_kafka_message_destroy(static_cast<rd_kafka_message_t*>(report->_private));
  if (report->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (stats->failed++ == 0) {
      stats->first_error = rd_kafka_err2str(report->err);
    }
    return;
  }
  const double now = monoSeconds();
  if (stats->delivered++ == 0) {
    stats->first_delivery = now;
  }
  stats->last_delivery = now;
  stats->bytes += report->len + report->key_len;
}

void configureProducer(rd_kafka_conf_t* conf, void* opaque) {
  rd_kafka_conf_set_opaque(conf, opaque);
  rd_kafka_conf_set_dr_msg_cb(conf, &onDelivery);
}

void usage() {
  std::cerr << "usage: causeway-raw-pipe --source BOOTSTRAP --target BOOTSTRAP --topic NAME "
               "--records N [--group ID] [--timeout-s S] [--fetch-wait-ms MS] [--max-in-flight R]\n";
}

int run(int argc, char** argv) {
  std::string source;
  std::string target;
  std::string topic = "bench";
  std::string group = "causeway-raw-pipe";
  uint64_t records = 0;
  double timeout_s = 600;
  std::string fetch_wait_ms = "100";  // Causeway's default; a link may override it
  uint64_t max_in_flight = 0;  // 0: no bound but the producer queue (the minimal pipe)
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc) {
      usage();
      return 1;
    }
    std::string value = argv[++i];
    if (arg == "--source") {
      source = value;
    } else if (arg == "--target") {
      target = value;
    } else if (arg == "--topic") {
      topic = value;
    } else if (arg == "--group") {
      group = value;
    } else if (arg == "--records") {
      records = std::strtoull(value.c_str(), nullptr, 10);
    } else if (arg == "--timeout-s") {
      timeout_s = std::strtod(value.c_str(), nullptr);
    } else if (arg == "--fetch-wait-ms") {
      fetch_wait_ms = value;
    } else if (arg == "--max-in-flight") {
      max_in_flight = std::strtoull(value.c_str(), nullptr, 10);
    } else {
      usage();
      return 1;
    }
  }
  if (source.empty() || target.empty() || records == 0) {
    usage();
    return 1;
  }

  // Link::start(): consumer defaults, then owned settings (no user overrides in the benchmark).
  const Properties consumer_props = {
      {"bootstrap.servers", source},
      {"client.id", "causeway-raw-pipe"},
      {"isolation.level", "read_committed"},
      {"session.timeout.ms", "10000"},
      {"heartbeat.interval.ms", "1000"},
      {"fetch.wait.max.ms", fetch_wait_ms},
      {"queued.min.messages", "1000000"},
      {"queued.max.messages.kbytes", "65536"},
      {"topic.metadata.refresh.interval.ms", "5000"},
      {"group.id", group},
      {"partition.assignment.strategy", "cooperative-sticky"},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", "false"},
      {"auto.offset.reset", "earliest"},
  };
  // Link::start(): producer defaults, then owned settings.
  const Properties producer_props = {
      {"bootstrap.servers", target},
      {"client.id", "causeway-raw-pipe"},
      {"linger.ms", "5"},
      {"batch.size", "1000000"},
      {"message.timeout.ms", "0"},
      {"queue.buffering.max.messages", std::to_string(2 * kMaxInFlightRecords)},
      {"enable.idempotence", "true"},
      {"acks", "all"},
  };

  PipeStats stats;
  kafka::HandlePtr consumer = makeClient(RD_KAFKA_CONSUMER, consumer_props);
  if (!consumer) {
    return 1;
  }
  rd_kafka_poll_set_consumer(consumer.get());
  kafka::HandlePtr producer = makeClient(RD_KAFKA_PRODUCER, producer_props, &configureProducer,
                                         &stats);
  if (!producer) {
    return 1;
  }
  kafka::TopicPtr target_topic(rd_kafka_topic_new(producer.get(), topic.c_str(), nullptr));
  kafka::PartitionListPtr subscription(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(subscription.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  if (rd_kafka_resp_err_t err = rd_kafka_subscribe(consumer.get(), subscription.get())) {
    std::cerr << "subscribe: " << rd_kafka_err2str(err) << "\n";
    return 1;
  }

  const double started = monoSeconds();
  bool produce_failed = false;
  bool paused = false;
  auto setPaused = [&](bool pause) {
    rd_kafka_topic_partition_list_t* raw = nullptr;
    if (rd_kafka_assignment(consumer.get(), &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return;
    }
    kafka::PartitionListPtr assigned(raw);
    if (pause) {
      rd_kafka_pause_partitions(consumer.get(), assigned.get());
    } else {
      rd_kafka_resume_partitions(consumer.get(), assigned.get());
    }
    paused = pause;
  };
  while (!g_stop.load() && stats.delivered + stats.failed < records && !produce_failed) {
    if (monoSeconds() - started > timeout_s) {
      break;
    }
    if (max_in_flight > 0) {
      const uint64_t in_flight = stats.consumed - stats.delivered - stats.failed;
      if (!paused && in_flight > max_in_flight) {
        setPaused(true);
      } else if (paused && in_flight < max_in_flight / 2) {
        setPaused(false);
      }
    }
    int timeout_ms = 20;
    for (size_t i = 0; i < kMaxRecordsPerPoll; ++i) {
      rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer.get(), timeout_ms);
      if (message == nullptr) {
        break;
      }
      timeout_ms = 0;
      if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        std::cerr << "consume: " << rd_kafka_message_errstr(message) << "\n";
        rd_kafka_message_destroy(message);
        continue;
      }
      stats.consumed += 1;
      rd_kafka_headers_t* source_headers = nullptr;
      rd_kafka_headers_t* headers = nullptr;
      if (rd_kafka_message_headers(message, &source_headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        headers = rd_kafka_headers_copy(source_headers);  // the producer owns it on success
      }
      rd_kafka_timestamp_type_t timestamp_type;
      const int64_t timestamp = rd_kafka_message_timestamp(message, &timestamp_type);
      rd_kafka_vu_t vus[7];
      size_t n = 0;
      vus[n].vtype = RD_KAFKA_VTYPE_RKT;
      vus[n++].u.rkt = target_topic.get();
      vus[n].vtype = RD_KAFKA_VTYPE_PARTITION;
      vus[n++].u.i32 = message->partition;
      vus[n].vtype = RD_KAFKA_VTYPE_KEY;
      vus[n].u.mem.ptr = message->key;
      vus[n++].u.mem.size = message->key_len;
      vus[n].vtype = RD_KAFKA_VTYPE_VALUE;
      vus[n].u.mem.ptr = message->payload;
      vus[n++].u.mem.size = message->len;
      vus[n].vtype = RD_KAFKA_VTYPE_OPAQUE;
      vus[n++].u.ptr = message;
      if (timestamp >= 0) {
        vus[n].vtype = RD_KAFKA_VTYPE_TIMESTAMP;
        vus[n++].u.i64 = timestamp;
      }
      if (headers != nullptr) {
        vus[n].vtype = RD_KAFKA_VTYPE_HEADERS;
        vus[n++].u.headers = headers;
      }
      while (true) {
        kafka::ErrorPtr error(rd_kafka_produceva(producer.get(), vus, n));
        if (!error) {
          break;
        }
        if (rd_kafka_error_code(error.get()) == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
          rd_kafka_poll(producer.get(), 10);  // serve delivery reports to make room
          continue;
        }
        std::cerr << "produce: " << rd_kafka_error_string(error.get()) << "\n";
        if (headers != nullptr) {
          rd_kafka_headers_destroy(headers);
        }
        rd_kafka_message_destroy(message);
        produce_failed = true;
        break;
      }
      if (produce_failed ||
          (max_in_flight > 0 && stats.consumed - stats.delivered - stats.failed > max_in_flight)) {
        break;
      }
    }
    rd_kafka_poll(producer.get(), 0);
  }

  // Everything produced is delivered (or purged) before the consumer goes: rd_kafka_destroy()
  // hangs while a consumed message is alive, and the delivery reports free them.
  rd_kafka_flush(producer.get(), 10000);
  rd_kafka_purge(producer.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_poll(producer.get(), 0);
  rd_kafka_consumer_close(consumer.get());
  consumer.reset();
  producer.reset();

  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const double cpu = usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 +
                     usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
  const double window = stats.last_delivery - stats.first_delivery;
  nlohmann::json out = {
      {"records_requested", records},
      {"consumed", stats.consumed},
      {"delivered", stats.delivered},
      {"failed", stats.failed},
      {"bytes", stats.bytes},
      {"delivery_window_s", window},
      {"records_per_s", window > 0 ? stats.delivered / window : 0.0},
      {"cpu_s", cpu},
      {"max_rss_kib", usage.ru_maxrss},
  };
  if (!stats.first_error.empty()) {
    out["first_error"] = stats.first_error;
  }
  std::cout << out.dump() << std::endl;
  return stats.delivered >= records && stats.failed == 0 ? 0 : 2;
}

} // namespace
} // namespace causeway::bench

int main(int argc, char** argv) {
  signal(SIGTERM, [](int) { causeway::bench::g_stop.store(true); });
  signal(SIGINT, [](int) { causeway::bench::g_stop.store(true); });
  return causeway::bench::run(argc, argv);
}
