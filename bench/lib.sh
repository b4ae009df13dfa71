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
#   pinned CPUS CMD...             exec CMD pinned to the taskset list CPUS: taskset,
#                                  or python3's os.sched_setaffinity where there is
#                                  no taskset (or BENCH_PIN=python); same PID
#   can_pin                        true when pinned can work (taskset or python3)
#   start_server NAME CPUS CMD...  start CMD pinned to CPUS, @PORT@ in CMD
#                                  standing for a free port; wait for PING (for
#                                  start_proto=memcache: memcached's "version");
#                                  sets started_pid and started_port
#   mc_ask PORT CMD                memcached's reply to the text command CMD (a
#                                  one-line reply or lines up to END) on stdout
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
#   host_name [-s]                 hostname (-s: short), from /proc without the tool
#   stop_server PID                TERM (KILL after 5 s) a server start_server started
#   json_num FILE KEY              the number KEY (top level) of a JSON file
#   git_version DIR                git describe --always --dirty of DIR, or "unknown"
#   redis_version BIN              "7.0.15" from BIN --version
#   fmt_duration SECONDS           "1h02m", "4m05s", "12s"
#   shell_quote ARG                ARG as is when it needs no quoting, else printf %q
#   bench_args SCRIPT CHECK ARG... --help prints SCRIPT's header comment, exit 0;
#                                  --check sets check=1 where CHECK is 1; else die
#   tool_path NAME                 NAME on PATH, else /usr/bin/NAME
#   positive_ints KNOB...          die unless each KNOB (a variable's name) holds a
#                                  positive integer
#   need_tools HINT TOOL...        die unless each TOOL is executable and taskset is
#                                  on PATH; HINT says how to install the tools
#   percore_defaults               defaults for start_percore's and pin_cpus's knobs:
#                                  PERCORE_BIN ($repo/build/percore-server),
#                                  PERCORE_ARGS, REDIS_CLI, BENCH_THREADS,
#                                  SERVER_CPUS, CLIENT_CPUS, BENCH_POLICIES
#   rb_defaults                    defaults for the redis-benchmark knobs BENCH_N,
#                                  BENCH_N_PIPELINED, BENCH_CLIENTS, BENCH_KEYSPACE,
#                                  BENCH_PIPELINE
#   read_policies                  policies: the array of BENCH_POLICIES's comma-
#                                  separated names; die on an unknown one
#   pin_cpus                       check the taskset lists SERVER_CPUS, CLIENT_CPUS
#                                  (both CPU 0 on too small a machine); sets ncpu
#                                  and defaults BENCH_CLIENT_THREADS to CLIENT_CPUS's
#   start_redis NAME CPUS BIN      start_server a redis-server BIN, no persistence
#   start_percore POLICY           start_server $PERCORE_BIN on SERVER_CPUS with
#                                  BENCH_THREADS workers and scheduler POLICY
#   assert_alive NAME PID          die when the NAME server (PID) has gone
#   rotate_runs FN TARGET...       BENCH_RUNS rounds of "FN TARGET RUN", the order
#                                  rotated each round; first removes $workdir/TARGET.res
#   ratio_cell RPS BASE [MIN]      "12345 (0.98×)", " **<**" after it below MIN
#   md_row LABEL BASE MIN ERRCOL TARGET...
#                                  a Markdown table row of the medians in
#                                  $workdir/TARGET.res (see md_row)
#   md_header FIRST RATE CPU LABEL...
#                                  header and rule of a Markdown table: FIRST, then
#                                  "LABEL RATE" and "LABEL CPU" for each LABEL

: "${BENCH_NAME:=bench}"

die() {
    echo "$BENCH_NAME: $*" >&2
    exit 2
}

# getconf (libc-bin) may be missing on a bare host (bench/kit): Linux's USER_HZ is 100
clk_tck=$(getconf CLK_TCK 2>/dev/null || echo 100)
# shellcheck disable=SC2034  # read by free_port
read -r eph_lo eph_hi </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || eph_lo=32768 eph_hi=60999

workdir=
pids=()
# shellcheck disable=SC2317  # invoked by the trap
bench_cleanup() {
    bench_stop_servers
    [[ -z $workdir ]] || rm -rf "$workdir"
}

