#!/usr/bin/env bash
# percore vs redis-server, one server core each, same load from redis-benchmark.
#
# Starts build/percore-server (--server.threads 1) and redis-server (--save ''
# --appendonly no), both pinned to CPU $SERVER_CPU (0) with taskset, on free
# ports, then runs redis-benchmark pinned to CPU $CLIENT_CPU (1):
#   -c 50 -r 100000 -n N -t set   and   -t get     unpipelined  (N = $BENCH_N)
#   the same with -P 16                                          (N = $BENCH_N_PIPELINED)
# alternating the two servers, $BENCH_RUNS times per test (the table shows the
# median). Each server's CPU time (utime+stime from /proc/PID/stat) is read before
# and after each run, giving CPU µs per request.
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
#   BENCH_RUNS [3]  SERVER_CPU [0]  CLIENT_CPU [1]
#   BENCH_TOLERANCE [0]  --check slack: fail only below 1-T (rps) / above 1+T (CPU)
#
# Exit status: 0 ok, 1 --check failed, 2 setup error (binary missing, server did
# not start, benchmark failed).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)

PERCORE_BIN=${PERCORE_BIN:-$repo/build/percore-server}
PERCORE_ARGS=${PERCORE_ARGS:-}
REDIS_SERVER=${REDIS_SERVER:-$(command -v redis-server || echo /usr/bin/redis-server)}
REDIS_BENCHMARK=${REDIS_BENCHMARK:-$(command -v redis-benchmark || echo /usr/bin/redis-benchmark)}
REDIS_CLI=${REDIS_CLI:-$(command -v redis-cli || echo /usr/bin/redis-cli)}
BENCH_N=${BENCH_N:-200000}
BENCH_N_PIPELINED=${BENCH_N_PIPELINED:-2000000}
BENCH_CLIENTS=${BENCH_CLIENTS:-50}
BENCH_KEYSPACE=${BENCH_KEYSPACE:-100000}
BENCH_PIPELINE=${BENCH_PIPELINE:-16}
BENCH_TESTS=${BENCH_TESTS:-set,get}
BENCH_RUNS=${BENCH_RUNS:-3}
BENCH_TOLERANCE=${BENCH_TOLERANCE:-0}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}

check=0
for arg in "$@"; do
    case $arg in
    --check) check=1 ;;
    -h | --help)
        sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "vs-redis: unknown argument '$arg' (try --help)" >&2
        exit 2
        ;;
    esac
done

die() {
    echo "vs-redis: $*" >&2
    exit 2
}

[[ -x $PERCORE_BIN ]] || die "percore binary not found or not executable: $PERCORE_BIN (build it first, or set PERCORE_BIN)"
for tool in "$REDIS_SERVER" "$REDIS_BENCHMARK" "$REDIS_CLI"; do
    [[ -x $tool ]] || die "needed tool not found: $tool (apt-get install redis-server redis-tools)"
done
command -v taskset >/dev/null || die "taskset not found (util-linux)"
ncpu=$(nproc --all 2>/dev/null || nproc)
if ((SERVER_CPU >= ncpu || CLIENT_CPU >= ncpu)); then
    echo "vs-redis: warning: only $ncpu CPU(s); server and client share CPU 0" >&2
    SERVER_CPU=0 CLIENT_CPU=0
fi
clk_tck=$(getconf CLK_TCK)

