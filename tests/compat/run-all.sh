#!/usr/bin/env bash
# Every Redis 7.0 Tcl suite make test runs (tests/compat/run-redis-scripting.sh),
# on every policy, COMPAT_JOBS runs at a time: most of a run is the Tcl client's
# own loops and its waits, so runs side by side finish in about half the time
# of one after another on two cores. Each run has its own server, port and work
# directory. Prints each run's summary line in a fixed order (and the failures
# of a failed run), then one total line; exit status 1 if any run failed.
#
#   tests/compat/run-all.sh [percore-server]
#
# Env: COMPAT_POLICIES (default: the three), COMPAT_SUITES (default: all of
# SUITES below), COMPAT_JOBS (runs at once, default nproc + 1), COMPAT_TIMEOUT
# (seconds a run may take, default 300) and COMPAT_TEST_TIMEOUT (one test,
# default 180; geo.tcl's fuzz tests take a minute of the Tcl client's CPU when
# runs share the cores).
set -uo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${1:-${PERCORE_BIN:-$REPO/build/percore-server}}
POLICIES=${COMPAT_POLICIES:-share-nothing shared-locks work-stealing}
JOBS=${COMPAT_JOBS:-$(($(nproc) + 1))}

# suite:worker counts. One worker for the suites whose tests order two
# connections' commands without waiting for replies (pubsub, tracking: with
# several workers percore gives two connections no mutual order; their
# integration tests cover 2 and 4 workers); both for scripting and stream
# (their -workers skips are the cases that need one worker's order); two for
# the rest. Longest first, so that no long run starts last. Each suite's
# .skip says what it leaves out.
SUITES=${COMPAT_SUITES:-hll:2 geo:2 stream:1 stream:2 zset:2 lists:2 maxmemory:2 sort:2 scripting:1
  scripting:2 persistence:2 bitops:2 introspection2:2 functions:2 pubsub:1 tracking:1 dump:2
  slowlog:2 acl:2 latency:2}
# unit/latency-monitor measures DEBUG SLEEP's latency against bounds (within
# 200 ms): its runs go alone, after the others.
ALONE=" latency "

out=$(mktemp -d "${TMPDIR:-/tmp}/percore-compat-all.XXXXXX")
trap 'rm -rf "$out"' EXIT

# The first run fetches the redis source package (under the runner's lock);
# every job after that finds it.
jobs_list=()
for st in $SUITES; do
  for p in $POLICIES; do jobs_list+=("${st%%:*} $p ${st##*:}"); done
done

running=0
alone=()
start_job() { # $1: index into jobs_list
  local s p t
  read -r s p t <<<"${jobs_list[$1]}"
  COMPAT_QUIET=1 COMPAT_TIMEOUT=${COMPAT_TIMEOUT:-300} \
    COMPAT_TEST_TIMEOUT=${COMPAT_TEST_TIMEOUT:-180} SUITE=$s POLICY=$p THREADS=$t bash "$REPO/tests/compat/run-redis-scripting.sh" "$BIN" >"$out/$1.log" 2>&1
  echo $? >"$out/$1.rc"
}
for ((i = 0; i < ${#jobs_list[@]}; i++)); do
  read -r s _ <<<"${jobs_list[$i]}"
  if [[ $ALONE == *" $s "* ]]; then
    alone+=("$i")
    continue
  fi
  start_job "$i" &
  running=$((running + 1))
  if [ "$running" -ge "$JOBS" ]; then
    wait -n
    running=$((running - 1))
  fi
done
wait
for k in "${alone[@]}"; do start_job "$k"; done

fail=0
n=${#jobs_list[@]}
for ((k = 0; k < n; k++)); do
  rc=$(cat "$out/$k.rc" 2>/dev/null || echo 2)
  if [ "$rc" != 0 ]; then
    fail=$((fail + 1))
    echo "---- ${jobs_list[$k]} (exit $rc):"
    cat "$out/$k.log"
  else
    tail -1 "$out/$k.log"
  fi
done
echo "compat: $((n - fail)) of $n runs passed"
[ "$fail" -eq 0 ]
