#!/usr/bin/env bash
# Installs the PostgreSQL server from Debian's packages when no initdb and
# postgres binaries are found. The database-manager tests (internal/pgtest)
# start their own throw-away server from them; when run as root they run it
# as the OS user "postgres", which the Debian package creates.
set -euo pipefail
have() {
  for d in /usr/lib/postgresql/*/bin; do
    if [ -x "$d/initdb" ] && [ -x "$d/postgres" ]; then return 0; fi
  done
  command -v initdb >/dev/null 2>&1 && command -v postgres >/dev/null 2>&1
}
if have && { [ "$(id -u)" -ne 0 ] || id postgres >/dev/null 2>&1; }; then exit 0; fi
echo "installing PostgreSQL (Debian package postgresql)" >&2
export DEBIAN_FRONTEND=noninteractive
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq postgresql >/dev/null
have || { echo "PostgreSQL installed but initdb/postgres not found" >&2; exit 1; }
