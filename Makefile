# The two commands: `make run` and `make test`. Both install missing Debian
# packages first (packaging/deps.sh), then build with CMake into build/.
BUILD ?= build
JOBS ?= $(shell nproc)
PYTHON ?= /usr/bin/python3
PYTEST = $(PYTHON) -m pytest -q -p no:cacheprovider

.PHONY: all deps build build-asan run test test-unit test-integration test-compat test-asan test-tsan fuzz bench deb test-deb clean

all: build

deps:
	@bash packaging/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	./$(BUILD)/percore-server conf/server.ini

# The ASan+UBSan build make test also uses (see test-integration).
build-asan: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DPERCORE_SANITIZE=address,undefined >/dev/null
	@cmake --build build-asan -j $(JOBS)

test-unit: build build-asan
	cd $(BUILD) && ctest --output-on-failure
	cd build-asan && ctest --output-on-failure

# The integration suite runs on two builds: every policy with 4 workers on the
# release build, and every test once with 2 workers on the ASan+UBSan build
# (latency bounds x3), each module there on one policy, the modules taking the
# three in turn (PERCORE_TEST_POLICY_SPLIT, tests/integration/conftest.py).
# make test-asan runs every policy there.
test-integration: build build-asan
	PERCORE_BIN=$(CURDIR)/$(BUILD)/percore-server PERCORE_TEST_THREADS=4 $(PYTEST) tests/integration
	PERCORE_BIN=$(CURDIR)/build-asan/percore-server PERCORE_TEST_LATENCY_SCALE=3 \
		PERCORE_TEST_THREADS=2 PERCORE_TEST_POLICY_SPLIT=1 $(PYTEST) tests/integration

# Redis 7.0's own tests/unit/scripting.tcl (and unit/pubsub.tcl,
# unit/pubsubshard.tcl, unit/type/list.tcl, unit/type/zset.tcl, unit/maxmemory.tcl)
# against every policy, with one
# worker (Redis's semantics exactly) and, for scripting, with two (skips and
# their reasons: tests/compat/*.skip). The pubsub suites run on one worker
# only: they close or unsubscribe a client and, without waiting for the
# server, count receivers from another connection, and with several workers
# percore gives two connections no mutual order (test_pubsub.py covers 2 and
# 4 workers, waiting for each reply); unit/tracking too, for the same reason
# (about 2 s a policy; test_tracking.py covers 2 and 4 workers). unit/type/list,
# unit/type/zset and unit/maxmemory run on two workers (test_blocking.py,
# test_zsets.py and test_maxmemory.py cover 2 and 4). The first run
# fetches Debian's redis source package.
COMPAT_POLICIES ?= share-nothing shared-locks work-stealing
test-compat: build
	@fail=0; for s in scripting pubsub lists zset maxmemory tracking; do for p in $(COMPAT_POLICIES); do \
	  for t in $$(case $$s in pubsub|tracking) echo 1;; maxmemory|lists|zset) echo 2;; *) echo 1 2;; esac); do \
	  COMPAT_QUIET=1 SUITE=$$s POLICY=$$p THREADS=$$t bash tests/compat/run-redis-scripting.sh \
	    $(CURDIR)/$(BUILD)/percore-server || fail=1; \
	done; done; done; exit $$fail

test: test-unit test-integration test-compat

# The unit tests and the whole integration suite against the ASan+UBSan build
# (every policy, 2 and 4 workers): longer than CI's split (test-integration).
test-asan: build-asan
	cd build-asan && ctest --output-on-failure
	PERCORE_BIN=$(CURDIR)/build-asan/percore-server PERCORE_TEST_LATENCY_SCALE=3 \
		$(PYTEST) tests/integration

# Concurrency code (rings, scheduler, Pub/Sub delivery, blocking commands'
# wake-ups, SIGHUP's reload beside running workers, eviction across
# partitions, client eviction) raced under ThreadSanitizer on four workers
# (more races than two; the others run 2 and 4 in make test): the scheduler's
# own tests (atomicity, invariants, transactions, busy scripts, faults,
# reload) on every policy; the features that deliver across workers (Pub/Sub,
# notifications, blocking, tracking, MONITOR/PAUSE) each on one policy, the
# modules taking the three in turn (PERCORE_TEST_POLICY_SPLIT), as the
# release build runs them all on every policy.
test-tsan: deps
	@cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DPERCORE_SANITIZE=thread >/dev/null
	@cmake --build build-tsan -j $(JOBS)
	cd build-tsan && ctest --output-on-failure
	PERCORE_BIN=$(CURDIR)/build-tsan/percore-server PERCORE_TEST_LATENCY_SCALE=5 \
		PERCORE_TEST_THREADS=4 $(PYTEST) tests/integration/test_atomicity.py \
		tests/integration/test_invariants.py tests/integration/test_transactions.py \
		tests/integration/test_busy.py tests/integration/test_faults.py \
		tests/integration/test_reload.py::test_reload_under_load_loses_no_write \
		tests/integration/test_reload.py::test_reload_applies_runtime_keys
	PERCORE_BIN=$(CURDIR)/build-tsan/percore-server PERCORE_TEST_LATENCY_SCALE=5 \
		PERCORE_TEST_THREADS=4 PERCORE_TEST_POLICY_SPLIT=1 $(PYTEST) \
		tests/integration/test_pubsub.py tests/integration/test_notifications.py \
		tests/integration/test_blocking.py tests/integration/test_tracking.py \
		tests/integration/test_client_control.py
	PERCORE_BIN=$(CURDIR)/build-tsan/percore-server PERCORE_TEST_LATENCY_SCALE=5 \
		PERCORE_TEST_THREADS=4 $(PYTEST) tests/integration/test_maxmemory.py \
		-k "(hold_the_limit and tagged and lru) or lowered_limit or maxmemory_clients_closes"

# libFuzzer targets (tests/fuzz: the RESP and inline parsers, the ini loader,
# command dispatch in-process), built with clang, ASan and UBSan in build-fuzz/
# and run FUZZ_SECONDS each; fails on any crash, leak or sanitizer report.
FUZZ_SECONDS ?= 60
fuzz: deps
	@CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPERCORE_FUZZ=ON >/dev/null
	@cmake --build build-fuzz -j $(JOBS) --target fuzzers
	@bash tests/fuzz/run $(FUZZ_SECONDS)

# A quick sweep (bench/run --quick, < 10 min on 2 cores) that refreshes the
# README's results table; bench/run --full runs every workload.
bench: build
	@summary=$$(bench/run --quick $(BENCH_ARGS)) && bench/update-readme "$$(dirname "$$summary")"

# The Debian package (packaging/debian): the tracked tree copied to build-deb/
# with packaging/debian as debian/, built there by dpkg-buildpackage; the .deb
# files land in build-deb/. test-deb builds it, installs it, runs the service
# as its unit says and purges it (tests/packaging/test-deb.sh; needs root).
DEB_SRC = build-deb/percore
deb: deps
	@rm -rf build-deb && mkdir -p $(DEB_SRC)
	@git ls-files -co --exclude-standard -z | xargs -0 cp -a --parents -t $(DEB_SRC)
	@cp -a packaging/debian $(DEB_SRC)/debian
	cd $(DEB_SRC) && DEB_BUILD_OPTIONS="parallel=$(JOBS) $(DEB_BUILD_OPTIONS)" \
		dpkg-buildpackage -b -us -uc
	@ls build-deb/*.deb

test-deb: deb
	$(if $(filter 0,$(shell id -u)),,sudo) bash tests/packaging/test-deb.sh build-deb

clean:
	rm -rf build build-asan build-tsan build-fuzz build-deb
