// The Raft core must stay deterministic: no I/O, no timers, no clock, no ambient randomness
// (issue #12). This reads every source file of lib/cluster/raft/ and checks.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const CORE = new URL('../../lib/cluster/raft/', import.meta.url).pathname;

const FORBIDDEN: [RegExp, string][] = [
  [/\bsetTimeout\b|\bsetInterval\b|\bsetImmediate\b|\bqueueMicrotask\b/, 'timer'],
  [/\bDate\b/, 'Date'],
  [/\bMath\s*\.\s*random\b/, 'Math.random'],
  [/\bperformance\s*\.\s*now\b|\bprocess\s*\.\s*hrtime\b/, 'clock'],
  [/\bprocess\b/, 'process'],
  [/\brequire\s*\(|\bimport\s*\(/, 'dynamic import'],
];

function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

/** Every way a source file breaks purity, as "what: detail". */
export function impurities(src: string): string[] {
  const code = stripComments(src);
  const found: string[] = [];
  for (const m of code.matchAll(/\b(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"]+)['"]/g)) {
    // Only sibling modules of the core: no node:fs, node:net, node:http, node:timers, ...
    if (!m[1]!.startsWith('./')) found.push(`import: ${m[1]}`);
  }
  for (const m of code.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm)) found.push(`import: ${m[1]}`);
  for (const [re, what] of FORBIDDEN) {
    const m = code.match(re);
    if (m) found.push(`${what}: ${m[0]}`);
  }
  return found;
}

test('the Raft core imports nothing but its own modules and uses no timers, clock or Math.random', () => {
  const files = readdirSync(CORE).filter((f) => f.endsWith('.ts'));
  assert.ok(files.length >= 10, `only ${files.length} files found in ${CORE}`);
  for (const f of files) {
    assert.deepEqual(impurities(readFileSync(join(CORE, f), 'utf8')), [], f);
  }
});

test('the purity check flags node:fs, node:net, node:http, timers, Date and Math.random', () => {
  const bad = [
    "import { readFileSync } from 'node:fs';",
    "import net from 'node:net';",
    "export { request } from 'node:http';",
    "import 'node:timers';",
    'setTimeout(() => {}, 1);',
    'const now = Date.now();',
    'const r = Math.random();',
  ];
  for (const line of bad) assert.notDeepEqual(impurities(line), [], line);
  assert.deepEqual(impurities("import { x } from './log.ts'; // Date.now() in a comment"), []);
});
