// causeway-bench-load: feeds the benchmark's source topic and watches its target topic.
//
//   causeway-bench-load --source HOST:PORT --target HOST:PORT --topic bench --partitions 8
//                       --records N --size BYTES [--rate R] [--backlog-bytes B] [--timeout-s S]
//                       [--payload stamp|json|avro] [--policy-check --hmac-secret-file F]
//                       [--schema-id ID] [--expect-schema-id ID]
//
// Every record has an 8-byte key (its per-partition sequence), one header and a value of exactly
// --size bytes; records go round-robin over the partitions. With --payload stamp (the default)
// the value starts with a RecordStamp (send time in microseconds, partition, per-partition
// sequence) followed by filler; with --payload json it is one JSON object (json_records.h) and
// about 1 record in 16 carries a second header, `test`; with --payload avro it is a
// Confluent-framed Avro datum (avro_records.h) with the schema ID --schema-id (default 1). JSON
// and Avro records are for throughput mode.
//
// --expect-schema-id ID (throughput, Avro): after the window the checker reads back every record
// the target still holds; each must be, byte for byte, the record of its partition and offset
// with the schema ID rewritten to ID (the ID the target registry gave the writer schema).
//
// --policy-check (throughput, JSON): the contender applies the benchmark policy (the driver's
// writePolicy(): filter, mask, HMAC hash, AES-256-GCM encrypt). The target must then hold exactly
// the records that pass the filter, computed here from the generated records (the high
// watermarks must add up to their number), and after the window the checker reads back every
// record the target still holds (the mock keeps the last 5 MiB of each partition): each must be
// the next record of its partition that the filter lets through, its card number masked to the
// last 4 digits, its e-mail replaced by the HMAC-SHA256 (recomputed here with the secret of
// --hmac-secret-file), its IBAN an encryption envelope, and none of the record's clear card
// number, e-mail or IBAN anywhere in its value. records_per_s stays N (source records) / window,
// as for every contender; target_records_per_s is the rate of what reached the target.
//
// Throughput mode (no --rate): produce as fast as the backlog bound allows and poll the target's
// high watermarks every 5 ms. The replicator's rate is measured between the first poll that sees
// a record on the target and the first that sees all N: the replicator's start-up is outside
// the window. Verification: exactly N records must reach the target (fewer is loss, more is
// duplication).
//
// Latency mode (--rate R): first one warm-up record per partition, waited for on the target, so
// the replicator is assigned and running; then N records paced at R records/s, while a checker
// consumes the target and computes, per record, (time read from the target) - (send time in the
// value). The checker also checks every partition's sequence: gaps (loss), repeats
// (duplicates), reordering.
//
// Backlog bound (both modes): the embedded (mock) cluster silently drops data beyond 5 MiB per
// partition, so a partition is only fed while (records produced - records on the target) x size
// stays below --backlog-bytes (default 3 MiB). The feed is therefore closed-loop on the target's
// watermarks and can never outrun retention; in throughput mode the bound is still far larger
// than what the replicator moves in one watermark poll, so it never starves.
//
// Prints one JSON object on stdout. Exit status 0 when every record arrived exactly once.

#include "bench/avro_records.h"
#include "bench/bench_common.h"
#include "bench/json_records.h"
#include "bench/retained_reader.h"

#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace causeway::bench {
namespace {

struct Options {
  std::string source;
  std::string target;
  std::string topic = "bench";
  int partitions = 8;
  uint64_t records = 0;
  size_t size = 100;
  double rate = 0;  // 0: throughput mode
  size_t backlog_bytes = 3u << 20;
  double timeout_s = 300;
  bool json = false;          // --payload json
  bool avro = false;          // --payload avro
  uint32_t schema_id = 1;     // --schema-id: the Avro records' ID in the source registry
  int64_t expect_schema_id = -1;  // --expect-schema-id: their ID on the target (-1: no check)
  bool policy_check = false;  // --policy-check
  std::string hmac_secret_file;
};

struct ProduceStats {
  std::atomic<uint64_t> delivered{0};
  std::atomic<uint64_t> failed{0};
};

void onDelivery(rd_kafka_t*, const rd_kafka_message_t* report, void* opaque) {
  auto* stats = static_cast<ProduceStats*>(opaque);
  (report->err == RD_KAFKA_RESP_ERR_NO_ERROR ? stats->delivered : stats->failed) += 1;
}

void configureProducer(rd_kafka_conf_t* conf, void* opaque) {
  rd_kafka_conf_set_opaque(conf, opaque);
  rd_kafka_conf_set_dr_msg_cb(conf, &onDelivery);
}

// Polls the target's high watermarks; the producer reads them to bound the backlog.
class TargetWatch {
public:
  TargetWatch(const Options& options, kafka::HandlePtr client)
      : options_(options), client_(std::move(client)), hwm_(options.partitions) {}

