#!/usr/bin/env bash
# Installs the Debian 12 packages Causeway builds and tests with. Idempotent: does nothing when
# everything is present. Nothing is downloaded at build time; these are the only dependencies.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  clang libclang-rt-14-dev             # libFuzzer targets and sanitizer runtime
  librdkafka-dev                       # Kafka clients and the embedded (mock) clusters
  libyaml-cpp-dev libspdlog-dev libfmt-dev libcli11-dev nlohmann-json3-dev libcpp-httplib-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  prometheus                           # promtool and a real server for the metrics tests
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc  # control API (api/)
  openssl                              # test certificates for the control API's TLS tests
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing: ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
