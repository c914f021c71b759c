// A hand-written SVG chart of a report: one row per workload, one bar per endpoint, throughput
// (ops/s) on the left and p99 latency on the right, both on log scales so 1 KiB and 256 MiB
// workloads share an axis; ratios to the baseline are printed beside the bars.
import { fmtMiB, fmtMs, fmtOps, fmtRatio } from './format.ts';
import { describeMachine } from './machine.ts';
import { type BenchOptions, sizeLabel } from './options.ts';
import type { BenchReport, ResultRow } from './report.ts';

const COLORS = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1'];
const BAR = 10;
const GAP = 2;
const LABEL_W = 200;
const SCALE_W = 290;
const TEXT_W = 130;
const PANEL_GAP = 30;

const esc = (s: string): string =>
  s.replace(/[&<>"']/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&apos;',
  );
const num = (n: number): string => String(Math.round(n * 10) / 10);

function tickLabel(v: number): string {
  if (v >= 1e6) return `${v / 1e6}M`;
  if (v >= 1e3) return `${v / 1e3}k`;
  return String(Number(v.toPrecision(1)));
}

interface Scale {
  lo: number;
  hi: number;
  x(v: number): number;
  ticks: number[];
}

function logScale(values: number[], x0: number): Scale {
  const pos = values.filter((v) => v > 0);
  let lo = 10 ** Math.floor(Math.log10(pos.length ? Math.min(...pos) : 1));
  let hi = 10 ** Math.ceil(Math.log10(pos.length ? Math.max(...pos) : 10));
  if (hi <= lo) hi = lo * 10;
  if (!Number.isFinite(lo) || lo <= 0) lo = 1;
  const span = Math.log10(hi) - Math.log10(lo);
  const ticks: number[] = [];
  for (let t = lo; t <= hi * 1.0001; t *= 10) ticks.push(t);
  return { lo, hi, ticks, x: (v) => x0 + (v <= lo ? 1 : (SCALE_W * (Math.log10(v) - Math.log10(lo))) / span) };
}

export function renderSvg(report: BenchReport): string {
  const eps = report.endpoints;
  const names = [...new Set(eps.flatMap((e) => e.results.map((r) => r.workload)))];
  const rowOf = (ei: number, w: string): ResultRow | undefined => eps[ei]!.results.find((r) => r.workload === w);
  const ok = eps.flatMap((e) => e.results.filter((r) => r.status === 'ok'));
  const ax = LABEL_W + 10;
  const bx = ax + SCALE_W + TEXT_W + PANEL_GAP;
  const thr = logScale(
    ok.map((r) => r.opsPerSec),
    ax,
  );
  const lat = logScale(
    ok.map((r) => r.latencyMs.p99),
    bx,
  );
  const width = bx + SCALE_W + TEXT_W + 10;
  const rowH = eps.length * (BAR + GAP) + 8;
  const top = 70 + eps.length * 16 + 44;
  const height = top + names.length * rowH + 40;
  const ratioOf = (ei: number, w: string) =>
    report.ratios.find((r) => r.workload === w && r.endpoint === eps[ei]!.name);

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="11">`,
  );
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(
    `<text x="10" y="22" font-size="16" font-weight="bold">${esc(`${report.tool} ${report.version}: throughput and p99 latency per workload`)}</text>`,
  );
  out.push(`<text x="10" y="42" fill="#444">${esc(`${describeMachine(report.machine)}; ${report.startedAt}`)}</text>`);
  out.push(
    `<text x="10" y="58" fill="#444">${esc(eps.length > 1 ? `ratios (in brackets) against ${report.baseline}; bars on log scales` : 'bars on log scales')}</text>`,
  );
  eps.forEach((e, i) => {
    const y = 70 + i * 16;
    const desc = `${e.name}: ${e.url}, server ${[e.server || 'unknown', e.serverVersion].filter(Boolean).join(' ')}, durability ${e.durability}${e.maxRssBytes ? `, max RSS ${Math.round(e.maxRssBytes / 2 ** 20)} MiB` : ''}`;
    out.push(
      `<rect x="10" y="${y}" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/><text x="26" y="${y + 9}">${esc(desc)}</text>`,
    );
  });

  const axisTop = top - 10;
  const axisBottom = top + names.length * rowH;
  const panel = (s: Scale, x0: number, title: string) => {
    out.push(`<text x="${x0}" y="${axisTop - 16}" font-weight="bold">${esc(title)}</text>`);
    for (const t of s.ticks) {
      const x = num(s.x(t));
      out.push(`<line x1="${x}" y1="${axisTop}" x2="${x}" y2="${axisBottom}" stroke="#ddd"/>`);
      out.push(
        `<text x="${x}" y="${axisTop - 3}" text-anchor="middle" fill="#666" font-size="9">${esc(tickLabel(t))}</text>`,
      );
    }
  };
  panel(thr, ax, 'throughput, ops/s');
  panel(lat, bx, 'p99 latency, ms');

  names.forEach((w, ri) => {
    const y0 = top + ri * rowH;
    if (ri % 2 === 0)
      out.push(`<rect x="0" y="${y0}" width="${width}" height="${rowH}" fill="#f6f6f6" fill-opacity="0.6"/>`);
    out.push(
      `<text x="10" y="${num(y0 + rowH / 2 + 4)}" font-family="DejaVu Sans Mono, Menlo, monospace">${esc(w)}</text>`,
    );
    eps.forEach((_, ei) => {
      const y = y0 + 4 + ei * (BAR + GAP);
      const r = rowOf(ei, w);
      const color = COLORS[ei % COLORS.length];
      if (r?.status !== 'ok') {
        const t = r ? r.status : 'not run';
        for (const x of [ax, bx])
          out.push(`<text x="${x + 4}" y="${y + 9}" fill="#999" font-style="italic" font-size="9">${esc(t)}</text>`);
        return;
      }
      const ratio = ratioOf(ei, w);
      const big = r.sizeBytes >= 1 << 20 ? `, ${fmtMiB(r.mibPerSec)} MiB/s` : '';
      const tx = thr.x(r.opsPerSec);
      out.push(`<rect x="${ax}" y="${y}" width="${num(tx - ax)}" height="${BAR}" fill="${color}"/>`);
      out.push(
        `<text x="${num(tx + 4)}" y="${y + 9}" font-size="9">${esc(`${fmtOps(r.opsPerSec)}${big}${ratio ? ` (${fmtRatio(ratio.throughput)})` : ''}`)}</text>`,
      );
      const lx = lat.x(r.latencyMs.p99);
      out.push(`<rect x="${bx}" y="${y}" width="${num(lx - bx)}" height="${BAR}" fill="${color}"/>`);
      out.push(
        `<text x="${num(lx + 4)}" y="${y + 9}" font-size="9">${esc(`${fmtMs(r.latencyMs.p99)}${ratio ? ` (${fmtRatio(ratio.p99)})` : ''}`)}</text>`,
      );
    });
  });
  const st = report.settings as Partial<BenchOptions>;
  const settings =
    `${st.durationSec} s per workload, endpoints ${st.order ?? 'in turn'}; large objects ${sizeLabel(st.largeSize ?? 0)}, parts ${sizeLabel(st.partSize ?? 0)}; ` +
    `listing over ${st.listKeys} keys; signed payloads for small PUTs; the load generator runs on the same machine`;
  out.push(`<text x="10" y="${height - 14}" fill="#666" font-size="10">${esc(settings)}</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