  // Reads every partition's high watermark once. False if one could not be read.
  bool refresh() {
    int64_t total = 0;
    for (int p = 0; p < options_.partitions; ++p) {
      int64_t low = 0;
      int64_t high = 0;
      if (rd_kafka_query_watermark_offsets(client_.get(), options_.topic.c_str(), p, &low, &high,
                                           2000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return false;
      }
      hwm_[p].store(high);
      total += high;
    }
    total_.store(total);
    return true;
  }

  int64_t hwm(int partition) const { return hwm_[partition].load(); }
  int64_t total() const { return total_.load(); }

private:
  const Options& options_;
  kafka::HandlePtr client_;
  std::vector<std::atomic<int64_t>> hwm_;
  std::atomic<int64_t> total_{0};
};

class LoadGenerator {
public:
  explicit LoadGenerator(Options options) : options_(std::move(options)) {}

  int run() {
    const Properties producer_props = {
        {"bootstrap.servers", options_.source},
        {"client.id", "causeway-bench-load"},
        {"linger.ms", options_.rate > 0 ? "1" : "5"},
        {"batch.size", "1000000"},
        {"acks", "all"},
        {"queue.buffering.max.messages", "1000000"},
        {"queue.buffering.max.kbytes", "1048576"},
    };
    producer_ = makeClient(RD_KAFKA_PRODUCER, producer_props, &configureProducer, &stats_);
    kafka::HandlePtr watch_client = makeClient(
        RD_KAFKA_CONSUMER, {{"bootstrap.servers", options_.target},
                            {"client.id", "causeway-bench-watch"},
                            {"group.id", "causeway-bench-watch"}});
    if (!producer_ || !watch_client) {
      return 1;
    }
    watch_ = std::make_unique<TargetWatch>(options_, std::move(watch_client));
    if (!watch_->refresh()) {
      std::cerr << "cannot read the target's watermarks (is topic '" << options_.topic
                << "' there with " << options_.partitions << " partitions?)\n";
      return 1;
    }
    base_total_ = watch_->total();
    for (int p = 0; p < options_.partitions; ++p) {
      base_hwm_.push_back(watch_->hwm(p));
    }
    topic_.reset(rd_kafka_topic_new(producer_.get(), options_.topic.c_str(), nullptr));
    value_.assign(std::max(options_.size, sizeof(RecordStamp)), 'x');
    sequence_.assign(options_.partitions, 0);
    passing_.assign(options_.partitions, 0);
    if (options_.json) {
      json_ = std::make_unique<JsonRecordTemplate>(options_.size);
      if (!json_->fits(options_.size)) {
        std::cerr << "--payload json: a value of " << options_.size
                  << " bytes cannot hold the JSON record's fields (at least "
                  << JsonRecordTemplate::kMinSize << ")\n";
        return 1;
      }
    }
    if (options_.avro) {
      if (options_.size < AvroRecordWriter::kMinSize) {
        std::cerr << "--payload avro: a value of " << options_.size
                  << " bytes cannot hold the Avro record's fields (at least "
                  << AvroRecordWriter::kMinSize << ")\n";
        return 1;
      }
      avro_ = std::make_unique<AvroRecordWriter>(options_.size, options_.schema_id);
    }
    if (options_.policy_check && !readSecret()) {
      return 1;
    }
    deadline_ = monoSeconds() + options_.timeout_s;
    return options_.rate > 0 ? runLatency() : runThroughput();
  }

private:
  // Hands one record to the producer (waiting while its queue is full).
  bool produce(int partition, int64_t sequence) {
    const std::string* value = &value_;
    bool test_header = false;
    if (json_) {
      value = &json_->fill(partition, sequence, nowMicros());
      test_header = JsonRecordFields::of(partition, sequence).test_header;
    } else if (avro_) {
      value = &avro_->fill(partition, sequence);
    } else {
      RecordStamp stamp{nowMicros(), sequence, partition, 0};
      std::memcpy(value_.data(), &stamp, sizeof(stamp));
    }
    const int64_t key = sequence;
    while (true) {
      rd_kafka_resp_err_t err =
          test_header
              ? rd_kafka_producev(
                    producer_.get(), RD_KAFKA_V_RKT(topic_.get()), RD_KAFKA_V_PARTITION(partition),
                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(&key, sizeof(key)),
                    RD_KAFKA_V_VALUE(const_cast<char*>(value->data()), value->size()),
                    RD_KAFKA_V_HEADER("bench", "causeway", 8), RD_KAFKA_V_HEADER("test", "1", 1),
                    RD_KAFKA_V_END)
              : rd_kafka_producev(
                    producer_.get(), RD_KAFKA_V_RKT(topic_.get()), RD_KAFKA_V_PARTITION(partition),
                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(&key, sizeof(key)),
                    RD_KAFKA_V_VALUE(const_cast<char*>(value->data()), value->size()),
                    RD_KAFKA_V_HEADER("bench", "causeway", 8), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        return true;
      }
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || monoSeconds() > deadline_) {
        std::cerr << "produce: " << rd_kafka_err2str(err) << "\n";
        return false;
      }
      rd_kafka_poll(producer_.get(), 5);
    }
  }

