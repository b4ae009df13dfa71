#!/usr/bin/env bash
# Installs the Debian packages percore needs to build, test and benchmark,
# and only those that are missing. Safe to run again; needs root (or sudo).
set -euo pipefail
PKGS=(
  build-essential cmake pkg-config
  clang libclang-rt-14-dev
  libev-dev liblua5.4-dev libinih-dev libhiredis-dev libck-dev libxxhash-dev
  libjemalloc-dev libsystemd-dev libcmocka-dev lua-cjson liblzf-dev nettle-dev
  redis-server redis-tools memcached
  python3 python3-pytest python3-pytest-xdist python3-redis
  gnuplot-nox
  tcl dpkg-dev
  debhelper help2man lintian systemd logrotate
  iproute2
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps.sh: installing ${missing[*]}"
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
# The redis-server and memcached packages start a system instance; tests and
# bench/run start their own.
if command -v systemctl >/dev/null 2>&1; then
  $SUDO systemctl disable --now redis-server memcached >/dev/null 2>&1 || true
fi
