#!/usr/bin/env bash
# Events across clients: a BLPOP job queue and a PUBLISH fan-out, each
# scheduler policy with 1, 2 and 4 workers against redis-server, one run.
#
# Starts build/percore-server per policy and worker count (--scheduler.policy
# P --server.threads W) and redis-server (--save '' --appendonly no), each
# pinned to $SERVER_CPUS with taskset; the load runs pinned to $CLIENT_CPUS.
#
# Job queue: $BENCH_CLIENTS consumers run `redis-benchmark -n $BENCH_JOBS
# BRPOP jobs 0` and, once INFO counts them all blocked, $BENCH_CLIENTS
# producers `redis-benchmark -n $BENCH_JOBS LPUSH jobs <64 bytes>`; both
# unpipelined, the connections spread over the server's workers as the kernel
# places them (producers and consumers on different workers). Measured: jobs
# per second from the producers' start to the last job popped, and the server's
# CPU µs per job (utime+stime from /proc/PID/stat; the list is checked empty).
#
# Fan-out: build/percore-sub holds $BENCH_SUBSCRIBERS connections subscribed
# to one channel; one publisher runs `redis-benchmark -c 1 -P
# $BENCH_PIPELINE -n $BENCH_MESSAGES PUBLISH fanout <64 bytes>`. Measured:
# messages delivered per second (first to last received, every subscriber
# getting every message) and the server's CPU µs per delivered message.
#
# $BENCH_RUNS runs of each, rotating which server goes first; medians. On a
# 2-core machine every worker shares CPU 0, so 2 and 4 workers show what
# crossing workers costs, not what more cores gain. The load generators are
# the bottleneck unpipelined: judge the CPU columns there.
#
# Usage: bench/events.sh [--help]
#
# Environment (defaults in brackets):
#   PERCORE_BIN [<repo>/build/percore-server]  PERCORE_ARGS []
#   PERCORE_SUB [<repo>/build/percore-sub]
#   REDIS_SERVER [redis-server]  REDIS_BENCHMARK [redis-benchmark]  REDIS_CLI [redis-cli]
#   BENCH_WORKERS [1,2,4]  SERVER_CPUS [0]  CLIENT_CPUS [1]
#   BENCH_POLICIES [share-nothing,shared-locks,work-stealing]
#   BENCH_CLIENTS [50]  BENCH_JOBS [200000]
#   BENCH_SUBSCRIBERS [100]  BENCH_MESSAGES [20000]  BENCH_PIPELINE [16]
#   BENCH_RUNS [3]
#
# Exit status: 0 ok, 2 setup or run error.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
BENCH_NAME=events
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

knobs=(PERCORE_BIN PERCORE_ARGS PERCORE_SUB REDIS_SERVER REDIS_BENCHMARK REDIS_CLI BENCH_WORKERS
    SERVER_CPUS CLIENT_CPUS BENCH_POLICIES BENCH_CLIENTS BENCH_JOBS BENCH_SUBSCRIBERS
    BENCH_MESSAGES BENCH_PIPELINE BENCH_RUNS)
cmdline=$(bench_cmdline bench/events.sh "${knobs[@]}" -- "$@")

percore_defaults
PERCORE_SUB=${PERCORE_SUB:-$repo/build/percore-sub}
REDIS_SERVER=${REDIS_SERVER:-$(tool_path redis-server)}
REDIS_BENCHMARK=${REDIS_BENCHMARK:-$(tool_path redis-benchmark)}
BENCH_WORKERS=${BENCH_WORKERS:-1,2,4}
BENCH_CLIENTS=${BENCH_CLIENTS:-50}
BENCH_JOBS=${BENCH_JOBS:-200000}
BENCH_SUBSCRIBERS=${BENCH_SUBSCRIBERS:-100}
BENCH_MESSAGES=${BENCH_MESSAGES:-20000}
BENCH_PIPELINE=${BENCH_PIPELINE:-16}
BENCH_RUNS=${BENCH_RUNS:-3}