  // True when partition p may take one more record without risking the mock's retention. With
  // --policy-check only the records that pass the filter reach the target, so the backlog counts
  // those against a budget shrunk by the share that passes (the source still holds all of them).
  bool backlogAllows(int p) const {
    const int64_t on_target = watch_->hwm(p) - base_hwm_[p];
    if (options_.policy_check) {
      return static_cast<double>(passing_[p] - on_target) * value_.size() <
             options_.backlog_bytes * pass_share_;
    }
    return static_cast<size_t>(sequence_[p] - on_target) * value_.size() <
           options_.backlog_bytes;
  }

  void startWatcher(double* first_seen, double* all_seen, int64_t expected) {
    watcher_ = std::thread([this, first_seen, all_seen, expected] {
      while (!stop_watch_.load() && monoSeconds() < deadline_) {
        if (watch_->refresh()) {
          const int64_t arrived = watch_->total() - base_total_;
          const double now = monoSeconds();
          if (arrived > 0 && *first_seen == 0) {
            *first_seen = now;
          }
          if (arrived >= expected) {
            *all_seen = now;
            // Linger a little: a duplicate that lands just after the last record is seen too.
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
            watch_->refresh();
            return;
          }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });
  }

  bool feed(int64_t total, double rate, double start) {
    int64_t sent = 0;
    while (sent < total) {
      if (monoSeconds() > deadline_) {
        std::cerr << "timed out after producing " << sent << " records\n";
        return false;
      }
      int64_t due = total;
      if (rate > 0) {
        due = std::min<int64_t>(total, static_cast<int64_t>((monoSeconds() - start) * rate) + 1);
      }
      bool progressed = false;
      while (sent < due) {
        const int p = static_cast<int>(sent % options_.partitions);
        if (!backlogAllows(p)) {
          break;
        }
        if (!produce(p, sequence_[p])) {
          return false;
        }
        if (options_.policy_check && JsonRecordFields::of(p, sequence_[p]).passes()) {
          passing_[p] += 1;
        }
        sequence_[p] += 1;
        sent += 1;
        progressed = true;
        if (sent % 1024 == 0) {
          rd_kafka_poll(producer_.get(), 0);
        }
      }
      rd_kafka_poll(producer_.get(), 0);
      if (!progressed || sent < due) {
        std::this_thread::sleep_for(std::chrono::microseconds(rate > 0 ? 200 : 1000));
      }
    }
    return true;
  }

  int finish(nlohmann::json out, bool ok) {
    rd_kafka_flush(producer_.get(), 10000);
    stop_watch_.store(true);
    if (watcher_.joinable()) {
      watcher_.join();
    }
    const int64_t on_target = watch_->total() - base_total_;
    out["produced"] = stats_.delivered.load();
    out["produce_failed"] = stats_.failed.load();
    out["target_records"] = on_target;
    ok = ok && stats_.failed.load() == 0;
    out["ok"] = ok;
    std::cout << out.dump() << std::endl;
    return ok ? 0 : 2;
  }

  int runThroughput() {
    double first_seen = 0;
    double all_seen = 0;
    const auto n = static_cast<int64_t>(options_.records);
    // What must reach the target: all N, or with --policy-check the records the filter passes
    // (record i goes to partition i % P as sequence i / P, as feed() sends them).
    int64_t expected = n;
    if (options_.policy_check) {
      expected = 0;
      for (int64_t i = 0; i < n; ++i) {
        expected +=
            JsonRecordFields::of(static_cast<int>(i % options_.partitions), i / options_.partitions)
                .passes();
      }
      pass_share_ = n > 0 ? static_cast<double>(expected) / n : 1.0;
    }
    startWatcher(&first_seen, &all_seen, expected);
    bool ok = feed(n, 0, monoSeconds());
    if (!ok) {
      stop_watch_.store(true);
    }
    rd_kafka_flush(producer_.get(), 10000);
    if (watcher_.joinable()) {
      watcher_.join();
    }
    const int64_t on_target = watch_->total() - base_total_;
    const double window = all_seen > 0 ? all_seen - first_seen : 0;
    nlohmann::json out = {
        {"mode", "throughput"},
        {"records", options_.records},
        {"size", options_.size},
        {"window_s", window},
        {"records_per_s", window > 0 ? n / window : 0.0},
        {"mb_per_s", window > 0 ? n * static_cast<double>(options_.size) / window / 1e6 : 0.0},
        {"lost", std::max<int64_t>(0, expected - on_target)},
        {"duplicates", std::max<int64_t>(0, on_target - expected)},
    };
    if (options_.json || options_.avro) {
      out["payload"] = options_.json ? "json" : "avro";
    }
    if (options_.expect_schema_id >= 0) {
      ok = checkAvroOutput(&out) && ok;
    }
    if (options_.policy_check) {
      out["expected_on_target"] = expected;
      out["filtered_out"] = n - expected;
      out["target_records_per_s"] = window > 0 ? expected / window : 0.0;
      // Read back even when the count is off: the counts below say what went wrong.
      ok = checkPolicyOutput(expected, &out) && ok;
    }
    return finish(out, ok && on_target == expected);
  }

  bool readSecret() {
    std::ifstream in(options_.hmac_secret_file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    secret_ = text.str();
    while (!secret_.empty() && std::isspace(static_cast<unsigned char>(secret_.back()))) {
      secret_.pop_back();  // as the policy reads a hash secret (docs/policies.md)
    }
    if (!in || secret_.size() < 32) {
      std::cerr << "--hmac-secret-file '" << options_.hmac_secret_file
                << "': cannot read a secret of at least 32 bytes\n";
      return false;
    }
    return true;
  }

  std::string hmacHex(std::string_view text) const {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
         reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest, &len);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < len; ++i) {
      out += kHex[digest[i] >> 4];
      out += kHex[digest[i] & 15];
    }
    return out;
  }

  // Checks every record the target still holds against the record it must be. A partition's
  // records keep their order through the link, so target offset `base + i` must hold the i-th
  // record of that partition that passes the filter: that catches a filtered record let through,
  // a repeat and a gap, and the key (the sequence) and the "id" member must both say so. Counts
  // go to `out`; true when every retained record is the right one and was transformed as the
  // policy says, with no clear protected value in it.
  bool checkPolicyOutput(int64_t expected, nlohmann::json* out) {
    // Per partition, the sequences of the records that pass the filter, in order.
    std::vector<std::vector<int64_t>> passing(options_.partitions);
    for (int p = 0; p < options_.partitions; ++p) {
      for (int64_t sequence = 0; sequence < sequence_[p]; ++sequence) {
        if (JsonRecordFields::of(p, sequence).passes()) {
          passing[p].push_back(sequence);
        }
      }
    }
    int64_t out_of_place = 0, not_passing = 0, clear_values = 0, untransformed = 0;
    int64_t unidentified = 0;
    std::string sample_envelope;
    std::string sample_iban;
    RetainedRead read;
    const bool readable = readRetained(options_.target, options_.topic, base_hwm_, "policy-check", [&](const rd_kafka_message_t& message) {
      const int p = message.partition;
      int64_t sequence = -1;
      if (message.key_len == sizeof(sequence)) {
        std::memcpy(&sequence, message.key, sizeof(sequence));
      }
      const std::string_view value(static_cast<const char*>(message.payload), message.len);
      if (sequence < 0 || sequence >= sequence_[p] ||
          value.find(JsonRecordTemplate::idMember(p, sequence)) == std::string_view::npos) {
        unidentified += 1;
        return;
      }
      const auto ordinal = static_cast<size_t>(message.offset - base_hwm_[p]);
      if (ordinal >= passing[p].size() || passing[p][ordinal] != sequence) {
        out_of_place += 1;
      }
      if (!JsonRecordFields::of(p, sequence).passes()) {
        not_passing += 1;  // the filter should have dropped it
      }
      const JsonRecordSecrets clear = JsonRecordSecrets::of(p, sequence);
      if (value.find(clear.card) != std::string_view::npos ||
          value.find(clear.email) != std::string_view::npos ||
          value.find(clear.iban) != std::string_view::npos) {
        clear_values += 1;
      }
      const std::string masked =
          "\"number\":\"************" + std::string(clear.card + 12, 4) + "\"";
      const std::string hashed = "\"email\":\"" + hmacHex(clear.email) + "\"";
      const size_t iban = value.find("\"iban\":\"cwenc:");
      if (value.find(masked) == std::string_view::npos ||
          value.find(hashed) == std::string_view::npos || iban == std::string_view::npos) {
        untransformed += 1;
      } else if (sample_envelope.empty()) {
        const size_t start = iban + 8;
        const size_t stop = value.find('"', start);
        sample_envelope.assign(value.substr(start, stop - start));
        sample_iban = clear.iban;
      }
    }, &read);
    (*out)["policy_check"] = {{"expected_on_target", expected},
                              {"retained_on_target", read.retained},
                              {"checked", read.read},
                              {"not_read", read.not_read()},
                              {"read_errors", read.read_errors},
                              {"out_of_place", out_of_place},
                              {"not_passing_filter", not_passing},
                              {"unidentified", unidentified},
                              {"clear_protected_values", clear_values},
                              {"not_transformed", untransformed},
                              {"sample_iban_envelope", sample_envelope},
                              {"sample_iban_clear", sample_iban}};
    return readable && read.retained > 0 && read.not_read() == 0 && out_of_place == 0 &&
           not_passing == 0 && unidentified == 0 && clear_values == 0 && untransformed == 0;
  }

  // --expect-schema-id: every record the target still holds must be the record of its partition
  // and offset (the link keeps each partition's order, and the target topic was empty), byte for
  // byte, framed with the expected ID.
  bool checkAvroOutput(nlohmann::json* out) {
    AvroRecordWriter expected(options_.size, static_cast<uint32_t>(options_.expect_schema_id));
    int64_t wrong_id = 0, mismatched = 0, out_of_range = 0;
    RetainedRead read;
    const bool readable = readRetained(options_.target, options_.topic, base_hwm_, "avro-check", [&](const rd_kafka_message_t& message) {
      const int p = message.partition;
      const int64_t sequence = message.offset - base_hwm_[p];
      if (sequence < 0 || sequence >= sequence_[p]) {
        out_of_range += 1;
        return;
      }
      const std::string_view value(static_cast<const char*>(message.payload), message.len);
      const std::string& want = expected.fill(p, sequence);
      if (value.size() < 5 || value.compare(0, 5, want, 0, 5) != 0) {
        wrong_id += 1;
      } else if (value != want) {
        mismatched += 1;
      }
    }, &read);
    (*out)["avro_check"] = {{"expected_schema_id", options_.expect_schema_id},
                            {"retained_on_target", read.retained},
                            {"checked", read.read},
                            {"not_read", read.not_read()},
                            {"read_errors", read.read_errors},
                            {"wrong_schema_id", wrong_id},
                            {"payload_changed", mismatched},
                            {"out_of_range", out_of_range}};
    return readable && read.retained > 0 && read.not_read() == 0 && wrong_id == 0 &&
           mismatched == 0 && out_of_range == 0;
  }

  int runLatency() {
    // Warm-up: one record per partition, so the replicator is assigned and writing before the
    // measured records start.
    for (int p = 0; p < options_.partitions; ++p) {
      if (!produce(p, -1)) {
        return 1;
      }
    }
    rd_kafka_flush(producer_.get(), 10000);
    while (watch_->total() - base_total_ < options_.partitions) {
      if (monoSeconds() > deadline_) {
        std::cerr << "the warm-up records never reached the target\n";
        return 2;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      watch_->refresh();
    }
    for (int p = 0; p < options_.partitions; ++p) {
      base_hwm_[p] = watch_->hwm(p);
    }
    base_total_ = watch_->total();

    kafka::HandlePtr checker = makeClient(
        RD_KAFKA_CONSUMER, {{"bootstrap.servers", options_.target},
                            {"client.id", "causeway-bench-checker"},
                            {"group.id", "causeway-bench-checker"},
                            {"enable.auto.commit", "false"},
                            {"fetch.wait.max.ms", "10"},
                            {"queued.min.messages", "1000000"},
                            {"queued.max.messages.kbytes", "65536"}});
    if (!checker) {
      return 1;
    }
    kafka::PartitionListPtr assignment(rd_kafka_topic_partition_list_new(options_.partitions));
    for (int p = 0; p < options_.partitions; ++p) {
      rd_kafka_topic_partition_list_add(assignment.get(), options_.topic.c_str(), p)->offset =
          base_hwm_[p];
    }
    if (rd_kafka_resp_err_t err = rd_kafka_assign(checker.get(), assignment.get())) {
      std::cerr << "checker assign: " << rd_kafka_err2str(err) << "\n";
      return 1;
    }

    const auto n = static_cast<int64_t>(options_.records);
    std::vector<int32_t> latencies;
    latencies.reserve(n);
    std::vector<int64_t> expected(options_.partitions, 0);
    int64_t gaps = 0;
    int64_t repeats = 0;
    int64_t checked = 0;
    std::thread reader([&] {
      while (checked < n && monoSeconds() < deadline_) {
        kafka::MessagePtr message(rd_kafka_consumer_poll(checker.get(), 100));
        if (!message || message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
          continue;
        }
        const int64_t now = nowMicros();
        RecordStamp stamp{};
        if (!readStamp(message->payload, message->len, &stamp) || stamp.sequence < 0) {
          continue;
        }
        const int p = message->partition;
        if (p < 0 || p >= options_.partitions) {
          continue;
        }
        if (stamp.sequence < expected[p]) {
          repeats += 1;  // a duplicate, or a record that came back after a reorder
          continue;
        }
        gaps += stamp.sequence - expected[p];
        expected[p] = stamp.sequence + 1;
        latencies.push_back(static_cast<int32_t>(std::min<int64_t>(now - stamp.send_micros,
                                                                   INT32_MAX)));
        checked += 1;
      }
    });
    double first_seen = 0;
    double all_seen = 0;
    startWatcher(&first_seen, &all_seen, n);
    const double start = monoSeconds();
    bool ok = feed(n, options_.rate, start);
    if (!ok) {
      stop_watch_.store(true);
    }
    const double feed_seconds = monoSeconds() - start;
    reader.join();
    rd_kafka_consumer_close(checker.get());

    std::sort(latencies.begin(), latencies.end());
    auto quantile = [&](double q) {
      if (latencies.empty()) {
        return -1.0;
      }
      const size_t i = std::min(latencies.size() - 1, static_cast<size_t>(q * latencies.size()));
      return latencies[i] / 1000.0;
    };
    int64_t missing = 0;
    for (int p = 0; p < options_.partitions; ++p) {
      missing += std::max<int64_t>(0, sequence_[p] - expected[p]);
    }
    nlohmann::json out = {
        {"mode", "latency"},
        {"records", options_.records},
        {"size", options_.size},
        {"target_rate", options_.rate},
        {"achieved_rate", feed_seconds > 0 ? n / feed_seconds : 0.0},
        {"checked", checked},
        {"lost", gaps + missing},
        {"duplicates", repeats},
        {"p50_ms", quantile(0.50)},
        {"p99_ms", quantile(0.99)},
        {"p999_ms", quantile(0.999)},
        {"max_ms", latencies.empty() ? -1.0 : latencies.back() / 1000.0},
    };
    return finish(out, ok && checked == n && gaps + missing == 0 && repeats == 0);
  }

  Options options_;
  ProduceStats stats_;
  kafka::HandlePtr producer_;
  kafka::TopicPtr topic_;
  std::unique_ptr<TargetWatch> watch_;
  std::vector<int64_t> base_hwm_;
  int64_t base_total_ = 0;
  std::vector<int64_t> sequence_;
  std::string value_;
  std::unique_ptr<JsonRecordTemplate> json_;
  std::unique_ptr<AvroRecordWriter> avro_;
  std::vector<int64_t> passing_;  // per partition: records produced that pass the filter
  double pass_share_ = 1.0;
  std::string secret_;
  double deadline_ = 0;
  std::thread watcher_;
  std::atomic<bool> stop_watch_{false};
};

void usage() {
  std::cerr << "usage: causeway-bench-load --source BOOTSTRAP --target BOOTSTRAP --records N "
               "--size BYTES [--topic NAME] [--partitions P] [--rate R] [--backlog-bytes B] "
               "[--timeout-s S] [--payload stamp|json|avro] [--policy-check --hmac-secret-file F] "
               "[--schema-id ID] [--expect-schema-id ID]\n";
}

} // namespace
} // namespace causeway::bench

int main(int argc, char** argv) {
  using causeway::bench::usage;
  causeway::bench::Options options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--policy-check") {
      options.policy_check = true;
      continue;
    }
    if (i + 1 >= argc) {
      usage();
      return 1;
    }
    std::string value = argv[++i];
    if (arg == "--source") {
      options.source = value;
    } else if (arg == "--target") {
      options.target = value;
    } else if (arg == "--topic") {
      options.topic = value;
    } else if (arg == "--partitions") {
      options.partitions = std::atoi(value.c_str());
    } else if (arg == "--records") {
      options.records = std::strtoull(value.c_str(), nullptr, 10);
    } else if (arg == "--size") {
      options.size = std::strtoull(value.c_str(), nullptr, 10);
    } else if (arg == "--rate") {
      options.rate = std::strtod(value.c_str(), nullptr);
    } else if (arg == "--backlog-bytes") {
      options.backlog_bytes = std::strtoull(value.c_str(), nullptr, 10);
    } else if (arg == "--timeout-s") {
      options.timeout_s = std::strtod(value.c_str(), nullptr);
    } else if (arg == "--payload" && (value == "stamp" || value == "json" || value == "avro")) {
      options.json = value == "json";
      options.avro = value == "avro";
    } else if (arg == "--schema-id") {
      options.schema_id = static_cast<uint32_t>(std::strtoul(value.c_str(), nullptr, 10));
    } else if (arg == "--expect-schema-id") {
      options.expect_schema_id = std::strtoll(value.c_str(), nullptr, 10);
    } else if (arg == "--hmac-secret-file") {
      options.hmac_secret_file = value;
    } else {
      usage();
      return 1;
    }
  }
  if (options.source.empty() || options.target.empty() || options.records == 0 ||
      options.partitions <= 0 || options.size < sizeof(causeway::bench::RecordStamp) ||
      ((options.json || options.avro) && options.rate > 0) ||
      (options.expect_schema_id >= 0 && !options.avro) ||
      (options.policy_check && (!options.json || options.hmac_secret_file.empty()))) {
    usage();  // JSON and Avro records carry no binary stamp, so no latency runs over them
    return 1;
  }
  return causeway::bench::LoadGenerator(options).run();
}