# bench_stop_servers: TERM (then KILL) every server start_server started.
bench_stop_servers() {
    local pid
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait_gone "$pid"
    done
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

# pinned CPUS CMD...: exec CMD on the CPUs of the taskset list CPUS. A bare
# host may lack taskset (util-linux); python3's sched_setaffinity then does the
# same, and exec keeps the PID, so cpu_us and stop_server see the command itself.
pinned() {
    local cpus=$1
    shift
    if [[ ${BENCH_PIN:-} != python ]] && command -v taskset >/dev/null; then
        exec taskset -c "$cpus" "$@"
    fi
    exec "${PYTHON:-python3}" -c '
import os, sys
cpus = set()
for part in sys.argv[1].split(","):
    lo, _, hi = part.partition("-")
    cpus.update(range(int(lo), int(hi or lo) + 1))
os.sched_setaffinity(0, cpus)
os.execvp(sys.argv[2], sys.argv[2:])' "$cpus" "$@"
}

can_pin() {
    if [[ ${BENCH_PIN:-} != python ]] && command -v taskset >/dev/null; then return 0; fi
    "${PYTHON:-python3}" -c 'import os; os.sched_setaffinity' 2>/dev/null
}

# mc_ask PORT CMD: memcached's reply to CMD over bash's /dev/tcp (no client
# tool needed): the first line, or every line up to END for stats/get.
mc_ask() {
    (
        exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf '%s\r\n' "$2" >&3
        while IFS= read -r -t 2 line <&3; do
            line=${line%$'\r'}
            echo "$line"
            [[ $line == STAT* ]] || break
        done
    ) 2>/dev/null
}

# server_up PORT: the server started by start_server answers (start_proto:
# redis, the default, or memcache).
server_up() {
    if [[ ${start_proto:-redis} == memcache ]]; then
        [[ $(mc_ask "$1" version) == VERSION* ]]
    else
        [[ $("$REDIS_CLI" -p "$1" ping 2>/dev/null) == PONG ]]
    fi
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
        (pinned "$cpus" "${cmd[@]}") >"$log" 2>&1 &
        started_pid=$!
        pids+=("$started_pid")
        # shellcheck disable=SC2034  # read by the caller
        started_port=$port
        for _ in $(seq 100); do
            kill -0 "$started_pid" 2>/dev/null || break
            ! server_up "$port" || return 0
            sleep 0.1
        done
        if kill -0 "$started_pid" 2>/dev/null; then
            cat "$log" >&2
            die "$name did not answer on port $port within 10 s (log above)"
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
    # RB_VALUE_SIZE: redis-benchmark -d (value bytes), when a caller sets it
    if [[ -n ${RB_VALUE_SIZE:-} ]]; then extra+=(-d "$RB_VALUE_SIZE"); fi
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

host_name() {
    local h
    h=$(hostname "$@" 2>/dev/null) || h=$(cat /proc/sys/kernel/hostname 2>/dev/null) || h=host
    [[ ${1:-} != -s ]] || h=${h%%.*}
    echo "$h"
}

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

# bench_args SCRIPT CHECK ARG...: the scripts' options. --help prints the
# comment at the top of SCRIPT (up to "set -euo"); --check, taken only where
# CHECK is 1, sets check=1.
bench_args() {
    local script=$1 takes_check=$2 arg
    shift 2
    check=0
    for arg in "$@"; do
        case $arg in
        --check)
            ((takes_check)) || die "unknown argument '$arg' (try --help)"
            # shellcheck disable=SC2034  # read by the caller
            check=1
            ;;
        -h | --help)
            sed -n '2,/^set -euo/p' "$script" | sed -e '$d' -e 's/^# \{0,1\}//'
            exit 0
            ;;
        *) die "unknown argument '$arg' (try --help)" ;;
        esac
    done
}

tool_path() {
    command -v "$1" || echo "/usr/bin/$1"
}

positive_ints() {
    local k
    for k in "$@"; do
        [[ ${!k} =~ ^[1-9][0-9]*$ ]] || die "$k must be a positive integer"
    done
}

# need_tools HINT TOOL...: HINT is how to get the tools, e.g. "apt-get install redis-tools".
need_tools() {
    local hint=$1 tool
    shift
    for tool in "$@"; do
        [[ -x $tool ]] || die "needed tool not found: $tool ($hint)"
    done
    command -v taskset >/dev/null || die "taskset not found (util-linux)"
}

# percore_defaults: the caller sets repo (the checkout) first.
percore_defaults() {
    PERCORE_BIN=${PERCORE_BIN:-$repo/build/percore-server}
    PERCORE_ARGS=${PERCORE_ARGS:-}
    REDIS_CLI=${REDIS_CLI:-$(tool_path redis-cli)}
    BENCH_THREADS=${BENCH_THREADS:-1}
    SERVER_CPUS=${SERVER_CPUS:-0}
    CLIENT_CPUS=${CLIENT_CPUS:-1}
    BENCH_POLICIES=${BENCH_POLICIES:-share-nothing,shared-locks,work-stealing}
}

# The redis-benchmark load rb_run's callers share: -n for -P 1 and for -P
# $BENCH_PIPELINE, -c, -r.
rb_defaults() {
    BENCH_N=${BENCH_N:-200000}
    BENCH_N_PIPELINED=${BENCH_N_PIPELINED:-2000000}
    BENCH_CLIENTS=${BENCH_CLIENTS:-50}
    BENCH_KEYSPACE=${BENCH_KEYSPACE:-100000}
    BENCH_PIPELINE=${BENCH_PIPELINE:-16}
}