workdir=$(mktemp -d "${TMPDIR:-/tmp}/vs-redis.XXXXXX")
pids=()
# shellcheck disable=SC2317  # invoked by the trap
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        # wait up to 5 s, then force
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A TCP port nobody listens on, outside the ephemeral range (so no client socket
# holds it either); bash /dev/tcp: refused means free.
read -r eph_lo eph_hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || eph_lo=32768 eph_hi=60999
free_port() {
    local p lo=10000 span
    if ((eph_lo - lo > 2000)); then span=$((eph_lo - lo)); else lo=$((eph_hi + 1)) span=$((65535 - eph_hi)); fi
    for _ in $(seq 200); do
        p=$((lo + (RANDOM * 32768 + RANDOM) % span))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    die "no free TCP port found"
}

# CPU time of a process (all its threads), in microseconds.
cpu_us() {
    local stat rest
    stat=$(</proc/"$1"/stat) || die "process $1 is gone"
    rest=${stat##*) } # fields after "(comm) "; utime and stime are fields 14, 15
    # shellcheck disable=SC2086
    set -- $rest
    echo $(((${12} + ${13}) * 1000000 / clk_tck))
}

is_redis_binary() {
    [[ $(basename "$1") == redis-server* ]] || "$1" --version 2>/dev/null | grep -q '^Redis server'
}

# start_server NAME CMD... (with @PORT@ standing for the port): sets started_pid and
# started_port; retries on another port if the chosen one was taken meanwhile.
start_server() {
    local name=$1 port arg log=$workdir/$1.log
    shift
    for _ in 1 2 3 4 5; do
        port=$(free_port)
        local cmd=()
        for arg in "$@"; do cmd+=("${arg//@PORT@/$port}"); done
        taskset -c "$SERVER_CPU" "${cmd[@]}" >"$log" 2>&1 &
        started_pid=$!
        pids+=("$started_pid")
        started_port=$port
        for _ in $(seq 100); do
            kill -0 "$started_pid" 2>/dev/null || break
            [[ $("$REDIS_CLI" -p "$port" ping 2>/dev/null) != PONG ]] || return 0
            sleep 0.1
        done
        if kill -0 "$started_pid" 2>/dev/null; then
            cat "$log" >&2
            die "$name did not answer PING on port $port within 10 s (log above)"
        fi
        wait "$started_pid" 2>/dev/null || true
        grep -qi 'address already in use' "$log" || break
    done
    cat "$log" >&2
    die "$name exited at startup (log above)"
}

if is_redis_binary "$PERCORE_BIN"; then
    echo "vs-redis: note: PERCORE_BIN is a redis-server; dry run, comparing redis with itself" >&2
    percore_cmd=("$PERCORE_BIN" --port @PORT@ --save '' --appendonly no --bind 127.0.0.1)
else
    # shellcheck disable=SC2206
    percore_cmd=("$PERCORE_BIN" --server.threads 1 --port @PORT@ --server.bind 127.0.0.1 $PERCORE_ARGS)
fi
start_server percore "${percore_cmd[@]}"
percore_pid=$started_pid percore_port=$started_port
start_server redis "$REDIS_SERVER" --port @PORT@ --save '' --appendonly no --bind 127.0.0.1 \
    --dir "$workdir"
redis_pid=$started_pid redis_port=$started_port

# bench PORT PID TEST N PIPELINE: appends "rps cpu_us_per_req" to $workdir/PORT.res
bench() {
    local port=$1 pid=$2 test=$3 n=$4 pipe=$5 c0 c1 out rps
    c0=$(cpu_us "$pid")
    if ! out=$(taskset -c "$CLIENT_CPU" "$REDIS_BENCHMARK" -h 127.0.0.1 -p "$port" \
        -c "$BENCH_CLIENTS" -r "$BENCH_KEYSPACE" -n "$n" -P "$pipe" -t "$test" --csv 2>&1); then
        echo "$out" >&2
        die "redis-benchmark failed against port $port ($test, -P $pipe)"
    fi
    c1=$(cpu_us "$pid")
    # "SET","98039.22","0.287",... -> the rps of the row named like the test
    rps=$(awk -F'","' -v t="${test^^}" '{gsub(/^"|"$/, "", $1)} $1 == t {print $2}' <<<"$out")
    if [[ ! $rps =~ ^[0-9.]+$ ]]; then
        echo "$out" >&2
        die "could not parse redis-benchmark output for $test (above)"
    fi
    awk -v r="$rps" -v c=$((c1 - c0)) -v n="$n" 'BEGIN {printf "%.2f %.4f\n", r, c / n}' \
        >>"$workdir/$port.res"
}

# median of column COL of FILE
median() {
    sort -g -k"$2,$2" "$1" | awk -v col="$2" '{v[NR] = $col}
        END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
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
        p_rps=$(median "$workdir/$percore_port.res" 1)
        p_cpu=$(median "$workdir/$percore_port.res" 2)
        r_rps=$(median "$workdir/$redis_port.res" 1)
        r_cpu=$(median "$workdir/$redis_port.res" 2)
        name="${t^^} -P $pipe"
        row=$(awk -v name="$name" -v pr="$p_rps" -v rr="$r_rps" -v pc="$p_cpu" -v rc="$r_cpu" \
            -v tol="$BENCH_TOLERANCE" 'BEGIN {
            tr = rr > 0 ? pr / rr : 0
            cr = rc > 0 ? pc / rc : (pc > 0 ? 99 : 1)
            printf "%s|%.0f|%.0f|%.3f|%.3f|%.3f|%.3f|%d\n", name, pr, rr, tr, pc, rc, cr,
                   (tr < 1.0 - tol || cr > 1.0 + tol) ? 1 : 0
        }')
        rows+=("$row")
        [[ ${row##*|} == 0 ]] || fail=1
    done
done

fmt='%-12s %14s %14s %8s %14s %14s %8s\n'
# shellcheck disable=SC2059
printf "$fmt" test "percore rps" "redis rps" ratio "percore µs/req" "redis µs/req" ratio
# shellcheck disable=SC2059
printf "$fmt" ------------ -------------- -------------- -------- -------------- -------------- --------
for row in "${rows[@]}"; do
    IFS='|' read -r name pr rr tr pc rc cr bad <<<"$row"
    mark=""
    ((bad == 0)) || mark="  <-"
    # shellcheck disable=SC2059
    printf "${fmt%\\n}%s\n" "$name" "$pr" "$rr" "$tr" "$pc" "$rc" "$cr" "$mark"
done
echo
echo "ratio: percore / redis (rps: higher is better; CPU µs/req: lower is better)"

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
