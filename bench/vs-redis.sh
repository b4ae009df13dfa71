#!/usr/bin/env bash
# percore vs redis-server, one server core each, same load from redis-benchmark.
#
# Starts build/percore-server (--server.threads 1) and redis-server (--save ''
# --appendonly no), both pinned to CPU $SERVER_CPU (0) with taskset, on free
# ports, then runs redis-benchmark pinned to CPU $CLIENT_CPU (1):
#   -c 50 -r 100000 -n N -t set   and   -t get     unpipelined  (N = $BENCH_N)
#   the same with -P 16                                          (N = $BENCH_N_PIPELINED)
# alternating the two servers, $BENCH_RUNS times per test. The table shows each
# server's median and, as the ratios, the median of the runs' percore/redis pairs.
# Each server's CPU time (utime+stime from /proc/PID/stat) is read before and
# after each run, giving CPU µs per request; redis-benchmark's own CPU use shows
# whether the load generator, not the server, set the pace.
#
# Usage: bench/vs-redis.sh [--check] [--help]
#   --check   exit 1 if percore is slower (throughput ratio < 1.0) or uses more
#             CPU per request (CPU ratio > 1.0) than redis in any test
#
# Environment (defaults in brackets):
#   PERCORE_BIN [<repo>/build/percore-server]  server under test; pointing it at a
#                 redis-server binary starts it with redis arguments (a dry run)
#   PERCORE_ARGS  extra arguments for percore-server  []
#   REDIS_SERVER [redis-server]   REDIS_BENCHMARK [redis-benchmark]   REDIS_CLI [redis-cli]
#   BENCH_N [200000]  BENCH_N_PIPELINED [2000000]  BENCH_CLIENTS [50]
#   BENCH_KEYSPACE [100000]  BENCH_PIPELINE [16]  BENCH_TESTS [set,get]
#   BENCH_RUNS [5]  SERVER_CPU [0]  CLIENT_CPU [1]
#   BENCH_TOLERANCE [0]  --check slack: fail only below 1-T (rps) / above 1+T (CPU)
#
# Exit status: 0 ok, 1 --check failed, 2 setup error (binary missing, server did
# not start, benchmark failed).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
BENCH_NAME=vs-redis
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

PERCORE_BIN=${PERCORE_BIN:-$repo/build/percore-server}
PERCORE_ARGS=${PERCORE_ARGS:-}
REDIS_SERVER=${REDIS_SERVER:-$(tool_path redis-server)}
REDIS_BENCHMARK=${REDIS_BENCHMARK:-$(tool_path redis-benchmark)}
REDIS_CLI=${REDIS_CLI:-$(tool_path redis-cli)}
rb_defaults
BENCH_TESTS=${BENCH_TESTS:-set,get}
BENCH_RUNS=${BENCH_RUNS:-5}
BENCH_TOLERANCE=${BENCH_TOLERANCE:-0}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}

bench_args "${BASH_SOURCE[0]}" 1 "$@"

[[ -x $PERCORE_BIN ]] || die "percore binary not found or not executable: $PERCORE_BIN (build it first, or set PERCORE_BIN)"
need_tools "apt-get install redis-server redis-tools" "$REDIS_SERVER" "$REDIS_BENCHMARK" "$REDIS_CLI"
ncpu=$(nproc --all 2>/dev/null || nproc)
if ((SERVER_CPU >= ncpu || CLIENT_CPU >= ncpu)); then
    echo "vs-redis: warning: only $ncpu CPU(s); server and client share CPU 0" >&2
    SERVER_CPU=0 CLIENT_CPU=0
fi
bench_setup

if is_redis_binary "$PERCORE_BIN"; then
    echo "vs-redis: note: PERCORE_BIN is a redis-server; dry run, comparing redis with itself" >&2
    percore_cmd=("$PERCORE_BIN" --port @PORT@ --save '' --appendonly no --bind 127.0.0.1)
else
    # shellcheck disable=SC2206
    percore_cmd=("$PERCORE_BIN" --server.threads 1 --port @PORT@ --server.bind 127.0.0.1 $PERCORE_ARGS)
fi
start_server percore "$SERVER_CPU" "${percore_cmd[@]}"
percore_pid=$started_pid percore_port=$started_port
start_redis redis "$SERVER_CPU" "$REDIS_SERVER"
redis_pid=$started_pid redis_port=$started_port

# bench PORT PID TEST N PIPELINE: appends "rps cpu_us_per_req" to $workdir/PORT.res
bench() {
    rb_run "$CLIENT_CPU" "$1" "$2" "$3" "$4" "$5" "$workdir/$1.res"
}

