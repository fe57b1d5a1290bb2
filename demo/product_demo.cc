#include "demo/product_demo.h"

#include "config/config_loader.h"
#include "egress/egress_server.h"
#include "egress/filter_stages.h"
#include "egress/policy_stages.h"
#include "egress/sse.h"
#include "policies/policy_runtime.h"

#include <httplib.h>
#include <librdkafka/rdkafka.h>

#include <fstream>
#include <random>
#include <thread>

namespace causeway::demo {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kProduct = "payments.authorized.v1";
constexpr const char* kPartner = "acme";

ProductOutcome failed(std::FILE* out, const std::string& what) {
  std::fprintf(out, "\nVERIFICATION FAILED (data product): %s\n", what.c_str());
  ProductOutcome outcome;
  outcome.failure = what;
  return outcome;
}

std::string demoToken() {
  std::random_device random;
  static const char* digits = "0123456789abcdef";
  std::string token = "demo-";
  for (int i = 0; i < 24; ++i) {
    token += digits[random() & 0xf];
  }
  return token;
}

std::string productConfig(const ProductDemoInput& input, const std::string& tokens_file, int port) {
  return input.config_yaml + R"(
products:
  - name: )" +
         kProduct +
         R"(
    domain: payments
    description: "Authorized card payments, as partners may see them"
    source: east
    topics: [")" +
         input.topic + R"("]
    freshness_slo: 60s
partners:
  )" + kPartner +
         R"(:
    policy: )" +
         input.policy +
         R"(
    products: [")" +
         kProduct + R"("]
    auth: {tokens_file: ")" +
         tokens_file + R"("}
egress:
  listen: "127.0.0.1:)" +
         std::to_string(port) + R"("
  heartbeat_interval: 1s
  cors_origins: ["http://127.0.0.1:8000", "http://localhost:8000"]   # examples/partner-page
)";
}

// Reads the product from the earliest record, as a partner's client would, until `wanted`
// events arrived, the deadline passed or the demo was interrupted. Every byte of every event is
// kept in `seen` for the checks.
Result<uint64_t> readAsPartner(int port, const std::string& token, uint64_t wanted,
                               std::string& seen, std::string& first_event,
                               const std::atomic<bool>& interrupted,
                               std::chrono::milliseconds timeout) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(5s);
  client.set_read_timeout(5s);  // heartbeats arrive every second
  uint64_t events = 0;
  egress::SseParser parser([&](const egress::SseEvent& event) {
    if (event.type == "error") {
      seen += "error event: " + event.data;
      return;
    }
    if (first_event.empty()) {
      first_event = event.data;
    }
    seen += event.data;
    seen += '\n';
    ++events;
  });
  const auto deadline = Clock::now() + timeout;
  const std::string path = std::string("/v1/products/") + kProduct + "/events?from=earliest";
  auto answer =
      client.Get(path, {{"Authorization", "Bearer " + token}}, [&](const char* data, size_t size) {
        parser.feed(std::string_view(data, size));
        return events < wanted && !interrupted.load() && Clock::now() < deadline;
      });
  if (events >= wanted || interrupted.load()) {
    return events;
  }
  if (answer && answer->status != 200) {
    return Error{"the egress server answered " + std::to_string(answer->status) + ": " +
                 answer->body};
  }
  return Error{"the stream gave " + std::to_string(events) + " of " + std::to_string(wanted) +
               " events before " +
               (Clock::now() >= deadline
                    ? std::string("the deadline")
                    : "it ended (" + httplib::to_string(answer.error()) + ")")};
}

// A payment the partner's filter lets through, produced while the product is served so a
// following stream moves.
void produceLivePayment(rd_kafka_t* producer, const std::string& topic, int n) {
  char card[20];
  std::snprintf(card, sizeof(card), "4000%012d", 700000 + n);
  const std::string value = "{\"id\":\"live-" + std::to_string(n) +
                            "\",\"country\":\"DE\",\"amount\":250,\"card\":{\"number\":\"" + card +
                            "\",\"brand\":\"visa\"},\"customer\":{\"email\":\"live" +
                            std::to_string(n) + "@example.com\",\"iban\":\"DE89370400440" +
                            std::to_string(532100000 + n) +
                            "\"},\"internal_notes\":\"live payment\"}";
  const std::string key = "live-" + std::to_string(n);
  rd_kafka_producev(
      producer, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
      RD_KAFKA_V_KEY(key.data(), key.size()),
      RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()), RD_KAFKA_V_END);
  rd_kafka_poll(producer, 0);
}