bench_args "${BASH_SOURCE[0]}" 0 "$@"

[[ -x $PERCORE_BIN ]] || die "percore-server not found or not executable: $PERCORE_BIN (make build)"
[[ -x $PERCORE_SUB ]] || die "percore-sub not found or not executable: $PERCORE_SUB (make build)"
need_tools "apt-get install redis-server redis-tools" "$REDIS_SERVER" "$REDIS_BENCHMARK" "$REDIS_CLI"
positive_ints BENCH_CLIENTS BENCH_JOBS BENCH_SUBSCRIBERS BENCH_MESSAGES BENCH_PIPELINE \
    BENCH_RUNS
pin_cpus
read_policies
IFS=, read -r -a workers <<<"$BENCH_WORKERS"
for w in "${workers[@]}"; do [[ $w =~ ^[1-9][0-9]*$ ]] || die "BENCH_WORKERS: '$w' is not a count"; done
bench_setup
payload=$(printf 'j%.0s' $(seq 64))

# Targets are POLICY@WORKERS and redis.
targets=()
for w in "${workers[@]}"; do for p in "${policies[@]}"; do targets+=("$p@$w"); done; done
targets+=(redis)

declare -A pid port
for t in "${targets[@]}"; do
    if [[ $t == redis ]]; then
        start_redis redis "$SERVER_CPUS" "$REDIS_SERVER"
    else
        BENCH_THREADS=${t#*@} start_percore "${t%@*}"
    fi
    pid[$t]=$started_pid port[$t]=$started_port
done

# shellcheck disable=SC2317  # used by queue, which rotate_runs invokes
info_field() { "$REDIS_CLI" -p "$1" info "$2" | tr -d '\r' | sed -n "s/^$3://p"; }
# shellcheck disable=SC2317  # used by queue, which rotate_runs invokes
now() { date +%s.%N; }

# queue TARGET RUN: appends "jobs_per_s cpu_us_per_job" to $workdir/TARGET.queue.res
# shellcheck disable=SC2317  # invoked by rotate_runs
queue() {
    local t=$1 p=${port[$1]} cons c0 c1 t0 t1 left
    echo "events: job queue, run $(($2 + 1))/$BENCH_RUNS, $t" >&2
    "$REDIS_CLI" -p "$p" del jobs >/dev/null
    taskset -c "$CLIENT_CPUS" "$REDIS_BENCHMARK" -h 127.0.0.1 -p "$p" -c "$BENCH_CLIENTS" \
        -n "$BENCH_JOBS" --csv BRPOP jobs 0 >"$workdir/consumers.out" 2>&1 &
    cons=$!
    for _ in $(seq 200); do
        (($(info_field "$p" clients blocked_clients) >= BENCH_CLIENTS)) && break
        sleep 0.05
    done
    (($(info_field "$p" clients blocked_clients) >= BENCH_CLIENTS)) ||
        die "$t: the consumers did not block within 10 s"
    c0=$(cpu_us "${pid[$t]}")
    t0=$(now)
    taskset -c "$CLIENT_CPUS" "$REDIS_BENCHMARK" -h 127.0.0.1 -p "$p" -c "$BENCH_CLIENTS" \
        -n "$BENCH_JOBS" --csv LPUSH jobs "$payload" >"$workdir/producers.out" 2>&1 ||
        die "$t: the producers failed: $(cat "$workdir/producers.out")"
    wait "$cons" || die "$t: the consumers failed: $(cat "$workdir/consumers.out")"
    t1=$(now)
    c1=$(cpu_us "${pid[$t]}")
    left=$("$REDIS_CLI" -p "$p" llen jobs)
    [[ $left == 0 ]] || die "$t: $left jobs left in the queue"
    awk -v n="$BENCH_JOBS" -v a="$t0" -v b="$t1" -v c=$((c1 - c0)) \
        'BEGIN {printf "%.2f %.4f\n", n / (b - a), c / n}' >>"$workdir/$t.queue.res"
    assert_alive "$t" "${pid[$t]}"
}

# fanout TARGET RUN: appends "messages_per_s cpu_us_per_message" to $workdir/TARGET.fanout.res
# shellcheck disable=SC2317  # invoked by rotate_runs
fanout() {
    local t=$1 p=${port[$1]} sub c0 c1 rate
    echo "events: fan-out, run $(($2 + 1))/$BENCH_RUNS, $t" >&2
    : >"$workdir/sub.out"
    taskset -c "$CLIENT_CPUS" "$PERCORE_SUB" --port "$p" --subscribers "$BENCH_SUBSCRIBERS" \
        --messages "$BENCH_MESSAGES" --timeout 120 >"$workdir/sub.out" 2>&1 &
    sub=$!
    for _ in $(seq 200); do
        grep -q '^ready$' "$workdir/sub.out" && break
        kill -0 "$sub" 2>/dev/null || die "$t: percore-sub failed: $(cat "$workdir/sub.out")"
        sleep 0.05
    done
    grep -q '^ready$' "$workdir/sub.out" || die "$t: the subscribers were not ready within 10 s"
    c0=$(cpu_us "${pid[$t]}")
    taskset -c "$CLIENT_CPUS" "$REDIS_BENCHMARK" -h 127.0.0.1 -p "$p" -c 1 -P "$BENCH_PIPELINE" \
        -n "$BENCH_MESSAGES" --csv PUBLISH fanout "$payload" >"$workdir/pub.out" 2>&1 ||
        die "$t: the publisher failed: $(cat "$workdir/pub.out")"
    wait "$sub" || die "$t: percore-sub failed: $(cat "$workdir/sub.out")"
    c1=$(cpu_us "${pid[$t]}")
    rate=$(sed -n 's/.* per_s=\([0-9]*\)$/\1/p' "$workdir/sub.out")
    [[ $rate =~ ^[0-9]+$ ]] || die "$t: no rate from percore-sub: $(cat "$workdir/sub.out")"
    awk -v r="$rate" -v c=$((c1 - c0)) -v n=$((BENCH_SUBSCRIBERS * BENCH_MESSAGES)) \
        'BEGIN {printf "%.2f %.4f\n", r, c / n}' >>"$workdir/$t.fanout.res"
    assert_alive "$t" "${pid[$t]}"
}

rotate_runs queue "${targets[@]}"
rotate_runs fanout "${targets[@]}"

version=$(git_version "$repo")
echo "Command: \`$cmdline\`"
echo
echo "Machine: $(machine_desc); percore $version ($PERCORE_BIN), redis-server" \
    "$(redis_version "$REDIS_SERVER"); servers on CPU(s) $SERVER_CPUS, load on CPU(s)" \
    "$CLIENT_CPUS; median of $BENCH_RUNS runs."
echo
# table KIND TITLE RATE CPU: one row per worker count; md_row reads TARGET.res
table() {
    local kind=$1 t w row
    for t in "${targets[@]}"; do cp "$workdir/$t.$kind.res" "$workdir/$kind-$t.res"; done
    echo "$2"
    echo
    md_header workers "$3" "$4" "${policies[@]}" redis-server
    for w in "${workers[@]}"; do
        row=()
        for t in "${policies[@]}"; do row+=("$kind-$t@$w"); done
        md_row "$w" "$kind-redis" 0 0 "${row[@]}" "$kind-redis"
    done
    echo
}
table queue "BLPOP job queue ($BENCH_CLIENTS producers LPUSH, $BENCH_CLIENTS consumers BRPOP, one list):" \
    jobs/s "CPU µs/job"
table fanout "PUBLISH fan-out (one publisher, -P $BENCH_PIPELINE, $BENCH_SUBSCRIBERS subscribers of one channel):" \
    msgs/s "CPU µs/msg"
echo "Rates: medians; (×): ratio to redis-server (the same redis-server run in every row), higher" \
    "is better. CPU: server CPU time (user + system) per job or per delivered message, lower is better."
exit 0
