// Human-readable output: the per-endpoint tables and the ratio table for stdout, and the same
// as Markdown (report.md) for pasting into a README.
import { describeMachine } from './machine.ts';
import type { BenchReport, EndpointReport, ResultRow } from './report.ts';

const MiB = 1024 * 1024;

export function fmtOps(n: number): string {
  if (n >= 100) return Math.round(n).toLocaleString('en-US');
  if (n >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

export function fmtMs(ms: number): string {
  if (ms >= 100) return `${Math.round(ms)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

export const fmtMiB = (n: number): string => (n >= 100 ? Math.round(n).toString() : n.toFixed(1));
export const fmtBytes = (n: number): string => `${Math.round(n / MiB)} MiB`;
export const fmtRatio = (r: number): string => `${r.toFixed(2)}x`;
export const fmtUs = (us: number | undefined): string =>
  us === undefined ? '-' : us >= 10_000 ? `${(us / 1000).toFixed(1)} ms` : `${Math.round(us)} µs`;

function cells(r: ResultRow): string[] {
  const load = r.loadAvg ? r.loadAvg.end.toFixed(1) : '';
  if (r.status !== 'ok')
    return [
      r.workload,
      '-',
      '-',
      '-',
      '-',
      '-',
      '-',
      '-',
      '-',
      String(r.errors),
      r.maxRssBytes ? fmtBytes(r.maxRssBytes) : '',
      load,
      `${r.status}: ${r.message ?? ''}`.slice(0, 90),
    ];
  return [
    r.workload,
    fmtOps(r.opsPerSec),
    r.bytes > 0 ? fmtMiB(r.mibPerSec) : '-',
    fmtMs(r.latencyMs.p50),
    fmtMs(r.latencyMs.p99),
    fmtMs(r.latencyMs.p999),
    r.ttfbMs ? fmtMs(r.ttfbMs.p50) : '-',
    fmtUs(r.clientCpuUsPerOp),
    fmtUs(r.serverCpuUsPerOp),
    String(r.errors),
    r.maxRssBytes ? fmtBytes(r.maxRssBytes) : '',
    load,
    r.seedSeconds !== undefined ? `seeded in ${r.seedSeconds.toFixed(1)} s` : '',
  ];
}

/** One line per row, for progress output. */
export function formatRow(r: ResultRow): string {
  const c = cells(r);
  return r.status === 'ok'
    ? `${c[0]}: ${c[1]} ops/s, ${c[2]} MiB/s, p50 ${c[3]}, p99 ${c[4]}, p99.9 ${c[5]}, ttfb p50 ${c[6]}, CPU/op client ${c[7]} server ${c[8]}, ${c[9]} errors${c[10] ? `, server RSS ${c[10]}` : ''}`
    : `${c[0]}: ${c[12]}`;
}

function textTable(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === 0 || i === r.length - 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)].join('\n');
}

function mdTable(head: string[], rows: string[][]): string {
  const sep = head.map((_, i) => (i === 0 ? '---' : '---:'));
  return [head, sep, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

export function endpointHeader(e: EndpointReport, report: BenchReport): string[] {
  const src =
    e.durabilitySource === 'flag'
      ? ' (from --durability-label)'
      : e.durabilitySource === 'server'
        ? ' (reported by the server)'
        : '';
  return [
    `${e.name}  ${e.url}`,
    `  server: ${[e.server || 'unknown', e.serverVersion].filter(Boolean).join(' ')} | durability: ${e.durability}${src}${e.maxRssBytes ? ` | max server RSS ${fmtBytes(e.maxRssBytes)}` : ''}`,
    `  machine: ${describeMachine(report.machine)} | ${report.tool} ${report.version} | ${report.startedAt}`,
  ];
}

const HEAD = [
  'workload',
  'ops/s',
  'MiB/s',
  'p50',
  'p99',
  'p99.9',
  'ttfb p50',
  'client CPU/op',
  'server CPU/op',
  'errors',
  'RSS',
  'load',
  'notes',
];

export function formatEndpoint(e: EndpointReport, report: BenchReport): string {
  return [...endpointHeader(e, report), '', textTable(HEAD, e.results.map(cells))].join('\n');
}

function ratioRows(report: BenchReport): { head: string[]; rows: string[][] } {
  const others = report.endpoints.filter((e) => e.name !== report.baseline);
  const head = ['workload', ...others.flatMap((e) => [`${e.name} ops/s`, 'p50', 'p99', 'p99.9', 'server CPU/op'])];
  const names = [...new Set(report.endpoints.flatMap((e) => e.results.map((r) => r.workload)))];
  const rows = names.map((w) => [
    w,
    ...others.flatMap((e) => {
      const r = report.ratios.find((x) => x.workload === w && x.endpoint === e.name);
      return r
        ? [
            fmtRatio(r.throughput),
            fmtRatio(r.p50),
            fmtRatio(r.p99),
            fmtRatio(r.p999),
            r.serverCpu !== undefined ? fmtRatio(r.serverCpu) : '-',
          ]
        : ['n/a', '', '', '', ''];
    }),
  ]);
  return { head, rows };
}

export function formatRatios(report: BenchReport): string {
  if (report.endpoints.length < 2) return '';
  const { head, rows } = ratioRows(report);
  return [
    `Ratios against ${report.baseline}:  ops/s divided by the baseline's (higher is better); p50, p99 and p99.9 latency and server CPU per operation divided by the baseline's (lower is better).`,
    '',
    textTable(head, rows),
  ].join('\n');
}

export function formatReport(report: BenchReport): string {
  const parts = report.endpoints.map((e) => formatEndpoint(e, report));
  const ratios = formatRatios(report);
  if (ratios) parts.push(ratios);
  return parts.join('\n\n') + '\n';
}

/** One table with every endpoint side by side and the ratios, as Markdown. */
export function formatMarkdown(report: BenchReport): string {
  const eps = report.endpoints;
  const base = eps.find((e) => e.name === report.baseline);
  const others = eps.filter((e) => e !== base);
  const head = [
    'workload',
    ...eps.flatMap((e) => [`${e.name} ops/s`, 'MiB/s', 'p50', 'p99', 'p99.9', 'ttfb p50', 'CPU/op', 'err']),
    ...(base ? others.map((e) => `${e.name} / ${base.name}`) : []),
  ];
  const names = [...new Set(eps.flatMap((e) => e.results.map((r) => r.workload)))];
  const rows = names.map((w) => [
    w,
    ...eps.flatMap((e) => {
      const r = e.results.find((x) => x.workload === w);
      if (!r) return ['', '', '', '', '', '', '', ''];
      if (r.status !== 'ok') return [r.status, '', '', '', '', '', '', String(r.errors)];
      const c = cells(r);
      return [c[1]!, c[2]!, c[3]!, c[4]!, c[5]!, c[6]!, c[8]!, c[9]!];
    }),
    ...(base
      ? others.map((e) => {
          const r = report.ratios.find((x) => x.workload === w && x.endpoint === e.name);
          return r ? fmtRatio(r.throughput) : 'n/a';
        })
      : []),
  ]);
  const lines = [
    `Machine: ${describeMachine(report.machine)}. ${report.tool} ${report.version}, ${report.startedAt}.`,
    '',
    ...eps.map(
      (e) =>
        `- **${e.name}** ${e.url}: server ${[e.server || 'unknown', e.serverVersion].filter(Boolean).join(' ')}, durability ${e.durability}${e.maxRssBytes ? `, max RSS ${fmtBytes(e.maxRssBytes)}` : ''}`,
    ),
    '',
    mdTable(head, rows),
  ];
  return lines.join('\n') + '\n';
}
