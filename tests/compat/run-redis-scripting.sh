#!/usr/bin/env bash
# Redis 7.0's own tests/unit/scripting.tcl (from Debian's `redis` source
# package) against percore in external mode.
#
#   tests/compat/run-redis-scripting.sh [percore-server]
#
# Env: PERCORE_BIN (default build/percore-server), COMPAT_DIR (download and
# work dir, default /tmp/percore-compat), POLICY (share-nothing), THREADS (2),
# UNDECLARED (allow-undeclared-keys, default yes), EXTRA_ARGS (more server
# arguments).
#
# What it does: installs tcl and dpkg-dev through apt if missing; adds a
# deb-src entry for the running Debian release if apt has none; fetches the
# redis source package; copies its tests/ to a work dir and adapts two
# things there (never the download):
#   - the file runs every test twice, as EVAL (is_eval=1) and as FUNCTION/FCALL
#     (is_eval=0); FUNCTION is not part of percore, so only is_eval=1 runs;
#   - external mode starts each server block with `r function flush`: wrapped
#     in catch for the same reason.
# The server runs with allow-undeclared-keys = yes: Redis's tests touch keys
# they do not declare (percore's default refuses that, see the integration
# tests). Tests listed in tests/compat/scripting.skip are skipped, each with
# its reason there. Exit status: 0 when no test failed.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${1:-${PERCORE_BIN:-$REPO/build/percore-server}}
WORK=${COMPAT_DIR:-/tmp/percore-compat}
POLICY=${POLICY:-share-nothing}
THREADS=${THREADS:-2}
SKIP_SRC=$REPO/tests/compat/scripting.skip
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"

[ -x "$BIN" ] || { echo "percore-server not found at $BIN (build it or pass its path)"; exit 2; }

# ---- tools and sources ------------------------------------------------------
missing=()
command -v tclsh8.6 >/dev/null 2>&1 || missing+=(tcl)
command -v dpkg-source >/dev/null 2>&1 || missing+=(dpkg-dev)
if [ ${#missing[@]} -gt 0 ]; then
  echo "run-redis-scripting: installing ${missing[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

mkdir -p "$WORK"
SRCDIR=$(find "$WORK" -maxdepth 1 -type d -name 'redis-7.0*' | head -1)
if [ -z "$SRCDIR" ]; then
  if ! apt-get source --print-uris redis >/dev/null 2>&1; then
    . /etc/os-release
    echo "run-redis-scripting: adding deb-src entries for $VERSION_CODENAME"
    $SUDO tee /etc/apt/sources.list.d/percore-deb-src.sources >/dev/null <<EOF
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $VERSION_CODENAME $VERSION_CODENAME-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: $VERSION_CODENAME-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    $SUDO apt-get update -qq
  fi
  (cd "$WORK" && apt-get source -qq redis >/dev/null 2>&1) || {
    echo "apt-get source redis failed"; exit 2; }
  SRCDIR=$(find "$WORK" -maxdepth 1 -type d -name 'redis-7.0*' | head -1)
  [ -n "$SRCDIR" ] || { echo "no redis 7.0 source tree under $WORK"; exit 2; }
fi

RUN=$WORK/run
rm -rf "$RUN"
mkdir -p "$RUN"
cp -r "$SRCDIR/tests" "$RUN/"
sed -i 's/^foreach is_eval {0 1} {/foreach is_eval {1} {/' "$RUN/tests/unit/scripting.tcl"
sed -i 's/^    r function flush$/    catch {r function flush}/' "$RUN/tests/support/server.tcl"
grep -q '^foreach is_eval {1} {' "$RUN/tests/unit/scripting.tcl"
grep -q 'catch {r function flush}' "$RUN/tests/support/server.tcl"

# "Test name :: reason" lines -> the plain names --skipfile wants.
SKIP=$RUN/scripting.skip.names
sed -e '/^[[:space:]]*#/d' -e '/^[[:space:]]*$/d' -e 's/[[:space:]]*::.*$//' "$SKIP_SRC" > "$SKIP"

# ---- the server ---------------------------------------------------------------
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
LOG=$RUN/percore.log
"$BIN" --port "$PORT" --server.bind 127.0.0.1 --server.threads "$THREADS" \
  --scheduler.policy "$POLICY" --scripting.allow-undeclared-keys "${UNDECLARED:-yes}" ${EXTRA_ARGS:-} \
  >"$LOG" 2>&1 &
SRV=$!
stop_server() {
  kill "$SRV" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$SRV" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$SRV" 2>/dev/null || true
}
trap stop_server EXIT
srv_ping() { timeout 2 redis-cli -p "$PORT" ping >/dev/null 2>&1; }
for _ in $(seq 100); do srv_ping && break; sleep 0.1; done
srv_ping

# ---- the tests -------------------------------------------------------------------
START=$(date +%s)
OUT=$RUN/output.txt
set +e
(cd "$RUN" && tclsh8.6 tests/test_helper.tcl --host 127.0.0.1 --port "$PORT" \
  --single unit/scripting --skipfile "$SKIP" --tags "-needs:debug -needs:repl" \
  --durable --timeout 600 --clients 1) \
  2>&1 | tee "$OUT"
set -e
END=$(date +%s)

PLAIN=$RUN/output.plain.txt
sed 's/\x1b\[[0-9;]*m//g' "$OUT" > "$PLAIN"
ok=$(grep -c '^\[ok\]' "$PLAIN" || true)
err=$(grep -c '^\[err\]' "$PLAIN" || true)
skipped=$(grep -c '^\[skip\]' "$PLAIN" || true)
ignored=$(grep -c '^\[ignore\]' "$PLAIN" || true)
exc=$(grep -c '^\[exception\]\|\[TIMEOUT\]' "$PLAIN" || true)
alive=no  # a connection may land on a worker still busy: try a few
for _ in 1 2 3 4 5 6; do srv_ping && { alive=yes; break; }; done
stop_server
sanitizer=$(grep -c -E 'Sanitizer|runtime error|Segmentation fault' "$LOG" || true)
echo
echo "percore vs Redis scripting.tcl ($POLICY, $THREADS threads): ok=$ok err=$err" \
  "skipped=$skipped ignored(tags)=$ignored exceptions=$exc server-alive=$alive" \
  "sanitizer-reports=$sanitizer" \
  "time=$((END - START))s"
echo "failed:"; grep "^\[err\]" "$PLAIN" | sed "s/ in tests\/unit\/scripting.tcl//" || true
echo "full output: $PLAIN; server log: $LOG"
[ "$err" -eq 0 ] && [ "$exc" -eq 0 ] && [ "$alive" = yes ] && [ "$sanitizer" -eq 0 ]
