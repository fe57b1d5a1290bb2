#include "demo/sharing_demo.h"

#include "config/config_loader.h"
#include "demo/product_demo.h"
#include "replicator/worker.h"
#include "verify/topic_reader.h"

#include <librdkafka/rdkafka.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <thread>
#include <vector>

namespace causeway::demo {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kPartner = "acme";
constexpr const char* kTopic = "payments.authorized";
constexpr const char* kDeniedTopic = "payments.internal";
constexpr const char* kMirror = "east.payments.authorized";
constexpr const char* kDeadLetters = "causeway.east-to-acme.dlq";
constexpr int32_t kPartitions = 3;
constexpr int kPayments = 400;

struct Payment {
  std::string key;
  std::string value;
  int32_t partition = 0;
  bool json = true;
  bool shared = false;                        // what the policy's filter lets through
  std::vector<std::string> protected_values;  // card number, e-mail, IBAN, notes
};

std::vector<Payment> makePayments() {
  static const char* countries[] = {"DE", "AT", "FR", "NL", "DE"};
  std::vector<Payment> payments;
  for (int i = 0; i < kPayments; ++i) {
    Payment p;
    p.key = "pay-" + std::to_string(i);
    p.partition = i % kPartitions;
    char card[20];
    std::snprintf(card, sizeof(card), "4111%012d", 100000 + i * 7919);
    char iban[32];
    std::snprintf(iban, sizeof(iban), "DE8937040044%010d", 532013000 + i);
    const std::string email = "customer" + std::to_string(i) + "@example.com";
    const std::string notes = "vip-" + std::to_string(i * 31 + 7) + " call before shipping";
    p.protected_values = {card, email, iban, notes};
    const std::string country = countries[i % 5];
    const int amount = (i * 37) % 500;
    if (i % 100 == 99) {
      // A record that is not JSON: the policy cannot read it, so it goes to the dead-letter
      // topic on the domain's own cluster, never to the partner.
      p.json = false;
      p.value = "card " + std::string(card) + " declined for " + email;
    } else {
      p.value = nlohmann::json{
          {"id", p.key},
          {"country", country},
          {"amount", amount},
          {"card", {{"number", card}, {"brand", "visa"}}},
          {"customer", {{"email", email}, {"iban", iban}}},
          {"internal_notes",
           notes}}.dump();
      p.shared = (country == "DE" || country == "AT") && amount >= 100;
    }
    payments.push_back(std::move(p));
  }
  return payments;
}

std::string randomHex(size_t bytes) {
  std::random_device random;
  static const char* digits = "0123456789abcdef";
  std::string hex;
  for (size_t i = 0; i < bytes; ++i) {
    const unsigned b = random() & 0xff;
    hex += digits[b >> 4];
    hex += digits[b & 0xf];
  }
  return hex;
}

Status produce(const std::string& bootstrap, const std::vector<Payment>& payments) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof(err));
  rd_kafka_conf_set(conf, "enable.idempotence", "true", err, sizeof(err));
  rd_kafka_conf_set(conf, "linger.ms", "5", err, sizeof(err));
  rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (producer == nullptr) {
    return Error{std::string("producer: ") + err};
  }
  for (const Payment& p : payments) {
    rd_kafka_headers_t* headers = rd_kafka_headers_new(2);
    const std::string trace = "00-" + p.key + "-01";
    rd_kafka_header_add(headers, "traceparent", -1, trace.data(),
                        static_cast<ssize_t>(trace.size()));
    rd_kafka_header_add(headers, "x-internal-route", -1, "pci-zone-3", -1);
    rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(kTopic), RD_KAFKA_V_PARTITION(p.partition),
                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                      RD_KAFKA_V_KEY(p.key.data(), p.key.size()),
                      RD_KAFKA_V_VALUE(const_cast<char*>(p.value.data()), p.value.size()),
                      RD_KAFKA_V_HEADERS(headers), RD_KAFKA_V_END);
    rd_kafka_poll(producer, 0);
  }
  // The denied topic: the policy's allow-list keeps it off the link.
  for (int i = 0; i < 20; ++i) {
    const std::string value = "{\"ledger\":\"internal\",\"entry\":" + std::to_string(i) + "}";
    rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(kDeniedTopic),
                      RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
  }
  const rd_kafka_resp_err_t flushed = rd_kafka_flush(producer, 30000);
  rd_kafka_destroy(producer);
  if (flushed != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Error{std::string("producing the payments: ") + rd_kafka_err2str(flushed)};
  }
  return {};
}

