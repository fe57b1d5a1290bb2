#!/usr/bin/env bash
# Runs the whole suite from a build dir: unit tests in parallel, the deployment checks (Helm chart
# and image recipe, tests/helm), then the integration tests (each hosts its own embedded
# clusters) two at a time. ctest prints the closing summary.
set -euo pipefail
BUILD=${1:-build}
cd "$BUILD"
ctest -L unit --output-on-failure -j 2 --timeout 120
ctest -L chart --output-on-failure -j 2 --timeout 120
ctest -L integration --output-on-failure -j 2 --timeout 300
