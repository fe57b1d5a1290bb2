// Google Benchmark micro-benchmarks of the per-record hot path pieces a link runs for every
// record (replicator/link.cc): offset bookkeeping, topic selection, header copy, and the
// provenance headers (replicator/record_headers.h) that every replicated record carries and that
// an exactly-once link reads back from the target.
//
//   build/bench/causeway_micro_bench [--benchmark_filter=OffsetTracker]

#include "common/secrets.h"
#include "replicator/offset_runs.h"
#include "replicator/offset_tracker.h"
#include "replicator/record_headers.h"
#include "replicator/topic_selector.h"

#include <benchmark/benchmark.h>
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <cstdint>
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
      in_flight.push_back(&tracker.dispatch(offset++, 100));
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
      in_flight.push_back(&tracker.dispatch(offset++, 100));
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

// encodeSourceInto into one reused buffer, as Link::replicate() does for every record; the
// link name's length is the argument (the value is 8 bytes + the name).
void BM_EncodeSourceInto(benchmark::State& state) {
  const std::string link(static_cast<size_t>(state.range(0)), 'l');
  std::string out;
  int64_t offset = 1'000'000'000;
  for (auto _ : state) {
    encodeSourceInto(out, link, offset++);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EncodeSourceInto)->Arg(12)->Arg(64);

// decodeSource of a value this link wrote (arg 1) or another link wrote (arg 0, the same
// length, so the name is compared): what the target-tail scan and offset translation do per
// record they read.
void BM_DecodeSource(benchmark::State& state) {
  const std::string link = "east-to-west";
  const std::string value = encodeSource(state.range(0) != 0 ? link : "west-to-east", 123456789);
  int64_t found = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(value.data());
    found += decodeSource(value, link).value_or(-1);
  }
  benchmark::DoNotOptimize(found);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_DecodeSource)->Arg(1)->Arg(0);

// originContains on a causeway-origin path of `range(0)` clusters that does not name the target
// (the common case, and the longest: every name is compared), as the loop check does for every
// consumed record that has the header.
void BM_OriginContains(benchmark::State& state) {
  const std::vector<std::string> names = {"east", "west", "south-dc2", "north", "eu-central-1",
                                          "ap-southeast-1", "us-east-1", "us-west-2"};
  std::string origin;
  for (int64_t i = 0; i < state.range(0); ++i) {
    origin += (i > 0 ? "," : "") + names[static_cast<size_t>(i) % names.size()];
  }
  size_t hits = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(origin.data());
    hits += originContains(origin, "target-dc") ? 1 : 0;
  }
  benchmark::DoNotOptimize(hits);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_OriginContains)->Arg(1)->Arg(2)->Arg(4)->Arg(8);

// The provenance step of Link::replicate() on the moved header list of a record that carries
// one application header: read causeway-origin, check it, build the new origin and
// causeway-src, remove the old ones and add the new ones. New lists per iteration, as every
// record brings its own (the list's allocation and destroy are included).
void BM_ProvenanceHeaders(benchmark::State& state) {
  const std::string link = "east-to-west";
  const std::string source_cluster = "east";
  std::string origin_buffer;
  std::string source_buffer;
  int64_t offset = 0;
  for (auto _ : state) {
    rd_kafka_headers_t* headers = rd_kafka_headers_new(3);
    rd_kafka_header_add(headers, "h", -1, "v", -1);
    const void* origin = nullptr;
    size_t origin_size = 0;
    const bool has_origin =
        rd_kafka_header_get_last(headers, kOriginHeader.data(), &origin, &origin_size) ==
            RD_KAFKA_RESP_ERR_NO_ERROR &&
        origin != nullptr;
    const std::string_view path =
        has_origin ? std::string_view(static_cast<const char*>(origin), origin_size)
                   : std::string_view();
    benchmark::DoNotOptimize(has_origin && originContains(path, "west"));
    origin_buffer.assign(path);
    if (!origin_buffer.empty()) {
      origin_buffer.push_back(',');
    }
    origin_buffer.append(source_cluster);
    encodeSourceInto(source_buffer, link, offset++);
    rd_kafka_header_remove(headers, kOriginHeader.data());
    rd_kafka_header_remove(headers, kSourceHeader.data());
    rd_kafka_header_add(headers, kOriginHeader.data(), static_cast<ssize_t>(kOriginHeader.size()),
                        origin_buffer.data(), static_cast<ssize_t>(origin_buffer.size()));
    rd_kafka_header_add(headers, kSourceHeader.data(), static_cast<ssize_t>(kSourceHeader.size()),
                        source_buffer.data(), static_cast<ssize_t>(source_buffer.size()));
    benchmark::DoNotOptimize(headers);
    rd_kafka_headers_destroy(headers);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ProvenanceHeaders);

// OffsetRuns::add for every delivered record of a partition replicated without gaps: the run
// only grows (the per-record hot path of offset translation's bookkeeping).
void BM_OffsetRunsAddContiguous(benchmark::State& state) {
  OffsetRuns runs;
  int64_t source = 0;
  int64_t target = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(runs.add(source++, target++));
  }
  benchmark::DoNotOptimize(runs.runs().size());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_OffsetRunsAddContiguous);

