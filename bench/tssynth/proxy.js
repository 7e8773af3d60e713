#!/usr/bin/env node
// proxy.js sits between a Go CDK app and its jsii runtime and timestamps
// every line of the kernel protocol, without the cost of JSII_DEBUG's
// logging. The Go runtime starts it through JSII_RUNTIME:
//
//   JSII_RUNTIME="node bench/tssynth/proxy.js <jsii-runtime.js> <log>" \
//   TSSYNTH_T0=$(date +%s%3N) ./platform
//
// <jsii-runtime.js> is the runtime entry point shipped in the
// jsii-runtime-go module (internal/embedded/resources/bin). Each line of
// <log> is "<ms since TSSYNTH_T0> <direction> <api or kind>", where
// direction is > (Go to kernel) or < (kernel to Go); the first line marks the
// proxy's own start. Messages are forwarded as they arrive.
'use strict';
const { spawn } = require('child_process');
const fs = require('fs');

const [, , entry, logPath] = process.argv;
const t0 = Number(process.env.TSSYNTH_T0 || Date.now());
const log = [];
const now = () => (Date.now() - t0);
log.push(`${now()} proxy-start`);

const child = spawn(process.execPath, [entry], { stdio: ['pipe', 'pipe', 'inherit'] });

function kind(line) {
  try {
    const m = JSON.parse(line);
    if (m.api) return m.api + (m.api === 'load' ? `:${m.name}` : m.method ? `:${m.method}` : m.fqn ? `:${m.fqn}` : '');
    if (m.hello) return 'hello';
    if (m.exit !== undefined) return 'exit';
    if (m.ok) return 'ok';
    if (m.error) return 'error';
    if (m.callback) return 'callback';
    return Object.keys(m)[0];
  } catch {
    return 'unparsed';
  }
}

function splitter(dir) {
  let buf = '';
  return (chunk) => {
    buf += chunk.toString('utf8');
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.trim()) log.push(`${now()} ${dir} ${kind(line)}`);
    }
  };
}

const toKernel = splitter('>');
const fromKernel = splitter('<');
process.stdin.on('data', (c) => { child.stdin.write(c); toKernel(c); });
process.stdin.on('end', () => child.stdin.end());
child.stdout.on('data', (c) => { process.stdout.write(c); fromKernel(c); });
child.on('exit', (code, signal) => {
  log.push(`${now()} kernel-exit`);
  fs.writeFileSync(logPath, log.join('\n') + '\n');
  process.exit(code === null ? 1 : code);
});
