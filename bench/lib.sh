# shellcheck shell=bash
# bench/lib.sh: helpers shared by the bench scripts. Source it (bash), do not run it.
#
# The caller sets BENCH_NAME (the prefix of messages) and, before using the
# redis-benchmark runner, REDIS_CLI, REDIS_BENCHMARK, BENCH_CLIENTS and
# BENCH_KEYSPACE; BENCH_CLIENT_THREADS > 1 adds redis-benchmark --threads.
#
#   die MSG...                     "$BENCH_NAME: MSG" on stderr, exit 2
#   bench_setup                    make $workdir, clean up (servers, $workdir) on exit
#   free_port                      a TCP port nobody listens on
#   cpu_us PID                     CPU time (user + system, all threads) of PID, µs
#   is_redis_binary PATH           true when PATH is a redis-server
#   start_server NAME CPUS CMD...  start CMD under taskset -c CPUS, @PORT@ in CMD
#                                  standing for a free port; wait for PING; sets
#                                  started_pid and started_port
#   rb_run CPUS PORT PID TEST N PIPELINE OUT
#                                  redis-benchmark -t TEST against PORT, pinned to
#                                  CPUS; appends "rps cpu_us_per_request (PID's
#                                  CPU time) client_busy" to OUT, client_busy being
#                                  redis-benchmark's CPU time over wall time per CPU
#                                  of CPUS (near 1: the load generator saturated)
#   median FILE COL                median of column COL
#   cpu_list_count LIST            how many CPUs a taskset list names ("0-3,8": 5)
#   cpu_list_max LIST              the highest CPU it names
#   machine_desc                   "N CPUs (model), Linux release"
#   stop_server PID                TERM (KILL after 5 s) a server start_server started
#   json_num FILE KEY              the number KEY (top level) of a JSON file
#   git_version DIR                git describe --always --dirty of DIR, or "unknown"
#   redis_version BIN              "7.0.15" from BIN --version
#   fmt_duration SECONDS           "1h02m", "4m05s", "12s"
#   shell_quote ARG                ARG as is when it needs no quoting, else printf %q

: "${BENCH_NAME:=bench}"

die() {
    echo "$BENCH_NAME: $*" >&2
    exit 2
}

clk_tck=$(getconf CLK_TCK)
# shellcheck disable=SC2034  # read by free_port
read -r eph_lo eph_hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || eph_lo=32768 eph_hi=60999

workdir=
pids=()
# shellcheck disable=SC2317  # invoked by the trap
bench_cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait_gone "$pid"
    done
    [[ -z $workdir ]] || rm -rf "$workdir"
}

