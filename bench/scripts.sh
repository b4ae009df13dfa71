#!/usr/bin/env bash
# Multi-key transfer scripts (EVAL) under each scheduler policy and on
# redis-server: same binary, same machine, same load, one run.
#
# Starts build/percore-server once per policy (--scheduler.policy P, with
# --server.threads $BENCH_THREADS) and redis-server (--save '' --appendonly no),
# all pinned to $SERVER_CPUS with taskset, on free ports; sets every account
# acct:<i> (and key:<i>) of $BENCH_KEYS on each; then runs percore-bench pinned
# to $CLIENT_CPUS, closed loop ($BENCH_CONNECTIONS connections, one script in
# flight each), every request a transfer script over K distinct accounts:
#   EVAL "<transfer>" K acct:<a1> ... acct:<aK> 1    (percore-bench --txn 1.0:K:lua)
# with the keys declared (KEYS[1..K]) and drawn Zipf($BENCH_THETA) over the
# accounts; KEYS[1] pays 1 to each of the others, so the total never changes.
# For each K in $BENCH_SCRIPT_KEYS, $BENCH_DURATION measured seconds after
# $BENCH_WARMUP s warmup, $BENCH_RUNS times rotating which target goes first.
# Prints a Markdown table: the median scripts per second of each target and its
# ratio to redis-server, and each server's CPU time per script (utime+stime from
# /proc/PID/stat, before and after each run, over the scripts it answered). The
# command line and the machine come first, so the output can be pasted into the
# README.
#
# Usage: bench/scripts.sh [--help]
#
# Environment (defaults in brackets):
#   PERCORE_BIN [<repo>/build/percore-server]   PERCORE_BENCH [<repo>/build/percore-bench]
#   PERCORE_ARGS  extra arguments for percore-server  []
#   REDIS_SERVER [redis-server]  REDIS_CLI [redis-cli]
#   BENCH_THREADS [1]  server worker threads: a 2-core machine gives the server one core
#   SERVER_CPUS [0]  CLIENT_CPUS [1]  taskset CPU lists
#   BENCH_CLIENT_THREADS [CPUs in CLIENT_CPUS]  percore-bench threads
#   BENCH_POLICIES [share-nothing,shared-locks,work-stealing]
#   BENCH_SCRIPT_KEYS [2,8]  keys per script, one table row each (2..64)
#   BENCH_THETA [0.99]  BENCH_KEYS [100000]  BENCH_CONNECTIONS [50]
#   BENCH_DURATION [5]  BENCH_WARMUP [1]  BENCH_RUNS [3]
#
# Exit status: 0 ok, 2 setup or run error (binary missing, server did not start
# or died, percore-bench failed, most scripts answered with errors).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
BENCH_NAME=scripts
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

# The command line as given, with the knobs set in the environment, for the header.
knobs=(PERCORE_BIN PERCORE_BENCH PERCORE_ARGS REDIS_SERVER REDIS_CLI BENCH_THREADS SERVER_CPUS
    CLIENT_CPUS BENCH_CLIENT_THREADS BENCH_POLICIES BENCH_SCRIPT_KEYS BENCH_THETA BENCH_KEYS
    BENCH_CONNECTIONS BENCH_DURATION BENCH_WARMUP BENCH_RUNS)
cmdline=$(bench_cmdline bench/scripts.sh "${knobs[@]}" -- "$@")

percore_defaults
PERCORE_BENCH=${PERCORE_BENCH:-$repo/build/percore-bench}
REDIS_SERVER=${REDIS_SERVER:-$(tool_path redis-server)}
BENCH_SCRIPT_KEYS=${BENCH_SCRIPT_KEYS:-2,8}
BENCH_THETA=${BENCH_THETA:-0.99}
BENCH_KEYS=${BENCH_KEYS:-100000}
BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-50}
BENCH_DURATION=${BENCH_DURATION:-5}
BENCH_WARMUP=${BENCH_WARMUP:-1}
BENCH_RUNS=${BENCH_RUNS:-3}

bench_args "${BASH_SOURCE[0]}" 0 "$@"

[[ -x $PERCORE_BIN ]] || die "percore-server not found or not executable: $PERCORE_BIN (make build)"
[[ -x $PERCORE_BENCH ]] || die "percore-bench not found or not executable: $PERCORE_BENCH (make build)"
need_tools "apt-get install redis-server redis-tools" "$REDIS_SERVER" "$REDIS_CLI"
positive_ints BENCH_THREADS BENCH_KEYS BENCH_CONNECTIONS BENCH_RUNS
for k in BENCH_THETA BENCH_DURATION BENCH_WARMUP; do
    [[ ${!k} =~ ^[0-9]*\.?[0-9]+$ ]] || die "$k must be a number"
