#!/usr/bin/env bash
# What ACL costs per command: instructions the server retires per request
# (redis-benchmark -t set,get -P 16), counted by cachegrind (no cache
# simulation), so the number does not depend on other load on the machine
# (VMs often have no perf counters). Each server runs N1 and then N2
# requests in two runs; (I(N2) - I(N1)) / (2 * (N2 - N1)) drops start-up.
#
#   bench/acl-cost.sh OLD_BINARY NEW_BINARY
#
# Prints old, new (default user: allowed everything), new-restricted (a user
# with +@all -debug ~* &*: every command takes the full check) and
# redis-server, with each one's ratio to redis-server.
set -euo pipefail
OLD=$1 NEW=$2
N1=${N1:-10000} N2=${N2:-50000}
PORT=${PORT:-27311}
command -v valgrind >/dev/null || { echo "acl-cost: needs valgrind" >&2; exit 2; }

irefs() { # n cmd...
  local n=$1; shift
  local log; log=$(mktemp)
  valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null "$@" \
    >/dev/null 2>"$log" &
  local p=$!
  for _ in $(seq 150); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.2; done
  if [ -n "${SETUP:-}" ]; then redis-cli -p "$PORT" $SETUP >/dev/null; fi
  redis-benchmark -p "$PORT" -t set,get -n "$n" -c 20 -P 16 -r 100000 -q ${BENCH_ARGS:-} \
    >/dev/null 2>&1
  redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || true
  wait "$p" || true
  grep "I *refs" "$log" | awk '{gsub(",", "", $4); print $4}'
  rm -f "$log"
}
per_req() { local a b; a=$(irefs "$N1" "$@"); b=$(irefs "$N2" "$@"); echo $(((b - a) / (2 * (N2 - N1)))); }

PC=(--port "$PORT" --server.threads 1 --server.pin-threads no)
redis=$(per_req redis-server --port "$PORT" --save "" --appendonly no)
old=$(per_req "$OLD" "${PC[@]}")
new=$(per_req "$NEW" "${PC[@]}")
restricted=$(SETUP="acl setuser lim on >pw +@all -debug ~* &*" BENCH_ARGS="--user lim -a pw" \
  per_req "$NEW" "${PC[@]}")
for x in old new restricted redis; do
  v=${!x}
  printf '%-11s %6d instructions/request  ratio to redis-server %s\n' "$x" "$v" \
    "$(awk -v a="$v" -v b="$redis" 'BEGIN{printf "%.3f", a/b}')"
done