# wait_gone PID: wait up to 5 s for a signalled server to exit, then force it.
wait_gone() {
    local pid=$1
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

# bench_cmdline SCRIPT KNOB... -- ARG...: the command line as given, with the
# knobs (names of environment variables) that are set, for a results header.
bench_cmdline() {
    local script=$1 k out=
    shift
    while (($#)) && [[ $1 != -- ]]; do
        k=$1
        shift
        [[ -z ${!k+set} ]] || out+="$k=$(shell_quote "${!k}") "
    done
    (($#)) && shift
    out+=$script
    for k in "$@"; do out+=" $(shell_quote "$k")"; done
    printf '%s' "$out"
}

bench_setup() {
    workdir=$(mktemp -d "${TMPDIR:-/tmp}/$BENCH_NAME.XXXXXX")
    trap bench_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# A TCP port nobody listens on, outside the ephemeral range (so no client socket
# holds it either); bash /dev/tcp: refused means free.
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

# start_server NAME CPUS CMD... (with @PORT@ standing for the port): sets
# started_pid and started_port; retries on another port if the chosen one was
# taken meanwhile.
start_server() {
    local name=$1 cpus=$2 port arg log=$workdir/$1.log
    shift 2
    for _ in 1 2 3 4 5; do
        port=$(free_port)
        local cmd=()
        for arg in "$@"; do cmd+=("${arg//@PORT@/$port}"); done
        taskset -c "$cpus" "${cmd[@]}" >"$log" 2>&1 &
        started_pid=$!
        pids+=("$started_pid")
        # shellcheck disable=SC2034  # read by the caller
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

# rb_run CPUS PORT PID TEST N PIPELINE OUT: appends "rps cpu_us_per_req client_busy" to OUT
rb_run() {
    local cpus=$1 port=$2 pid=$3 test=$4 n=$5 pipe=$6 outfile=$7 c0 c1 out rps times
    local extra=() tf="$workdir/rb_time"
    if ((${BENCH_CLIENT_THREADS:-1} > 1)); then extra=(--threads "$BENCH_CLIENT_THREADS"); fi
    c0=$(cpu_us "$pid")
    # bash's time keyword writes "real user sys" of the whole command to tf.
    if ! out=$( {
        TIMEFORMAT='%R %U %S'
        time taskset -c "$cpus" "$REDIS_BENCHMARK" -h 127.0.0.1 -p "$port" -c "$BENCH_CLIENTS" \
            -r "$BENCH_KEYSPACE" -n "$n" -P "$pipe" -t "$test" "${extra[@]}" --csv 2>&1
    } 2>"$tf"); then
        echo "$out" >&2
        die "redis-benchmark failed against port $port ($test, -P $pipe)"
    fi
    c1=$(cpu_us "$pid")
    times=$(<"$tf")
    # "SET","98039.22","0.287",... -> the rps of the row named like the test
    # (first word: -t mset names its row "MSET (10 keys)")
    rps=$(awk -F'","' -v t="${test^^}" '{gsub(/^"|"$/, "", $1); split($1, w, " ")} w[1] == t {print $2}' <<<"$out")
    if [[ ! $rps =~ ^[0-9.]+$ ]]; then
        echo "$out" >&2
        die "could not parse redis-benchmark output for $test (above)"
    fi
    awk -v r="$rps" -v c=$((c1 - c0)) -v n="$n" -v t="$times" -v k="$(cpu_list_count "$cpus")" 'BEGIN {
        split(t, f, " "); busy = f[1] > 0 && k > 0 ? (f[2] + f[3]) / f[1] / k : 0
        printf "%.2f %.4f %.3f\n", r, c / n, busy
    }' >>"$outfile"
}

# median of column COL of FILE
median() {
    sort -g -k"$2,$2" "$1" | awk -v col="$2" '{v[NR] = $col}
        END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

# cpu_list_count LIST / cpu_list_max LIST: "0-3,8" -> 5 / 8; nothing for a bad list
_cpu_list() {
    awk -v list="$1" -v want="$2" 'BEGIN {
        n = split(list, parts, ","); count = 0; max = -1
        for (i = 1; i <= n; i++) {
            if (parts[i] ~ /^[0-9]+$/) { lo = hi = parts[i] + 0 }
            else if (parts[i] ~ /^[0-9]+-[0-9]+$/) { split(parts[i], r, "-"); lo = r[1] + 0; hi = r[2] + 0 }
            else exit 1
            if (hi < lo) exit 1
            count += hi - lo + 1
            if (hi > max) max = hi
        }
        if (count == 0) exit 1
        print (want == "count") ? count : max
    }'
}
cpu_list_count() { _cpu_list "$1" count; }
cpu_list_max() { _cpu_list "$1" max; }

machine_desc() {
    local model
    model=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null)
    [[ -n $model ]] || model=$(awk -F': *' '/^(Hardware|cpu model|Processor)/ {print $2; exit}' /proc/cpuinfo 2>/dev/null)
    echo "$(nproc) CPUs (${model:-unknown model}), $(uname -s) $(uname -r)"
}

# stop_server PID: ends one server started by start_server and forgets it.
stop_server() {
    local pid=$1 p keep=()
    kill -TERM "$pid" 2>/dev/null || true
    wait_gone "$pid"
    for p in "${pids[@]}"; do
        [[ $p == "$pid" ]] || keep+=("$p")
    done
    pids=("${keep[@]}")
}

# json_num FILE KEY: a top-level number of a percore-bench JSON report (the
# report puts each top-level key on its own line, two spaces in).
json_num() {
    local v
    v=$(sed -n "s/^  \"$2\": \(-\{0,1\}[0-9][0-9.eE+-]*\),\{0,1\}\$/\1/p" "$1" | head -n 1)
    [[ -n $v ]] || die "no number \"$2\" in $1"
    echo "$v"
}

git_version() {
    GIT_OPTIONAL_LOCKS=0 git -C "$1" describe --always --dirty 2>/dev/null || echo unknown
}

redis_version() {
    "$1" --version 2>/dev/null | sed -n 's/.* v=\([^ ]*\).*/\1/p'
}

fmt_duration() {
    local s=${1%.*}
    ((s >= 0)) 2>/dev/null || s=0
    if ((s >= 3600)); then
        printf '%dh%02dm' $((s / 3600)) $((s % 3600 / 60))
    elif ((s >= 60)); then
        printf '%dm%02ds' $((s / 60)) $((s % 60))
    else
        printf '%ds' "$s"
    fi
}

shell_quote() {
    if [[ $1 =~ ^[A-Za-z0-9_./:=,@%+-]+$ ]]; then printf '%s' "$1"; else printf '%q' "$1"; fi
}
