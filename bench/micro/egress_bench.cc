// Google Benchmark micro-benchmarks of partner egress per event (docs/egress.md): what one
// (product, partner) tail does once per record (the event JSON), and what each client adds
// (its SSE frame, and its ?filter= when it has one). Issue 13's target: one SSE client of a
// 1 KiB JSON product >= 50k events/s.
//
//   build/bench/causeway_micro_bench --benchmark_filter='Egress'

#include "egress/event_json.h"
#include "egress/filter_stages.h"
#include "egress/sse.h"
#include "pipeline/record.h"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace causeway::egress {
namespace {

// A payment of about 1 KiB, as a partner feed carries it (the policy benchmark's record).
std::string payment1KiB() {
  std::string value =
      R"({"id":"pay-000000123456","country":"DE","amount":250.75,"currency":"EUR",)"
      R"("card":{"number":"************1111","expiry":"12/29","brand":"visa"},)"
      R"("customer":{"id":"C-1001","email":"[REDACTED]",)"
      R"("iban":"[REDACTED]","address":{"street":"Hauptstrasse 1",)"
      R"("city":"Berlin","postcode":"10115","country":"DE"}},)"
      R"("items":[{"sku":"AB-1","qty":1,"price":100.25},{"sku":"AB-2","qty":2,"price":75.25}],)"
      R"("merchant":{"id":"M-77","name":"Example Shop","mcc":"5411"},)"
      R"("created_at":"2026-11-27T06:00:00Z","status":"authorized","description":")";
  while (value.size() < 1000) {
    value += "lorem ipsum ";
  }
  value += R"("})";
  return value;
}

// A resume token of a 3-partition product, as long as the real ones.
const std::string kToken = "ATycilwBJUhUXQMAAAEAAgBIS6wJHQIkdjexJEjYt6G8ATycilwBJUhUXQ";

struct Event {
  std::string value = payment1KiB();
  pipeline::RecordView view;
  pipeline::Record record;
  std::vector<std::string> header_names = {"trace-id"};

  Event() {
    view.topic = "payments.authorized";
    view.partition = 2;
    view.offset = 123456;
    view.key = "pay-000000123456";
    view.value = value;
    view.timestamp = 1700000000000;
    view.headers = {{"trace-id", "00-4bf92f3577b34da6a3ce929d0e0e4736"}, {"origin", "east"}};
    record.reset(&view);
  }
};

pipeline::StagePtr filter(std::string_view text) {
  config::ProductConfig product;
  auto made = predicateFilterFactory()(text, product);
  if (!made) {
    std::fprintf(stderr, "%s\n", made.error().message.c_str());
    std::abort();
  }
  return std::move(*made);
}

// Once per record and (product, partner), shared by every client of the pair: the event JSON.
void BM_EgressEventJson1KiB(benchmark::State& state) {
  Event e;
  EventJsonEncoder encoder;
  std::string out;
  for (auto _ : state) {
    encoder.encode(e.record, e.header_names, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(out.size()));
}
BENCHMARK(BM_EgressEventJson1KiB);

// Per client and event without a filter: the SSE frame (id: token, data: the event JSON).
void BM_EgressSseFrame1KiB(benchmark::State& state) {
  Event e;
  EventJsonEncoder encoder;
  std::string data;
  encoder.encode(e.record, e.header_names, data);
  std::string out;
  for (auto _ : state) {
    out.clear();
    appendSseEvent(out, "", kToken, data);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(out.size()));
}
BENCHMARK(BM_EgressSseFrame1KiB);

// Per client and event with a ?filter= the event matches: the filter, then the frame.
void BM_EgressFilterAndSseFrame1KiB(benchmark::State& state) {
  Event e;
  EventJsonEncoder encoder;
  std::string data;
  encoder.encode(e.record, e.header_names, data);
  pipeline::StagePtr stage =
      filter(R"(value.country in ["DE", "AT"] and value.amount >= 100 and partition != 1)");
  std::string out;
  for (auto _ : state) {
    e.record.reset(&e.view);
    if (stage->process(e.record).outcome == pipeline::Outcome::kPass) {
      out.clear();
      appendSseEvent(out, "", kToken, data);
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EgressFilterAndSseFrame1KiB);

// Per client and event with a ?filter= the event does not match (nothing is written).
void BM_EgressFilterDrops1KiB(benchmark::State& state) {
  Event e;
  pipeline::StagePtr stage = filter(R"(value.country == "FR")");
  for (auto _ : state) {
    e.record.reset(&e.view);
    benchmark::DoNotOptimize(stage->process(e.record));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EgressFilterDrops1KiB);

}  // namespace
}  // namespace causeway::egress
