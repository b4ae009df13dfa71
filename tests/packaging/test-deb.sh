#!/usr/bin/env bash
# The Debian package end to end (issue 11): lintian, install with apt, the
# files, user and unit it brings, the service started as its unit says, a
# reload, a policy switch and a restart, upgrade/remove/purge. Needs root.
# CI machines run no systemd, so the unit's ExecStartPre/ExecStart lines are
# run here as its User=, with its LimitNOFILE= and WorkingDirectory=.
#
#   tests/packaging/test-deb.sh DIR     (DIR holds percore_*.deb: make deb)
#
# Leaves the machine as it found it: the package purged, and the percore user
# deleted if this test created it (the package itself keeps it, as Debian
# policy asks).
set -euo pipefail
cd "$(dirname "$0")/../.."
DIR=${1:-build-deb}
[ "$(id -u)" -eq 0 ] || { echo "test-deb: needs root" >&2; exit 1; }

fails=0
step() { printf '\n== %s\n' "$*"; }
ok() { printf 'ok   %s\n' "$*"; }
fail() { printf 'FAIL %s\n' "$*"; fails=$((fails + 1)); }
check() { # check DESCRIPTION COMMAND...
    local what=$1; shift
    if "$@" >/dev/null 2>&1; then ok "$what"; else fail "$what"; fi
}

deb=$(ls "$DIR"/percore_*.deb | head -1)
dbgsym=$(ls "$DIR"/percore-dbgsym_*.deb 2>/dev/null | head -1 || true)
version=$(dpkg-deb -f "$deb" Version)
if dpkg-query -W -f='${Status}' percore 2>/dev/null | grep -q 'installed\|config-files'; then
    echo "test-deb: percore is already installed here; purge it first" >&2
    exit 1
fi
user_before=$(getent passwd percore || true)
group_before=$(getent group percore || true)
tmp=$(mktemp -d)
pid=""
stop_server() { # SIGTERM, as systemctl stop sends; sets stop_rc
    stop_rc=none
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid"
        stop_rc=killed
    fi
    local rc=0
    wait "$pid" 2>/dev/null || rc=$?
    [ "$stop_rc" = killed ] || stop_rc=$rc
    pid=""
}
cleanup() {
    stop_server
    if dpkg-query -W -f='${Status}' percore 2>/dev/null | grep -q 'installed\|config-files'; then
        DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq percore >/dev/null 2>&1 || true
    fi
    [ -z "$user_before" ] && getent passwd percore >/dev/null && userdel percore
    [ -z "$group_before" ] && getent group percore >/dev/null && groupdel percore
    rm -rf "$tmp"
}
trap cleanup EXIT

step "package $deb ($version)"
check "a -dbgsym package beside it" test -n "$dbgsym"
server_version=$(dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/bin/percore-server > "$tmp/srv" \
    && chmod +x "$tmp/srv" && "$tmp/srv" --version)
check "package version $version = percore-server --version ($server_version)" \
    grep -q "v=$version " <<<"$server_version "
check "recommends redis-tools" grep -q redis-tools <(dpkg-deb -f "$deb" Recommends)

step "lintian"
if lintian --fail-on error --tag-display-limit 0 "$deb" ${dbgsym:+"$dbgsym"}; then
    ok "lintian: no error"
else
    fail "lintian reports errors"
fi

step "apt-get install ./$(basename "$deb")"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$(realpath "$deb")" >"$tmp/apt.log" 2>&1 \
    || { cat "$tmp/apt.log"; fail "apt-get install"; exit 1; }
ok "installed"
for f in /usr/bin/percore-server /usr/bin/percore-bench /etc/percore/server.ini \
    /usr/share/man/man1/percore-server.1.gz /usr/share/man/man1/percore-bench.1.gz \
    /usr/share/doc/percore/README.md.gz /usr/share/doc/percore/changelog.gz \
    /usr/lib/sysusers.d/percore.conf /usr/lib/tmpfiles.d/percore.conf \
    /etc/logrotate.d/percore /lib/systemd/system/percore.service; do
    check "installed: $f" test -e "$f"
done
for p in share-nothing shared-locks work-stealing; do
    ex=/usr/share/doc/percore/examples/$p.ini
    check "example $ex passes --test-config" /usr/bin/percore-server --test-config "$ex"
    check "example $ex sets policy = $p" grep -qx "policy = $p" "$ex"
done
check "/etc/percore/server.ini is a conffile" \
    grep -q /etc/percore/server.ini <(dpkg-query -W -f='${Conffiles}' percore)
# The same keys and comments as conf/server.ini; only the log file differs.
if diff <(grep -v '^logfile = ' conf/server.ini) \
        <(grep -v -e '^logfile = ' -e '^; Installed by the percore package' /etc/percore/server.ini); then
    ok "server.ini: the keys and comments of conf/server.ini"
