#!/usr/bin/env bash
# Memory per key (or per element) of percore against redis-server: for each
# workload, a fresh server of each kind is started, its INFO used_memory and
# its resident set (VmRSS of /proc/PID/status) are read, the workload is
# loaded through `redis-cli --pipe`, and both are read again once the load has
# been acknowledged. Prints a Markdown table of bytes per unit (the two deltas
# over the workload's units) and the ratio percore / redis-server for each,
# lower is better; the issue's target is <= 1.00x.
#
# Workloads (name: what is loaded; the unit the bytes are divided by):
#   string:     N keys "s:<i>", SET to a 16-byte value; per key
#   hash:       N keys "h:<i>", HSET of 4 fields (8-byte names, 8-byte values); per key
#   stream:     one key, N XADD * f1 <8 bytes> f2 <8 bytes>; per entry
#   bitmap:     N/10 keys, SETBIT <key> 8191 1 (a 1 KiB bitmap); per key
#   hll-sparse: N/10 keys, PFADD of 50 elements each (sparse); per key
#   hll-dense:  N/500 keys, PFADD of 5000 elements each (dense); per key
# A workload the percore binary lacks a command for is reported as such, not
# measured. The server's own startup memory is not counted: both readings are
# deltas. RSS includes the allocator's unreturned pages, used_memory is each
# server's own accounting (redis-server: jemalloc's allocated bytes; percore:
# its maxmemory account, server/util.h), so the RSS ratio is the one to trust
# across the two.
#
# Usage: bench/memory.sh [--help] [WORKLOAD...]   (default: all six)
#
# Environment (defaults in brackets):
#   PERCORE_BIN [<repo>/build/percore-server]  PERCORE_ARGS []
#   REDIS_SERVER [redis-server]  REDIS_CLI [redis-cli]
#   BENCH_THREADS [1]  SERVER_CPUS [0]  CLIENT_CPUS [1]
#   BENCH_POLICIES [share-nothing] (memory does not depend on the policy; a
#     list measures each)
#   BENCH_KEYS [1000000] (N above)
#
# Exit status: 0 ok, 2 setup or run error.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
BENCH_NAME=memory
# shellcheck source=bench/lib.sh
. "$here/lib.sh"

knobs=(PERCORE_BIN PERCORE_ARGS REDIS_SERVER REDIS_CLI BENCH_THREADS SERVER_CPUS CLIENT_CPUS
    BENCH_POLICIES BENCH_KEYS)
cmdline=$(bench_cmdline bench/memory.sh "${knobs[@]}" -- "$@")

BENCH_POLICIES=${BENCH_POLICIES:-share-nothing}
percore_defaults
REDIS_SERVER=${REDIS_SERVER:-$(tool_path redis-server)}
BENCH_KEYS=${BENCH_KEYS:-1000000}

all_workloads=(string hash stream bitmap hll-sparse hll-dense)
# options go to bench_args (which refuses anything else), workload names stay
opts=() workloads=()
for a in "$@"; do
    if [[ $a == -* ]]; then opts+=("$a"); else workloads+=("$a"); fi
done
bench_args "${BASH_SOURCE[0]}" 0 "${opts[@]}"
((${#workloads[@]})) || workloads=("${all_workloads[@]}")
for w in "${workloads[@]}"; do
    [[ " ${all_workloads[*]} " == *" $w "* ]] || die "unknown workload '$w' (one of: ${all_workloads[*]})"
done
[[ -x $PERCORE_BIN ]] || die "percore-server not found or not executable: $PERCORE_BIN (make build)"
need_tools "apt-get install redis-server redis-tools python3" "$REDIS_SERVER" "$REDIS_CLI" \
    "$(tool_path python3)"
positive_ints BENCH_THREADS BENCH_KEYS
pin_cpus
IFS=, read -r -a policies <<<"$BENCH_POLICIES"
for p in "${policies[@]}"; do
    case $p in
    share-nothing | shared-locks | work-stealing) ;;
    *) die "unknown policy '$p' in BENCH_POLICIES" ;;
    esac
done
targets=("${policies[@]}" redis)
bench_setup

# units W: how many units workload W loads (what the deltas are divided by)
units() {
    case $1 in
    string | hash | stream) echo "$BENCH_KEYS" ;;
    bitmap | hll-sparse) echo $((BENCH_KEYS / 10)) ;;
    hll-dense) echo $((BENCH_KEYS / 500)) ;;
    esac
}

# gen W: the workload's commands in RESP on stdout (python3: a million
# commands in about a second, where a shell loop takes minutes).
gen() {
    python3 - "$1" "$(units "$1")" <<'EOF'
import sys
w, n = sys.argv[1], int(sys.argv[2])
out = sys.stdout.buffer
def cmd(*a):
    parts = [b"*%d\r\n" % len(a)]
    for x in a:
        x = x if isinstance(x, bytes) else str(x).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(x), x))
    return b"".join(parts)
