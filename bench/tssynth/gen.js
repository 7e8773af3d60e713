#!/usr/bin/env node
// gen.js turns the jsii kernel protocol of one Go synth (the "> request" and
// "< response" lines that the jsii runtime writes to stderr under
// JSII_DEBUG=1) into a plain JavaScript program -- what a TypeScript CDK app
// compiles to -- that makes the same constructor, method, property and static
// calls on aws-cdk-lib with the same arguments, in the same order.
//
//   node gen.js <jsii-debug.log> <app.js>
//
// Object references ({"$jsii.byref": "aws-cdk-lib.Stack@10002"}) become
// variables (o10002), bound where the kernel first returned them: by a
// `create`, or inside the result of a get, invoke or static call. Structs and
// maps become object literals, enums member accesses, dates Date objects;
// null (Go's nil) becomes undefined, as the kernel treats it. The Go app of
// this repository implements no jsii interface and overrides nothing, so
// the trace has no callbacks; gen.js fails on one rather than guess.
//
// With TSSYNTH_CHECK=1 the generated program compares every primitive
// result (string, number, boolean, and the strings of arrays and maps) with
// the one the Go app received and counts the differences: identical token
// strings show the calls ran in the same order. The timed runs leave it off.
'use strict';
const fs = require('fs');

const [, , inPath, outPath] = process.argv;
if (!inPath || !outPath) {
  console.error('usage: node gen.js <jsii-debug.log> <app.js>');
  process.exit(2);
}

const lines = fs.readFileSync(inPath, 'utf8').split('\n');
const pairs = [];
let pending = null;
for (const line of lines) {
  if (line.startsWith('> ')) {
    const req = JSON.parse(line.slice(2));
    if (req.exit !== undefined) break;
    if (pending) throw new Error(`request without response: ${JSON.stringify(pending)}`);
    pending = req;
  } else if (line.startsWith('< ')) {
    const res = JSON.parse(line.slice(2));
    if (!pending) continue; // the hello line
    if (res.callback) throw new Error(`callback in trace (not supported): ${line.slice(0, 300)}`);
    pairs.push([pending, res]);
    pending = null;
  }
}

// The assemblies the Go app loaded, longest name first (fqn prefixes).
const assemblies = pairs.filter(([q]) => q.api === 'load').map(([q]) => q.name)
  .sort((a, b) => b.length - a.length);
