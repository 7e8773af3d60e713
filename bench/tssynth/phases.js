#!/usr/bin/env node
// phases.js summarises the phase logs of bench/tssynth/run.sh:
// phases-go-<i>.log (proxy.js's timestamped kernel protocol of the built Go
// app) and phases-js-<i>.log (the generated program's marks), as medians
// in ms.
//
//   node phases.js <out dir> <runs>
'use strict';
const fs = require('fs');
const path = require('path');

const [, , dir, runsArg] = process.argv;
const runs = Number(runsArg);
const median = (xs) => {
  const a = [...xs].sort((x, y) => x - y);
  const m = a.length;
  return m % 2 ? a[(m - 1) / 2] : (a[m / 2 - 1] + a[m / 2]) / 2;
};

function goPhases(file) {
  const ev = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => {
    const [t, ...rest] = l.split(' ');
    return { t: Number(t), dir: rest[0], what: rest.slice(1).join(' ') };
  });
  const at = (pred) => ev.find(pred);
  const proxy = at((e) => e.dir === 'proxy-start').t;
  const hello = at((e) => e.dir === '<' && e.what === 'hello').t;
  const firstCreate = ev.findIndex((e) => e.dir === '>' && e.what.startsWith('create'));
  const loadsEnd = ev[firstCreate - 1].t;
  const synthIdx = ev.findIndex((e) => e.dir === '>' && e.what === 'invoke:synth');
  const synthStart = ev[synthIdx].t;
  const synthEnd = ev[synthIdx + 1].t;
  const exit = at((e) => e.dir === 'process-exit').t;
  // Between the first create and synth: time in the kernel (request to
  // response) and in Go (response to next request).
  let kernel = 0;
  let go = 0;
  let calls = 0;
  for (let i = firstCreate; i < synthIdx; i++) {
    const e = ev[i];
    if (e.dir === '>') {
      calls++;
      if (ev[i + 1] && ev[i + 1].dir === '<') kernel += ev[i + 1].t - e.t;
      if (i > firstCreate && ev[i - 1].dir === '<') go += e.t - ev[i - 1].t;
    }
  }
  return {
    'Go start, config, Lambda cache keys started, to kernel spawn': proxy,
    'node + jsii runtime start (to hello)': hello - proxy,
    'load 6 jsii packages (package cache hit)': loadsEnd - hello,
    'construct calls (first create to synth)': synthStart - loadsEnd,
    '  of which in the kernel': kernel,
    '  of which in Go between calls': go,
    '  calls': calls,
    'app.synth() incl. validation': synthEnd - synthStart,
    'after synth to process exit': exit - synthEnd,
    total: exit,
  };
}

function jsPhases(file) {
  const m = {};
  for (const l of fs.readFileSync(file, 'utf8').trim().split('\n')) {
    const [k, v] = l.split(' ');
    m[k] = Number(v);
  }
  return {
    'node start (to first line)': m.start,
    'require aws-cdk-lib, constructs, cdk-nag': m.requires - m.start,
    'construct calls (first create to synth)': m.constructs - m.requires,
    'app.synth() incl. validation': m.synth - m.constructs,
    'after synth to process exit': m['process-exit'] - m.synth,
    total: m['process-exit'],
  };
}

for (const [name, fn] of [['go', goPhases], ['js', jsPhases]]) {
  const all = [];
  for (let i = 1; i <= runs; i++) {
    const f = path.join(dir, `phases-${name}-${i}.log`);
    if (fs.existsSync(f)) all.push(fn(f));
  }
  if (!all.length) continue;
  console.log(`${name === 'go' ? 'Go app (prebuilt binary, kernel protocol via proxy.js)' : 'JavaScript program'}: median of ${all.length} runs, ms`);
  for (const k of Object.keys(all[0])) {
    console.log(`  ${k.padEnd(62)} ${String(median(all.map((p) => p[k]))).padStart(7)}   (${all.map((p) => p[k]).join(', ')})`);
  }
}
