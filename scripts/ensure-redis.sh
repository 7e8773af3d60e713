#!/usr/bin/env bash
# Installs the Redis server from Debian's packages when no redis-server
# binary is found. The Redis construct's hostile-tenant test
# (constructs/redis, TestHostileTenantACL) starts its own throw-away server
# from it on a free local port, applies the synthesized ACL rules and
# attacks one app's keys as another app.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1; then exit 0; fi
echo "installing Redis (Debian package redis-server)" >&2
export DEBIAN_FRONTEND=noninteractive
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq redis-server >/dev/null
command -v redis-server >/dev/null 2>&1 || { echo "redis-server installed but not found" >&2; exit 1; }