const known = new Map(); // byref id -> variable name
const modules = new Map(); // module name -> variable name
function modVar(name) {
  if (!modules.has(name)) modules.set(name, `m${modules.size}`);
  return modules.get(name);
}
// fqn "aws-cdk-lib.aws_ec2.Vpc" -> m0.aws_ec2.Vpc, with m0 the loaded
// assembly the fqn starts with.
function typeExpr(fqn) {
  const mod = assemblies.find((a) => fqn.startsWith(`${a}.`));
  if (!mod) throw new Error(`unknown module of ${fqn}`);
  const rest = fqn.slice(mod.length + 1).split('.');
  return modVar(mod) + rest.map((p) => `.${p}`).join('');
}
function refVar(id) {
  const v = known.get(id);
  if (!v) throw new Error(`reference to unknown object ${id}`);
  return v;
}
const ident = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
function key(k) {
  if (k.includes('Token[')) throw new Error(`token in an object key: ${k}`);
  return ident.test(k) ? k : JSON.stringify(k);
}
// Token strings: "${Token[AWS.URLSuffix.9]}", list tokens "#{Token[...]}".
const TOK = /([$#])\{Token\[([^\]]+)\]\}/g;
// The token keys in a recorded value, in the order tokenKeys (in the
// generated program) walks the live value: arrays in order, map keys sorted.
function recordedKeys(v, out) {
  if (typeof v === 'string') {
    for (const m of v.matchAll(TOK)) out.push(m[2]);
  } else if (Array.isArray(v)) {
    v.forEach((x) => recordedKeys(x, out));
  } else if (v && typeof v === 'object') {
    if ('$jsii.map' in v) return recordedKeys(v['$jsii.map'], out);
    if (Object.keys(v).some((k) => k.startsWith('$jsii.'))) return out;
    Object.keys(v).sort().forEach((k) => recordedKeys(v[k], out));
  }
  return out;
}

function value(v) {
  if (v === null || v === undefined) return 'undefined';
  if (Array.isArray(v)) return `[${v.map(value).join(', ')}]`;
  if (typeof v === 'string' && v.includes('{Token[')) return `T(${JSON.stringify(v)})`;
  if (typeof v !== 'object') return JSON.stringify(v);
  if ('$jsii.byref' in v) return refVar(v['$jsii.byref']);
  if ('$jsii.enum' in v) {
    const [fqn, member] = v['$jsii.enum'].split('/');
    return `${typeExpr(fqn)}.${member}`;
  }
  if ('$jsii.date' in v) return `new Date(${JSON.stringify(v['$jsii.date'])})`;
  if ('$jsii.map' in v) return object(v['$jsii.map']);
  if ('$jsii.struct' in v) return object(v['$jsii.struct'].data);
  const special = Object.keys(v).find((k) => k.startsWith('$jsii.'));
  if (special) throw new Error(`unsupported value ${special}`);
  return object(v);
}
function object(o) {
  const parts = [];
  for (const [k, v] of Object.entries(o)) {
    if (v === null || v === undefined) continue;
    parts.push(`${key(k)}: ${value(v)}`);
  }
  return `{${parts.join(', ')}}`;
}
function args(list) {
  const a = (list || []).map(value);
  while (a.length && a[a.length - 1] === 'undefined') a.pop();
  return a.join(', ');
}

// Binds every not yet known byref inside a result to a variable, by its
// path in the result; returns the binding statements.
function bind(expr, v, out) {
  if (v === null || typeof v !== 'object') return;
  if (Array.isArray(v)) {
    v.forEach((x, i) => bind(`${expr}[${i}]`, x, out));
    return;
  }
  if ('$jsii.byref' in v) {
    const id = v['$jsii.byref'];
    if (!known.has(id)) {
      const name = `o${id.split('@').pop()}`;
      known.set(id, name);
      out.push(`const ${name} = ${expr};`);
    }
    return;
  }
  if ('$jsii.map' in v) { bind(expr, v['$jsii.map'], out); return; }
  if ('$jsii.struct' in v) { bind(expr, v['$jsii.struct'].data, out); return; }
  if (Object.keys(v).some((k) => k.startsWith('$jsii.'))) return;
  for (const [k, x] of Object.entries(v)) bind(`${expr}[${JSON.stringify(k)}]`, x, out);
}

// The primitive leaves of a result, for TSSYNTH_CHECK.
function primitives(v) {
  if (v === null || v === undefined) return undefined;
  if (typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    const a = v.map(primitives);
    return a.every((x) => x !== null && typeof x !== 'object' && x !== undefined) ? a : undefined;
  }
  if ('$jsii.map' in v) {
    const m = v['$jsii.map'];
    const o = {};
    for (const [k, x] of Object.entries(m)) {
      const p = primitives(x);
      if (p === undefined || typeof p === 'object') return undefined;
      o[k] = p;
    }
    return o;
  }
  return undefined;
}

const body = [];
let checks = 0;
pairs.forEach(([req, res], i) => {
  if (res.error) throw new Error(`call ${i} failed in the Go synth: ${JSON.stringify(res.error).slice(0, 300)}`);
  const ok = res.ok || {};
  let call;
  switch (req.api) {
    case 'load':
      return; // the requires at the top
    case 'create': {
      if ((req.overrides && req.overrides.length) || (req.interfaces && req.interfaces.length)) {
        throw new Error(`create with overrides or interfaces (not supported): ${req.fqn}`);
      }
      const id = ok['$jsii.byref'];
      const name = `o${id.split('@').pop()}`;
      known.set(id, name);
      body.push(`const ${name} = new ${typeExpr(req.fqn)}(${args(req.args)});`);
      return;
    }
    case 'del':
      return;
    case 'get': call = `${refVar(req.objref['$jsii.byref'])}.${req.property}`; break;
    case 'sget': call = `${typeExpr(req.fqn)}.${req.property}`; break;
    case 'set': body.push(`${refVar(req.objref['$jsii.byref'])}.${req.property} = ${value(req.value)};`); return;
    case 'sset': body.push(`${typeExpr(req.fqn)}.${req.property} = ${value(req.value)};`); return;
    case 'invoke':
      if (req.method === 'synth') body.push("mark('constructs');");
      call = `${refVar(req.objref['$jsii.byref'])}.${req.method}(${args(req.args)})`;
      break;
    case 'sinvoke': call = `${typeExpr(req.fqn)}.${req.method}(${args(req.args)})`; break;
    default:
      throw new Error(`unsupported api ${req.api}`);
  }
  const result = 'value' in ok ? ok.value : ok.result;
  const binds = [];
  bind('r', result, binds);
  const prim = primitives(result);
  const tokens = recordedKeys(result, []);
  if (binds.length === 0 && prim === undefined && tokens.length === 0) {
    body.push(`${call};`);
    return;
  }
  const lines = [`r = ${call};`, ...binds];
  if (tokens.length) lines.push(`learn(r, ${JSON.stringify(tokens)});`);
  // The assembly's directory is the one output that differs by design.
  const outdir = req.api === 'get' && (req.property === 'directory' || req.property === 'outdir');
  if (prim !== undefined && !outdir) {
    checks++;
    lines.push(`if (CHECK) check(${i}, r, ${JSON.stringify(prim)});`);
  }
  body.push(lines.join(' '));
  if (req.api === 'invoke' && req.method === 'synth') body.push("mark('synth');");
});

const header = [
  '// Generated by bench/tssynth/gen.js from the jsii protocol of one Go synth',
  '// of the example platform; do not edit. See bench/tssynth/README.md.',
  "'use strict';",
  "const { performance } = require('perf_hooks');",
  '// TSSYNTH_TIMING=<file>: append "<phase> <ms since TSSYNTH_T0 or process start>" lines.',
  'const TIMING = process.env.TSSYNTH_TIMING;',
  'const T0 = Number(process.env.TSSYNTH_T0 || performance.timeOrigin);',
  "function mark(phase) { if (TIMING) require('fs').appendFileSync(TIMING, `${phase} ${Math.round(performance.timeOrigin + performance.now() - T0)}\\n`); }",
  "mark('start');",
  ...[...modules].map(([mod, v]) => `const ${v} = require(${JSON.stringify(mod)});`),
  "const CHECK = process.env.TSSYNTH_CHECK === '1';",
  'let mismatches = 0;',
  '// aws-cdk-lib numbers tokens from a random start, so a token string the Go',
  '// app received and passed back is mapped to the one this process made.',
  'const TOK = /([$#])\\{Token\\[([^\\]]+)\\]\\}/g;',
  'const tokenMap = new Map();',
  'function tokenKeys(v, out) {',
  "  if (typeof v === 'string') { for (const m of v.matchAll(TOK)) out.push(m[2]); }",
  '  else if (Array.isArray(v)) v.forEach((x) => tokenKeys(x, out));',
  "  else if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) Object.keys(v).sort().forEach((k) => tokenKeys(v[k], out));",
  '  return out;',
  '}',
  'function learn(live, recorded) {',
  '  const keys = tokenKeys(live, []);',
  "  if (keys.length !== recorded.length) throw new Error(`token count differs: ${keys.length} live, ${recorded.length} recorded`);",
  '  recorded.forEach((k, i) => tokenMap.set(k, keys[i]));',
  '}',
  'function T(s) { return s.replace(TOK, (m, c, k) => `${c}{Token[${tokenMap.has(k) ? tokenMap.get(k) : k}]}`); }',
  'function mapTokens(v) {',
  "  if (typeof v === 'string') return T(v);",
  '  if (Array.isArray(v)) return v.map(mapTokens);',
  "  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mapTokens(x)]));",
  '  return v;',
  '}',
  'function check(i, got, want) {',
  '  if (JSON.stringify(got) !== JSON.stringify(mapTokens(want))) {',
  '    mismatches++;',
  "    if (mismatches <= 20) console.error(`call ${i}: got ${JSON.stringify(got)}, the Go synth got ${JSON.stringify(want)}`);",
  '  }',
  '}',
  'let r;',
  "mark('requires');",
];
const footer = [
  "mark('end');",
  `if (CHECK) { console.error(\`tssynth: ${checks} results checked, \${mismatches} differ\`); if (mismatches) process.exitCode = 1; }`,
];
fs.writeFileSync(outPath, [...header, ...body, ...footer, ''].join('\n'));
console.error(`gen.js: ${pairs.length} calls, ${known.size} objects, ${checks} checked results -> ${outPath}`);
