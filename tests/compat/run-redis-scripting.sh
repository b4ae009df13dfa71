#!/usr/bin/env bash
# Redis 7.0's own tests/unit/scripting.tcl (from Debian's `redis` source
# package) against percore in external mode; with SUITE=pubsub, its
# tests/unit/pubsub.tcl and pubsubshard.tcl instead; with SUITE=lists, its
# tests/unit/type/list.tcl (the list commands and the blocking ones;
# LISTS_EXTRA=unit/type/list-3 adds list-3.tcl, quicklist regressions and
# about 50 s of stress loops, not in make test); with SUITE=zset,
# tests/unit/type/zset.tcl (with BZPOPMIN/BZMPOP's blocking cases); with
# SUITE=maxmemory, the blocks of tests/unit/maxmemory.tcl that one server can
# run; with SUITE=tracking, its tests/unit/tracking.tcl (client-side caching);
# with SUITE=geo, tests/unit/geo.tcl (the GEO commands, with its fuzz tests
# against a Tcl computation); with SUITE=hll, tests/unit/hyperloglog.tcl
# (PFDEBUG included: its needs:pfdebug cases run); with SUITE=bitops,
# tests/unit/bitops.tcl and bitfield.tcl (the bitmap commands); with
# SUITE=dump, tests/unit/dump.tcl (DUMP / RESTORE; its MIGRATE cases are
# skipped); with SUITE=latency, tests/unit/latency-monitor.tcl, with
# SUITE=introspection2, tests/unit/introspection-2.tcl and with SUITE=slowlog,
# tests/unit/slowlog.tcl (the three with enable-debug-command yes, so their
# needs:debug cases run); with SUITE=functions, tests/unit/functions.tcl
# (FUNCTION and FCALL); with SUITE=sort, tests/unit/sort.tcl (SORT and
# SORT_RO); with SUITE=stream, tests/unit/type/stream.tcl and
# stream-cgroups.tcl; with SUITE=acl, tests/unit/acl.tcl and acl-v2.tcl
# (users, selectors, ACL LOG, AUTH); with SUITE=persistence, tests/unit/other.tcl
# (SAVE, BGSAVE, DEBUG RELOAD and the dirty counter; DEBUG enabled too).
#
#   tests/compat/run-redis-scripting.sh [percore-server]
#   SUITE=pubsub tests/compat/run-redis-scripting.sh [percore-server]
#   SUITE=lists tests/compat/run-redis-scripting.sh [percore-server]
#
# Env: PERCORE_BIN (default build/percore-server), POLICY (share-nothing),
# THREADS (2), COMPAT_DIR (download and work dir, default /tmp/percore-compat;
# each policy/threads pair works in its own run-* subdirectory, so runs may
# share it), SKIP_FILE (skip lists, space-separated; default
# tests/compat/scripting.skip, plus SUITE-workers.skip, where there is one,
# when THREADS is not 1; for the other suites, tests/compat/SUITE.skip), UNDECLARED
# (allow-undeclared-keys, default yes), EXTRA_ARGS (more server arguments),
# COMPAT_TIMEOUT (seconds for the whole tcl run, default 150),
# COMPAT_TEST_TIMEOUT (seconds for one test, default 60), COMPAT_QUIET
# (1: print only the failures and the summary, the full output goes to a file).
#
# What it does: installs tcl through apt if missing; fetches the redis source
# package once (tests/compat/fetch-redis-src.sh, shared with the command-spec
# test); copies its tests/ to a work dir and adapts what follows there (never
# the download):
#   - SUITE=lists (list.tcl, list-3.tcl) and zset (zset.tcl): the files set
#     the encodings' options (list-max-ziplist-size, list-compress-depth,
#     zset-max-ziplist-entries...), in server blocks' overrides and in CONFIG
#     SET lines, which percore does not have (one encoding per type): all
#     wrapped in catch, and the encodings are not checked (--ignore-encoding);
#     the tests that need DEBUG are left out by --tags.
# The server runs with allow-undeclared-keys = yes: Redis's tests touch keys
# they do not declare (percore's default refuses that, see the integration
# tests). Tests listed in the skip file are skipped, each with its reason
# there; tests tagged needs:debug / needs:repl are left out (DEBUG and
# replication are outside percore), as are those Redis tags external:skip.
#
# The last line printed is the summary:
#   compat scripting <policy>/<threads>: passed=N failed=N skipped=N ... time=Ns
# Exit status: 0 when every test that ran passed, the suite ran to its end, the
# server survived and logged no sanitizer report; 1 otherwise; 2 when the
# suite could not be set up.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${1:-${PERCORE_BIN:-$REPO/build/percore-server}}
WORK=${COMPAT_DIR:-/tmp/percore-compat}
POLICY=${POLICY:-share-nothing}
THREADS=${THREADS:-2}
SUITE=${SUITE:-scripting}
case $SUITE in
  scripting) UNITS="unit/scripting" ;;
  pubsub) UNITS="unit/pubsub unit/pubsubshard" ;;
  lists) UNITS="unit/type/list${LISTS_EXTRA:+ $LISTS_EXTRA}" ;;
  zset) UNITS="unit/type/zset" ;;
  maxmemory) UNITS="unit/maxmemory" ;;
  tracking) UNITS="unit/tracking" ;;
  geo) UNITS="unit/geo" ;;
  hll) UNITS="unit/hyperloglog" ;;
  bitops) UNITS="unit/bitops unit/bitfield" ;;
  dump) UNITS="unit/dump" ;;
  latency) UNITS="unit/latency-monitor" ;;
  introspection2) UNITS="unit/introspection-2" ;;
  slowlog) UNITS="unit/slowlog" ;;
  functions) UNITS="unit/functions" ;;
  sort) UNITS="unit/sort" ;;
  stream) UNITS="unit/type/stream unit/type/stream-cgroups" ;;
  acl) UNITS="unit/acl unit/acl-v2" ;;
  persistence) UNITS="unit/other" ;;
  *) echo "run-redis-scripting: unknown SUITE '$SUITE' (the suites: this case's lines)" >&2
     exit 2 ;;
