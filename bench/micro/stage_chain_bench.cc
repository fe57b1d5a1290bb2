// The stage chain per record: empty, and with the two stages every link runs (loop prevention and
// provenance), on a record with three headers, as the data plane calls it.

#include "pipeline/record.h"
#include "pipeline/stage_chain.h"
#include "replicator/provenance_stages.h"

#include <benchmark/benchmark.h>

namespace {

using namespace causeway;

pipeline::RecordView sampleRecord() {
  pipeline::RecordView view;
  view.topic = "orders";
  view.partition = 3;
  view.offset = 123456;
  view.key = "customer-42";
  view.value = "{\"amount\":12.5}";
  view.timestamp = 1700000000000;
  view.timestamp_type = pipeline::TimestampType::kCreateTime;
  view.headers = {{"content-type", "application/json"},
                  {"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
                  {"causeway-origin", "west"}};
  return view;
}

void runChain(benchmark::State& state, pipeline::StageChain& chain) {
  pipeline::RecordView view = sampleRecord();
  pipeline::Record record;
  for (auto _ : state) {
    view.offset += 1;
    record.reset(&view);
    benchmark::DoNotOptimize(chain.process(record));
    benchmark::DoNotOptimize(record.addedCount());
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_StageChainEmpty(benchmark::State& state) {
  pipeline::StageChain chain;
  runChain(state, chain);
}
BENCHMARK(BM_StageChainEmpty);

void BM_StageChainLoopPreventionAndProvenance(benchmark::State& state) {
  pipeline::StageChain chain;
  chain.add(std::make_unique<replicator::LoopPreventionStage>("south"));
  chain.add(std::make_unique<replicator::ProvenanceStage>("east-to-south", "east"));
  runChain(state, chain);
}
BENCHMARK(BM_StageChainLoopPreventionAndProvenance);

}  // namespace