# pin_cpus: SERVER_CPUS and CLIENT_CPUS must be taskset lists; where they name
# a CPU this machine lacks, both become CPU 0 (with a warning).
read_policies() {
    local p
    IFS=, read -r -a policies <<<"$BENCH_POLICIES"
    for p in "${policies[@]}"; do
        case $p in
        share-nothing | shared-locks | work-stealing) ;;
        *) die "unknown policy '$p' in BENCH_POLICIES" ;;
        esac
    done
}

pin_cpus() {
    local server_max client_max
    ncpu=$(nproc --all 2>/dev/null || nproc)
    server_max=$(cpu_list_max "$SERVER_CPUS") || die "SERVER_CPUS is not a CPU list: $SERVER_CPUS"
    client_max=$(cpu_list_max "$CLIENT_CPUS") || die "CLIENT_CPUS is not a CPU list: $CLIENT_CPUS"
    if ((server_max >= ncpu || client_max >= ncpu)); then
        echo "$BENCH_NAME: warning: only $ncpu CPU(s); server and client share CPU 0" >&2
        SERVER_CPUS=0 CLIENT_CPUS=0
    fi
    BENCH_CLIENT_THREADS=${BENCH_CLIENT_THREADS:-$(cpu_list_count "$CLIENT_CPUS")}
}

start_redis() {
    start_server "$1" "$2" "$3" --port @PORT@ --save '' --appendonly no --bind 127.0.0.1 --dir "$workdir"
}

# start_percore POLICY: dies when the server reports another policy (an older
# build that ignores --scheduler.policy reports none, which passes).
start_percore() {
    local policy=$1 got
    # shellcheck disable=SC2086  # PERCORE_ARGS: words on purpose
    start_server "$policy" "$SERVER_CPUS" "$PERCORE_BIN" --server.threads "$BENCH_THREADS" \
        --port @PORT@ --server.bind 127.0.0.1 --scheduler.policy "$policy" $PERCORE_ARGS
    got=$("$REDIS_CLI" -p "$started_port" config get policy 2>/dev/null | sed -n 2p) || true
    [[ -z $got || $got == "$policy" ]] || die "server started for $policy reports policy '$got'"
}

assert_alive() {
    kill -0 "$2" 2>/dev/null || die "the $1 server died during the run (pid $2)"
}

# rotate_runs FN TARGET...: BENCH_RUNS rounds, each calling "FN TARGET RUN"
# (RUN from 0) for every target, rotating the order so that no target always
# runs first (or last). Removes $workdir/TARGET.res first, for FN to append to.
rotate_runs() {
    # _rr_ names: FN sees the caller's variables (t, n, ...), not these
    local _rr_fn=$1 _rr_run _rr_i _rr_t
    shift
    for _rr_t in "$@"; do rm -f "$workdir/$_rr_t.res"; done
    for ((_rr_run = 0; _rr_run < BENCH_RUNS; _rr_run++)); do
        for ((_rr_i = 0; _rr_i < $#; _rr_i++)); do
            _rr_t=$(((_rr_i + _rr_run) % $# + 1))
            "$_rr_fn" "${!_rr_t}" "$_rr_run"
        done
    done
}

# ratio_cell RPS BASE [MIN]: RPS and its ratio to BASE; " **<**" marks a ratio below MIN.
ratio_cell() {
    awk -v r="$1" -v b="$2" -v min="${3:-0}" 'BEGIN {
        ratio = b > 0 ? r / b : 0
        printf "%.0f (%.2f×)%s", r, ratio, ratio < min ? " **<**" : ""
    }'
}

# md_row LABEL BASE MIN ERRCOL TARGET...: "| LABEL", then each target's median
# rate (column 1 of $workdir/TARGET.res) and, but for BASE's, its ratio_cell to
# BASE's (MIN as there), then each one's median CPU time (column 2). Where
# ERRCOL is not 0, column ERRCOL counts errors: a target that had any gets
# " [N errors]" after its rate.
md_row() {
    local label=$1 base=$2 min=$3 errcol=$4 row cpus="" t rate base_rate errs
    shift 4
    base_rate=$(median "$workdir/$base.res" 1)
    row="| $label"
    for t in "$@"; do
        rate=$(median "$workdir/$t.res" 1)
        if [[ $t == "$base" ]]; then
            row+=" | $(printf '%.0f' "$rate")"
        else
            row+=" | $(ratio_cell "$rate" "$base_rate" "$min")"
        fi
        if ((errcol)); then
            errs=$(awk -v c="$errcol" '{e += $c} END {print e + 0}' "$workdir/$t.res")
            ((errs == 0)) || row+=" [$errs errors]"
        fi
        cpus+=" | $(printf '%.2f' "$(median "$workdir/$t.res" 2)")"
    done
    echo "$row$cpus |"
}

md_header() {
    local first=$1 rate=$2 cpu=$3 header rule label
    shift 3
    header="| $first" rule="|---"
    for label in "$@"; do
        header+=" | $label $rate"
        rule+="|---:"
    done
    for label in "$@"; do
        header+=" | $label $cpu"
        rule+="|---:"
    done
    echo "$header |"
    echo "$rule|"
}
