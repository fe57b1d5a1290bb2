# The two commands a new machine needs (see README.md):
#   make demo   installs what is missing, builds the `causeway` binary only, and replicates
#               sample data between two embedded Kafka clusters, ending with a verification summary
#   make test   installs what is missing, builds, and runs every test
BUILD      ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS       ?= 2

.PHONY: deps configure build demo test test-asan fuzz bench clean

deps:
	@bash scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(EXTRA_CMAKE) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

# Only the binary the demo runs: no tests, no benchmarks.
demo: configure
	@cmake --build $(BUILD) -j $(JOBS) --target causeway
	@$(BUILD)/app/causeway demo

test: build
	@bash scripts/run-tests.sh $(BUILD)

# The same suite under AddressSanitizer + UndefinedBehaviorSanitizer (the benchmarks are built
# and compiled-checked by `make test` already; they are not tests).
test-asan:
	@$(MAKE) --no-print-directory test BUILD=build-asan BUILD_TYPE=Debug \
	  EXTRA_CMAKE="-DCAUSEWAY_SANITIZE=ON -DCAUSEWAY_BENCH=OFF"

fuzz: deps
	@bash scripts/fuzz.sh

# Causeway against a raw librdkafka pipe on embedded clusters (about 15 minutes; not in `test`).
bench: build
	@bash scripts/bench.sh $(BUILD)

clean:
	rm -rf build build-asan build-fuzz