void serveLive(embedded::EmbeddedCluster& east, const ProductDemoInput& input, std::FILE* out,
               const std::atomic<bool>& interrupted) {
  std::fprintf(out,
               "\n  serving the product for %lld s more, with a new payment every second "
               "(paste the curl command above in another terminal; Ctrl-C ends it now)\n",
               static_cast<long long>(
                   std::chrono::duration_cast<std::chrono::seconds>(input.serve_for).count()));
  std::fflush(out);
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", east.bootstrap().c_str(), err, sizeof(err));
  rd_kafka_conf_set(conf, "linger.ms", "5", err, sizeof(err));
  rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  const auto until = Clock::now() + input.serve_for;
  int n = 0;
  while (!interrupted.load() && Clock::now() < until) {
    if (producer != nullptr) {
      produceLivePayment(producer, input.topic, n++);
    }
    for (int i = 0; i < 10 && !interrupted.load(); ++i) {
      std::this_thread::sleep_for(100ms);
    }
  }
  if (producer != nullptr) {
    rd_kafka_flush(producer, 5000);
    rd_kafka_destroy(producer);
  }
  std::fprintf(out, "  %d live payments produced; the product is no longer served\n", n);
}

}  // namespace

ProductOutcome runProductScenario(embedded::EmbeddedCluster& east, const ProductDemoInput& input,
                                  std::FILE* out, const std::atomic<bool>& interrupted,
                                  std::chrono::milliseconds timeout) {
  std::fprintf(out,
               "\ncauseway demo, data product: %s publishes %s as the product %s; the partner "
               "'%s' reads it over HTTP (Server-Sent Events) through %s\n",
               east.name().c_str(), input.topic.c_str(), kProduct, kPartner, input.policy.c_str());
  const std::string token = demoToken();
  const std::string tokens_file = input.work_dir + "/acme.tokens";
  std::ofstream(tokens_file) << "acme-demo " << token << "\n";

  // The port users can paste; any free one when it is taken (another demo running).
  std::unique_ptr<config::Config> config;
  std::unique_ptr<egress::EgressServer> server;
  for (const int port : {input.port, 0}) {
    auto loaded = config::loadConfigString(productConfig(input, tokens_file, port), "product.yaml");
    if (!loaded.ok()) {
      return failed(out, "the demo's product configuration does not load: " +
                             loaded.errors.front().str());
    }
    std::vector<config::ConfigError> errors;
    std::shared_ptr<policies::PolicyRuntime> policies =
        policies::PolicyRuntime::create(*loaded.config, errors);
    if (!policies) {
      return failed(out, "the partner's policy does not compile: " +
                             (errors.empty() ? std::string("?") : errors.front().str()));
    }
    egress::EgressServer::Options options;
    options.stages = egress::policyStageFactory(std::move(policies));
    options.filters = egress::predicateFilterFactory();  // ?filter= works as with causeway run
    config = std::make_unique<config::Config>(std::move(*loaded.config));
    auto started = egress::EgressServer::start(*config, options);
    if (started) {
      server = std::move(*started);
      break;
    }
    if (port == 0) {
      return failed(out, "the egress server did not start: " + started.error().message);
    }
  }
  std::fprintf(
      out,
      "  follow the product as the partner (while the demo runs):\n"
      "    curl -sN -H 'Authorization: Bearer %s' '%s/v1/products/%s/events?from=earliest'\n",
      token.c_str(), server->url().c_str(), kProduct);
  std::fflush(out);

  std::string seen;
  std::string first_event;
  auto read = readAsPartner(server->httpPort(), token, input.expected_events, seen, first_event,
                            interrupted, timeout);
  if (interrupted.load()) {
    return failed(out, "interrupted");
  }
  if (!read) {
    return failed(out, read.error().message);
  }
  ProductOutcome outcome;
  outcome.events = *read;
  for (const std::string& value : input.protected_values) {
    if (seen.find(value) != std::string::npos) {
      return failed(out, "a protected value reached the partner in clear over HTTP");
    }
  }
  if (outcome.events != input.expected_events) {
    return failed(out, "the partner read " + std::to_string(outcome.events) + " events (" +
                           std::to_string(input.expected_events) + " expected)");
  }
  std::fprintf(out, "\n  first event the partner read:\n    %s\n", first_event.c_str());
  outcome.verified = true;
  std::fprintf(out,
               "\nVERIFIED: the partner read the same %llu payments over HTTP as an event "
               "stream, through its policy, no protected value in clear\n",
               static_cast<unsigned long long>(outcome.events));
  if (input.serve_for > 0ms && !interrupted.load()) {
    serveLive(east, input, out, interrupted);
  }
  return outcome;
}

}  // namespace causeway::demo
