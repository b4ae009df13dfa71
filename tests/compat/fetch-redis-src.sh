#!/usr/bin/env bash
# Fetch Debian's redis 7.0 source package once into a work directory and print
# the path of its unpacked tree (redis-7.0.*: src/commands/*.json, tests/).
# Used by run-redis-scripting.sh (Redis's Tcl suites) and by
# tests/integration/test_command_spec.py (Redis 7.0's command specs).
#
#   tests/compat/fetch-redis-src.sh [work-dir]     (default $COMPAT_DIR or /tmp/percore-compat)
#
# Installs dpkg-dev through apt if missing; adds a deb-src entry for the
# running Debian release if apt has none; runs `apt-get source redis` under a
# lock, so that runs started together download once. Exit status: 0 with the
# path on stdout; 2 when no redis 7.0 tree could be had.
set -euo pipefail

WORK=${1:-${COMPAT_DIR:-/tmp/percore-compat}}
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
fail() { echo "fetch-redis-src: $*" >&2; exit 2; }

mkdir -p "$WORK"
find_src() { find "$WORK" -maxdepth 1 -type d -name 'redis-7.0*' | sort | tail -1; }
if [ -z "$(find_src)" ] && ! command -v dpkg-source >/dev/null 2>&1; then
  echo "fetch-redis-src: installing dpkg-dev" >&2
  export DEBIAN_FRONTEND=noninteractive
  { $SUDO apt-get install -y -qq --no-install-recommends dpkg-dev ||
    { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends dpkg-dev; }; } >&2 ||
    fail "could not install dpkg-dev"
fi
fetch_src() {
  [ -n "$(find_src)" ] && return 0
  if ! apt-get source --print-uris redis >/dev/null 2>&1; then
    # shellcheck disable=SC1091
    . /etc/os-release
    echo "fetch-redis-src: adding deb-src entries for $VERSION_CODENAME" >&2
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
    $SUDO apt-get update -qq >&2
  fi
  (cd "$WORK" && apt-get source -qq redis >/dev/null 2>&1) || return 1
  [ -n "$(find_src)" ]
}
# One download even when several runs start together.
exec 9>"$WORK/.fetch.lock"
flock 9
fetch_src || fail "apt-get source redis failed, or gave no redis 7.0 tree under $WORK"
flock -u 9
exec 9>&-
find_src
