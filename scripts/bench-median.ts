// Medians over several `bleepstore bench` runs (rounds), as the README "Performance" table
// shows them: per workload and endpoint the median of each figure, and the median of the
// per-round ratios to the baseline (ops/s and server CPU per op). Prints Markdown.
//
//   node scripts/bench-median.ts bench-results/round1 bench-results/round2 [...]
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fmtMs, fmtOps, fmtRatio, fmtUs } from '../lib/bench/format.ts';
import type { BenchReport, ResultRow } from '../lib/bench/report.ts';

const dirs = process.argv.slice(2);
if (dirs.length < 1) {
  console.error('usage: node scripts/bench-median.ts DIR... (each holding a report.json)');
  process.exit(2);
}
const rounds = dirs.map((d) => JSON.parse(readFileSync(path.join(d, 'report.json'), 'utf8')) as BenchReport);

function median(xs: ReadonlyArray<number | undefined>): number | undefined {
  const s = xs.filter((x): x is number => x !== undefined && Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return undefined;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1]! + s[m]!) / 2;
}

const rowOf = (r: BenchReport, ep: string, wl: string): ResultRow | undefined => {
  const row = r.endpoints.find((e) => e.name === ep)?.results.find((x) => x.workload === wl);
  return row?.status === 'ok' ? row : undefined;
};
const figure = (ep: string, wl: string, f: (r: ResultRow) => number | undefined) =>
  median(
    rounds.map((r) => {
      const row = rowOf(r, ep, wl);
      return row && f(row);
    }),
  );
const ratio = (ep: string, base: string, wl: string, f: (r: ResultRow) => number | undefined) =>
  median(
    rounds.map((r) => {
      const a = rowOf(r, ep, wl);
      const b = rowOf(r, base, wl);
      const x = a && f(a);
      const y = b && f(b);
      return x !== undefined && y ? x / y : undefined;
    }),
  );
const show = <T>(v: T | undefined, f: (v: T) => string) => (v === undefined ? '-' : f(v));

const first = rounds[0]!;
const base = first.baseline;
const names = first.endpoints.map((e) => e.name);
const others = names.filter((n) => n !== base);
const workloads = [...new Set(first.endpoints.flatMap((e) => e.results.map((r) => r.workload)))];
const head = [
  'workload',
  ...names.flatMap((n) => [`${n} ops/s`, 'p50', 'p99', 'p99.9', 'server CPU/op']),
  'bench client CPU/op',
  ...others.flatMap((n) => [`${n} / ${base} ops/s`, 'server CPU/op']),
];
const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i ? '---:' : '---')).join('|')}|`];
for (const wl of workloads) {
  const cells = [wl];
  for (const n of names) {
    cells.push(
      show(
        figure(n, wl, (r) => r.opsPerSec),
        fmtOps,
      ),
      show(
        figure(n, wl, (r) => r.latencyMs.p50),
        fmtMs,
      ),
      show(
        figure(n, wl, (r) => r.latencyMs.p99),
        fmtMs,
      ),
      show(
        figure(n, wl, (r) => r.latencyMs.p999),
        fmtMs,
      ),
      fmtUs(figure(n, wl, (r) => r.serverCpuUsPerOp)),
    );
  }
  cells.push(fmtUs(figure(names[0]!, wl, (r) => r.clientCpuUsPerOp)));
  for (const n of others)
    cells.push(
      show(
        ratio(n, base, wl, (r) => r.opsPerSec),
        fmtRatio,
      ),
      show(
        ratio(n, base, wl, (r) => r.serverCpuUsPerOp),
        fmtRatio,
      ),
    );
  lines.push(`| ${cells.join(' | ')} |`);
}
console.log(lines.join('\n'));
for (const r of rounds)
  console.log(
    `\npeak server RSS (${r.startedAt}): ${r.endpoints.map((e) => `${e.name} ${e.maxRssBytes ? Math.round(e.maxRssBytes / 2 ** 20) + ' MiB' : '-'}`).join(', ')}`,
  );
