#!/usr/bin/env bash
# Installs Debian's Chromium when /usr/bin/chromium is missing. The
# dashboard's end-to-end test (web/e2e) drives it with playwright-core,
# which downloads no browser of its own.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
echo "installing Chromium (Debian package chromium)" >&2
export DEBIAN_FRONTEND=noninteractive
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
[ -x /usr/bin/chromium ] || { echo "chromium installed but /usr/bin/chromium not found" >&2; exit 1; }