// The same with a filtered source record every `range(0)` records, so a new run starts that
// often; at 1 every record is a run and the kMaxRuns cap drops old runs as it goes.
void BM_OffsetRunsAddSkipEvery(benchmark::State& state) {
  const int64_t every = state.range(0);
  OffsetRuns runs;
  int64_t source = 0;
  int64_t target = 0;
  int64_t until_skip = every;
  for (auto _ : state) {
    if (--until_skip == 0) {
      source += 1;
      until_skip = every;
    }
    benchmark::DoNotOptimize(runs.add(source++, target++));
  }
  benchmark::DoNotOptimize(runs.runs().size());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_OffsetRunsAddSkipEvery)->Arg(1)->Arg(100)->Arg(10000);

// `count` runs of 1000 records each, separated by 5 filtered source offsets; every 8th run is
// unknown_before, so lookups hit every branch.
OffsetRuns benchRuns(int64_t count) {
  OffsetRuns runs;
  int64_t source = 0;
  int64_t target = 0;
  for (int64_t r = 0; r < count; ++r) {
    if (r % 8 == 7) {
      runs.markUnknownGap();
      target += 3;
    }
    for (int64_t i = 0; i < 1000; ++i) {
      runs.add(source++, target++);
    }
    source += 5;
  }
  return runs;
}

// OffsetRuns::lookup over `range(0)` runs at spread-out source offsets (inside runs, between
// them, past the end): a binary search, so O(log runs).
void BM_OffsetRunsLookup(benchmark::State& state) {
  const OffsetRuns runs = benchRuns(state.range(0));
  const int64_t span = runs.lastSource() + 10;
  std::mt19937_64 rng(42);
  std::vector<int64_t> queries(4096);
  for (int64_t& q : queries) {
    q = static_cast<int64_t>(rng() % static_cast<uint64_t>(span));
  }
  size_t i = 0;
  int64_t sum = 0;
  for (auto _ : state) {
    const RunLookup got = runs.lookup(queries[i++ & (queries.size() - 1)]);
    sum += got.exact ? got.target : got.search_low;
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_OffsetRunsLookup)->Arg(1)->Arg(8)->Arg(64)->Arg(512)->Arg(2048);

// encodeInto into a reused buffer and decode of `range(0)` runs: what saving the runs to the
// state topic and a new owner reading them back cost.
void BM_OffsetRunsEncodeInto(benchmark::State& state) {
  const OffsetRuns runs = benchRuns(state.range(0));
  std::string out;
  for (auto _ : state) {
    runs.encodeInto(out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(out.size()));
}
BENCHMARK(BM_OffsetRunsEncodeInto)->Arg(64)->Arg(2048);

void BM_OffsetRunsDecode(benchmark::State& state) {
  const std::string bytes = benchRuns(state.range(0)).encode();
  for (auto _ : state) {
    auto decoded = OffsetRuns::decode(bytes);
    benchmark::DoNotOptimize(decoded.ok());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(bytes.size()));
}
BENCHMARK(BM_OffsetRunsDecode)->Arg(64)->Arg(2048);

// Not per record, but on every log line, console line and API error: secrets::redactInPlace on a
// typical line that holds no secret, with `range(0)` values registered (a configuration with
// SASL credentials from references registers a handful).
void BM_RedactLogLine(benchmark::State& state) {
  secrets::clearRegisteredSecretsForTesting();
  for (int64_t i = 0; i < state.range(0); ++i) {
    secrets::registerSecret("registered-secret-value-" + std::to_string(i));
  }
  const std::string line = "link 'east-to-west' running: 12 partitions, 1200000 records / "
                           "734003200 bytes replicated, lag 0, last problem: none";
  for (auto _ : state) {
    std::string text = line;
    benchmark::DoNotOptimize(secrets::redactInPlace(text));
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(line.size()));
  secrets::clearRegisteredSecretsForTesting();
}
BENCHMARK(BM_RedactLogLine)->Arg(0)->Arg(4)->Arg(64);

} // namespace
} // namespace causeway::replicator

BENCHMARK_MAIN();
