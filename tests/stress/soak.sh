#!/usr/bin/env bash
# Soak test (not in CI): for each policy, start percore-server with 2 workers
# and run tests/stress/soak.py against it: bank transfers (MULTI/EXEC, EVAL)
# audited for a constant total, while other clients reset connections
# mid-command, mid-MULTI and mid-script and slow readers pipeline 1 MB replies.
# Fails if an audit sees money appear or vanish, the server dies or stalls, or
# its RSS keeps growing after warm-up.
#
#   tests/stress/soak.sh [SECONDS_PER_POLICY]     (default 300)
#   PERCORE_BIN=build-asan/percore-server POLICIES="work-stealing" tests/stress/soak.sh 60
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-300}
bin=${PERCORE_BIN:-build/percore-server}
policies=${POLICIES:-share-nothing shared-locks work-stealing}
port=${PORT:-7391}
log=$(mktemp -d)
fail=0
for p in $policies; do
  "$bin" conf/server.ini --port "$port" --server.threads 2 --scheduler.policy "$p" \
    --server.bind 127.0.0.1 > "$log/$p.log" 2>&1 &
  pid=$!
  for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  echo "== $p (pid $pid, ${secs}s)"
  /usr/bin/python3 tests/stress/soak.py --port "$port" --pid "$pid" --seconds "$secs" || fail=1
  if ! kill -0 "$pid" 2>/dev/null; then echo "soak: FAIL: $p: server died"; fail=1; fi
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if grep -E "AddressSanitizer|runtime error|Segmentation" "$log/$p.log"; then fail=1; fi
done
rm -rf "$log"
exit $fail