else
    fail "server.ini differs from conf/server.ini beyond logfile"
fi
check "server.ini: loopback bind" grep -qx 'bind = 127.0.0.1 -::1' /etc/percore/server.ini
check "server.ini: protected mode" grep -qx 'protected-mode = yes' /etc/percore/server.ini
check "server.ini: log under /var/log/percore" \
    grep -qx 'logfile = "/var/log/percore/percore-server.log"' /etc/percore/server.ini
# Man pages come from --help: every option of the table is in the page.
for prog in percore-server percore-bench; do
    # roff: \fB..\fR set fonts (help2man bolds "--server" alone), \- is a hyphen.
    missing=0
    zcat /usr/share/man/man1/$prog.1.gz | sed -e 's/\\f[BIRP]//g' -e 's/\\-/-/g' >"$tmp/$prog.1"
    for opt in $(/usr/bin/$prog --help | grep -o -- '--[a-z][a-z.-]*' | sort -u); do
        grep -q -- "$opt" "$tmp/$prog.1" || { missing=1; echo "  $prog.1 lacks $opt"; }
    done
    check "$prog.1 documents every option of --help" test $missing -eq 0
done

step "user, group, directories"
check "user percore" getent passwd percore
check "group percore" getent group percore
check "percore has no login shell" grep -q 'nologin\|/bin/false' <(getent passwd percore | cut -d: -f7)
for d in /var/lib/percore /var/log/percore; do
    check "$d owned by percore" test "$(stat -c %U "$d")" = percore
done

step "unit"
unit=/lib/systemd/system/percore.service
if systemd-analyze verify "$unit" >"$tmp/verify" 2>&1; then ok "systemd-analyze verify"; else
    cat "$tmp/verify"; fail "systemd-analyze verify"; fi
score=$(systemd-analyze security --offline=true "$unit" 2>/dev/null |
    sed -n 's/.*Overall exposure level for percore.service: \([0-9.]*\).*/\1/p')
echo "systemd-analyze security --offline=true: exposure $score (10 = unprotected)"
check "exposure $score <= 2.0" awk -v s="$score" 'BEGIN { exit !(s != "" && s <= 2.0) }'
for k in Type=notify User=percore 'ExecReload=/bin/kill -HUP $MAINPID' ProtectSystem=strict \
    PrivateTmp=yes NoNewPrivileges=yes CapabilityBoundingSet= MemoryDenyWriteExecute=yes \
    SystemCallFilter=@system-service; do
    check "unit: $k" grep -qxF "$k" "$unit"
done
unit_get() { sed -n "s/^$1=//p" "$unit" | head -1; }
exec_pre=$(unit_get ExecStartPre)
exec_start=$(unit_get ExecStart)
run_user=$(unit_get User)
nofile=$(unit_get LimitNOFILE)
workdir=$(unit_get WorkingDirectory)

# As systemd would run a line of the unit: its user, its fd limit, its dir.
# unit_exec replaces the shell it runs in (prlimit and setpriv exec too), so
# `unit_exec ... &` makes $! the server itself; as_unit runs it in a subshell.
unit_exec() { cd "$workdir" && exec prlimit --nofile="$nofile:$nofile" \
    setpriv --reuid="$run_user" --regid="$run_user" --init-groups -- "$@"; }
as_unit() { (unit_exec "$@"); }
ini=/etc/percore/server.ini
port=$(sed -n 's/^port = //p' "$ini")
cli() { redis-cli -p "$port" "$@"; }
start_service() {
    # shellcheck disable=SC2086 # the unit's lines are split on spaces, as systemd does
    as_unit $exec_pre >"$tmp/pre" 2>&1 || { cat "$tmp/pre"; fail "ExecStartPre"; return 1; }
    # shellcheck disable=SC2086
    unit_exec $exec_start &
    pid=$!
    for _ in $(seq 100); do
        [ "$(cli PING 2>/dev/null)" = PONG ] && return 0
        sleep 0.1
    done
    fail "no PONG on port $port"
    return 1
}

step "the service, as its unit starts it"
if ss -ltn | grep -q ":$port "; then
    # Something else holds the shipped port: move ours (the file stays a conffile).
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    sed -i "s/^port = .*/port = $port/" "$ini"
    echo "port 6379 is taken here: using $port"
