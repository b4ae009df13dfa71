#!/usr/bin/env bash
# A/B of two percore builds on this machine: each server with 1 worker pinned
# to CPU 0, redis-benchmark on CPU 1 (-c 50 -r 100000), GET and SET at -P 16
# (1M requests) and -P 1 (100k), the two builds back to back, ROUNDS rounds.
# Prints requests/s and the server's CPU us per request (utime+stime).
#   bench/ab.sh OLD_BIN OLD_INI NEW_BIN NEW_INI [ROUNDS]
# e.g. after `git worktree add /tmp/old <commit>` and building it there:
#   bench/ab.sh /tmp/old/build/percore-server /tmp/old/conf/server.ini \
#               build/percore-server conf/server.ini 2
set -euo pipefail
old=$1 oldini=$2 new=$3 newini=$4 rounds=${5:-2}
run() { # bin ini port test pipeline requests
  taskset -c 0 "$1" "$2" --port "$3" --server.threads 1 --server.bind 127.0.0.1 >/dev/null 2>&1 &
  local pid=$! up=0
  for _ in $(seq 100); do redis-cli -p "$3" ping >/dev/null 2>&1 && { up=1; break; }; sleep 0.05; done
  # redis-benchmark spins forever without a server: never start it then.
  [ $up = 1 ] || { echo "server $1 did not start" >&2; kill $pid 2>/dev/null; exit 1; }
  local t0 t1 rps
  t0=$(awk '{print $14+$15}' /proc/$pid/stat)
  rps=$(taskset -c 1 redis-benchmark -p "$3" -t "$4" -P "$5" -n "$6" -c 50 -r 100000 -q 2>/dev/null |
        grep -oE '[0-9.]+ requests per second' | awk '{print $1}')
  t1=$(awk '{print $14+$15}' /proc/$pid/stat)
  kill $pid; wait $pid 2>/dev/null || true
  # clock ticks (1/100 s) -> us per request
  echo "$rps $(echo "($t1-$t0)*10000/$6" | bc -l | cut -c1-5)"
}
for r in $(seq "$rounds"); do
  for t in get set; do
    for p in 16 1; do
      n=$([ $p = 16 ] && echo 1000000 || echo 100000)
      echo "round $r $t -P$p  old: $(run "$old" "$oldini" 7801 $t $p $n)  new: $(run "$new" "$newini" 7802 $t $p $n)  (rps, CPU us/req)"
    done
  done
done