std::string policyConfig(const embedded::EmbeddedCluster& east,
                         const embedded::EmbeddedCluster& acme, const std::string& keys) {
  return R"(clusters:
  east: {bootstrap: ")" +
         east.bootstrap() + R"(", embedded_control: ")" + east.controlAddress() + R"("}
  acme: {bootstrap: ")" +
         acme.bootstrap() + R"(", embedded_control: ")" + acme.controlAddress() + R"("}
policies:
  partner-acme:
    topics: {allow: ["payments\\.authorized"]}
    filter: 'value.country in ["DE", "AT"] and value.amount >= 100'
    fields:
      - {path: value.card.number, action: mask, keep_last: 4}
      - {path: value.customer.email, action: hash, secret_file: )" +
         keys + R"(/acme.hmac}
      - {path: value.customer.iban, action: encrypt, key_file: )" +
         keys + R"(/acme.aead}
      - {path: value.internal_notes, action: drop}
    headers: {allow: ["traceparent"]}
    on_violation: dlq
links:
  - name: east-to-acme
    source: east
    target: acme
    topics: {include: ["payments\\..*"]}
    naming: {prefix: "east."}
    delivery: exactly_once
    policy: partner-acme
    dlq: {cluster: source}
    discovery_interval: 2s
    consumer_properties: {fetch.wait.max.ms: "10"}
)";
}

// Lists every topic (a metadata request for all topics creates none).
bool topicExists(const std::string& bootstrap, const std::string& topic) {
  char err[256];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof(err));
  rd_kafka_t* client = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (client == nullptr) {
    return false;
  }
  bool found = false;
  const rd_kafka_metadata_t* metadata = nullptr;
  if (rd_kafka_metadata(client, 1, nullptr, &metadata, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
    for (int i = 0; i < metadata->topic_cnt; ++i) {
      found = found || topic == metadata->topics[i].topic;
    }
    rd_kafka_metadata_destroy(metadata);
  }
  rd_kafka_destroy(client);
  return found;
}

SharingOutcome failed(std::FILE* out, const std::string& what) {
  SharingOutcome outcome;
  outcome.failure = what;
  std::fprintf(out, "\nSHARING VERIFICATION FAILED: %s\n", what.c_str());
  return outcome;
}

// Every byte the partner received: keys, values, header names and values.
std::string everyByte(const verify::ConsumedRecord& record) {
  std::string bytes = record.key.value_or("") + "\n" + record.value.value_or("") + "\n";
  for (const auto& [name, value] : record.headers) {
    bytes += name + "=" + value.value_or("") + "\n";
  }
  return bytes;
}

}  // namespace

