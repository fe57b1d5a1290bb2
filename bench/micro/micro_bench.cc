// Google Benchmark micro-benchmarks of the per-record hot path pieces a link runs for every
// record (replicator/link.cc): offset bookkeeping, topic selection, header copy.
//
//   build/bench/causeway_micro_bench [--benchmark_filter=OffsetTracker]

#include "replicator/offset_tracker.h"
#include "replicator/topic_selector.h"

#include <benchmark/benchmark.h>
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace causeway::replicator {
namespace {

// dispatch() then ack() per record, acknowledgements in dispatch order, with `window` records
// in flight (the delivery reports of a batch arrive after the whole batch was dispatched).
void BM_OffsetTrackerInOrder(benchmark::State& state) {
  const auto window = static_cast<size_t>(state.range(0));
  OffsetTracker tracker;
  std::vector<OffsetTracker::Entry*> in_flight;
  in_flight.reserve(window);
  int64_t offset = 0;
  for (auto _ : state) {
    for (size_t i = 0; i < window; ++i) {
      in_flight.push_back(&tracker.dispatch(offset++, 100, nullptr));
    }
    for (auto* entry : in_flight) {
      tracker.ack(*entry);
    }
    in_flight.clear();
    benchmark::DoNotOptimize(tracker.commitPoint());
  }
  state.SetItemsProcessed(state.iterations() * window);
}
BENCHMARK(BM_OffsetTrackerInOrder)->Arg(1)->Arg(64)->Arg(2000);

// The same with the acknowledgements of each window shuffled: the commit point only moves
// when the first unacknowledged entry is acknowledged.
void BM_OffsetTrackerOutOfOrder(benchmark::State& state) {
  const auto window = static_cast<size_t>(state.range(0));
  OffsetTracker tracker;
  std::vector<OffsetTracker::Entry*> in_flight;
  in_flight.reserve(window);
  std::vector<size_t> order(window);
  for (size_t i = 0; i < window; ++i) {
    order[i] = i;
  }
  std::mt19937 rng(42);
  std::shuffle(order.begin(), order.end(), rng);
  int64_t offset = 0;
  for (auto _ : state) {
    for (size_t i = 0; i < window; ++i) {
      in_flight.push_back(&tracker.dispatch(offset++, 100, nullptr));
    }
    for (size_t i : order) {
      tracker.ack(*in_flight[i]);
    }
    in_flight.clear();
    benchmark::DoNotOptimize(tracker.commitPoint());
  }
  state.SetItemsProcessed(state.iterations() * window);
}
BENCHMARK(BM_OffsetTrackerOutOfOrder)->Arg(64)->Arg(2000);

config::LinkConfig selectorLink() {
  config::LinkConfig link;
  link.name = "bench";
  link.source = "east";
  link.target = "west";
  link.topics.include = {"orders\\..*", "payments", "inventory\\.[a-z]+\\.v[0-9]+"};
  link.topics.exclude = {".*\\.internal", ".*\\.tmp"};
  return link;
}

// TopicSelector::selects on a mix of selected, excluded, unmatched and internal topic names.
void BM_TopicSelectorSelects(benchmark::State& state) {
  auto selector = TopicSelector::create(selectorLink());
  if (!selector) {
    state.SkipWithError(selector.error().message.c_str());
    return;
  }
  const std::vector<std::string> topics = {
      "orders.created", "orders.audit.internal", "payments",        "clicks.raw",
      "__consumer_offsets", "inventory.eu.v2",   "causeway.bench.x", "orders.refunded.tmp"};
  size_t selected = 0;
  for (auto _ : state) {
    for (const auto& topic : topics) {
      selected += selector->selects(topic) ? 1 : 0;
    }
  }
  benchmark::DoNotOptimize(selected);
  state.SetItemsProcessed(state.iterations() * topics.size());
}
BENCHMARK(BM_TopicSelectorSelects);

// rd_kafka_headers_copy of 3 headers, as Link::replicate() does for every record with headers
// (the copy is then owned by the producer; here it is destroyed at once).
void BM_HeaderCopy3(benchmark::State& state) {
  std::unique_ptr<rd_kafka_headers_t, decltype(&rd_kafka_headers_destroy)> source(
      rd_kafka_headers_new(3), &rd_kafka_headers_destroy);
  rd_kafka_header_add(source.get(), "trace-id", -1, "4bf92f3577b34da6a3ce929d0e0e4736", -1);
  rd_kafka_header_add(source.get(), "content-type", -1, "application/json", -1);
  rd_kafka_header_add(source.get(), "origin", -1, "east", -1);
  for (auto _ : state) {
    rd_kafka_headers_t* copy = rd_kafka_headers_copy(source.get());
    benchmark::DoNotOptimize(copy);
    rd_kafka_headers_destroy(copy);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HeaderCopy3);

} // namespace
} // namespace causeway::replicator

BENCHMARK_MAIN();
