# The two commands a new machine needs (see README.md):
#   make demo   installs what is missing, builds, and replicates sample data between two
#               embedded Kafka clusters, ending with a verification summary
#   make test   installs what is missing, builds, and runs every test
BUILD      ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS       ?= 2

.PHONY: deps build demo test test-unit test-integration test-asan fuzz bench clean

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(EXTRA_CMAKE) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

demo: build
	@$(BUILD)/app/causeway demo

test: build
	@bash scripts/run-tests.sh $(BUILD)

# The same suite under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan:
	@$(MAKE) --no-print-directory test BUILD=build-asan BUILD_TYPE=Debug \
	  EXTRA_CMAKE=-DCAUSEWAY_SANITIZE=ON

fuzz: deps
	@bash scripts/fuzz.sh

# Causeway against a raw librdkafka pipe on embedded clusters (about 15 minutes; not in `test`).
bench: build
	@bash scripts/bench.sh $(BUILD)

clean:
	rm -rf build build-asan build-fuzz
