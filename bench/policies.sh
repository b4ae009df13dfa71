#!/usr/bin/env bash
# percore's scheduler policies side by side, same binary, same machine, same load.
#
# Starts build/percore-server once per policy (--scheduler.policy P, with
# --server.threads $BENCH_THREADS), all pinned to $SERVER_CPUS with taskset, on
# free ports, then runs redis-benchmark pinned to $CLIENT_CPUS:
#   -c 50 -r 100000 -n N -t get   and   -t set   unpipelined  (N = $BENCH_N)
#   the same with -P 16                                        (N = $BENCH_N_PIPELINED)
# $BENCH_RUNS times per test, rotating which policy goes first, and prints a
# Markdown table: the median throughput of each policy, the ratio of each to
# the first policy (share-nothing), and each server's CPU time per request
# (utime+stime from /proc/PID/stat, before and after each run). The command
# line and the machine come first, so the output can be pasted into the README.
#
# Usage: bench/policies.sh [--check] [--help]
#   --check   exit 1 if any policy's throughput is below $BENCH_MIN_RATIO (0.9)
#             times share-nothing's in any test
#
# Environment (defaults in brackets):
#   PERCORE_BIN [<repo>/build/percore-server]  server under test; pointing it at a
#                 redis-server binary starts that instead, once per "policy" (a dry run)
#   PERCORE_ARGS  extra arguments for percore-server  []
#   BENCH_THREADS [1]  server worker threads: a 2-core machine gives the server one core
#   SERVER_CPUS [0]  CLIENT_CPUS [1]  taskset CPU lists; on a many-core host e.g.
#                 BENCH_THREADS=8 SERVER_CPUS=0-7 CLIENT_CPUS=8-15
#   BENCH_CLIENT_THREADS [CPUs in CLIENT_CPUS]  redis-benchmark --threads, when > 1
#   BENCH_POLICIES [share-nothing,shared-locks,work-stealing]  the first is the baseline
#   BENCH_N [200000]  BENCH_N_PIPELINED [2000000]  BENCH_CLIENTS [50]
#   BENCH_KEYSPACE [100000]  BENCH_PIPELINE [16]  BENCH_TESTS [get,set]
#   BENCH_RUNS [3]  BENCH_MIN_RATIO [0.9]
#   REDIS_BENCHMARK [redis-benchmark]  REDIS_CLI [redis-cli]
#
# Exit status: 0 ok, 1 --check failed, 2 setup error (binary missing, server did
# not start, benchmark failed).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
BENCH_NAME=policies
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

# The command line as given, with the knobs set in the environment, for the header.
knobs=(PERCORE_BIN PERCORE_ARGS BENCH_THREADS SERVER_CPUS CLIENT_CPUS BENCH_CLIENT_THREADS
    BENCH_POLICIES BENCH_N BENCH_N_PIPELINED BENCH_CLIENTS BENCH_KEYSPACE BENCH_PIPELINE
    BENCH_TESTS BENCH_RUNS BENCH_MIN_RATIO REDIS_BENCHMARK REDIS_CLI)
cmdline=$(bench_cmdline bench/policies.sh "${knobs[@]}" -- "$@")

percore_defaults
REDIS_BENCHMARK=${REDIS_BENCHMARK:-$(tool_path redis-benchmark)}
rb_defaults
BENCH_TESTS=${BENCH_TESTS:-get,set}
BENCH_RUNS=${BENCH_RUNS:-3}
BENCH_MIN_RATIO=${BENCH_MIN_RATIO:-0.9}

bench_args "${BASH_SOURCE[0]}" 1 "$@"

[[ -x $PERCORE_BIN ]] || die "percore binary not found or not executable: $PERCORE_BIN (build it first, or set PERCORE_BIN)"
need_tools "apt-get install redis-tools" "$REDIS_BENCHMARK" "$REDIS_CLI"
positive_ints BENCH_THREADS BENCH_RUNS
[[ $BENCH_MIN_RATIO =~ ^[0-9]*\.?[0-9]+$ ]] || die "BENCH_MIN_RATIO must be a number"
pin_cpus
IFS=, read -r -a policies <<<"$BENCH_POLICIES"
((${#policies[@]} >= 1)) || die "BENCH_POLICIES is empty"
IFS=, read -r -a tests <<<"$BENCH_TESTS"
bench_setup

dry=0
if is_redis_binary "$PERCORE_BIN"; then
    echo "policies: note: PERCORE_BIN is a redis-server; dry run, every \"policy\" is redis" >&2
    dry=1
fi
declare -A pid port
for p in "${policies[@]}"; do
    if ((dry)); then start_redis "$p" "$SERVER_CPUS" "$PERCORE_BIN"; else start_percore "$p"; fi
    pid[$p]=$started_pid port[$p]=$started_port
done

if ((dry)); then version=$("$PERCORE_BIN" --version | grep -o 'v=[^ ]*'); else version=$(git_version "$repo"); fi
client_threads=""
((BENCH_CLIENT_THREADS <= 1)) || client_threads=" --threads $BENCH_CLIENT_THREADS"
echo "Command: \`$cmdline\`"
echo
echo "Machine: $(machine_desc); percore $version ($PERCORE_BIN); servers on CPU(s)" \
    "$SERVER_CPUS with $BENCH_THREADS worker thread(s), redis-benchmark on CPU(s)" \
    "$CLIENT_CPUS: -c $BENCH_CLIENTS -r $BENCH_KEYSPACE$client_threads, -n $BENCH_N" \
    "(-P 1) / $BENCH_N_PIPELINED (-P $BENCH_PIPELINE); median of $BENCH_RUNS runs."
echo

# one POLICY RUN: a run of test $t at -P $pipe against POLICY's server
# shellcheck disable=SC2317  # invoked by rotate_runs
one() {
    rb_run "$CLIENT_CPUS" "${port[$1]}" "${pid[$1]}" "$t" "$n" "$pipe" "$workdir/$1.res"
}

base=${policies[0]}
rows=()
fail=0
for pipe in 1 "$BENCH_PIPELINE"; do
    if ((pipe == 1)); then n=$BENCH_N; else n=$BENCH_N_PIPELINED; fi
    for t in "${tests[@]}"; do
        rotate_runs one "${policies[@]}"
        row=$(md_row "${t^^} -P $pipe" "$base" "$BENCH_MIN_RATIO" 0 "${policies[@]}")
        [[ $row != *'**<**'* ]] || fail=1
        rows+=("$row")
    done
done

md_header test rps "CPU µs/req" "${policies[@]}"
printf '%s\n' "${rows[@]}"
echo
echo "rps: requests per second (median); (×): ratio to $base, higher is better;" \
    "CPU µs/req: server CPU time (user + system) per request, lower is better."

for p in "${policies[@]}"; do
    assert_alive "$p" "${pid[$p]}"
done

if ((check)); then
    echo
    if ((fail)); then
        echo "policies --check: FAILED (a policy below ${BENCH_MIN_RATIO}× $base where marked **<**)"
        exit 1
    fi
    echo "policies --check: ok (every policy at least ${BENCH_MIN_RATIO}× $base)"
fi
exit 0
