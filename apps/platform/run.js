#!/usr/bin/env node
// run.js is the app command of cdk.json: it runs the platform app
// (apps/platform) from a binary kept in a cache keyed by everything the
// build reads, and runs `go build` only when that key changes. It replaces
// `go run ./apps/platform`, which re-checks every package of the build
// (aws-cdk-go's are large) on every synth: about 1.5 s of CPU per synth on
// the 2-core build machine (docs/performance.md, "Go against TypeScript").
//
// The key is a SHA-256 over:
//   - the checkout's absolute path (the binary reads the repository's
//     files, such as web/, from the paths it was compiled at);
//   - `go env` of the settings that change what `go build` produces
//     (toolchain version and root, target, GOFLAGS, cgo, experiments, ...);
//   - go.mod and go.sum, which pin every other module (the module cache's
//     copies are checked against go.sum and never change);
//   - the path and content of every file in each directory of this module
//     that holds Go files, and below it: the Go sources and anything a
//     //go:embed pattern could name. node_modules directories, nested
//     modules (their own go.mod), build outputs (cdk.out*, bench/out, .git),
//     test files (*_test.go) and test binaries (*.test) are skipped.
// It is a superset of the build's inputs, so a change that cannot affect
// the binary (a test file, another command) may cause a rebuild, never the
// reverse.
//
// The binary lives in <user cache dir>/wharf/platform/<key>/platform, or
// under $WHARF_PLATFORM_CACHE; the two most recently used keys are kept.
// WHARF_PLATFORM_CACHE=off runs `go run ./apps/platform` as before.
// `node run.js --key` prints the key and exits (run_test.go).
'use strict';
const { spawn, execFileSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..', '..');
const pkg = './apps/platform';
const KEEP = 2;

function exec(cmd, args) {
  const child = spawn(cmd, args, { stdio: 'inherit', cwd: root });
  child.on('error', (err) => {
    process.stderr.write(`wharf: cannot run ${cmd}: ${err.message}\n`);
    process.exit(1);
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    process.exit(code === null ? 1 : code);
  });
}

function userCacheDir() {
  if (process.platform === 'darwin') return path.join(os.homedir(), 'Library', 'Caches');
  if (process.platform === 'win32') return process.env.LocalAppData || path.join(os.homedir(), 'AppData', 'Local');
  return process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
}

// Files to hash: every file in and below each directory that holds a .go
// file, relative to root, sorted; and go.mod, go.sum.
function inputs() {
  const out = [];
  const walk = (dir, rel, hashAll) => {
    const entries = fs.readdirSync(dir, { withFileTypes: true });
    const all = hashAll || entries.some((e) => e.isFile() && e.name.endsWith('.go'));
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (e.name === 'node_modules' || r === '.git' || r === 'bench/out' || (!rel && e.name.startsWith('cdk.out'))) continue;
        if (fs.existsSync(path.join(dir, e.name, 'go.mod'))) continue; // a nested module
        walk(path.join(dir, e.name), r, all);
      } else if (e.isFile() && ((all && !e.name.endsWith('.test') && !e.name.endsWith('_test.go')) || r === 'go.mod' || r === 'go.sum')) {
        out.push(r);
      }
    }
  };
  walk(root, '', false);
  return out.sort();
}

function key() {
  const h = crypto.createHash('sha256');
  const env = execFileSync('go', ['env', '-json', 'GOVERSION', 'GOROOT', 'GOOS', 'GOARCH', 'GOFLAGS',
    'CGO_ENABLED', 'CC', 'CGO_CFLAGS', 'CGO_LDFLAGS', 'GOEXPERIMENT', 'GOAMD64', 'GOARM64', 'GOARM',
    'GO386', 'GOWORK', 'GOTOOLCHAIN', 'GOFIPS140', 'GODEBUG'], { cwd: root, encoding: 'utf8' });
  // The checkout's own path: the binary finds the repository's files (the
  // dashboard's web/ sources, say) from the paths it was compiled at, so a
  // binary built in another clone would read that clone.
  h.update(`root\0${root}\0`);
  h.update(`env\0${env}\0`);
  for (const f of inputs()) {
    h.update(`${f}\0`);
    h.update(fs.readFileSync(path.join(root, f)));
    h.update('\0');
  }
  return h.digest('hex').slice(0, 32);
}

function prune(cache, current) {
  const entries = fs.readdirSync(cache, { withFileTypes: true })
    .filter((e) => e.isDirectory() && e.name !== current && /^[0-9a-f]{32}$/.test(e.name))
    .map((e) => ({ name: e.name, t: fs.statSync(path.join(cache, e.name)).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  for (const e of entries.slice(KEEP - 1)) fs.rmSync(path.join(cache, e.name), { recursive: true, force: true });
}

function main() {
  if (process.argv[2] === '--key') {
    process.stdout.write(`${key()}\n`);
    return undefined;
  }
  const setting = process.env.WHARF_PLATFORM_CACHE;
  if (setting === 'off') return exec('go', ['run', pkg]);
  const cache = setting || path.join(userCacheDir(), 'wharf', 'platform');
  let k;
  try {
    k = key();
  } catch (err) {
    process.stderr.write(`wharf: cannot compute the platform app's build key: ${err.message}\n`);
    process.exit(1);
  }
  const dir = path.join(cache, k);
  const bin = path.join(dir, process.platform === 'win32' ? 'platform.exe' : 'platform');
  if (!fs.existsSync(bin)) {
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch (err) {
      process.stderr.write(`wharf: no platform binary cache (${err.message}); running go run\n`);
      return exec('go', ['run', pkg]);
    }
    const tmp = path.join(dir, `.build-${process.pid}${process.platform === 'win32' ? '.exe' : ''}`);
    try {
      execFileSync('go', ['build', '-o', tmp, pkg], { cwd: root, stdio: 'inherit' });
    } catch (err) {
      fs.rmSync(tmp, { force: true });
      process.exit(typeof err.status === 'number' ? err.status : 1);
    }
    fs.renameSync(tmp, bin); // atomic: a concurrent synth sees all or nothing
    try { prune(cache, k); } catch { /* another synth pruned first */ }
  } else {
    const now = new Date();
    try { fs.utimesSync(dir, now, now); } catch { /* pruned meanwhile: still runs */ }
  }
  return exec(bin, []);
}

main();
