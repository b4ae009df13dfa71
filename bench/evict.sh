#!/usr/bin/env bash
# SET throughput while evicting: each scheduler policy and redis-server with
# the same maxmemory and maxmemory-policy, same load from redis-benchmark, one
# run.
#
# Starts build/percore-server once per policy (--scheduler.policy P,
# --server.threads $BENCH_THREADS) and redis-server (--save '' --appendonly
# no), each pinned to $SERVER_CPUS with taskset and given
#   CONFIG SET maxmemory $BENCH_MAXMEMORY, maxmemory-policy $BENCH_EVICTION
# then fills each past its limit (SETs of $BENCH_VALUE-byte values over
# $BENCH_KEYSPACE random keys, twice the keys that fit), so that every SET
# measured evicts. Measured, with redis-benchmark pinned to $CLIENT_CPUS:
#   -t set -d $BENCH_VALUE -r $BENCH_KEYSPACE -c $BENCH_CLIENTS, unpipelined
#   (-n $BENCH_N) and with -P $BENCH_PIPELINE (-n $BENCH_N_PIPELINED),
# $BENCH_RUNS times, rotating which server goes first. Prints a Markdown table
# of the median SETs per second and each ratio to redis-server, the servers'
# CPU µs per SET (utime+stime from /proc/PID/stat), then each server's
# used_memory / maxmemory and evicted_keys at the end (all should be ~1.00).
#
# Usage: bench/evict.sh [--help]
#
# Environment (defaults in brackets):
#   PERCORE_BIN [<repo>/build/percore-server]  PERCORE_ARGS []
#   REDIS_SERVER [redis-server]  REDIS_BENCHMARK [redis-benchmark]  REDIS_CLI [redis-cli]
#   BENCH_THREADS [1]  SERVER_CPUS [0]  CLIENT_CPUS [1]
#   BENCH_POLICIES [share-nothing,shared-locks,work-stealing]
#   BENCH_MAXMEMORY [64mb]  BENCH_EVICTION [allkeys-lru]  BENCH_VALUE [1000]
#   BENCH_KEYSPACE [10000000]  BENCH_CLIENTS [50]  BENCH_PIPELINE [16]
#   BENCH_N [200000]  BENCH_N_PIPELINED [1000000]  BENCH_RUNS [3]
#
# Exit status: 0 ok, 2 setup or run error.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
BENCH_NAME=evict
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

knobs=(PERCORE_BIN PERCORE_ARGS REDIS_SERVER REDIS_BENCHMARK REDIS_CLI BENCH_THREADS SERVER_CPUS
    CLIENT_CPUS BENCH_POLICIES BENCH_MAXMEMORY BENCH_EVICTION BENCH_VALUE BENCH_KEYSPACE
    BENCH_CLIENTS BENCH_PIPELINE BENCH_N BENCH_N_PIPELINED BENCH_RUNS)
cmdline=$(bench_cmdline bench/evict.sh "${knobs[@]}" -- "$@")

percore_defaults
REDIS_SERVER=${REDIS_SERVER:-$(tool_path redis-server)}
REDIS_BENCHMARK=${REDIS_BENCHMARK:-$(tool_path redis-benchmark)}
BENCH_KEYSPACE=${BENCH_KEYSPACE:-10000000}
BENCH_N_PIPELINED=${BENCH_N_PIPELINED:-1000000}
rb_defaults
BENCH_MAXMEMORY=${BENCH_MAXMEMORY:-64mb}
BENCH_EVICTION=${BENCH_EVICTION:-allkeys-lru}
BENCH_VALUE=${BENCH_VALUE:-1000}
BENCH_RUNS=${BENCH_RUNS:-3}

bench_args "${BASH_SOURCE[0]}" 0 "$@"

[[ -x $PERCORE_BIN ]] || die "percore-server not found or not executable: $PERCORE_BIN (make build)"
need_tools "apt-get install redis-server redis-tools" "$REDIS_SERVER" "$REDIS_BENCHMARK" "$REDIS_CLI"
positive_ints BENCH_THREADS BENCH_VALUE BENCH_KEYSPACE BENCH_CLIENTS BENCH_PIPELINE BENCH_N \
    BENCH_N_PIPELINED BENCH_RUNS