fi
start_service
check "runs as $run_user" test "$(ps -o user= -p "$pid" | tr -d ' ')" = "$run_user"
check "PING" test "$(cli PING)" = PONG
check "SET" test "$(cli SET greeting hello)" = OK
check "GET" test "$(cli GET greeting)" = hello
check "EVAL" test "$(cli EVAL "return redis.call('get', KEYS[1]) .. '!'" 1 greeting)" = 'hello!'
check "CONFIG GET policy = share-nothing" test "$(cli CONFIG GET policy | tail -1)" = share-nothing
check "log written to /var/log/percore" grep -q 'ready' /var/log/percore/percore-server.log
check "log owned by percore" test "$(stat -c %U /var/log/percore/percore-server.log)" = percore

step "a broken edit is refused by --test-config"
cp "$ini" "$tmp/good.ini"
sed -i 's/^maxmemory = .*/maxmemory = lots/' "$ini"
line=$(grep -n '^maxmemory = ' "$ini" | cut -d: -f1)
if msg=$(as_unit $exec_pre 2>&1); then fail "--test-config accepted maxmemory = lots"; else
    echo "  $msg"
    check "the error names the file, line $line and key" \
        grep -q "$ini.*$line.*maxmemory" <<<"$msg"
fi
cp "$tmp/good.ini" "$ini"

step "edit: another policy and port (restart), maxmemory (reload)"
new_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
sed -i -e 's/^policy = .*/policy = work-stealing/' -e "s/^port = .*/port = $new_port/" \
    -e 's/^maxmemory = .*/maxmemory = 64mb/' "$ini"
check "--test-config accepts the edit" as_unit $exec_pre
kill -HUP "$pid"
for _ in $(seq 50); do
    [ "$(cli CONFIG GET maxmemory | tail -1)" = 67108864 ] && break
    sleep 0.1
done
check "SIGHUP applied maxmemory = 64mb" test "$(cli CONFIG GET maxmemory | tail -1)" = 67108864
check "SIGHUP left the policy for a restart" test "$(cli CONFIG GET policy | tail -1)" = share-nothing
check "the log says the policy needs a restart" \
    grep -q 'scheduler.policy.*restart' /var/log/percore/percore-server.log

step "logrotate"
logrotate -f -s "$tmp/logrotate.status" /etc/logrotate.d/percore
check "rotated" test -e /var/log/percore/percore-server.log.1
kill -HUP "$pid" # logs the reload into the truncated file
for _ in $(seq 50); do [ -s /var/log/percore/percore-server.log ] && break; sleep 0.1; done
check "the server goes on logging to the log file" test -s /var/log/percore/percore-server.log

step "restart with the new policy"
stop_server
check "SIGTERM: the server exits with status 0" test "$stop_rc" = 0
check "the log says it exited" grep -q 'ready to exit' /var/log/percore/percore-server.log
port=$new_port
start_service
check "CONFIG GET policy = work-stealing" test "$(cli CONFIG GET policy | tail -1)" = work-stealing
check "port $new_port" test "$(cli CONFIG GET port | tail -1)" = "$new_port"
check "CONFIG GET maxmemory = 64mb" test "$(cli CONFIG GET maxmemory | tail -1)" = 67108864
stop_server
check "SIGTERM: the server exits with status 0" test "$stop_rc" = 0
check "no percore-server left running" test -z "$(pgrep -u percore percore-server || true)"

step "an upgrade keeps the edited server.ini"
# The same package as a later version: what dpkg does to a conffile the
# user edited (keep it, silently, when the shipped one did not change).
dpkg-deb -R "$deb" "$tmp/up"
sed -i "s/^Version: .*/Version: $version+up1/" "$tmp/up/DEBIAN/control"
dpkg-deb -b --root-owner-group "$tmp/up" "$tmp/percore_up.deb" >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tmp/percore_up.deb" >"$tmp/apt.log" 2>&1 \
    || { cat "$tmp/apt.log"; fail "apt-get install (upgrade)"; }
check "upgraded to $version+up1" test "$(dpkg-query -W -f='${Version}' percore)" = "$version+up1"
check "edited policy kept" grep -qx 'policy = work-stealing' "$ini"
check "edited port kept" grep -qx "port = $new_port" "$ini"

step "apt remove keeps the configuration, apt purge removes it"
DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq percore >/dev/null
check "removed: no /usr/bin/percore-server" test ! -e /usr/bin/percore-server
check "removed: server.ini kept" grep -qx 'policy = work-stealing' "$ini"
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq percore >/dev/null
check "purged: nothing under /etc/percore" test ! -e /etc/percore
check "purged: no /var/lib/percore" test ! -e /var/lib/percore
check "purged: no /var/log/percore" test ! -e /var/log/percore
check "purged: no logrotate entry" test ! -e /etc/logrotate.d/percore
check "purged: the percore user stays (Debian policy 9.2.2)" getent passwd percore

printf '\ntest-deb: %s\n' "$([ $fails -eq 0 ] && echo "all checks passed" || echo "$fails checks FAILED")"
[ $fails -eq 0 ]