done
[[ $BENCH_SCRIPT_KEYS =~ ^[0-9]+(,[0-9]+)*$ ]] || die "BENCH_SCRIPT_KEYS must be a list like 2,8"
IFS=, read -r -a script_keys <<<"$BENCH_SCRIPT_KEYS"
max_keys=2
for k in "${script_keys[@]}"; do
    ((k >= 2 && k <= 64)) || die "BENCH_SCRIPT_KEYS: $k keys per script; percore-bench takes 2..64"
    ((k <= max_keys)) || max_keys=$k
done
pin_cpus
positive_ints BENCH_CLIENT_THREADS
read_policies
targets=("${policies[@]}" redis)
bench_setup

# gen PORT OUTFILE ARGS...: percore-bench against PORT; dies with its output on failure.
gen() {
    local port=$1 outfile=$2
    shift 2
    if ! taskset -c "$CLIENT_CPUS" "$PERCORE_BENCH" --port "$port" --threads "$BENCH_CLIENT_THREADS" \
        --cpus "$CLIENT_CPUS" --connections "$BENCH_CONNECTIONS" --keys "$BENCH_KEYS" "$@" \
        >"$outfile" 2>&1; then
        cat "$outfile" >&2
        die "percore-bench failed against port $port: percore-bench $*"
    fi
}

declare -A pid port
for t in "${targets[@]}"; do
    if [[ $t == redis ]]; then start_redis redis "$SERVER_CPUS" "$REDIS_SERVER"; else start_percore "$t"; fi
    pid[$t]=$started_pid port[$t]=$started_port
    gen "$started_port" "$workdir/preload-$t.out" --preload-only --txn "1.0:$max_keys:lua:$BENCH_THETA"
done

# one TARGET RUN: a run of $k-key scripts against TARGET; appends
# "scripts_per_s cpu_us_per_script errors requests" to $workdir/TARGET.res
# shellcheck disable=SC2317  # invoked by rotate_runs
one() {
    local t=$1 res=$workdir/$1.res json=$workdir/run.json c0 c1
    echo "scripts: $k keys, run $(($2 + 1))/$BENCH_RUNS, $t" >&2
    c0=$(cpu_us "${pid[$t]}")
    gen "${port[$t]}" "$workdir/run.out" --closed --quiet --json "$json" --warmup "$BENCH_WARMUP" \
        --duration "$BENCH_DURATION" --txn "1.0:$k:lua:$BENCH_THETA"
    c1=$(cpu_us "${pid[$t]}")
    assert_alive "$t" "${pid[$t]}"
    local rps answered errors requests
    rps=$(json_num "$json" achieved_rps)
    answered=$(json_num "$json" answered_total)
    errors=$(json_num "$json" errors)
    requests=$(json_num "$json" requests)
    if ((errors * 2 > requests)); then
        die "$t: most of the $k-key scripts got errors, e.g." \
            "$(sed -n 's/^  "first_error": "\(.*\)",\{0,1\}$/\1/p' "$json")"
    fi
    awk -v r="$rps" -v c=$((c1 - c0)) -v n="$answered" -v e="$errors" -v q="$requests" \
        'BEGIN {printf "%.2f %.3f %d %d\n", r, (n > 0 ? c / n : 0), e, q}' >>"$res"
}

version=$(git_version "$repo")
client_threads=""
((BENCH_CLIENT_THREADS <= 1)) || client_threads=", $BENCH_CLIENT_THREADS threads"
echo "Command: \`$cmdline\`"
echo
echo "Machine: $(machine_desc); percore $version ($PERCORE_BIN), redis-server" \
    "$(redis_version "$REDIS_SERVER"); servers on CPU(s) $SERVER_CPUS with $BENCH_THREADS" \
    "worker thread(s), percore-bench on CPU(s) $CLIENT_CPUS: closed loop," \
    "$BENCH_CONNECTIONS connections$client_threads, every request an EVAL transfer over K" \
    "declared keys of $BENCH_KEYS accounts, Zipf($BENCH_THETA); $BENCH_DURATION s after" \
    "$BENCH_WARMUP s warmup, median of $BENCH_RUNS runs."
echo

rows=()
had_errors=0
for k in "${script_keys[@]}"; do
    rotate_runs one "${targets[@]}"
    # column 3 of one's lines: the scripts answered with an error
    row=$(md_row "$k keys" redis 0 3 "${targets[@]}")
    [[ $row != *' errors]'* ]] || had_errors=1
    rows+=("$row")
done

md_header script scripts/s "CPU µs/script" "${policies[@]}" redis-server
printf '%s\n' "${rows[@]}"
echo
echo "scripts/s: transfer scripts answered per second (median); (×): ratio to redis-server," \
    "higher is better; CPU µs/script: server CPU time (user + system) per script answered," \
    "lower is better."
((had_errors == 0)) || echo "[N errors]: scripts answered with an error reply over all runs."

for t in "${targets[@]}"; do
    assert_alive "$t" "${pid[$t]}"
done
exit 0
