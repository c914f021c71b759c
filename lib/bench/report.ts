// The shape of a benchmark report (written as JSON) and how rows are made and compared.
import type { Workload, WorkloadGroup } from './catalog.ts';
import type { LatencySummary } from './histogram.ts';
import type { LoopResult } from './loop.ts';
import type { MachineInfo } from './machine.ts';

export type RowStatus = 'ok' | 'unsupported' | 'error';

export interface ResultRow {
  workload: string;
  group: WorkloadGroup | 'seed';
  description: string;
  sizeBytes: number;
  concurrency: number;
  status: RowStatus;
  message?: string;
  ops: number;
  errors: number;
  seconds: number;
  opsPerSec: number;
  bytes: number;
  mibPerSec: number;
  latencyMs: LatencySummary;
  errorCounts: Record<string, number>;
  /** Highest server VmRSS sampled while this workload ran (with --server-pid). */
  maxRssBytes?: number;
  /** The machine's 1-minute load average when the workload started and ended. */
  loadAvg?: { start: number; end: number };
  /** Seconds spent writing the objects this workload reads, when it wrote any. */
  seedSeconds?: number;
  /** Which client drove it: raw keep-alive sockets with pre-signed requests, or node:http. */
  client?: 'raw' | 'node:http';
  /** CPU µs per operation of the bench client itself and of the server (with --server-pid). */
  clientCpuUsPerOp?: number;
  serverCpuUsPerOp?: number;
  /** serverCpuUsPerOp by process when several make the server (--server-pid A+B+C). */
  serverCpuUsPerOpEach?: number[];
  /** Time to first response byte (raw client only). */
  ttfbMs?: LatencySummary;
}

export interface EndpointReport {
  name: string;
  url: string;
  /** The durability mode, and whether the server said so or a flag did. */
  durability: string;
  durabilitySource: 'server' | 'flag' | 'unknown';
  /** The Server response header and any version /health reports. */
  server: string;
  serverVersion: string;
  bucket: string;
  maxRssBytes?: number;
  /** Set when the endpoint could not be used at all. */
  failure?: string;
  results: ResultRow[];
}

export interface Ratio {
  workload: string;
  endpoint: string;
  /** endpoint ops/s divided by the baseline's (higher is better). */
  throughput: number;
  /** endpoint latency divided by the baseline's (lower is better). */
  p50: number;
  p99: number;
  p999: number;
  /** endpoint server CPU per op divided by the baseline's (lower is better), when both were sampled. */
  serverCpu?: number;
}

export interface BenchReport {
  tool: string;
  version: string;
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  settings: Record<string, unknown>;
  baseline: string;
  endpoints: EndpointReport[];
  ratios: Ratio[];
}

const MiB = 1024 * 1024;

export type RowBase = Omit<
  ResultRow,
  'status' | 'ops' | 'errors' | 'seconds' | 'opsPerSec' | 'bytes' | 'mibPerSec' | 'latencyMs' | 'errorCounts'
>;

export const rowBase = (w: Workload): RowBase => ({
  workload: w.name,
  group: w.group,
  description: w.description,
  sizeBytes: w.sizeBytes,
  concurrency: w.concurrency,
});

export function rowFromLoop(base: RowBase, r: LoopResult): ResultRow {
  const row: ResultRow = {
    ...base,
    status: r.unsupported ? 'unsupported' : r.gaveUp || r.ops === 0 ? 'error' : 'ok',
    ops: r.ops,
    errors: r.errors,
    seconds: r.seconds,
    opsPerSec: r.seconds > 0 ? r.ops / r.seconds : 0,
    bytes: r.bytes,
    mibPerSec: r.seconds > 0 ? r.bytes / MiB / r.seconds : 0,
    latencyMs: r.hist.summary(),
    errorCounts: r.errorCounts,
  };
  if (r.client) row.client = r.client;
  if (r.ops > 0 && r.clientCpuUs !== undefined) row.clientCpuUsPerOp = r.clientCpuUs / r.ops;
  if (r.ops > 0 && r.serverCpuUs !== undefined) row.serverCpuUsPerOp = r.serverCpuUs / r.ops;
  if (r.ops > 0 && r.serverCpuUsEach && r.serverCpuUsEach.length > 1)
    row.serverCpuUsPerOpEach = r.serverCpuUsEach.map((us) => us / r.ops);
  if (r.ttfb && r.ttfb.count > 0) row.ttfbMs = r.ttfb.summary();
  const message = r.unsupported ?? r.gaveUp ?? (r.ops === 0 ? 'no operation completed' : undefined);
  if (message !== undefined) row.message = message;
  return row;
}

export function failedRow(base: RowBase, status: RowStatus, message: string): ResultRow {
  return {
    ...base,
    status,
    message,
    ops: 0,
    errors: status === 'error' ? 1 : 0,
    seconds: 0,
    opsPerSec: 0,
    bytes: 0,
    mibPerSec: 0,
    latencyMs: { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 },
    errorCounts: status === 'error' ? { [message]: 1 } : {},
  };
}

export function computeRatios(endpoints: readonly EndpointReport[], baseline: string): Ratio[] {
  const base = endpoints.find((e) => e.name === baseline);
  if (!base) return [];
  const out: Ratio[] = [];
  for (const e of endpoints) {
    if (e === base) continue;
    for (const row of e.results) {
      const b = base.results.find((r) => r.workload === row.workload);
      if (b?.status !== 'ok' || row.status !== 'ok' || b.opsPerSec === 0) continue;
      const ratio: Ratio = {
        workload: row.workload,
        endpoint: e.name,
        throughput: row.opsPerSec / b.opsPerSec,
        p50: b.latencyMs.p50 > 0 ? row.latencyMs.p50 / b.latencyMs.p50 : 0,
        p99: b.latencyMs.p99 > 0 ? row.latencyMs.p99 / b.latencyMs.p99 : 0,
        p999: b.latencyMs.p999 > 0 ? row.latencyMs.p999 / b.latencyMs.p999 : 0,
      };
      if (row.serverCpuUsPerOp !== undefined && b.serverCpuUsPerOp)
        ratio.serverCpu = row.serverCpuUsPerOp / b.serverCpuUsPerOp;
      out.push(ratio);
    }
  }
  return out;
}
