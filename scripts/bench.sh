#!/usr/bin/env bash
# make bench: Causeway (an at-least-once and an exactly-once link) against a raw librdkafka pipe
# on embedded clusters hosted in separate processes (bench/README.md). Takes about 10-15 minutes
# on 2 cores; not part of `make test`.
#   scripts/bench.sh [BUILD_DIR]      (default: build; `make bench` builds it first)
# Environment: BENCH_RUNS (default 3), BENCH_QUICK=1 (10x smaller scenarios, 1 run: a smoke test)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${1:-build}"

# The chart needs gnuplot; it is only needed here, so it is not in install-deps.sh.
if ! dpkg-query -W -f='${Status}' gnuplot-nox 2>/dev/null | grep -q "install ok installed"; then
  echo "installing: gnuplot-nox (for the benchmark chart)"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends gnuplot-nox
fi

for bin in app/causeway bench/causeway-bench bench/causeway-raw-pipe bench/causeway-bench-load; do
  if [ ! -x "$BUILD/$bin" ]; then
    echo "scripts/bench.sh: $BUILD/$bin is missing: build with -DCAUSEWAY_BENCH=ON (make bench does)" >&2
    exit 1
  fi
done

args=(--bin-dir "$BUILD" --out-dir bench/results --runs "${BENCH_RUNS:-3}")
if [ "${BENCH_QUICK:-0}" = "1" ]; then
  args=(--bin-dir "$BUILD" --out-dir "$BUILD/bench-quick" --runs 1 --quick)
fi

echo "== micro-benchmarks (Google Benchmark)"
if [ -x "$BUILD/bench/causeway_micro_bench" ]; then
  "$BUILD/bench/causeway_micro_bench" --benchmark_min_time=0.2
fi

echo "== end-to-end: raw librdkafka pipe vs Causeway at-least-once and exactly-once links"
echo "   machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)," \
     "load average $(cut -d' ' -f1-3 /proc/loadavg)"
"$BUILD/bench/causeway-bench" "${args[@]}"
echo "results: bench/results/latest.json, latest.md, latest.png (see docs/benchmarks.md)"
