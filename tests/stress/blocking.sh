#!/usr/bin/env bash
# Blocking-commands stress (not in CI): for each policy, start percore-server
# with 4 workers and run tests/stress/blocking.py against it (no element
# lost or delivered twice under BLPOP/BLMOVE/BLMPOP/BRPOPLPUSH waiters,
# pushers and random CLIENT UNBLOCKs). Fails on a lost or duplicated
# element, a dead server or a sanitizer report.
#
#   tests/stress/blocking.sh [SECONDS_PER_POLICY]     (default 15)
#   PERCORE_BIN=build-tsan/percore-server tests/stress/blocking.sh 8
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-15}
bin=${PERCORE_BIN:-build/percore-server}
policies=${POLICIES:-share-nothing shared-locks work-stealing}
port=${PORT:-7393}
log=$(mktemp -d)
fail=0
for p in $policies; do
  "$bin" conf/server.ini --port "$port" --server.threads 4 --scheduler.policy "$p" \
    --server.bind 127.0.0.1 > "$log/$p.log" 2>&1 &
  pid=$!
  for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  echo "== $p (pid $pid, ${secs}s)"
  /usr/bin/python3 tests/stress/blocking.py --port "$port" --seconds "$secs" || fail=1
  if ! kill -0 "$pid" 2>/dev/null; then echo "blocking stress: FAIL: $p: server died"; fail=1; fi
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if grep -E "Sanitizer|runtime error|Segmentation" "$log/$p.log"; then fail=1; fi
done
rm -rf "$log"
exit $fail
