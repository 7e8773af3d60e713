#!/usr/bin/env node
// compare.js compares two cloud assemblies file by file and says exactly
// what differs:
//
//   node compare.js <go cdk.out> <js cdk.out>
//
// Files are first compared byte for byte. Where they differ, it compares
// again after one normalisation that follows from which language ran the
// app: the CDK's version reporting (AWS::CDK::Metadata "Analytics", a
// gzipped list of the construct types used plus the runtime, "go1.x/os/arch"
// or "node.js/vX") is decoded and its runtime part removed; template hashes
// (which then differ) are mapped in manifest.json and *.assets.json, where
// asset destination ids (a short hash) are masked; the
// stack traces that aws-cdk-lib records where user code created a construct
// or acknowledged a finding (aws:cdk:creationStack metadata, stackTraces and
// acknowledgedStackTrace in validation-report.json, trace arrays: frames of
// the JavaScript program against "jsii runtime, node internals") are
// replaced by a placeholder. A file
// that still differs is reported with the first differing JSON path.
// wharf-platform.json (written by the Go app, not the CDK) is skipped.
// Exit status 1 if anything differs after normalisation.
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const zlib = require('zlib');

const [, , goDir, jsDir] = process.argv;
const files = (dir) => {
  const out = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p); else out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
};
const goFiles = files(goDir).filter((f) => f !== 'wharf-platform.json');
const jsFiles = files(jsDir);
const sha = (f) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');

const runtimes = new Set();
function normTemplate(t) {
  for (const r of Object.values(t.Resources || {})) {
    if (r.Type === 'AWS::CDK::Metadata' && r.Properties && r.Properties.Analytics) {
      const s = r.Properties.Analytics.replace(/^v2:deflate64:/, '');
      const text = zlib.gunzipSync(Buffer.from(s, 'base64')).toString();
      // "<version>!<constructs>,<runtime>!jsii-runtime.Runtime"
      const m = text.match(/,([^,!]+)!jsii-runtime\.Runtime$/);
      if (m) runtimes.add(m[1]);
      r.Properties.Analytics = m ? text.slice(0, m.index) : text;
    }
  }
  return t;
}

// Template hashes: the js template's hash -> the go template's hash.
const hashMap = new Map();
for (const f of goFiles.filter((x) => x.endsWith('.template.json'))) {
  if (fs.existsSync(path.join(jsDir, f))) hashMap.set(sha(path.join(jsDir, f)), sha(path.join(goDir, f)));
}
function mapHashes(v) {
  if (typeof v === 'string') return v.replace(/[0-9a-f]{64}/g, (h) => hashMap.get(h) || h);
  if (Array.isArray(v)) return v.map(mapHashes);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [mapHashes(k), mapHashes(x)]));
  return v;
}
const TRACE_KEYS = new Set(['stackTraces', 'acknowledgedStackTrace', 'trace', 'stackTrace']);
let traces = 0;
function dropTraces(v) {
  if (Array.isArray(v)) return v.map(dropTraces);
  if (v && typeof v === 'object') {
    const o = {};
    for (const [k, x] of Object.entries(v)) {
      if (TRACE_KEYS.has(k)) { o[k] = '<stack trace>'; traces++; } else o[k] = dropTraces(x);
    }
    if (o.type === 'aws:cdk:creationStack') { o.data = '<stack trace>'; traces++; }
    return o;
  }
  return v;
}
// An asset destination's id ends in a short hash of the destination, which
// names the template's hash: "<account>-<region>-<8 hex>".
function destIds(v) {
  if (Array.isArray(v)) return v.map(destIds);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k.replace(/^(\d{12}-[a-z0-9-]+)-[0-9a-f]{8}$/, '$1-<hash>'), destIds(x)]));
  }
  return v;
}
const show = (x) => String(JSON.stringify(x)).slice(0, 120);
function firstDiff(a, b, p = '$') {
  if (typeof a !== typeof b || Array.isArray(a) !== Array.isArray(b) || a === null || b === null || typeof a !== 'object') {
    return JSON.stringify(a) === JSON.stringify(b) ? null : `${p}: ${show(a)} vs ${show(b)}`;
  }
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) {
    const d = firstDiff(a[k], b[k], `${p}.${k}`);
    if (d) return d;
  }
  return null;
}

let identical = 0;
const normalised = [];
const differ = [];
for (const f of goFiles) {
  const g = path.join(goDir, f);
  const j = path.join(jsDir, f);
  if (!fs.existsSync(j)) { differ.push(`${f}: only in the Go assembly`); continue; }
  if (sha(g) === sha(j)) { identical++; continue; }
  if (!f.endsWith('.json')) { differ.push(`${f}: bytes differ`); continue; }
  let a = JSON.parse(fs.readFileSync(g, 'utf8'));
  let b = JSON.parse(fs.readFileSync(j, 'utf8'));
  if (f.endsWith('.template.json')) { a = normTemplate(a); b = normTemplate(b); } else { b = mapHashes(b); }
  if (f.endsWith('.assets.json')) { a = destIds(a); b = destIds(b); }
  a = dropTraces(a); b = dropTraces(b);
  const d = firstDiff(a, b);
  if (d) differ.push(`${f}: ${d}`); else normalised.push(f);
}
for (const f of jsFiles) if (!goFiles.includes(f)) differ.push(`${f}: only in the JavaScript assembly`);

console.log(`cloud assembly files: ${goFiles.length}; byte-identical ${identical}; equal after normalisation ${normalised.length}; different ${differ.length}`);
if (normalised.length) {
  console.log(`  normalised (version reporting's runtime: ${[...runtimes].join(' vs ') || 'none'}; the template hashes and asset destination ids that follow; ${traces} recorded stack traces): ${normalised.join(' ')}`);
}
for (const d of differ) console.log(`  DIFFERS ${d}`);
process.exitCode = differ.length ? 1 : 0;
