#!/usr/bin/env bash
# Installs the PostgreSQL server from Debian's packages when no initdb is
# found. The database-manager tests start their own server from it.
set -euo pipefail
for d in /usr/lib/postgresql/*/bin; do
  if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then exit 0; fi
done
if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then exit 0; fi
echo "installing PostgreSQL (Debian package postgresql)" >&2
export DEBIAN_FRONTEND=noninteractive
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq postgresql >/dev/null
