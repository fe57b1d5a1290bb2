#!/usr/bin/env bash
# Installs what Causeway builds and tests with: Debian 12 packages (apt-get) and the Kubernetes
# schema packages of the chart check (npm ci in tests/helm, from the committed package-lock.json).
# Idempotent: does nothing when everything is present. Prints one line per step; a failing step
# prints its full output and stops. Nothing is downloaded at build time.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  clang libclang-rt-14-dev             # libFuzzer targets and sanitizer runtime
  librdkafka-dev                       # Kafka clients and the embedded (mock) clusters
  libyaml-cpp-dev libspdlog-dev libfmt-dev libcli11-dev nlohmann-json3-dev libcpp-httplib-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  prometheus                           # promtool and a real server for the metrics tests
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc  # control API (api/)
  openssl                              # test certificates for the control API's TLS tests
  golang-go golang-github-masterminds-sprig-dev golang-gopkg-yaml.v3-dev  # Helm chart renderer
  libssl-dev                           # OpenSSL 3 EVP: policy hashing, encryption, tokenizing
  libavro-dev libprotoc-dev libsimdjson-dev libre2-dev  # schema/: Avro C, .proto, JSON, patterns
  pushpin                              # egress: SSE fan-out through GRIP (integration test)
  chromium                             # egress: the example partner page in a real browser (test)
)

# Runs a step quietly: one line, and the step's whole output only if it fails.
step() {
  local what=$1
  shift
  local log
  log=$(mktemp)
  printf '%s ... ' "$what"
  if "$@" >"$log" 2>&1; then
    echo "ok"
    rm -f "$log"
  else
    local status=$?
    echo "FAILED (exit $status):"
    cat "$log" >&2
    rm -f "$log"
    exit "$status"
  fi
}

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node and npm for the schema validation: any Node.js from 18 on will do (Debian's, or one the
# machine already has).
if ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi
if [ ${#missing[@]} -gt 0 ]; then
  step "apt-get update" $SUDO apt-get update -qq
  step "apt-get install ${missing[*]}" \
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}"
fi

# The chart check's npm packages, again whenever the lock file changed since the last install.
lock=tests/helm/package-lock.json
stamp=tests/helm/node_modules/.causeway-lock.sha256
if [ ! -f "$stamp" ] || [ "$(sha256sum "$lock" | cut -d' ' -f1)" != "$(cat "$stamp")" ]; then
  step "npm ci (tests/helm: kubernetes-models)" \
    npm ci --prefix tests/helm --no-audit --no-fund --loglevel=error
  sha256sum "$lock" | cut -d' ' -f1 >"$stamp"
fi
