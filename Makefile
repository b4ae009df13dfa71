# The two commands: `make run` and `make test`. Both install missing Debian
# packages first (packaging/deps.sh), then build with CMake into build/.
BUILD ?= build
JOBS ?= $(shell nproc)
PYTHON ?= /usr/bin/python3
PYTEST = $(PYTHON) -m pytest -q -p no:cacheprovider

.PHONY: all deps build build-asan run test test-unit test-integration test-compat test-kit test-model test-asan test-tsan fuzz bench kit deb test-deb clean

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
	cd $(BUILD) && ctest -j $(JOBS) --output-on-failure
	cd build-asan && ctest -j $(JOBS) --output-on-failure

# The integration suite runs on two builds: every policy with 4 workers on the
# release build, and every test once with 2 workers on the ASan+UBSan build
# (latency bounds x3), each module there on one policy, the modules taking the
# three in turn (PERCORE_TEST_POLICY_SPLIT, tests/integration/conftest.py).
# make test-asan runs every policy there. Modules run TEST_JOBS at a time
# (pytest-xdist, a whole file to one process: its servers are module-scoped);
# the fault tests, which bound how long a PING may wait (100 ms), run alone
# after them, so that no other test's load decides their latency.
TEST_JOBS ?= 3
XDIST = -n $(TEST_JOBS) --dist loadfile
SERIAL_TESTS = $(wildcard tests/integration/test_faults*.py)
NOT_SERIAL = $(foreach f,$(SERIAL_TESTS),--ignore=$(f))
test-integration: build build-asan
	PERCORE_BIN=$(CURDIR)/$(BUILD)/percore-server PERCORE_TEST_THREADS=4 $(PYTEST) $(XDIST) \
		tests/integration $(NOT_SERIAL)
	PERCORE_BIN=$(CURDIR)/$(BUILD)/percore-server PERCORE_TEST_THREADS=4 $(PYTEST) $(SERIAL_TESTS)
	PERCORE_BIN=$(CURDIR)/build-asan/percore-server PERCORE_TEST_LATENCY_SCALE=3 \
		PERCORE_TEST_THREADS=2 PERCORE_TEST_POLICY_SPLIT=1 $(PYTEST) $(XDIST) tests/integration \
		$(NOT_SERIAL)
	PERCORE_BIN=$(CURDIR)/build-asan/percore-server PERCORE_TEST_LATENCY_SCALE=3 \
		PERCORE_TEST_THREADS=2 PERCORE_TEST_POLICY_SPLIT=1 $(PYTEST) $(SERIAL_TESTS)

# Redis 7.0's own Tcl units (tests/compat/run-all.sh lists them: scripting,
# functions, pubsub + pubsubshard, tracking, type/list, type/zset,
# type/stream + stream-cgroups, maxmemory, bitops + bitfield, geo,
# hyperloglog, sort, dump, acl + acl-v2, other (persistence), slowlog,
# introspection-2, latency-monitor) against
# every policy, several runs at a time; the worker counts and why: run-all.sh;
# what each leaves out and why: tests/compat/*.skip. The first run fetches
# Debian's redis source package.
test-compat: build
	@bash tests/compat/run-all.sh $(CURDIR)/$(BUILD)/percore-server

# The many-core run kit end to end on this machine (bench/kit --smoke: pack,
# unpack elsewhere, the kit's ./run with tiny durations, summarize; ~30 s).
test-kit: build
	@bench/kit --smoke

# The policy model's own checks (bench/model: M/M/1, per-connection order,
# lock exclusivity, each command run once; a few seconds).
test-model:
	$(PYTHON) -m unittest discover -s tests/model

test: test-unit test-integration test-compat test-kit test-model

# The unit tests and the whole integration suite against the ASan+UBSan build
# (every policy, 2 and 4 workers): longer than CI's split (test-integration).
test-asan: build-asan
	cd build-asan && ctest -j $(JOBS) --output-on-failure
	PERCORE_BIN=$(CURDIR)/build-asan/percore-server PERCORE_TEST_LATENCY_SCALE=3 \
		$(PYTEST) tests/integration

# Concurrency code (rings, scheduler, Pub/Sub delivery, blocking commands'
# wake-ups, SIGHUP's reload beside running workers, eviction across
# partitions, client eviction) raced under ThreadSanitizer on four workers
# (more races than two; the others run 2 and 4 in make test): the scheduler's
# own tests (atomicity, invariants, transactions, busy scripts, faults,
# reload) on every policy; the features that deliver across workers or share
# state between them (Pub/Sub, notifications, blocking, tracking,
# MONITOR/PAUSE, stream waits, the function registry, the slow log and latency
# histograms, ACL user snapshots) each on one policy, the
# modules taking the three in turn (PERCORE_TEST_POLICY_SPLIT), as the
# release build runs them all on every policy. Two modules run at a time, but
# test_faults.py (PING latency bounds) runs alone.
test-tsan: deps
	@cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DPERCORE_SANITIZE=thread >/dev/null
	@cmake --build build-tsan -j $(JOBS)
	cd build-tsan && ctest -j $(JOBS) --output-on-failure
	PERCORE_BIN=$(CURDIR)/build-tsan/percore-server PERCORE_TEST_LATENCY_SCALE=5 \
		PERCORE_TEST_THREADS=4 $(PYTEST) -n 2 --dist loadfile tests/integration/test_atomicity.py \
		tests/integration/test_invariants.py tests/integration/test_transactions.py \
		tests/integration/test_busy.py \
		tests/integration/test_reload.py::test_reload_under_load_loses_no_write \
		tests/integration/test_reload.py::test_reload_applies_runtime_keys \
		tests/integration/test_aof.py::test_concurrent_writers_during_rewrites
	PERCORE_BIN=$(CURDIR)/build-tsan/percore-server PERCORE_TEST_LATENCY_SCALE=5 \
		PERCORE_TEST_THREADS=4 $(PYTEST) tests/integration/test_faults.py
	PERCORE_BIN=$(CURDIR)/build-tsan/percore-server PERCORE_TEST_LATENCY_SCALE=5 \
		PERCORE_TEST_THREADS=4 PERCORE_TEST_POLICY_SPLIT=1 $(PYTEST) -n 2 --dist loadfile \
		tests/integration/test_pubsub.py tests/integration/test_notifications.py \
		tests/integration/test_blocking.py tests/integration/test_tracking.py \
		tests/integration/test_client_control.py tests/integration/test_streams.py \
		tests/integration/test_functions.py tests/integration/test_operators.py \
		tests/integration/test_acl.py
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

# The many-core run kit (bench/kit): build/kit/percore-kit, for a bare host.
kit: build
	@bench/kit

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