esac
SKIP_SRC=$REPO/tests/compat/$SUITE.skip
# With several workers, the tests that need one thread's order are skipped
# too (their reasons: SUITE-workers.skip, where the suite has one).
[ "$THREADS" != 1 ] && [ -r "$REPO/tests/compat/$SUITE-workers.skip" ] &&
  SKIP_SRC="$SKIP_SRC $REPO/tests/compat/$SUITE-workers.skip"
SKIP_SRC=${SKIP_FILE:-$SKIP_SRC}
TIME_LIMIT=${COMPAT_TIMEOUT:-150}
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"

setup_fail() { echo "run-redis-scripting: $*" >&2; exit 2; }
[ -x "$BIN" ] || setup_fail "percore-server not found at $BIN (build it or pass its path)"
for f in $SKIP_SRC; do [ -r "$f" ] || setup_fail "no skip file at $f"; done
command -v redis-cli >/dev/null 2>&1 || setup_fail "redis-cli missing (packaging/deps.sh installs redis-tools)"

# ---- tools and sources ------------------------------------------------------
missing=()
command -v tclsh8.6 >/dev/null 2>&1 || missing+=(tcl)
if [ ${#missing[@]} -gt 0 ]; then
  echo "run-redis-scripting: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" ||
    { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"; } ||
    setup_fail "could not install ${missing[*]}"
fi

# the source package, fetched once (tests/compat/fetch-redis-src.sh)
SRCDIR=$("$REPO/tests/compat/fetch-redis-src.sh" "$WORK") || setup_fail "no redis 7.0 source tree under $WORK"

RUN=$WORK/run-$([ "$SUITE" = scripting ] || echo "$SUITE-")$POLICY-$THREADS
rm -rf "$RUN"
mkdir -p "$RUN"
cp -r "$SRCDIR/tests" "$RUN/"
if [ "$SUITE" = scripting ] || [ "$SUITE" = functions ]; then
  : # scripting.tcl (its EVAL and FCALL halves) and functions.tcl run as they are
elif [ "$SUITE" = maxmemory ]; then
  # Every block of maxmemory.tcl is tagged external:skip, as its tests set
  # maxmemory on the server they are given; three blocks need nothing more
  # than one server (client buffers, the policies, the rehash check), and run
  # here; the others need replicas or tracking and stay left out. The rehash
  # test first turns off Redis's latency tracking, a setting percore lacks.
  M=$RUN/tests/unit/maxmemory.tcl
  for l in 1 146 417; do
    sed -n "${l}p" "$M" | grep -q '^start_server {tags {"maxmemory"\{0,1\} \{0,1\}"\{0,1\}external:skip"}} {$' ||
      setup_fail "maxmemory.tcl changed: line $l is not an external:skip server block"
    sed -i "${l}s/^start_server {tags {.*}} {$/start_server {tags {\"maxmemory\"}} {/" "$M"
  done
  sed -i 's/^        r config set latency-tracking no$/        catch {r config set latency-tracking no}/' "$M"
  grep -q 'catch {r config set latency-tracking no}' "$M" ||
    setup_fail "maxmemory.tcl changed: no latency-tracking line to adapt"
elif [ "$SUITE" = geo ]; then
  # Its fuzz tests (byradius and bybox from one loop, and box edges) make 29
  # searches each over random points that the Tcl client also filters itself
  # (most of a run's minute of client CPU); here 14 each (GEO_FUZZ_ATTEMPTS 15):
  # byradius still takes all 13 regression vectors first, and the points are
  # random either way.
  G=$RUN/tests/unit/geo.tcl
  sed -i "s/if {\$::accurate} { set attempt 300 } else { set attempt 30 }/if {\$::accurate} { set attempt 300 } else { set attempt ${GEO_FUZZ_ATTEMPTS:-15} }/" "$G"
  [ "$(grep -c "set attempt ${GEO_FUZZ_ATTEMPTS:-15} }" "$G")" = 2 ] ||
    setup_fail "geo.tcl changed: no two fuzz attempt counts to adapt"
elif [ "$SUITE" = dump ]; then
  : # dump.tcl runs as it is: it sets no option percore lacks
elif [ "$SUITE" = lists ] || [ "$SUITE" = zset ] || [ "$SUITE" = sort ]; then
  # sort.tcl's server block overrides list-max-ziplist-size and
  # set-max-intset-entries, and list.tcl, list-3.tcl and zset.tcl set Redis's encodings' options
  # (list-max-ziplist-size, list-compress-depth, zset-max-ziplist-entries...),
  # which percore has no equivalent of: those CONFIG SETs (r config set,
  # config_set) are wrapped in catch, in the files and where server.tcl
  # applies a block's overrides.
  for u in $UNITS; do
    sed -i -E -e 's/^([[:space:]]*)r config set (.*)$/\1catch {r config set \2}/' \
      -e 's/^([[:space:]]*)config_set (.*)$/\1catch {config_set \2}/' "$RUN/tests/$u.tcl"
  done
  sed -i 's/^        r config set \$param \$val$/        catch {r config set $param $val}/' \
    "$RUN/tests/support/server.tcl"
  { [ "$SUITE" != lists ] || grep -q 'catch {r config set list-max-ziplist-size' "$RUN/tests/unit/type/list.tcl"; } &&
    { [ "$SUITE" != zset ] || grep -q 'catch {r config set zset-max-ziplist-entries' "$RUN/tests/unit/type/zset.tcl"; } &&
    [ "$(grep -c 'catch {r config set \$param \$val}' "$RUN/tests/support/server.tcl")" = 2 ] ||
    setup_fail "list.tcl, zset.tcl or server.tcl changed: no 'r config set' lines to adapt"
elif [ "$SUITE" = latency ] || [ "$SUITE" = introspection2 ] || [ "$SUITE" = slowlog ] ||
     [ "$SUITE" = persistence ]; then
  # They run as they are, DEBUG included (SLEEP, OBJECT: cmd_debug.c).
  :
elif [ "$SUITE" = hll ]; then
  # hyperloglog.tcl's one CONFIG SET, hll-sparse-max-bytes, is an option of
  # percore's (config.h). Two tests build a 33 MB (and a 262 KB) corrupt
  # sketch by appending one opcode at a time in a Tcl loop: a minute of the
  # Tcl client's CPU, not the server's. The same bytes come from one
  # `string repeat` here.
  # "Fuzzing dense/sparse encoding" corrupts 1000 random sketches, each
  # built from up to 3000 Tcl-generated floats (47 s of the client's CPU a
  # run); here it corrupts 100 (HLL_FUZZ_ROUNDS), as the sketches are random
  # either way (test_hyperloglog.py crafts the corruptions that matter).
  H=$RUN/tests/unit/hyperloglog.tcl
  perl -0pi -e 's/for \{set i 0\} \{\$i < \$repeat\} \{incr i\} \{\n\s*append pl \$chunk\n\s*\}/append pl [string repeat \$chunk \$repeat]/g' "$H"
  sed -i "s/^        for {set j 0} {\$j < 1000} {incr j} {\$/        for {set j 0} {\$j < ${HLL_FUZZ_ROUNDS:-100}} {incr j} {/" "$H"
  [ "$(grep -c 'append pl \[string repeat \$chunk \$repeat\]' "$H")" = 2 ] &&
    grep -q "for {set j 0} {\$j < ${HLL_FUZZ_ROUNDS:-100}} {incr j} {" "$H" ||
    setup_fail "hyperloglog.tcl changed: no two opcode-append loops or fuzz loop to adapt"
elif [ "$SUITE" = acl ]; then
  # The first server block of acl.tcl and of acl-v2.tcl is tagged
  # external:skip only because it changes users; it needs one plain server.
  # The later blocks start servers with an aclfile or `user` lines in their
  # config (left out by the tag: the runner gives no server config).
  for f in acl acl-v2; do
    sed -i '1s/^start_server {tags {"acl external:skip"}} {$/start_server {tags {"acl"}} {/' \
      "$RUN/tests/unit/$f.tcl"
    grep -q '^start_server {tags {"acl"}} {$' "$RUN/tests/unit/$f.tcl" ||
      setup_fail "$f.tcl changed: no external:skip first line to adapt"
  done
  # "Test various odd commands for key permissions" sets up the user later
  # tests use; its MIGRATE lines ask for a command percore leaves out (a
  # cluster tool: tests/integration/test_command_spec.py, EXCLUDED).
  V2=$RUN/tests/unit/acl-v2.tcl
  sed -i -e '/DRYRUN command-test MIGRATE /d' "$V2"
  grep -q 'DRYRUN command-test EVAL_RO' "$V2" && ! grep -q 'command-test MIGRATE' "$V2" ||
    setup_fail "acl-v2.tcl changed: no MIGRATE lines to adapt"
elif [ "$SUITE" = bitops ]; then
  : # bitops.tcl and bitfield.tcl run as they are (proto-max-bulk-len is an
    # option of percore's; their DEBUG and replication blocks are left out
    # by their tags)
elif [ "$SUITE" = stream ]; then
  # stream.tcl and stream-cgroups.tcl run as they are: their CONFIG SETs,
  # stream-node-max-entries / -bytes, are options of percore's (config.h).
  :
else
  # pubsubshard.tcl's first server block is tagged external:skip though it
  # needs nothing but one server (its other blocks need several: left out).
  sed -i '1s/^start_server {tags {"pubsubshard external:skip"}} {$/start_server {tags {"pubsubshard"}} {/' \
    "$RUN/tests/unit/pubsubshard.tcl"
  grep -q '^start_server {tags {"pubsubshard"}} {$' "$RUN/tests/unit/pubsubshard.tcl" ||
    setup_fail "pubsubshard.tcl changed: no external:skip first line to adapt"
fi

# "Test name :: reason" lines -> the plain names --skipfile wants.
SKIP=$RUN/$SUITE.skip.names
# shellcheck disable=SC2086  # SKIP_SRC: a list of files on purpose
sed -e '/^[[:space:]]*#/d' -e '/^[[:space:]]*$/d' -e 's/[[:space:]]*::.*$//' $SKIP_SRC > "$SKIP"

# ---- the server ---------------------------------------------------------------
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# The test helper listens for its clients on a port it picks from --baseport
# (default 21111) minus 32, and its check that the port is free binds the
# wildcard address, which succeeds while another run holds it on 127.0.0.1:
# two runs at once collided ("address already in use"). Each run gets a
# base whose client port (and that plus 10000, which the check also binds)
# is free now.
CLIENT_PORT=$(python3 -c '
import random, socket
for _ in range(200):
    p = random.randrange(20000, 30000)
    try:
        for q in (p, p + 10000):
            s = socket.socket(); s.bind(("127.0.0.1", q)); s.close()
    except OSError:
        continue
    print(p); break')
LOG=$RUN/percore.log
# The suites of DEBUG's users run it: enabled, and its tests not left out.
TAGS="-needs:debug -needs:repl"
DEBUG_ARGS=""
case $SUITE in latency|introspection2|slowlog|acl|persistence) TAGS="-needs:repl"; DEBUG_ARGS="--server.enable-debug-command yes" ;; esac
# shellcheck disable=SC2086 # EXTRA_ARGS is a list of words
"$BIN" --port "$PORT" --server.bind 127.0.0.1 --server.threads "$THREADS" \
  --scheduler.policy "$POLICY" --scripting.allow-undeclared-keys "${UNDECLARED:-yes}" \
  --persistence.dir "$RUN" $DEBUG_ARGS ${EXTRA_ARGS:-} \
  >"$LOG" 2>&1 &
SRV=$!
stop_server() {
  kill "$SRV" 2>/dev/null || return 0
  for _ in $(seq 50); do kill -0 "$SRV" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$SRV" 2>/dev/null || true
}
trap stop_server EXIT
srv_ping() { timeout 2 redis-cli -p "$PORT" ping 2>/dev/null | grep -q PONG; }
for _ in $(seq 100); do srv_ping && break; sleep 0.1; done
srv_ping || { cat "$LOG" >&2; setup_fail "percore-server did not answer PING on port $PORT"; }

# ---- the tests -------------------------------------------------------------------
START=$(date +%s)
OUT=$RUN/output.txt
set +e
# --timeout is per test (a hung test fails, the run goes on); the outer
# timeout bounds the whole run.
SINGLES=()
for u in $UNITS; do SINGLES+=(--single "$u"); done
(cd "$RUN" && timeout -k 5 "$TIME_LIMIT" tclsh8.6 tests/test_helper.tcl --host 127.0.0.1 \
  --port "$PORT" --baseport "$((CLIENT_PORT + 32))" "${SINGLES[@]}" --skipfile "$SKIP" --tags "$TAGS" \
  --durable --timeout "${COMPAT_TEST_TIMEOUT:-60}" --clients 1 $(case $SUITE in lists|zset|sort) echo --ignore-encoding;; esac)) \
  2>&1 | if [ "${COMPAT_QUIET:-0}" = 1 ]; then cat > "$OUT"; else tee "$OUT"; fi
rc=${PIPESTATUS[0]}
set -e
END=$(date +%s)

PLAIN=$RUN/output.plain.txt
sed 's/\x1b\[[0-9;]*m//g' "$OUT" > "$PLAIN"
count() { grep -c "$1" "$PLAIN" || true; }
passed=$(count '^\[ok\]')
failed=$(count '^\[err\]')
skipped=$(count '^\[skip\]')
ignored=$(count '^\[ignore\]')
exc=$(count '^\[exception\]\|\[TIMEOUT\]')
finished=no
grep -q '^ *The End$' "$PLAIN" && [ "$rc" -ne 124 ] && finished=yes
# Alive = still answering, if only BUSY (a test that failed may have left an
# endless script running).
alive=no
for _ in 1 2 3 4 5 6; do
  timeout 2 redis-cli -p "$PORT" ping 2>/dev/null | grep -q 'PONG\|BUSY' && { alive=yes; break; }
  sleep 0.2
done
stop_server
trap - EXIT
sanitizer=$(grep -c -E 'Sanitizer|runtime error|Segmentation fault' "$LOG" || true)

echo
if [ "$failed" -gt 0 ]; then
  echo "failed tests (each with the first line of its message):"
  awk '/^\[err\]: .* in tests\/unit\/[a-z]*.tcl$/ { sub(/ in tests\/unit\/[a-z]*.tcl$/, ""); print; getline; print "    " substr($0, 1, 200) }' "$PLAIN"
fi
grep -A1 '^\[TIMEOUT\]' "$PLAIN" | sed 's/^/  /' || true
if [ "$exc" -gt 0 ]; then
  echo "exception or timeout: the test client stopped early, the tests after it did not run"
fi
if [ "$finished" = no ]; then
  echo "the suite did not run to its end (tcl exit $rc; limit ${TIME_LIMIT}s)"
fi
echo "output: $PLAIN; server log: $LOG"
ok=0
[ "$failed" -eq 0 ] && [ "$exc" -eq 0 ] && [ "$finished" = yes ] && [ "$alive" = yes ] &&
  [ "$sanitizer" -eq 0 ] && [ "$passed" -gt 0 ] && ok=1
echo "compat $SUITE $POLICY/$THREADS: passed=$passed failed=$failed skipped=$skipped" \
  "ignored(tags)=$ignored exceptions=$exc finished=$finished server-alive=$alive" \
  "sanitizer-reports=$sanitizer time=$((END - START))s result=$([ $ok = 1 ] && echo PASS || echo FAIL)"
[ $ok = 1 ]
