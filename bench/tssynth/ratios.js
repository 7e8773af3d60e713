#!/usr/bin/env node
// ratios.js summarises bench/tssynth/run.sh's times.tsv: per variant and
// validation setting the median wall and CPU time, and the median of the
// per-round ratios to the JavaScript run of the same round (the runs of a
// round are adjacent, so they share the machine's load, which a median of
// absolute times on a shared machine does not).
//
//   node ratios.js <times.tsv>
'use strict';
const fs = require('fs');

const rows = fs.readFileSync(process.argv[2], 'utf8').trim().split('\n').slice(1).map((l) => {
  const [label, validation, run, wall, cpu] = l.split('\t');
  return { label, id: label.split(' ')[0], validation, run, wall: Number(wall), cpu: Number(cpu) };
});
const median = (xs) => {
  const a = [...xs].sort((x, y) => x - y);
  const m = a.length;
  return m % 2 ? a[(m - 1) / 2] : (a[m / 2 - 1] + a[m / 2]) / 2;
};
const find = (id, validation, run) => rows.find((r) => r.id === id && r.validation === validation && r.run === run);
const seen = new Set();
for (const r of rows) {
  const k = `${r.label}|${r.validation}`;
  if (seen.has(k)) continue;
  seen.add(k);
  const mine = rows.filter((x) => x.label === r.label && x.validation === r.validation);
  const base = r.id.startsWith('cli') ? 'cli-js' : 'app-js';
  const ratios = mine.map((x) => {
    const b = find(base, x.validation, x.run);
    return b ? { wall: x.wall / b.wall, cpu: x.cpu / b.cpu } : null;
  }).filter(Boolean);
  let line = `${r.label}, CDK_VALIDATION=${r.validation}, ${mine.length} runs: wall median ${median(mine.map((x) => x.wall)).toFixed(2)} s, CPU median ${median(mine.map((x) => x.cpu)).toFixed(2)} s`;
  if (r.id !== base && ratios.length) {
    line += `; to ${base} of the same round: wall ${median(ratios.map((x) => x.wall)).toFixed(2)}x, CPU ${median(ratios.map((x) => x.cpu)).toFixed(2)}x`;
  }
  console.log(line);
}