buf = []
for i in range(n):
    if w == "string":
        buf.append(cmd("SET", "s:%d" % i, "v%015d" % i))
    elif w == "hash":
        buf.append(cmd("HSET", "h:%d" % i, "field001", "%08d" % i, "field002", "%08d" % (i + 1),
                       "field003", "%08d" % (i + 2), "field004", "%08d" % (i + 3)))
    elif w == "stream":
        buf.append(cmd("XADD", "st", "*", "f1", "%08d" % i, "f2", "%08d" % (i * 7)))
    elif w == "bitmap":
        buf.append(cmd("SETBIT", "b:%d" % i, 8191, 1))
    elif w == "hll-sparse":
        buf.append(cmd("PFADD", "p:%d" % i, *["e%d-%d" % (i, j) for j in range(50)]))
    elif w == "hll-dense":
        for k in range(0, 5000, 500):
            buf.append(cmd("PFADD", "d:%d" % i, *["e%d-%d" % (i, j) for j in range(k, k + 500)]))
    if len(buf) >= 4096:
        out.write(b"".join(buf)); buf = []
out.write(b"".join(buf))
EOF
}

# The workload's first command, to ask the server whether it has it.
first_command() {
    case $1 in
    string) echo set ;; hash) echo hset ;; stream) echo xadd ;; bitmap) echo setbit ;;
    hll-*) echo pfadd ;;
    esac
}

rss_bytes() { awk '/^VmRSS:/ {print $2 * 1024}' "/proc/$1/status"; }
used_memory() { "$REDIS_CLI" -p "$1" info memory | tr -d '\r' | sed -n 's/^used_memory://p'; }

# measure T W: start target T, load workload W, append "W T rss_per_unit
# used_per_unit" to $workdir/results (or "W T - -" when T lacks the command).
measure() {
    local t=$1 w=$2 pid port n r0 u0 r1 u1 reply
    if [[ $t == redis ]]; then start_redis redis "$SERVER_CPUS" "$REDIS_SERVER"; else start_percore "$t"; fi
    pid=$started_pid port=$started_port
    n=$(units "$w")
    if [[ $("$REDIS_CLI" -p "$port" command info "$(first_command "$w")" | head -1) == "" ]]; then
        echo "$w $t - -" >>"$workdir/results"
        stop_server "$pid"
        return
    fi
    r0=$(rss_bytes "$pid") u0=$(used_memory "$port")
    echo "memory: $w on $t ($n units)" >&2
    reply=$(gen "$w" | taskset -c "$CLIENT_CPUS" "$REDIS_CLI" -p "$port" --pipe 2>&1 | tail -1)
    [[ $reply == *"errors: 0,"* ]] || die "$t: loading $w failed: $reply"
    sleep 1 # let a background free or a partition's deferred work settle
    assert_alive "$t" "$pid"
    r1=$(rss_bytes "$pid") u1=$(used_memory "$port")
    awk -v w="$w" -v t="$t" -v n="$n" -v r="$((r1 - r0))" -v u="$((u1 - u0))" \
        'BEGIN {printf "%s %s %.1f %.1f\n", w, t, r / n, u / n}' >>"$workdir/results"
    stop_server "$pid"
}

for w in "${workloads[@]}"; do
    for t in "${targets[@]}"; do measure "$t" "$w"; done
done

version=$(git_version "$repo")
echo "Command: \`$cmdline\`"
echo
echo "Machine: $(machine_desc); percore $version ($PERCORE_BIN), redis-server" \
    "$(redis_version "$REDIS_SERVER"); $BENCH_THREADS worker thread(s); N = $BENCH_KEYS."
echo
hdr="| workload | unit | redis-server RSS B | redis-server used_memory B |"
rule="|---|---|---:|---:|"
for p in "${policies[@]}"; do
    hdr+=" $p RSS B (×) | $p used_memory B (×) |"
    rule+="---:|---:|"
done
echo "$hdr"
echo "$rule"
for w in "${workloads[@]}"; do
    case $w in stream) unit=entry ;; *) unit=key ;; esac
    awk -v w="$w" -v unit="$unit" -v pols="${policies[*]}" '
        $1 == w { rss[$2] = $3; used[$2] = $4 }
        function cell(v, base) {
            if (v == "-") return "no such command"
            return base > 0 ? sprintf("%.0f (%.2f×)", v, v / base) : sprintf("%.0f", v)
        }
        END {
            line = sprintf("| %s (%d) | %s | %.0f | %.0f |", w, n, unit, rss["redis"], used["redis"])
            np = split(pols, p, " ")
            for (i = 1; i <= np; i++)
                line = line " " cell(rss[p[i]], rss["redis"]) " | " cell(used[p[i]], used["redis"]) " |"
            print line
        }' n="$(units "$w")" "$workdir/results"
done
echo
echo "Bytes per unit: the growth of RSS and of INFO used_memory over the load, divided by its" \
    "units; (×): percore over redis-server, lower is better."
exit 0
