# The two commands: `make run` and `make test`. Both install missing Debian
# packages first (packaging/deps.sh), then build with CMake into build/.
BUILD ?= build
JOBS ?= $(shell nproc)
PYTHON ?= /usr/bin/python3
PYTEST = $(PYTHON) -m pytest -q -p no:cacheprovider

.PHONY: all deps build run test test-unit test-integration test-asan test-tsan bench clean

all: build

deps:
	@bash packaging/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	./$(BUILD)/percore-server conf/server.ini

test-unit: build
	cd $(BUILD) && ctest --output-on-failure

test-integration: build
	PERCORE_BIN=$(CURDIR)/$(BUILD)/percore-server $(PYTEST) tests/integration

test: test-unit test-integration

# The unit tests and the integration suite against an ASan+UBSan build.
test-asan: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DPERCORE_SANITIZE=address,undefined >/dev/null
	@cmake --build build-asan -j $(JOBS)
	cd build-asan && ctest --output-on-failure
	PERCORE_BIN=$(CURDIR)/build-asan/percore-server $(PYTEST) tests/integration

# Concurrency code (rings, scheduler) raced under ThreadSanitizer.
test-tsan: deps
	@cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DPERCORE_SANITIZE=thread >/dev/null
	@cmake --build build-tsan -j $(JOBS)
	cd build-tsan && ctest --output-on-failure
	PERCORE_BIN=$(CURDIR)/build-tsan/percore-server $(PYTEST) tests/integration/test_atomicity.py \
		tests/integration/test_invariants.py tests/integration/test_transactions.py \
		tests/integration/test_busy.py

# A quick sweep (bench/run --quick, < 10 min on 2 cores) that refreshes the
# README's results table; bench/run --full runs every workload.
bench: build
	@summary=$$(bench/run --quick $(BENCH_ARGS)) && bench/update-readme "$$(dirname "$$summary")"

clean:
	rm -rf build build-asan build-tsan