echo "percore: $PERCORE_BIN (pid $percore_pid, port $percore_port)"
echo "redis:   $REDIS_SERVER (pid $redis_pid, port $redis_port) $("$REDIS_SERVER" --version | grep -o 'v=[^ ]*')"
echo "servers on CPU $SERVER_CPU, redis-benchmark on CPU $CLIENT_CPU; -c $BENCH_CLIENTS" \
    "-r $BENCH_KEYSPACE; median of $BENCH_RUNS runs; $ncpu CPUs, $(uname -r)"
echo

rows=()
fail=0
IFS=, read -r -a tests <<<"$BENCH_TESTS"
for pipe in 1 "$BENCH_PIPELINE"; do
    if ((pipe == 1)); then n=$BENCH_N; else n=$BENCH_N_PIPELINED; fi
    for t in "${tests[@]}"; do
        rm -f "$workdir/$percore_port.res" "$workdir/$redis_port.res"
        for ((run = 1; run <= BENCH_RUNS; run++)); do
            if ((run % 2)); then
                bench "$percore_port" "$percore_pid" "$t" "$n" "$pipe"
                bench "$redis_port" "$redis_pid" "$t" "$n" "$pipe"
            else
                bench "$redis_port" "$redis_pid" "$t" "$n" "$pipe"
                bench "$percore_port" "$percore_pid" "$t" "$n" "$pipe"
            fi
        done
        # Run k of each server ran back to back: their ratio cancels the slow
        # drift of a shared machine, so the ratios shown are medians of pairs.
        paste -d' ' "$workdir/$percore_port.res" "$workdir/$redis_port.res" | awk '{
            printf "%.4f %.4f\n", ($4 > 0 ? $1 / $4 : 0), ($5 > 0 ? $2 / $5 : ($2 > 0 ? 99 : 1))
        }' >"$workdir/pairs"
        p_rps=$(median "$workdir/$percore_port.res" 1)
        p_cpu=$(median "$workdir/$percore_port.res" 2)
        r_rps=$(median "$workdir/$redis_port.res" 1)
        r_cpu=$(median "$workdir/$redis_port.res" 2)
        tr=$(median "$workdir/pairs" 1)
        cr=$(median "$workdir/pairs" 2)
        busy=$(cat "$workdir/$percore_port.res" "$workdir/$redis_port.res" >"$workdir/both" &&
            median "$workdir/both" 3)
        name="${t^^} -P $pipe"
        row=$(awk -v name="$name" -v pr="$p_rps" -v rr="$r_rps" -v pc="$p_cpu" -v rc="$r_cpu" \
            -v tr="$tr" -v cr="$cr" -v busy="$busy" -v tol="$BENCH_TOLERANCE" 'BEGIN {
            printf "%s|%.0f|%.0f|%.3f|%.3f|%.3f|%.3f|%.0f%%|%d\n", name, pr, rr, tr, pc, rc, cr,
                   busy * 100, (tr < 1.0 - tol || cr > 1.0 + tol) ? 1 : 0
        }')
        rows+=("$row")
        [[ ${row##*|} == 0 ]] || fail=1
    done
done

fmt='%-12s %14s %14s %8s %14s %14s %8s %7s\n'
# shellcheck disable=SC2059
printf "$fmt" test "percore rps" "redis rps" ratio "percore µs/req" "redis µs/req" ratio client
# shellcheck disable=SC2059
printf "$fmt" ------------ -------------- -------------- -------- -------------- -------------- -------- -------
saturated=0
for row in "${rows[@]}"; do
    IFS='|' read -r name pr rr tr pc rc cr busy bad <<<"$row"
    mark=""
    ((bad == 0)) || mark="  <-"
    ((${busy%\%} < 95)) || saturated=1
    # shellcheck disable=SC2059
    printf "${fmt%\\n}%s\n" "$name" "$pr" "$rr" "$tr" "$pc" "$rc" "$cr" "$busy" "$mark"
done
echo
echo "ratio: percore / redis, median over the $BENCH_RUNS back-to-back pairs (rps: higher is"
echo "better; CPU µs/req: lower is better). client: redis-benchmark's CPU use on its core."
if ((saturated)); then
    echo "A client near 100% is the bottleneck: that row's rps shows how fast redis-benchmark"
    echo "goes, not the server, and its rps ratio is near 1.0 for any server fast enough."
fi

for pid in "$percore_pid" "$redis_pid"; do
    kill -0 "$pid" 2>/dev/null || die "a server died during the run (pid $pid)"
done

if ((check)); then
    if ((fail)); then
        echo "vs-redis --check: FAILED (percore slower or costlier than redis where marked <-)"
        exit 1
    fi
    echo "vs-redis --check: ok"
fi
exit 0