SharingOutcome runSharingScenario(embedded::EmbeddedCluster& east,
                                  const replicator::LinkExtensionsFactory& extensions,
                                  const SharingSettings& settings, std::FILE* out,
                                  const std::atomic<bool>& interrupted) {
  const std::chrono::milliseconds timeout = settings.timeout;
  std::fprintf(out,
               "\ncauseway demo, data sharing: '%s' shares card payments with the partner "
               "cluster '%s' through the policy partner-acme (examples/partner-sharing.yaml)\n",
               east.name().c_str(), kPartner);
  embedded::EmbeddedCluster::Options options;
  options.name = kPartner;
  options.brokers = 1;
  auto started = embedded::EmbeddedCluster::start(options);
  if (!started) {
    return failed(out, "cannot start the partner cluster: " + started.error().message);
  }
  const embedded::EmbeddedClusterPtr acme = std::move(*started);
  for (const auto& [topic, partitions] : {std::pair{kTopic, kPartitions}, {kDeniedTopic, 1}}) {
    if (auto created = east.createTopic(topic, partitions); !created) {
      return failed(out, "cannot create " + std::string(topic) + ": " + created.message());
    }
  }

  // Keys for this run only, as the partner agreement would have them (ID:HEX lines).
  const auto keys =
      std::filesystem::temp_directory_path() / ("causeway-demo-keys-" + std::to_string(::getpid()));
  std::filesystem::create_directories(keys);
  std::filesystem::permissions(keys, std::filesystem::perms::owner_all);
  std::ofstream(keys / "acme.hmac") << randomHex(32) << "\n";
  std::ofstream(keys / "acme.aead") << "demo-1:" << randomHex(32) << "\n";
  struct RemoveKeys {
    std::filesystem::path path;
    ~RemoveKeys() {
      std::error_code ignored;
      std::filesystem::remove_all(path, ignored);
    }
  } remove_keys{keys};

  auto loaded = config::loadConfigString(policyConfig(east, *acme, keys.string()), "sharing.yaml");
  if (!loaded.ok()) {
    return failed(out, "the demo's configuration does not load: " + loaded.errors.front().str());
  }
  const std::vector<Payment> payments = makePayments();
  uint64_t expected_shared = 0;
  uint64_t expected_dead = 0;
  for (const Payment& p : payments) {
    expected_shared += p.shared ? 1 : 0;
    expected_dead += p.json ? 0 : 1;
  }

  replicator::Worker worker(std::move(*loaded.config), extensions);
  if (auto running = worker.start(); !running) {
    return failed(out, "the partner link did not start: " + running.message());
  }
  if (auto produced = produce(east.bootstrap(), payments); !produced) {
    worker.stop();
    return failed(out, produced.message());
  }
  std::fprintf(out,
               "  %d payments produced to %s (%d partitions); waiting for the partner's copy\n",
               kPayments, kTopic, kPartitions);

  auto decided = [](const replicator::LinkStatus& s, const char* outcome) {
    uint64_t n = 0;
    for (const auto& d : s.decisions) {
      n += d.outcome == outcome ? d.records : 0;
    }
    return n;
  };
  replicator::LinkStatus status;
  const auto deadline = Clock::now() + timeout;
  while (true) {
    status = worker.statuses().at(0);
    if (status.records_replicated >= expected_shared &&
        decided(status, "dead_lettered") >= expected_dead) {
      break;
    }
    if (status.state == replicator::LinkState::kFailed) {
      worker.stop();
      return failed(out, "the partner link failed: " + status.error);
    }
    if (interrupted.load() || Clock::now() >= deadline) {
      worker.stop();
      return failed(out, interrupted.load() ? "interrupted"
                                            : "the partner's copy did not complete in time (" +
                                                  std::to_string(status.records_replicated) +
                                                  " of " + std::to_string(expected_shared) + ")");
    }
    std::this_thread::sleep_for(100ms);
  }
  worker.stop();
  status = worker.statuses().at(0);

  verify::ReadOptions read;
  read.bootstrap = acme->bootstrap();
  auto shared = verify::readTopic(read, kMirror);
  read.bootstrap = east.bootstrap();
  auto dead = verify::readTopic(read, kDeadLetters);
  if (!shared || !dead) {
    return failed(out, !shared ? shared.error().message : dead.error().message);
  }

  // One record before and after.
  const Payment* sample = nullptr;
  for (const Payment& p : payments) {
    if (p.shared) {
      sample = &p;
      break;
    }
  }
  for (const auto& partition : *shared) {
    for (const auto& record : partition) {
      if (sample != nullptr && record.key == sample->key) {
        std::fprintf(out, "\n  before (on %s):  %s\n  after (on %s): %s\n", east.name().c_str(),
                     sample->value.c_str(), kPartner, record.value.value_or("").c_str());
      }
    }
  }
  std::fprintf(out, "\n  decisions of link east-to-acme:\n    %-14s %-10s %-40s %s\n", "OUTCOME",
               "STAGE", "REASON / RULE", "RECORDS");
  std::fprintf(out, "    %-14s %-10s %-40s %llu\n", "shared", "-", "-",
               static_cast<unsigned long long>(status.records_replicated));
  for (const auto& d : status.decisions) {
    std::fprintf(out, "    %-14s %-10s %-40s %llu\n", d.outcome.c_str(), d.stage.c_str(),
                 (d.reason + (d.rule.empty() ? "" : " / " + d.rule)).c_str(),
                 static_cast<unsigned long long>(d.records));
  }

  // Every byte on the partner's cluster: the expected payments, no protected value in clear.
  SharingOutcome outcome;
  outcome.produced = payments.size();
  for (const auto& partition : *shared) {
    for (const auto& record : partition) {
      outcome.shared += 1;
      const std::string bytes = everyByte(record);
      for (const Payment& p : payments) {
        for (const std::string& value : p.protected_values) {
          if (bytes.find(value) != std::string::npos) {
            return failed(out, "a protected value of " + p.key + " reached the partner in clear");
          }
        }
      }
      if (bytes.find("x-internal-route") != std::string::npos) {
        return failed(out, "a header the policy does not allow reached the partner");
      }
    }
  }
  for (const auto& partition : *dead) {
    outcome.dead_lettered += partition.size();
  }
  if (outcome.shared != expected_shared || outcome.dead_lettered != expected_dead) {
    return failed(out, "the partner holds " + std::to_string(outcome.shared) + " payments (" +
                           std::to_string(expected_shared) + " expected), the dead-letter topic " +
                           std::to_string(outcome.dead_lettered) + " (" +
                           std::to_string(expected_dead) + " expected)");
  }
  if (topicExists(acme->bootstrap(), std::string("east.") + kDeniedTopic)) {
    return failed(out, "the topic the policy does not allow has a mirror on the partner's cluster");
  }
  outcome.verified = true;
  std::fprintf(out,
               "\nVERIFIED: the partner received exactly the %llu of %llu payments the policy "
               "lets through, no card number, e-mail, IBAN or note in clear in any byte, no "
               "internal header; %llu unreadable records in %s on %s; %s not shared\n",
               static_cast<unsigned long long>(outcome.shared),
               static_cast<unsigned long long>(outcome.produced),
               static_cast<unsigned long long>(outcome.dead_lettered), kDeadLetters,
               east.name().c_str(), kDeniedTopic);

  if (settings.product && !interrupted.load()) {
    ProductDemoInput product;
    product.config_yaml = policyConfig(east, *acme, keys.string());
    product.policy = "partner-acme";
    product.topic = kTopic;
    product.expected_events = expected_shared;
    for (const Payment& p : payments) {
      product.protected_values.insert(product.protected_values.end(), p.protected_values.begin(),
                                      p.protected_values.end());
    }
    product.work_dir = keys.string();
    product.serve_for = settings.serve_for;
    const ProductOutcome served = runProductScenario(east, product, out, interrupted, timeout);
    if (!served.verified) {
      outcome.verified = false;
      outcome.failure = served.failure;
    }
  }
  return outcome;
}

}  // namespace causeway::demo