case $BENCH_EVICTION in
allkeys-lru | allkeys-lfu | allkeys-random) ;;
*) die "BENCH_EVICTION must be an allkeys-* policy (the load sets no TTLs)" ;;
esac
pin_cpus
read_policies
targets=("${policies[@]}" redis)
bench_setup
RB_VALUE_SIZE=$BENCH_VALUE

info_field() { "$REDIS_CLI" -p "$1" info "$2" | tr -d '\r' | sed -n "s/^$3://p"; }

declare -A pid port
for t in "${targets[@]}"; do
    if [[ $t == redis ]]; then start_redis redis "$SERVER_CPUS" "$REDIS_SERVER"; else start_percore "$t"; fi
    pid[$t]=$started_pid port[$t]=$started_port
    "$REDIS_CLI" -p "$started_port" config set maxmemory "$BENCH_MAXMEMORY" >/dev/null
    "$REDIS_CLI" -p "$started_port" config set maxmemory-policy "$BENCH_EVICTION" >/dev/null
    max=$(info_field "$started_port" memory maxmemory)
    ((max > 0)) || die "$t: maxmemory did not take"
    echo "evict: filling $t past its limit" >&2
    rb_run "$CLIENT_CPUS" "$started_port" "$started_pid" set $((2 * max / BENCH_VALUE)) \
        "$BENCH_PIPELINE" "$workdir/fill.res"
    ((${ev:=$(info_field "$started_port" stats evicted_keys)} > 0)) || die "$t: the fill evicted nothing"
    unset ev
done

# one TARGET RUN: appends "sets_per_s cpu_us_per_set" to $workdir/TARGET.res
# shellcheck disable=SC2317  # invoked by rotate_runs
one() {
    local t=$1
    echo "evict: -P $pipe, run $(($2 + 1))/$BENCH_RUNS, $t" >&2
    rb_run "$CLIENT_CPUS" "${port[$t]}" "${pid[$t]}" set "$n" "$pipe" "$workdir/rb.res"
    tail -1 "$workdir/rb.res" | awk '{printf "%s %s\n", $1, $2}' >>"$workdir/$t.res"
    assert_alive "$t" "${pid[$t]}"
}

version=$(git_version "$repo")
echo "Command: \`$cmdline\`"
echo
echo "Machine: $(machine_desc); percore $version ($PERCORE_BIN), redis-server" \
    "$(redis_version "$REDIS_SERVER"); servers on CPU(s) $SERVER_CPUS with $BENCH_THREADS" \
    "worker thread(s), redis-benchmark on CPU(s) $CLIENT_CPUS; maxmemory $BENCH_MAXMEMORY," \
    "$BENCH_EVICTION, filled past the limit first; SET -d $BENCH_VALUE -r $BENCH_KEYSPACE" \
    "-c $BENCH_CLIENTS; median of $BENCH_RUNS runs."
echo

rows=()
for pipe in 1 "$BENCH_PIPELINE"; do
    if ((pipe == 1)); then n=$BENCH_N; else n=$BENCH_N_PIPELINED; fi
    rotate_runs one "${targets[@]}"
    rows+=("$(md_row "SET -P $pipe" redis 0 0 "${targets[@]}")")
done
md_header test SETs/s "CPU µs/SET" "${policies[@]}" redis-server
printf '%s\n' "${rows[@]}"
echo
echo "SETs/s: median; (×): ratio to redis-server, higher is better; CPU µs/SET: server CPU" \
    "time (user + system) per SET, lower is better. Every SET evicts about one key."
echo
echo "| server | used_memory / maxmemory | evicted_keys |"
echo "|---|---:|---:|"
for t in "${targets[@]}"; do
    assert_alive "$t" "${pid[$t]}"
    u=$(info_field "${port[$t]}" memory used_memory)
    m=$(info_field "${port[$t]}" memory maxmemory)
    e=$(info_field "${port[$t]}" stats evicted_keys)
    awk -v t="$t" -v u="$u" -v m="$m" -v e="$e" 'BEGIN {printf "| %s | %.3f | %d |\n", t, u / m, e}'
done
exit 0
