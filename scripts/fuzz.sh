#!/usr/bin/env bash
# Builds every libFuzzer target with clang and runs each for FUZZ_SECONDS (default 60) on its
# seed corpus (fuzz/corpus/<name without _fuzz>/). Exits non-zero on the first finding.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${FUZZ_SECONDS:-60}
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=Debug \
  -DCAUSEWAY_FUZZ=ON -DCAUSEWAY_TESTS=OFF >/dev/null
for src in fuzz/*_fuzz.cc; do
  name=$(basename "$src" .cc)
  cmake --build build-fuzz --target "$name" -j 2 >/dev/null
  corpus="fuzz/corpus/${name%_fuzz}"
  work=$(mktemp -d)
  cp -r "$corpus"/. "$work"/ 2>/dev/null || true
  echo "fuzzing $name for ${SECONDS_EACH}s"
  build-fuzz/fuzz/"$name" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 "$work" 2>&1 | grep -E "stat::number_of_executed_units|ERROR|SUMMARY" || true
  # libFuzzer leaves crash-* / timeout-* files in the working directory on a finding.
  if ls crash-* timeout-* oom-* >/dev/null 2>&1; then
    echo "finding in $name: $(ls crash-* timeout-* oom-* 2>/dev/null)"; exit 1
  fi
  rm -rf "$work"
done
